"""Block 0 of a new registry, built from its stewards' controllers."""

from __future__ import annotations

from registry.author.controller import Controller
from registry.ledger.block import BlockHeader
from registry.ledger.chain import Chain
from registry.ledger.didketen import multikey
from registry.ledger.tx import parse_tx, unsigned_tx
from ssiwallet.core.keys import Ed25519PrivateKey

__all__ = ["genesis_block"]


def genesis_block(chain: str, name: str, stewards: list[Controller],
                  sequencer: Ed25519PrivateKey, witnesses: list[tuple[str, str]], quorum: int,
                  time: int) -> tuple[BlockHeader, list[bytes]]:
    """Block 0 of a new registry: its parameters and its stewards' self-signed DIDs.

    ``witnesses`` are (name, C2SP vkey) pairs; ``quorum`` is how many of them the chain
    recommends clients require.
    """
    body = {"name": name, "stewards": [str(s.did) for s in stewards],
            "sequencer": multikey(sequencer.public_key),
            "witnesses": [{"name": n, "vkey": v} for n, v in witnesses], "quorum": quorum}
    genesis_tx = parse_tx(unsigned_tx(chain, "genesis", None, None, time, body)).data
    steward_txs = [s.create_tx(chain, time, None) for s in stewards]
    return Chain.genesis_block(genesis_tx, steward_txs, time, sequencer)

