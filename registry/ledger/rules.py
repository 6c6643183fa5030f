"""Chain rules: whether a transaction may be applied to a state, and what it changes.

:func:`apply_tx` checks everything first (chain id, time, author, sequence number, each
proof, the type's own rule) and only then writes to the state, so a refused transaction
leaves it untouched. It is pure apart from that state: the block time is a parameter.

Nothing costly is done for an unauthenticated sender: a body check that costs more than a
linear pass over the (at most 64 KiB) transaction, a schema's metaschema validation, runs
only after the author's signature verified (:func:`registry.ledger.tx.check_costly`), and a
node runs :func:`authenticate` before it spends that work off its event loop.

Statuses follow what a client did wrong: 400 malformed, 403 not allowed to do this (wrong
signer, not a steward, commitment not met), 409 conflicts with the chain (replayed or
cross-chain, already exists, already revoked), 422 refers to something that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from types import MappingProxyType

from registry.errors import RegistryError
from registry.ledger.didketen import (
    KetenDid,
    commitment,
    did_from_inception,
    public_key_from_multikey,
)
from registry.ledger.didketen import split_kid as _split_kid
from registry.ledger.state import (
    Accreditation,
    DidRecord,
    KeyEntry,
    SchemaRecord,
    State,
    StatusListRecord,
    VerifierRegistration,
)
from registry.ledger.tx import Proof, Tx, check_costly
from ssiwallet.core.keys import Ed25519PublicKey

__all__ = ["MAX_CLOCK_SKEW", "TxForbiddenError", "TxConflictError", "TxRejectedError", "apply_tx",
           "authenticate"]

MAX_CLOCK_SKEW = 600
"""A transaction's own time must be within 10 minutes of the block that includes it."""


class TxRejectedError(RegistryError):
    """A well-formed transaction that the chain rules refuse (422: names nothing known)."""

    code = "registry.tx_rejected"


class TxForbiddenError(TxRejectedError):
    """The signer may not do this: wrong key, not a steward, commitment not met."""

    code = "registry.forbidden"


class TxConflictError(TxRejectedError):
    """The transaction conflicts with the chain: replayed, cross-chain, already done."""

    code = "registry.conflict"


def _forbidden(detail: str, code: str) -> TxForbiddenError:
    return TxForbiddenError(detail, code=code)


def _conflict(detail: str, code: str) -> TxConflictError:
    return TxConflictError(detail, code=code)


def _verify(proof: Proof, key: Ed25519PublicKey, tx: Tx) -> None:
    if not key.verify(tx.signing_input, proof.sig):
        raise _forbidden(f"signature by {proof.kid} does not verify", "registry.bad_tx_signature")


def _record(state: State, did: str, what: str) -> DidRecord:
    record = state.dids.get(did)
    if record is None:
        raise TxRejectedError(f"{what} {did} is not on the registry", code="registry.unknown_did")
    if record.deactivated is not None:
        raise _forbidden(f"{what} {did} is deactivated", "registry.did_deactivated")
    return record


def _check_current_key_proof(state: State, proof: Proof, tx: Tx) -> DidRecord:
    """The proof is by the current key of a live DID (the key's DID is the signer)."""
    did, number = _split_kid(proof.kid)
    record = _record(state, did, "signer")
    if number != record.current.number:
        raise _forbidden(f"{proof.kid} is not the current key of {did} "
                         f"(key-{record.current.number})", "registry.not_current_key")
    if record.current.compromised_since is not None:
        # A key marked compromised signs nothing more; only a rotation (by the committed
        # next key) or a steward can act for the DID now.
        raise _forbidden(f"{proof.kid} is marked compromised", "registry.key_compromised")
    _verify(proof, record.current.key, tx)
    return record


def _check_steward_proof(state: State, proof: Proof, tx: Tx) -> None:
    did, _ = _split_kid(proof.kid)
    if did not in state.stewards:
        raise _forbidden(f"{did} is not a steward of this registry", "registry.not_steward")
    _check_current_key_proof(state, proof, tx)


def _bump(record: DidRecord, tx: Tx, at: int, *, changed: bool = False,
          **changes: object) -> DidRecord:
    versions = record.versions + ((at, tx.id),) if changed else record.versions
    fields = {"seq": record.seq + 1, "updated": at if changed else record.updated,
              "versions": versions, **changes}
    return replace(record, **fields)  # type: ignore[arg-type]


