"""A steward's endorsement of a new DID's ``did.create`` request."""

from __future__ import annotations

from registry.author.controller import Controller, KeyFileError
from registry.ledger.tx import parse_tx
from ssiwallet.core.b64 import b64u_encode

__all__ = ["endorse"]


def endorse(request: bytes, steward: Controller) -> bytes:
    """Add a steward's endorsement to a ``did.create`` request the new DID signed itself.

    The steward signs the same bytes as the requester, so the request cannot be altered
    between the two signatures.

    Raises:
        TxMalformedError: not a transaction; KeyFileError: not a did.create, or already
            carrying more than the requester's own proof.
    """
    tx = parse_tx(request)
    if tx.type != "did.create" or len(tx.proofs) != 1:
        raise KeyFileError("an endorsement request is a did.create signed by its DID only",
                           code="registry.bad_request_file")
    obj = tx.to_json()
    obj["proofs"].append({"kid": steward.kid,
                          "sig": b64u_encode(steward.key.sign(tx.signing_input))})
    return parse_tx(obj).data
