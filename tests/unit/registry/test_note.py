"""Signed notes, checkpoints and cosignatures: the C2SP examples, round trips, refusals."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.errors import RegistryError
from registry.tlog.checkpoint import (
    BadCheckpointError,
    Checkpoint,
    CheckpointStaleError,
    CosignatureSigner,
    CosignatureVerifier,
    WitnessQuorumError,
    cosign,
    cosigned_message,
    verify_checkpoint,
)
from registry.tlog.note import (
    MAX_NOTE_SIZE,
    MAX_SIGNATURES,
    BadNoteError,
    BadSignatureError,
    NoteSignature,
    NoteSigner,
    NoteVerifier,
    UnknownKeyError,
    key_id_for,
    open_note,
    parse_note,
    sign_note,
)
from ssiwallet.core.keys import Ed25519PrivateKey
from tests.support.paths import SPECS

# c2sp.org/signed-note, "Verifier keys / Example": a real key and a note it verifies.
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n"
    "\n"
    "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFX"
    "mRKuwHjG1Yu72IneyaQM=\n"
)
# c2sp.org/signed-note introduction (no key published for it).
QUASIMODO = (
    "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n"
    "\n"
    "— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMou"
    "FSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n"
)
# c2sp.org/tlog-checkpoint and c2sp.org/tlog-cosignature examples (no keys published).
SOFA_BODY = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)
SOFA_LOG_LINE = (
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhc"
    "yv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)
SOFA_WITNESS_LINE = (
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3"
    "b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)
SOFA_COSIGNED = SOFA_BODY + "\n" + SOFA_LOG_LINE + SOFA_WITNESS_LINE


def key(n: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey(bytes([n]) * 32)


LOG = NoteSigner("keten.example/chain-1", key(1))
OTHER = NoteSigner("other.example/log", key(2))
WITNESSES = [CosignatureSigner(f"witness.example/w{i}", key(10 + i)) for i in range(3)]
ROOT = hashlib.sha256(b"root").digest()
CHECKPOINT = Checkpoint("keten.example/chain-1", 42, ROOT)
NOW = 1_700_000_000


# --- the specification examples -------------------------------------------------------------


def test_examples_are_transcribed_from_the_specs() -> None:
    signed_note = (SPECS / "c2sp-signed-note.md").read_text()
    cosignature = (SPECS / "c2sp-tlog-cosignature.md").read_text()
    assert SPEC_VKEY in signed_note and SPEC_NOTE in signed_note and QUASIMODO in signed_note
    assert SOFA_COSIGNED in cosignature


def test_spec_vkey_verifies_spec_note_exactly() -> None:
    verifier = NoteVerifier.from_vkey(SPEC_VKEY)
    assert verifier.name == "example.com/foo"
    assert verifier.key_id == 0x530D903A
    assert verifier.vkey() == SPEC_VKEY
    text = "This is an example message.\n"
    assert open_note(SPEC_NOTE, [verifier]) == (text, ["example.com/foo"])
    assert open_note(SPEC_NOTE.encode(), [verifier])[1] == ["example.com/foo"]


def test_spec_note_tampered_text_is_refused() -> None:
    verifier = NoteVerifier.from_vkey(SPEC_VKEY)
    with pytest.raises(BadSignatureError) as exc:
        open_note(SPEC_NOTE.replace("example message", "exemple message"), [verifier])
    assert exc.value.code == "registry.bad_signature"


def test_spec_key_id_rule() -> None:
    raw = base64.b64decode(SPEC_VKEY.split("+", 2)[2])[1:]
    expected = hashlib.sha256(b"example.com/foo\n\x01" + raw).digest()[:4]
    assert key_id_for("example.com/foo", 0x01, raw) == int.from_bytes(expected, "big")
    assert key_id_for("example.com/foo", 0x04, raw) != key_id_for("example.com/foo", 0x01, raw)


def test_quasimodo_note_parses_with_blank_line_in_text() -> None:
    text, sigs = parse_note(QUASIMODO)
    assert text.endswith("raggio di sole:\n\ned è subito sera.\n")
    assert [s.name for s in sigs] == ["quasimodo.example/salvatore"]
    assert sigs[0].line() == QUASIMODO.split("\n\n")[-1]


def test_signature_with_known_name_but_other_key_id_is_ignored() -> None:
    impostor = NoteVerifier("quasimodo.example/salvatore", key(3).public_key)
    with pytest.raises(UnknownKeyError) as exc:
        open_note(QUASIMODO, [impostor])
    assert exc.value.code == "registry.unknown_key"


def test_spec_checkpoint_parses_and_formats_back() -> None:
    cp = Checkpoint.parse(SOFA_BODY)
    assert (cp.origin, cp.size, cp.extensions) == ("example.com/behind-the-sofa", 20852163, ())
    assert cp.root_hash == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert cp.body() == SOFA_BODY


def test_spec_cosignature_structure_and_message() -> None:
    text, sigs = parse_note(SOFA_COSIGNED)
    assert text == SOFA_BODY
    witness = sigs[1]
    assert witness.name == "witness.example.com/w1" and witness.key_id == 0x8D66CF3F
    assert len(witness.signature) == 8 + 64
    timestamp = int.from_bytes(witness.signature[:8], "big")
    assert timestamp == 1679315147  # the time line of the spec's example message
    assert cosigned_message(SOFA_BODY, timestamp) == (
        b"cosignature/v1\ntime 1679315147\n" + SOFA_BODY.encode()
    )


def test_witness_spec_two_log_signatures_with_distinct_key_ids_parse() -> None:
    extra = (
        "— example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks"
        "+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n"
    )
    assert extra in (SPECS / "c2sp-tlog-witness.md").read_text().replace("    — ", "— ")
    _, sigs = parse_note(SOFA_BODY + "\n" + SOFA_LOG_LINE + extra)
    assert len({s.key_id for s in sigs}) == 2


# --- signing and opening --------------------------------------------------------------------


def test_round_trip_with_several_signers_and_unknown_extra() -> None:
    note = sign_note("hello\n\nworld\n", [LOG, OTHER])
    assert open_note(note, [LOG.verifier]) == ("hello\n\nworld\n", [LOG.name])
    assert open_note(note, [LOG.verifier, OTHER.verifier])[1] == [LOG.name, OTHER.name]


def test_vkey_round_trip_and_format() -> None:
    vkey = LOG.verifier.vkey()
    name, hex_id, _ = vkey.split("+", 2)
    assert name == LOG.name and hex_id == f"{LOG.key_id:08x}"
    assert NoteVerifier.from_vkey(vkey) == LOG.verifier


@pytest.mark.parametrize(
    "vkey",
    [
        "",
        "example.com/foo",
        "example.com/foo+530d903a",
        "+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        "example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        "example.com/foo+530d90+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2",
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2l",
        "example com+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
    ],
)
def test_bad_vkeys_are_refused(vkey: str) -> None:
    with pytest.raises(BadNoteError):
        NoteVerifier.from_vkey(vkey)


def test_vkey_of_other_signature_type_is_refused() -> None:
    with pytest.raises(BadNoteError):
        CosignatureVerifier.from_vkey(SPEC_VKEY)
    with pytest.raises(BadNoteError):
        NoteVerifier.from_vkey(WITNESSES[0].verifier.vkey())


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\tb", "a\u00a0b", "a\u2003b", "a\nb"])
def test_bad_key_names_are_refused(name: str) -> None:
    with pytest.raises(BadNoteError):
        NoteSigner(name, key(1))


@pytest.mark.parametrize(
    "text", ["", "no newline", "a\r\n", "tab\there\n", "nul\x00\n", "\ud800\n", "x\n" * (2**19 + 1)]
)
def test_sign_refuses_bad_texts(text: str) -> None:
    with pytest.raises(BadNoteError):
        sign_note(text, [LOG])


def test_sign_refuses_text_whose_note_would_be_too_big() -> None:
    with pytest.raises(BadNoteError):
        sign_note("x" * (MAX_NOTE_SIZE - 10) + "\n", [LOG])


def test_sign_refuses_no_signers_and_duplicate_signers() -> None:
    with pytest.raises(BadNoteError):
        sign_note("x\n", [])
    with pytest.raises(BadNoteError):
        sign_note("x\n", [LOG, NoteSigner(LOG.name, key(1))])


GOOD = sign_note("body\n", [LOG])
_TEXT, _LINE = GOOD.split("\n\n")
_SIG_B64 = _LINE[len("— ") + len(LOG.name) + 1 : -1]


@pytest.mark.parametrize(
    ("case", "note"),
    [
        ("no blank line", GOOD.replace("\n\n", "\n")),
        ("no signature", "body\n\n"),
        ("no final newline", GOOD[:-1]),
        ("crlf", GOOD.replace("\n", "\r\n")),
        ("cr before signatures", GOOD.replace("\n\n", "\n\r\n")),
        ("hyphen not em dash", GOOD.replace("—", "-")),
        ("en dash", GOOD.replace("—", "–")),
        ("no space after dash", GOOD.replace("— ", "—")),
        ("two spaces", GOOD.replace(LOG.name + " ", LOG.name + "  ")),
        ("trailing space", GOOD[:-1] + " \n"),
        ("tab separator", GOOD.replace(LOG.name + " ", LOG.name + "\t")),
        ("empty name", GOOD.replace(LOG.name, "")),
        ("plus in name", GOOD.replace(LOG.name, "a+b")),
        ("bad base64 char", GOOD.replace(_SIG_B64, "*" + _SIG_B64[1:])),
        ("base64 no padding", GOOD.replace(_SIG_B64, _SIG_B64.rstrip("="))),
        ("base64url", GOOD.replace(_SIG_B64, "-_" + _SIG_B64[2:])),
        ("space inside base64", GOOD.replace(_SIG_B64, _SIG_B64[:8] + " " + _SIG_B64[8:])),
        ("short signature", GOOD.replace(_SIG_B64, "AAAAAA==")),
        ("blank line after signatures", GOOD + "\n"),
        ("duplicate signature", GOOD + _LINE),
        ("garbage line", GOOD + "hello\n"),
        ("control char in text", "bo\x07dy\n\n" + _LINE),
    ],
)
def test_malformed_notes_are_refused(case: str, note: str) -> None:
    with pytest.raises(BadNoteError) as exc:
        open_note(note, [LOG.verifier])
    assert exc.value.code == "registry.bad_note", case


def test_empty_line_between_signatures_moves_the_first_into_the_text() -> None:
    """The text ends at the *last* blank line, so earlier lines become signed text."""
    with pytest.raises(BadSignatureError):
        open_note(GOOD + "\n" + _LINE, [LOG.verifier])


def test_non_canonical_base64_padding_bits_are_refused() -> None:
    blob = base64.b64decode(_SIG_B64)
    assert len(blob) % 3 == 2  # 68 bytes: the last character carries 2 padding bits
    last = _SIG_B64[-2]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    sibling = alphabet[alphabet.index(last) ^ 1]
    mangled = _SIG_B64[:-2] + sibling + "="
    assert base64.b64decode(mangled) == blob
    with pytest.raises(BadNoteError):
        open_note(GOOD.replace(_SIG_B64, mangled), [LOG.verifier])


def test_invalid_utf8_bytes_are_refused() -> None:
    with pytest.raises(BadNoteError):
        open_note(b"\xff\xfe\n\n" + _LINE.encode(), [LOG.verifier])


def test_size_and_signature_count_limits() -> None:
    with pytest.raises(BadNoteError):
        open_note("a" * MAX_NOTE_SIZE + "\n\n" + _LINE, [LOG.verifier])
    with pytest.raises(BadNoteError):
        open_note(("a" * MAX_NOTE_SIZE + "\n\n" + _LINE).encode(), [LOG.verifier])
    many = [NoteSigner(f"s{i}.example", key(1)) for i in range(MAX_SIGNATURES + 1)]
    assert len(parse_note(sign_note("x\n", many[:MAX_SIGNATURES]))[1]) == MAX_SIGNATURES
    with pytest.raises(BadNoteError):
        sign_note("x\n", many)
    too_many = sign_note("x\n", many[:MAX_SIGNATURES])
    extra = NoteSignature(many[-1].name, many[-1].key_id, b"\x00" * 64).line()
    with pytest.raises(BadNoteError):
        open_note(too_many + extra, [LOG.verifier])


def test_signature_by_unknown_key_only_is_refused() -> None:
    with pytest.raises(UnknownKeyError):
        open_note(sign_note("x\n", [OTHER]), [LOG.verifier])


def test_tampered_body_and_forged_signature_from_known_key_are_refused() -> None:
    with pytest.raises(BadSignatureError):
        open_note(GOOD.replace("body", "bodY"), [LOG.verifier])
    forged = NoteSignature(LOG.name, LOG.key_id, b"\x00" * 64).line()
    with pytest.raises(BadSignatureError):
        open_note(sign_note("x\n", [OTHER]) + forged, [LOG.verifier, OTHER.verifier])
    wrong_length = NoteSignature(LOG.name, LOG.key_id, b"\x01" * 10).line()
    with pytest.raises(BadSignatureError):
        open_note("body\n\n" + wrong_length, [LOG.verifier])


def test_errors_hang_under_registry_root() -> None:
    for cls in (BadNoteError, BadSignatureError, UnknownKeyError, BadCheckpointError,
                WitnessQuorumError, CheckpointStaleError):
        assert issubclass(cls, RegistryError)


_VALID_CHAR = st.characters(codec="utf-8").filter(lambda c: c >= " " or c == "\n")


@given(st.text(_VALID_CHAR, max_size=200))
def test_sign_then_open_returns_the_text(body: str) -> None:
    text = body + "\n"
    assert open_note(sign_note(text, [LOG, OTHER]), [OTHER.verifier]) == (text, [OTHER.name])


# --- checkpoints ----------------------------------------------------------------------------


def test_checkpoint_round_trip_with_extensions() -> None:
    cp = Checkpoint("keten.example/chain-1", 0, ROOT, ("ext one", "ext two"))
    assert Checkpoint.parse(cp.body()) == cp
    assert cp.body().count("\n") == 5


@pytest.mark.parametrize(
    ("case", "body"),
    [
        ("missing trailing newline", SOFA_BODY[:-1]),
        ("leading zero", SOFA_BODY.replace("20852163", "020852163")),
        ("double zero", SOFA_BODY.replace("20852163", "00")),
        ("negative", SOFA_BODY.replace("20852163", "-1")),
        ("plus sign", SOFA_BODY.replace("20852163", "+1")),
        ("spaces", SOFA_BODY.replace("20852163", " 1")),
        ("unicode digits", SOFA_BODY.replace("20852163", "٣")),
        ("too big", SOFA_BODY.replace("20852163", str(2**64))),
        ("empty size", SOFA_BODY.replace("20852163", "")),
        ("31-byte root", SOFA_BODY.replace("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",
                                           base64.b64encode(b"\x00" * 31).decode())),
        ("33-byte root", SOFA_BODY.replace("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",
                                           base64.b64encode(b"\x00" * 33).decode())),
        ("unpadded root", SOFA_BODY.replace("2I=", "2I")),
        ("base64url root", "o\n1\n" + base64.urlsafe_b64encode(b"\xff" * 32).decode() + "\n"),
        ("empty origin", "\n" + SOFA_BODY.split("\n", 1)[1]),
        ("two lines", "origin\n1\n"),
        ("empty extension", SOFA_BODY + "\n"),
        ("crlf", SOFA_BODY.replace("\n", "\r\n")),
    ],
)
def test_checkpoint_parse_is_strict(case: str, body: str) -> None:
    with pytest.raises(BadCheckpointError) as exc:
        Checkpoint.parse(body)
    assert exc.value.code == "registry.bad_checkpoint", case


@pytest.mark.parametrize(
    "args",
    [("", 1, ROOT), ("o\nx", 1, ROOT), ("o", -1, ROOT), ("o", True, ROOT), ("o", 2**64, ROOT),
     ("o", 1, ROOT[:31]), ("o", 1, ROOT, ("",)), ("o", 1, ROOT, ("a\nb",))],
)
def test_checkpoint_constructor_is_strict(args: tuple[object, ...]) -> None:
    with pytest.raises(BadCheckpointError):
        Checkpoint(*args)  # type: ignore[arg-type]


# --- cosignatures ---------------------------------------------------------------------------


def cosigned_note(*witnesses: CosignatureSigner, at: int = NOW) -> str:
    body = CHECKPOINT.body()
    return sign_note(body, [LOG]) + "".join(cosign(body, w, at) for w in witnesses)


def test_cosignature_round_trip_and_line_format() -> None:
    line = cosign(CHECKPOINT, WITNESSES[0], NOW)
    assert line.startswith(f"— {WITNESSES[0].name} ") and line.endswith("\n")
    blob = base64.b64decode(line.split(" ")[2])
    raw = WITNESSES[0].private_key.public_key.raw
    assert blob[:4] == hashlib.sha256(WITNESSES[0].name.encode() + b"\n\x04" + raw).digest()[:4]
    assert int.from_bytes(blob[4:12], "big") == NOW and len(blob) == 76
    assert WITNESSES[0].verifier.verify_line(CHECKPOINT, line) == NOW
    assert WITNESSES[0].verifier.verify_line(CHECKPOINT.body(), line.rstrip("\n")) == NOW


def test_cosignature_vkey_round_trip() -> None:
    verifier = WITNESSES[1].verifier
    vkey = verifier.vkey()
    assert base64.b64decode(vkey.split("+", 2)[2])[0] == 0x04
    assert CosignatureVerifier.from_vkey(vkey) == verifier


def test_cosignature_over_other_checkpoint_or_by_other_witness_fails() -> None:
    line = cosign(CHECKPOINT, WITNESSES[0], NOW)
    other = Checkpoint(CHECKPOINT.origin, 43, ROOT)
    with pytest.raises(BadSignatureError):
        WITNESSES[0].verifier.verify_line(other, line)
    with pytest.raises(UnknownKeyError):
        WITNESSES[1].verifier.verify_line(CHECKPOINT, line)


def test_cosign_refuses_non_checkpoints_and_bad_timestamps() -> None:
    with pytest.raises(BadCheckpointError):
        cosign("hello\n", WITNESSES[0], NOW)
    for bad in (-1, 2**63, True):
        with pytest.raises(BadNoteError):
            cosign(CHECKPOINT, WITNESSES[0], bad)


def test_cosignature_is_not_a_plain_note_signature() -> None:
    """Domain separation: a witness key's signature never verifies as a 0x01 note signature."""
    note = cosigned_note(WITNESSES[0])
    as_note_key = NoteVerifier(WITNESSES[0].name, WITNESSES[0].private_key.public_key)
    with pytest.raises(UnknownKeyError):  # different key ID: ignored, not verified
        open_note(note.replace(sign_note(CHECKPOINT.body(), [LOG]), CHECKPOINT.body() + "\n"),
                  [as_note_key])