def _author_preamble(state: State, tx: Tx, *, steward: bool) -> DidRecord:
    """Author is live, sequence number is next, first proof is the author's current key."""
    assert tx.author is not None and tx.seq is not None  # parse_tx guarantees it
    record = _record(state, tx.author, "author")
    if tx.seq != record.seq:
        code = "registry.replayed" if tx.seq < record.seq else "registry.seq_gap"
        raise _conflict(f"sequence number {tx.seq}, {tx.author} expects {record.seq}", code)
    if steward and tx.author not in state.stewards:
        raise _forbidden(f"{tx.author} is not a steward of this registry", "registry.not_steward")
    if len(tx.proofs) != 1:
        raise _forbidden("exactly one proof, by the author, is required", "registry.bad_proofs")
    did, _ = _split_kid(tx.proofs[0].kid)
    if did != tx.author:
        raise _forbidden(f"signed by {did}, not by the author", "registry.not_author")
    _check_current_key_proof(state, tx.proofs[0], tx)
    return record


def _did_create(state: State, tx: Tx, at: int, genesis: bool) -> None:
    body, author = tx.body, tx.author
    assert author is not None
    if did_from_inception(body) != author:
        raise TxRejectedError("the DID is not the hash of its inception body",
                              code="registry.did_mismatch")
    if author in state.dids:
        raise _conflict(f"{author} already exists", "registry.did_exists")
    if tx.seq != 0:
        raise _conflict("a did.create carries sequence number 0", "registry.seq_gap")
    key = public_key_from_multikey(body["key"])
    self_proof, *endorsements = tx.proofs
    if self_proof.kid != f"{author}#key-1":
        raise _forbidden("the first proof must be by the new DID's key-1", "registry.bad_proofs")
    _verify(self_proof, key, tx)
    if genesis and author in state.stewards:
        if endorsements:
            raise _forbidden("a genesis steward is not endorsed", "registry.bad_proofs")
    else:
        if len(endorsements) != 1:
            raise _forbidden("a did.create needs exactly one steward endorsement",
                             "registry.not_endorsed")
        _check_steward_proof(state, endorsements[0], tx)
    state.dids[author] = DidRecord(
        did=author, name=body["name"], keys=(KeyEntry(1, body["key"], key, at),),
        next_commitment=body["next"], seq=1, created=at, updated=at, versions=((at, tx.id),))


def _did_rotate(state: State, tx: Tx, at: int, _: bool) -> None:
    assert tx.author is not None and tx.seq is not None
    record = _record(state, tx.author, "author")
    if tx.seq != record.seq:
        code = "registry.replayed" if tx.seq < record.seq else "registry.seq_gap"
        raise _conflict(f"sequence number {tx.seq}, {tx.author} expects {record.seq}", code)
    body = tx.body
    if commitment(body["key"]) != record.next_commitment:
        raise _forbidden("the revealed key does not match the pre-rotation commitment",
                         "registry.commitment_mismatch")
    number = record.current.number + 1
    if len(tx.proofs) != 1 or tx.proofs[0].kid != f"{tx.author}#key-{number}":
        raise _forbidden(f"a rotation is signed by the committed next key ({tx.author}"
                         f"#key-{number}), not by a superseded one", "registry.not_next_key")
    key = public_key_from_multikey(body["key"])
    _verify(tx.proofs[0], key, tx)
    if body["next"] == record.next_commitment:
        raise _forbidden("the next commitment must change", "registry.commitment_reused")
    old = record.current
    since = body.get("compromised_since")
    if since is not None and old.compromised_since is not None:
        since = min(since, old.compromised_since)
    closed = KeyEntry(old.number, old.multikey, old.key, old.valid_from, at,
                      since if since is not None else old.compromised_since)
    state.dids[tx.author] = _bump(
        record, tx, at, changed=True, keys=(*record.keys[:-1], closed,
                                            KeyEntry(number, body["key"], key, at)),
        next_commitment=body["next"])


def _controller_or_steward(state: State, tx: Tx, target: str) -> DidRecord:
    """Author is the target DID itself or a steward; return the author's record."""
    if tx.author != target and tx.author not in state.stewards:
        raise _forbidden(f"only {target} or a steward may do this", "registry.not_controller")
    return _author_preamble(state, tx, steward=False)


def _did_deactivate(state: State, tx: Tx, at: int, _: bool) -> None:
    target = tx.body["did"]
    author = _controller_or_steward(state, tx, target)
    record = _record(state, target, "DID")
    if target in state.stewards:
        # One steward may not silence another, and the last one may not leave: either
        # would freeze the registry's governance for good.
        if author.did != target:
            raise _forbidden("a steward DID can only be deactivated by itself",
                             "registry.not_controller")
        live = [s for s in state.stewards if state.dids[s].deactivated is None]
        if live == [target]:
            raise _conflict("the last steward cannot be deactivated", "registry.last_steward")
    if target == author.did:
        state.dids[target] = _bump(author, tx, at, changed=True, deactivated=at)
        return
    state.dids[author.did] = _bump(author, tx, at)
    state.dids[target] = replace(record, deactivated=at, updated=at,
                                 versions=record.versions + ((at, tx.id),))


