"""The state commitment (``registry.tlog.statemap``): update cost, proof size, proof check.

Maps of 10³ and 10⁵ random keys (32-byte record hashes), built in one batch. Every figure
has its peer measured in the same run:

* **Update cost per change** at 10⁵ keys next to 10³ keys (the ratio shows the growth:
  logarithmic, about 17/10 hashes), for a block of 16 changes (half new keys, half changed
  records) applied with ``apply`` and the new root computed, and for one ``set`` + ``root``.
  Each round starts from an O(1) ``copy`` of the same map, as a node building a block does.
  The single update is also set next to 256 bare SHA-256 node hashes: what one update costs
  in a depth-256 sparse Merkle tree without shortcut leaves.
* **Proofs**: mean JSON size and ``verify_state_proof`` time for present and absent keys at
  10⁵ keys, next to an RFC 6962 inclusion proof in a log of 10⁵ leaves (``merkle``).
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Sequence

from bench.harness import Row, ops_per_second
from registry.tlog import merkle
from registry.tlog.statemap import StateMap, StateProof, verify_state_proof

__all__ = ["run"]

SMALL, LARGE = 1_000, 100_000
BLOCK = 16
PROOFS = 1_000


def _build(rng: random.Random, n: int) -> tuple[StateMap, list[bytes], float]:
    keys = [rng.randbytes(32) for _ in range(n)]
    start = time.perf_counter()
    m = StateMap({k: hashlib.sha256(k).digest() for k in keys})
    m.root()
    return m, keys, time.perf_counter() - start


def _json_size(proof: StateProof) -> int:
    return len(json.dumps(proof.to_json(), separators=(",", ":")))


def run(quick: bool = False) -> list[Row]:
    rng = random.Random(2026)
    rounds, seconds = (3, 0.2) if quick else (5, 0.4)
    maps = {n: _build(rng, n) for n in (SMALL, LARGE)}
    build_large = maps[LARGE][2]

    def block_work(n: int) -> Callable[[], object]:
        base, keys, _ = maps[n]
        blocks = []
        for _ in range(64):
            changes: dict[bytes, bytes | None] = {
                rng.randbytes(32): rng.randbytes(32) for _ in range(BLOCK // 2)}
            changes.update({k: rng.randbytes(32) for k in rng.sample(keys, BLOCK // 2)})
            blocks.append(changes)
        state = {"i": 0}

        def work() -> object:
            m = base.copy()
            m.apply(blocks[state["i"] % len(blocks)])
            state["i"] += 1
            return m.root()
        return work

    def single_work(n: int) -> Callable[[], object]:
        base, keys, _ = maps[n]
        updates = [(rng.choice(keys), rng.randbytes(32)) for _ in range(256)]
        state = {"i": 0}

        def work() -> object:
            m = base.copy()
            key, value = updates[state["i"] % len(updates)]
            state["i"] += 1
            m.set(key, value)
            return m.root()
        return work

    leaf = hashlib.sha256(b"leaf").digest()

    def depth256_bound() -> object:
        h = leaf
        for _ in range(256):
            h = hashlib.sha256(b"\x03" + h + leaf).digest()
        return h

    blocks_s, blocks_l, single_s, single_l, bound = ops_per_second(
        [block_work(SMALL), block_work(LARGE), single_work(SMALL), single_work(LARGE),
         depth256_bound], rounds=rounds, seconds=seconds)

    # proofs at 10⁵ keys: present keys, absent keys, and an RFC 6962 log of as many leaves
    large, keys, _ = maps[LARGE]
    root = large.root()
    present = [(k, large.get(k), large.prove(k)) for k in rng.sample(keys, PROOFS)]
    absent_keys = [rng.randbytes(32) for _ in range(PROOFS)]
    absent = [(k, None, large.prove(k)) for k in absent_keys]
    small, small_keys, _ = maps[SMALL]
    small_present = [small.prove(k) for k in rng.sample(small_keys, PROOFS)]
    leaves = [merkle.leaf_hash(k) for k in keys]
    log_root = merkle.root(leaves)
    indices = rng.sample(range(LARGE), 64)
    log_proofs = [(i, merkle.inclusion_proof(leaves, i, LARGE)) for i in indices]

    def mean(values: list[int]) -> float:
        return sum(values) / len(values)

    size_present = mean([_json_size(p) for _, _, p in present])
    size_absent = mean([_json_size(p) for _, _, p in absent])
    size_small = mean([_json_size(p) for p in small_present])
    size_log = mean([len(json.dumps({"index": i, "proof": [h.hex() for h in path]},
                                    separators=(",", ":"))) for i, path in log_proofs])
    depth_present = mean([p.depth for _, _, p in present])
    hashes_present = mean([len(p.siblings) for _, _, p in present])

    def verify_all(cases: Sequence[tuple[bytes, bytes | None, StateProof]]
                   ) -> Callable[[], object]:
        state = {"i": 0}

        def work() -> object:
            key, value, proof = cases[state["i"] % len(cases)]
            state["i"] += 1
            verify_state_proof(root, key, value, proof)
            return None
        return work

    def log_verify() -> Callable[[], object]:
        state = {"i": 0}

        def work() -> object:
            i, path = log_proofs[state["i"] % len(log_proofs)]
            state["i"] += 1
            merkle.verify_inclusion(leaves[i], i, LARGE, path, log_root)
            return None
        return work

    v_present, v_absent, v_log = ops_per_second(
        [verify_all(present), verify_all(absent), log_verify()],
        rounds=rounds, seconds=seconds)

    def us(ops: float, per: int = 1) -> float:
        return 1e6 / (ops * per)

    return [
        Row(f"state update per change at 10⁵ keys: blocks of {BLOCK} changes (apply + root;"
            f" map built in {build_large:.2f} s)", us(blocks_l, BLOCK),
            "same at 10³ keys", us(blocks_s, BLOCK), unit="µs", digits=1),
        Row("state update at 10⁵ keys: one set + root", us(single_l),
            "same at 10³ keys", us(single_s), unit="µs", digits=1),
        Row("state update at 10⁵ keys: one set + root", us(single_l),
            "bound for a depth-256 tree without shortcut leaves: 256 node hashes",
            us(bound), unit="µs", digits=1),
        Row(f"state proof at 10⁵ keys, present key (JSON; {hashes_present:.1f} hashes, depth "
            f"{depth_present:.1f})", size_present, "same at 10³ keys", size_small, unit="B"),
        Row("state proof at 10⁵ keys, absent key (JSON)", size_absent,
            "RFC 6962 inclusion proof, log of 10⁵ leaves (JSON, hex)", size_log, unit="B"),
        Row("verify_state_proof at 10⁵ keys, present key", us(v_present),
            "merkle.verify_inclusion, log of 10⁵ leaves", us(v_log), unit="µs", digits=1),
        Row("verify_state_proof at 10⁵ keys, absent key", us(v_absent),
            "merkle.verify_inclusion, log of 10⁵ leaves", us(v_log), unit="µs", digits=1),
    ]

