"""Blocks: hash-linked, sequencer-signed batches of transactions.

A block header is::

    {"v": 1, "chain": "<chain id>", "height": 7, "prev": "<hex hash of block 6>",
     "time": 1790000000, "txs": 3, "tx_root": "<hex>", "size": 41, "root": "<hex>",
     "sig": "<base64url Ed25519 by the sequencer>"}

``tx_root`` is the RFC 9162 root of this block's transactions, ``size``/``root`` the global
Merkle tree (every transaction ever) after this block, so the chain and the checkpoints
witnesses cosign describe one and the same log. The signature covers
``keten/block/v1\\n`` + JCS(header without ``sig``); a block's hash is SHA-256 of the JCS of
the whole header, and the next block names it in ``prev``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from registry.errors import RegistryError
from registry.ledger.fields import TX_ID, Int, Obj, Pattern
from registry.ledger.tx import CHAIN_ID, canonical
from registry.tlog.merkle import leaf_hash, root
from ssiwallet.core import strictjson
from ssiwallet.core.b64 import b64u_decode, b64u_encode
from ssiwallet.core.keys import Ed25519PrivateKey, Ed25519PublicKey
from ssiwallet.errors import SsiError

__all__ = ["BLOCK_DOMAIN", "ZERO_HASH", "BlockError", "BlockHeader", "make_header",
           "parse_header"]

BLOCK_VERSION = 1
BLOCK_DOMAIN = b"keten/block/v1\n"
ZERO_HASH = "0" * 64
MAX_BLOCK_TXS = 10_000

_HEADER = Obj({
    "v": Int(minimum=BLOCK_VERSION, maximum=BLOCK_VERSION), "chain": CHAIN_ID,
    "height": Int(), "prev": TX_ID, "time": Int(), "txs": Int(minimum=1, maximum=MAX_BLOCK_TXS),
    "tx_root": TX_ID, "size": Int(), "root": TX_ID,
    "sig": Pattern(r"[A-Za-z0-9_-]{86}", "a base64url Ed25519 signature", leaf_kind="digest"),
})


class BlockError(RegistryError):
    """A block that does not extend the chain validly; ``height`` names it."""

    code = "registry.bad_block"

    def __init__(self, detail: str, *, height: int | None, code: str | None = None) -> None:
        super().__init__(detail if height is None else f"block {height}: {detail}", code=code)
        self.height = height

    def to_json(self) -> dict[str, str]:
        body = super().to_json()
        if self.height is not None:
            body["block"] = str(self.height)
        return body


@dataclass(frozen=True, slots=True)
class BlockHeader:
    """A parsed, shape-checked block header (its signature is checked by the chain)."""

    chain: str
    height: int
    prev: str
    time: int
    txs: int
    tx_root: str
    size: int
    root: str
    sig: bytes
    data: bytes
    hash: str

    @property
    def signing_input(self) -> bytes:
        obj = strictjson.loads_object(self.data)
        del obj["sig"]
        return BLOCK_DOMAIN + canonical(obj)

    def verify(self, key: Ed25519PublicKey) -> None:
        if not key.verify(self.signing_input, self.sig):
            raise BlockError("sequencer signature does not verify", height=self.height,
                             code="registry.bad_block_signature")

    def to_json(self) -> dict[str, Any]:
        result: dict[str, Any] = strictjson.loads_object(self.data)
        return result


def tx_root(tx_data: list[bytes]) -> str:
    """Hex RFC 9162 root over a block's transactions."""
    return root([leaf_hash(d) for d in tx_data]).hex()


def make_header(chain: str, height: int, prev: str, time: int, tx_data: list[bytes],
                size: int, tree_root: bytes, key: Ed25519PrivateKey) -> BlockHeader:
    """Build and sign a block header (the sequencer's side)."""
    unsigned = {"v": BLOCK_VERSION, "chain": chain, "height": height, "prev": prev,
                "time": time, "txs": len(tx_data), "tx_root": tx_root(tx_data), "size": size,
                "root": tree_root.hex()}
    sig = key.sign(BLOCK_DOMAIN + canonical(unsigned))
    return parse_header(canonical({**unsigned, "sig": b64u_encode(sig)}))


def parse_header(data: bytes | dict[str, Any], *, require_canonical: bool = True,
                 position: int | None = None) -> BlockHeader:
    """Check a header's shape; bytes must be canonical (they are hashed as they are).

    ``position`` is the height the caller expects this block at; errors name it (a garbled
    header may name no height, or a wrong one). Without it they name the claimed height.
    """
    height = position
    try:
        obj = strictjson.loads_object(data, what="block header") if isinstance(
            data, bytes) else dict(data)
        if height is None and type(obj.get("height")) is int:
            height = obj["height"]
        checked = _HEADER.check(obj, "header")
        sig = b64u_decode(checked["sig"], what="block signature")
    except SsiError as exc:
        raise BlockError(f"malformed header: {exc.detail}", height=height,
                         code="registry.block_malformed") from None
    encoded = canonical(checked)
    if require_canonical and isinstance(data, bytes) and encoded != data:
        raise BlockError("header is not canonical JSON", height=height,
                         code="registry.block_malformed")
    return BlockHeader(
        chain=checked["chain"], height=checked["height"], prev=checked["prev"],
        time=checked["time"], txs=checked["txs"], tx_root=checked["tx_root"],
        size=checked["size"], root=checked["root"], sig=sig,
        data=encoded, hash=hashlib.sha256(encoded).hexdigest())