def _key_compromised(state: State, tx: Tx, at: int, _: bool) -> None:
    body = tx.body
    author = _controller_or_steward(state, tx, body["did"])
    record = author if body["did"] == author.did else state.dids.get(body["did"])
    if record is None:  # a deactivated DID's keys can still be marked, by a steward
        raise TxRejectedError(f"{body['did']} is not on the registry", code="registry.unknown_did")
    entry = record.key(body["key"])
    if entry is None:
        raise TxRejectedError(f"{body['did']} has no key-{body['key']}",
                              code="registry.unknown_key")
    if body["since"] > at + MAX_CLOCK_SKEW:
        raise TxRejectedError("a compromise cannot start in the future",
                              code="registry.bad_time")
    since = body["since"] if entry.compromised_since is None else min(
        body["since"], entry.compromised_since)
    keys = list(record.keys)
    keys[entry.number - 1] = KeyEntry(entry.number, entry.multikey, entry.key, entry.valid_from,
                                      entry.valid_until, since)
    changes: dict[str, object] = {"keys": tuple(keys), "updated": at,
                                  "versions": record.versions + ((at, tx.id),)}
    if record.did == author.did:
        state.dids[author.did] = replace(_bump(author, tx, at), **changes)  # type: ignore[arg-type]
    else:
        state.dids[author.did] = _bump(author, tx, at)
        state.dids[record.did] = replace(record, **changes)  # type: ignore[arg-type]


def _steward_tx(state: State, tx: Tx, at: int) -> DidRecord:
    author = _author_preamble(state, tx, steward=True)
    state.dids[author.did] = _bump(author, tx, at)
    return author


def _accreditation_grant(state: State, tx: Tx, at: int, _: bool) -> None:
    body = tx.body
    _record(state, body["issuer"], "issuer")
    if body["valid_until"] is not None and body["valid_until"] <= body["valid_from"]:
        raise TxRejectedError("valid_until must be after valid_from", code="registry.bad_time")
    author = _steward_tx(state, tx, at)
    state.accreditations[tx.id] = Accreditation(
        tx.id, body["issuer"], tuple(body["vcts"]), body["valid_from"], body["valid_until"],
        author.did, at)
    state.by_issuer[body["issuer"]] = (*state.by_issuer.get(body["issuer"], ()), tx.id)


def _accreditation_revoke(state: State, tx: Tx, at: int, _: bool) -> None:
    acc = state.accreditations.get(tx.body["accreditation"])
    if acc is None:
        raise TxRejectedError("no such accreditation", code="registry.unknown_accreditation")
    if acc.revoked_since is not None:
        raise _conflict("accreditation already revoked", "registry.already_revoked")
    _steward_tx(state, tx, at)
    since = tx.body.get("since", at)
    state.accreditations[acc.id] = Accreditation(
        acc.id, acc.issuer, acc.vcts, acc.valid_from, acc.valid_until, acc.granted_by,
        acc.granted_at, since)


def _verifier_register(state: State, tx: Tx, at: int, _: bool) -> None:
    body = tx.body
    _record(state, body["verifier"], "verifier")
    author = _steward_tx(state, tx, at)
    credentials = tuple((c["vct"], tuple(tuple(p) for p in c["claims"]))
                        for c in body["credentials"])
    state.verifiers[body["verifier"]] = VerifierRegistration(
        body["verifier"], MappingProxyType(dict(body["purpose"])), credentials,
        body["valid_until"], at, author.did, tx.id)


def _verifier_revoke(state: State, tx: Tx, at: int, _: bool) -> None:
    registration = state.verifiers.get(tx.body["verifier"])
    if registration is None or registration.revoked_at is not None:
        raise TxRejectedError("no active registration for this verifier",
                              code="registry.unknown_verifier")
    _steward_tx(state, tx, at)
    state.verifiers[registration.verifier] = replace(registration, revoked_at=at)


def _schema_publish(state: State, tx: Tx, at: int, _: bool) -> None:
    body = tx.body
    author = _author_preamble(state, tx, steward=True)
    check_costly(tx)  # the metaschema, only once a steward's signature verified
    state.dids[author.did] = _bump(author, tx, at)
    versions = state.schemas.get(body["vct"], ())
    state.schemas[body["vct"]] = (*versions, SchemaRecord(
        body["vct"], len(versions) + 1, body["schema"], body["display"], at, tx.id))