# --- checkpoint verification policy ---------------------------------------------------------

VERIFIERS = [w.verifier for w in WITNESSES]


def test_verify_checkpoint_with_quorum() -> None:
    cp, cosigs = verify_checkpoint(cosigned_note(*WITNESSES[:2]), LOG.verifier, VERIFIERS, 2,
                                   NOW + 10, 60, origin=CHECKPOINT.origin)
    assert cp == CHECKPOINT
    assert cosigs == {WITNESSES[0].name: NOW, WITNESSES[1].name: NOW}


def test_quorum_not_met() -> None:
    with pytest.raises(WitnessQuorumError) as exc:
        verify_checkpoint(cosigned_note(WITNESSES[0]), LOG.verifier, VERIFIERS, 2)
    assert exc.value.code == "registry.witness_quorum"


def test_same_witness_twice_counts_once() -> None:
    rotated = CosignatureSigner(WITNESSES[0].name, key(99))
    note = cosigned_note(WITNESSES[0]) + cosign(CHECKPOINT, rotated, NOW + 5)
    _, cosigs = verify_checkpoint(note, LOG.verifier, [*VERIFIERS, rotated.verifier], 1)
    assert cosigs == {WITNESSES[0].name: NOW + 5}
    with pytest.raises(WitnessQuorumError):
        verify_checkpoint(note, LOG.verifier, [*VERIFIERS, rotated.verifier], 2)


