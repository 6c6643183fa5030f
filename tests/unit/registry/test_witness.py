"""The witness decision core (C2SP tlog-witness): what it cosigns, what it refuses, and why."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from registry.tlog.checkpoint import (
    BadCheckpointError,
    Checkpoint,
    CosignatureSigner,
    verify_checkpoint,
)
from registry.tlog.merkle import EMPTY_ROOT, consistency_proof, leaf_hash, root
from registry.tlog.note import BadNoteError, NoteSigner, sign_note
from registry.witness.decide import (
    MAX_PROOF_LINES,
    Accepted,
    LogState,
    Witness,
    WitnessBadProof,
    WitnessBadRequest,
    WitnessConfig,
    WitnessConflict,
    WitnessError,
    WitnessForbidden,
    WitnessFork,
    WitnessUnknownLog,
    format_add_checkpoint,
    origin_hash,
    parse_add_checkpoint,
)
from registry.witness.http import STATUSES as WITNESS_STATUSES
from ssiwallet.core.keys import Ed25519PrivateKey
from ssiwallet.errors import SsiError
from ssiwallet.infra.web import status_for
from tests.support.paths import SPECS

# c2sp.org/tlog-witness, add-checkpoint "Example request body" (unindented).
SPEC_REQUEST = (
    "old 20852014\n"
    "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
    "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
    "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"
    "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n"
    "\n"
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhc"
    "yv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "— example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V"
    "6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n"
)


def _status(exc: SsiError) -> int:
    """What the witness service answers for ``exc``."""
    return status_for(exc, WITNESS_STATUSES)


def key(n: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey(bytes([n]) * 32)


ORIGIN = "keten.example/chain-1"
LOG = NoteSigner(ORIGIN, key(1))
ROGUE = NoteSigner(ORIGIN, key(2))  # same name as the log, another key
WITNESS_KEY = CosignatureSigner("witness.example/w1", key(10))
LEAVES = [leaf_hash(b"tx %d" % i) for i in range(40)]
FORK = LEAVES[:7] + [leaf_hash(b"forked %d" % i) for i in range(33)]  # agrees up to size 7
NOW = 1_700_000_000


def make_witness() -> Witness:
    return Witness(WITNESS_KEY, {ORIGIN: [LOG.verifier]})


def note(size: int, leaves: list[bytes] = LEAVES, signers: list[NoteSigner] | None = None,
         origin: str = ORIGIN) -> str:
    body = Checkpoint(origin, size, root(leaves[:size])).body()
    return sign_note(body, signers or [LOG])


def submit(witness: Witness, stored: LogState | None, old: int, checkpoint_note: str,
           proof: list[bytes] | None = None, now: int = NOW) -> Accepted:
    request = parse_add_checkpoint(format_add_checkpoint(old, proof or [], checkpoint_note))
    return witness.decide(request, witness.open_checkpoint(request), stored, now)


def grow(witness: Witness, stored: LogState | None, new: int,
         leaves: list[bytes] = LEAVES) -> LogState:
    old = 0 if stored is None else stored.size
    proof = consistency_proof(leaves, old, new) if old else []
    return submit(witness, stored, old, note(new, leaves), proof).state


# --- the request body --------------------------------------------------------------------------


def test_spec_example_request_is_transcribed_and_parses() -> None:
    spec = (SPECS / "c2sp-tlog-witness.md").read_text()
    assert "\n".join("    " + line if line else "" for line in SPEC_REQUEST.split("\n")) in spec
    request = parse_add_checkpoint(SPEC_REQUEST.encode())
    assert request.old_size == 20852014
    assert len(request.proof) == 4 and request.proof[0] == base64.b64decode(
        "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw="
    )
    assert request.checkpoint_note.startswith("example.com/behind-the-sofa\n20852163\n")
    assert format_add_checkpoint(
        request.old_size, request.proof, request.checkpoint_note
    ) == SPEC_REQUEST.encode()


def test_spec_example_origin_is_unknown_to_our_witness() -> None:
    request = parse_add_checkpoint(SPEC_REQUEST.encode())
    with pytest.raises(WitnessUnknownLog) as exc:
        make_witness().open_checkpoint(request)
    assert (exc.value.code, _status(exc.value)) == ("registry.witness_unknown_log", 404)


PROOF_LINE = base64.b64encode(bytes(32)).decode()
GOOD_NOTE = note(3)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"old 0",
        b"old 0\n",  # no empty line
        b"\n" + GOOD_NOTE.encode(),
        ("old 01\n\n" + GOOD_NOTE).encode(),
        ("old -1\n\n" + GOOD_NOTE).encode(),
        ("old +1\n\n" + GOOD_NOTE).encode(),
        ("old  1\n\n" + GOOD_NOTE).encode(),
        ("Old 1\n\n" + GOOD_NOTE).encode(),
        ("old 1 \n\n" + GOOD_NOTE).encode(),
        ("old 0\r\n\r\n" + GOOD_NOTE).encode(),
        ("old 9223372036854775808\n\n" + GOOD_NOTE).encode(),  # 2^63: beyond storage
        ("old 123456789012345678901\n\n" + GOOD_NOTE).encode(),
        ("old 1\nnot base64!\n\n" + GOOD_NOTE).encode(),
        ("old 1\n" + PROOF_LINE.rstrip("=") + "\n\n" + GOOD_NOTE).encode(),  # not canonical
        ("old 1\n" + base64.b64encode(bytes(31)).decode() + "\n\n" + GOOD_NOTE).encode(),
        ("old 1\n" + (PROOF_LINE + "\n") * (MAX_PROOF_LINES + 1) + "\n" + GOOD_NOTE).encode(),
        b"old 1\n\n\xff\xfe",
        b"old 1\n\nkten.example/chain-1\n3\n",  # no signature block
        ("old 1\n\n" + GOOD_NOTE.replace("\n\n", "\n\n\n")).encode(),
        ("old 1\n\n" + GOOD_NOTE.replace("\u2014", "-")).encode(),
    ],
    ids=lambda b: repr(b[:24]),
)
def test_malformed_bodies_are_bad_requests(body: bytes) -> None:
    witness = make_witness()
    with pytest.raises(WitnessBadRequest) as exc:
        witness.open_checkpoint(parse_add_checkpoint(body))
    assert (exc.value.code, _status(exc.value)) == ("registry.witness_bad_request", 400)


def test_sixty_three_proof_lines_are_allowed() -> None:
    body = "old 1\n" + (PROOF_LINE + "\n") * MAX_PROOF_LINES + "\n" + GOOD_NOTE
    assert len(parse_add_checkpoint(body.encode()).proof) == MAX_PROOF_LINES


def test_signed_note_that_is_not_a_checkpoint_is_a_bad_request() -> None:
    request = parse_add_checkpoint(b"old 0\n\n" + sign_note("hello\n", [LOG]).encode())
    with pytest.raises(WitnessBadRequest):
        make_witness().open_checkpoint(request)


def test_format_refuses_what_parse_would_refuse() -> None:
    with pytest.raises(ValueError):
        format_add_checkpoint(-1, [], GOOD_NOTE)
    with pytest.raises(ValueError):
        format_add_checkpoint(1, [bytes(31)], GOOD_NOTE)


# --- cosigning -------------------------------------------------------------------------------


def test_first_checkpoint_with_old_zero_is_cosigned() -> None:
    accepted = submit(make_witness(), None, 0, note(5))
    assert accepted.origin == ORIGIN
    assert (accepted.state.size, accepted.state.root_hash) == (5, root(LEAVES[:5]))
    assert accepted.cosignatures.startswith("\u2014 witness.example/w1 ")
    assert accepted.cosignatures.endswith("\n") and accepted.cosignatures.count("\n") == 1
    body = Checkpoint(ORIGIN, 5, root(LEAVES[:5])).body()
    assert WITNESS_KEY.verifier.verify_line(body, accepted.cosignatures) == NOW


def test_stored_note_is_the_cosigned_checkpoint_a_client_accepts() -> None:
    state = submit(make_witness(), None, 0, note(5)).state
    checkpoint, cosigned = verify_checkpoint(
        state.note, LOG.verifier, [WITNESS_KEY.verifier], quorum=1, now=NOW, max_age=60
    )
    assert checkpoint.size == 5 and cosigned == {WITNESS_KEY.name: NOW}


def test_only_verified_log_signatures_are_kept_in_the_stored_note() -> None:
    stranger = NoteSigner("stranger.example/k", key(3))
    state = submit(make_witness(), None, 0, note(5, signers=[LOG, stranger])).state
    assert "stranger.example" not in state.note and state.note.count("\u2014 ") == 2


def test_checkpoint_grows_with_a_valid_proof() -> None:
    witness = make_witness()
    state = grow(witness, None, 1)
    for size in (2, 3, 7, 8, 9, 16, 33, 40):
        state = grow(witness, state, size)
        assert (state.size, state.root_hash) == (size, root(LEAVES[:size]))


def test_same_checkpoint_again_is_cosigned_again() -> None:
    witness = make_witness()
    state = grow(witness, None, 9)
    again = submit(witness, state, 9, note(9), now=NOW + 5)
    assert again.state.size == 9 and again.state.root_hash == state.root_hash
    assert WITNESS_KEY.verifier.verify_line(Checkpoint.parse(note(9).split("\n\n")[0] + "\n"),
                                            again.cosignatures) == NOW + 5


def test_extension_lines_are_cosigned_with_the_checkpoint() -> None:
    body = Checkpoint(ORIGIN, 2, root(LEAVES[:2]), ("height 2",)).body()
    accepted = submit(make_witness(), None, 0, sign_note(body, [LOG]))
    assert WITNESS_KEY.verifier.verify_line(body, accepted.cosignatures) == NOW


def test_empty_tree_with_the_empty_root_is_cosigned() -> None:
    accepted = submit(make_witness(), None, 0, note(0))
    assert accepted.state.size == 0 and accepted.state.root_hash == EMPTY_ROOT


def test_time_must_be_positive() -> None:
    with pytest.raises(ValueError):
        submit(make_witness(), None, 0, note(1), now=0)


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize("old", [0, 3, 9])
def test_stale_old_size_is_a_conflict_carrying_the_stored_size(old: int) -> None:
    witness = make_witness()
    state = grow(witness, None, 5)
    proof = consistency_proof(LEAVES, old, 12) if old else []
    with pytest.raises(WitnessConflict) as exc:
        submit(witness, state, old, note(12), proof)
    assert (exc.value.code, _status(exc.value), exc.value.size) == (
        "registry.witness_conflict", 409, 5)
    assert exc.value.evidence is None  # 12 may well extend 5: nothing proven


def test_nonzero_old_without_stored_state_is_a_conflict_with_size_zero() -> None:
    with pytest.raises(WitnessConflict) as exc:
        submit(make_witness(), None, 3, note(5), consistency_proof(LEAVES, 3, 5))
    assert exc.value.size == 0


def test_old_above_checkpoint_size_is_a_bad_request() -> None:
    with pytest.raises(WitnessBadRequest):
        submit(make_witness(), None, 6, note(5))


def test_bad_consistency_proof_is_unprocessable() -> None:
    witness = make_witness()
    state = grow(witness, None, 5)
    proof = consistency_proof(LEAVES, 5, 12)
    proof[0] = bytes(32)
    with pytest.raises(WitnessBadProof) as exc:
        submit(witness, state, 5, note(12), proof)
    assert (exc.value.code, _status(exc.value)) == ("registry.witness_bad_proof", 422)


@pytest.mark.parametrize("cut", [1, -1])
def test_proof_of_the_wrong_length_is_unprocessable(cut: int) -> None:
    witness = make_witness()
    state = grow(witness, None, 5)
    proof = consistency_proof(LEAVES, 5, 12)
    proof = proof[cut:] if cut > 0 else proof + [bytes(32)]
    with pytest.raises(WitnessBadProof):
        submit(witness, state, 5, note(12), proof)


def test_proof_with_old_zero_is_unprocessable() -> None:
    with pytest.raises(WitnessBadProof):
        submit(make_witness(), None, 0, note(5), [bytes(32)])


def test_proof_for_equal_sizes_is_unprocessable() -> None:
    witness = make_witness()
    state = grow(witness, None, 5)
    with pytest.raises(WitnessBadProof):
        submit(witness, state, 5, note(5), [bytes(32)])


def test_empty_tree_with_another_root_is_unprocessable() -> None:
    body = Checkpoint(ORIGIN, 0, bytes(32)).body()
    with pytest.raises(WitnessBadProof):
        submit(make_witness(), None, 0, sign_note(body, [LOG]))


def test_unknown_origin_is_not_found() -> None:
    other = NoteSigner("other.example/log", key(4))
    with pytest.raises(WitnessUnknownLog):
        submit(make_witness(), None, 0, note(5, signers=[other], origin="other.example/log"))


def test_checkpoint_signed_only_by_an_unknown_key_is_forbidden() -> None:
    with pytest.raises(WitnessForbidden) as exc:
        submit(make_witness(), None, 0, note(5, signers=[ROGUE]))
    assert (exc.value.code, _status(exc.value)) == ("registry.witness_forbidden", 403)


def test_checkpoint_with_a_failing_log_signature_is_forbidden() -> None:
    forged = note(5).replace(base64.b64encode(root(LEAVES[:5])).decode(),
                             base64.b64encode(root(FORK[:5] + [bytes(32)])).decode())
    with pytest.raises(WitnessForbidden):
        submit(make_witness(), None, 0, forged)


def test_log_signature_is_required_even_with_other_valid_signatures() -> None:
    stranger = NoteSigner("stranger.example/k", key(3))
    with pytest.raises(WitnessForbidden):
        submit(make_witness(), None, 0, note(5, signers=[stranger]))


# --- evidence (SECURITY 21) ------------------------------------------------------------------


def test_same_size_other_root_is_a_fork_and_keeps_both_notes() -> None:
    witness = make_witness()
    state = grow(witness, None, 12)
    forked = note(12, FORK)
    with pytest.raises(WitnessFork) as exc:
        submit(witness, state, 12, forked)
    assert (exc.value.code, _status(exc.value)) == ("registry.witness_fork", 422)
    evidence = exc.value.evidence
    assert evidence is not None and evidence.kind == "fork" and evidence.origin == ORIGIN
    assert evidence.stored_note == state.note and evidence.submitted_note == forked
    verify_checkpoint(evidence.stored_note, LOG.verifier, [], quorum=0)  # both log-signed
    verify_checkpoint(evidence.submitted_note, LOG.verifier, [], quorum=0)


def test_fork_submitted_with_old_zero_is_a_conflict_with_evidence() -> None:
    witness = make_witness()
    state = grow(witness, None, 12)
    with pytest.raises(WitnessConflict) as exc:
        submit(witness, state, 0, note(12, FORK))
    assert exc.value.size == 12
    assert exc.value.evidence is not None and exc.value.evidence.kind == "fork"


@pytest.mark.parametrize(("old", "error"), [(3, WitnessConflict), (12, WitnessBadRequest)])
def test_smaller_checkpoint_is_refused_with_rollback_evidence(
    old: int, error: type[WitnessError]
) -> None:
    witness = make_witness()
    state = grow(witness, None, 12)
    smaller = note(5)
    with pytest.raises(error) as exc:
        submit(witness, state, old, smaller, consistency_proof(LEAVES, 3, 5) if old < 5 else [])
    evidence = exc.value.evidence
    assert evidence is not None and evidence.kind == "rollback"
    assert (evidence.stored_note, evidence.submitted_note) == (state.note, smaller)


def test_fork_of_another_size_fails_its_proof_with_evidence() -> None:
    witness = make_witness()
    state = grow(witness, None, 12)
    with pytest.raises(WitnessBadProof) as exc:  # the fork's own proof, from its own size 12
        submit(witness, state, 12, note(20, FORK), consistency_proof(FORK, 12, 20))
    assert not isinstance(exc.value, WitnessFork)
    assert exc.value.evidence is not None and exc.value.evidence.kind == "bad_proof"


def test_refusals_of_unsigned_checkpoints_carry_no_evidence() -> None:
    witness = make_witness()
    state = grow(witness, None, 12)
    with pytest.raises(WitnessForbidden) as exc:
        submit(witness, state, 12, note(12, FORK, signers=[ROGUE]))
    assert exc.value.evidence is None


# --- configuration ---------------------------------------------------------------------------


def test_config_parses_vkeys_into_the_witness(tmp_path: Path) -> None:
    config = WitnessConfig(WITNESS_KEY, {ORIGIN: [LOG.verifier.vkey()]}, tmp_path / "w.db")
    assert config.verifiers == {ORIGIN: (LOG.verifier,)}
    assert grow(config.witness(), None, 3).size == 3


@pytest.mark.parametrize(
    ("logs", "error"),
    [
        ({ORIGIN: ["not a vkey"]}, BadNoteError),
        ({ORIGIN: []}, BadNoteError),
        ({ORIGIN: LOG.verifier.vkey()}, BadNoteError),  # a str, not a list of vkeys
        ({"": ["x"]}, BadCheckpointError),
        ({"a\nb": ["x"]}, BadCheckpointError),
    ],
)
def test_config_refuses_bad_logs(
    tmp_path: Path, logs: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        WitnessConfig(WITNESS_KEY, logs, tmp_path / "w.db")  # type: ignore[arg-type]


def test_config_refuses_a_cosignature_vkey_as_a_log_key(tmp_path: Path) -> None:
    with pytest.raises(BadNoteError):
        WitnessConfig(WITNESS_KEY, {ORIGIN: [WITNESS_KEY.verifier.vkey()]}, tmp_path / "w.db")


def test_origin_hash_is_lowercase_hex_sha256() -> None:
    digest = hashlib.sha256(b"example.com/behind-the-sofa").hexdigest()
    assert origin_hash("example.com/behind-the-sofa") == digest == digest.lower()