def _status_list_create(state: State, tx: Tx, at: int, _: bool) -> None:
    assert tx.author is not None
    body = tx.body
    list_id = f"{KetenDid(tx.author).method_id}.{body['name']}"
    if list_id in state.status_lists:
        raise _conflict(f"status list {list_id} exists", "registry.list_exists")
    if body["size"] % 8:
        raise TxRejectedError("a status list size is a multiple of 8", code="registry.bad_size")
    if body["bits"] not in (1, 2, 4, 8):
        raise TxRejectedError("bits is 1, 2, 4 or 8", code="registry.bad_size")
    author = _author_preamble(state, tx, steward=False)
    if not state.accredited_for_anything(author.did, at):
        raise _forbidden(f"{author.did} holds no accreditation", "registry.not_accredited")
    state.dids[author.did] = _bump(author, tx, at)
    state.status_lists[list_id] = StatusListRecord(
        list_id, author.did, body["bits"], body["size"], (), at, at,
        state.height + 1)


def _status_update(state: State, tx: Tx, at: int, _: bool) -> None:
    body = tx.body
    record = state.status_lists.get(body["list"])
    if record is None:
        raise TxRejectedError(f"no status list {body['list']}", code="registry.unknown_list")
    issuer = state.dids.get(record.issuer)
    orphaned = issuer is None or issuer.deactivated is not None
    if tx.author != record.issuer and not (orphaned and tx.author in state.stewards):
        # A deactivated issuer cannot sign any more; a steward then keeps its lists
        # answerable (e.g. to revoke), otherwise they would be frozen for ever.
        raise _forbidden("only the list's issuer may update it", "registry.not_list_owner")
    if any(i >= record.size for i in body["indices"]):
        raise TxRejectedError(f"an index is beyond the list size {record.size}",
                              code="registry.bad_index")
    if body["value"] >= 1 << record.bits:
        raise TxRejectedError(f"value does not fit in {record.bits} bits",
                              code="registry.bad_value")
    author = _author_preamble(state, tx, steward=False)
    state.dids[author.did] = _bump(author, tx, at)
    state.status_lists[record.id] = record.with_values(body["indices"], body["value"], at,
                                                       state.height + 1)


_RULES: dict[str, Callable[[State, Tx, int, bool], None]] = {
    "did.create": _did_create,
    "did.rotate": _did_rotate,
    "did.deactivate": _did_deactivate,
    "key.compromised": _key_compromised,
    "accreditation.grant": _accreditation_grant,
    "accreditation.revoke": _accreditation_revoke,
    "verifier.register": _verifier_register,
    "verifier.revoke": _verifier_revoke,
    "schema.publish": _schema_publish,
    "status.list.create": _status_list_create,
    "status.update": _status_update,
}


_AUTHENTICATE: dict[str, Callable[[State, Tx], object]] = {
    "schema.publish": lambda state, tx: _author_preamble(state, tx, steward=True),
}
"""For each type with a costly body check: the author and signature checks its rule starts
with (the same checks in the same order, so the same refusal)."""


def _envelope(state: State, tx: Tx, block_time: int) -> None:
    if tx.chain != state.chain:
        raise _conflict(f"transaction is for chain {tx.chain!r}, this is {state.chain!r}",
                        "registry.wrong_chain")
    if abs(tx.time - block_time) > MAX_CLOCK_SKEW:
        raise _conflict(f"transaction time {tx.time} is more than {MAX_CLOCK_SKEW}s from "
                        f"the block time {block_time}", "registry.tx_stale")


def authenticate(state: State, tx: Tx, now: int) -> None:
    """Refuse ``tx`` as :func:`apply_tx` would if its chain, time, author or signature is wrong.

    Cheap (one Ed25519 verification at most) and writes nothing: a node calls it before it
    spends costly work on a body (:func:`registry.ledger.tx.check_costly`), so that an
    unknown author, a non-steward or a bad signature is refused for the price of a lookup
    and a verification. A type without a costly check is left to :func:`apply_tx`.
    """
    _envelope(state, tx, now)
    check = _AUTHENTICATE.get(tx.type)
    if check is not None:
        check(state, tx)


def apply_tx(state: State, tx: Tx, block_time: int, *, genesis_block: bool = False) -> None:
    """Check ``tx`` against ``state`` at ``block_time`` and, if it passes, apply it.

    Raises:
        TxConflictError: another chain, a stale or future time, a replayed or skipped
            sequence number, something that already exists.
        TxForbiddenError: a signature that does not verify or a signer without the right.
        TxRejectedError: a reference to a DID, key, list or accreditation that does not exist.
        DidUrlError: a malformed key id in a proof.
        TxMalformedError: a body check deferred by ``parse_tx(..., defer_costly=True)``
            (run here after the author's signature verified, unless already done).
    """
    _envelope(state, tx, block_time)
    rule = _RULES.get(tx.type)
    if rule is None:
        raise TxRejectedError(f"{tx.type} is only valid as the first transaction",
                              code="registry.misplaced_genesis")
    rule(state, tx, block_time, genesis_block)
    state.size += 1