def test_unknown_witnesses_do_not_count() -> None:
    stranger = CosignatureSigner("stranger.example/w", key(50))
    note = cosigned_note(WITNESSES[0], stranger)
    with pytest.raises(WitnessQuorumError):
        verify_checkpoint(note, LOG.verifier, VERIFIERS, 2)


def test_log_signature_is_required() -> None:
    body = CHECKPOINT.body()
    note = body + "\n" + "".join(cosign(body, w, NOW) for w in WITNESSES)
    with pytest.raises(UnknownKeyError):
        verify_checkpoint(note, LOG.verifier, VERIFIERS, 1)


def test_bad_cosignature_from_known_witness_refuses_note() -> None:
    good = cosigned_note(WITNESSES[0], WITNESSES[1])
    forged = NoteSignature(WITNESSES[2].name, WITNESSES[2].verifier.key_id,
                           NOW.to_bytes(8, "big") + b"\x00" * 64).line()
    with pytest.raises(BadSignatureError):
        verify_checkpoint(good + forged, LOG.verifier, VERIFIERS, 1)


def test_timestamp_tampering_breaks_cosignature() -> None:
    line = cosign(CHECKPOINT, WITNESSES[0], NOW)
    blob = bytearray(base64.b64decode(line.split(" ")[2]))
    blob[11] ^= 1
    tampered = f"— {WITNESSES[0].name} {base64.b64encode(bytes(blob)).decode()}\n"
    with pytest.raises(BadSignatureError):
        verify_checkpoint(sign_note(CHECKPOINT.body(), [LOG]) + tampered, LOG.verifier,
                          VERIFIERS, 1)


def test_staleness() -> None:
    note = cosigned_note(WITNESSES[0], at=NOW - 100) + cosign(CHECKPOINT, WITNESSES[1], NOW)
    verify_checkpoint(note, LOG.verifier, VERIFIERS, 1, NOW + 60, 60)  # newest is fresh enough
    with pytest.raises(CheckpointStaleError) as exc:
        verify_checkpoint(note, LOG.verifier, VERIFIERS, 1, NOW + 61, 60)
    assert exc.value.code == "registry.checkpoint_stale"
    # Under a 2-of-n policy the second-newest cosignature decides: one fast witness is not enough.
    verify_checkpoint(note, LOG.verifier, VERIFIERS, 2, NOW - 40, 60)
    with pytest.raises(CheckpointStaleError):
        verify_checkpoint(note, LOG.verifier, VERIFIERS, 2, NOW, 60)
    with pytest.raises(CheckpointStaleError):  # nothing vouches for freshness
        verify_checkpoint(cosigned_note(), LOG.verifier, VERIFIERS, 0, NOW, 60)


def test_wrong_origin_and_non_checkpoint_body() -> None:
    with pytest.raises(BadCheckpointError):
        verify_checkpoint(cosigned_note(WITNESSES[0]), LOG.verifier, VERIFIERS, 1,
                          origin="keten.example/chain-2")
    with pytest.raises(BadCheckpointError):
        verify_checkpoint(sign_note("not\na checkpoint\n", [LOG]), LOG.verifier, VERIFIERS, 0)


def test_inconsistent_policy_is_a_programming_error() -> None:
    note = cosigned_note(*WITNESSES)
    with pytest.raises(ValueError):
        verify_checkpoint(note, LOG.verifier, VERIFIERS, 4)
    with pytest.raises(ValueError):
        verify_checkpoint(note, LOG.verifier, VERIFIERS, -1)
    with pytest.raises(ValueError):
        verify_checkpoint(note, LOG.verifier, VERIFIERS, 1, now=NOW)
