"""Verification in two steps: :func:`keys_named` reads which issuer keys a credential names
(pure), and :func:`verify_vc` verifies only with the keys handed in."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssiwallet.core import sdjwt
from ssiwallet.core.keys import Ed25519PrivateKey
from ssiwallet.core.sdjwt.issuer import add_signature
from ssiwallet.core.vc import VC_TYP, IssuerKeyRef, day_floor, issue_vc, keys_named, verify_vc
from ssiwallet.errors import SsiError

NOW = 1_700_000_000
ISS = "did:keten:issuer"
KID, KID2 = ISS + "#key-1", ISS + "#key-2"
VCT = "urn:keten:vct:test:1"
ISSUER = Ed25519PrivateKey(bytes(range(32)))
ROLLOVER = Ed25519PrivateKey(bytes(range(100, 132)))
HOLDER = Ed25519PrivateKey(bytes(range(50, 82)))
HEADER = {"typ": VC_TYP, "kid": KID}


def issued() -> sdjwt.SdJwt:
    return issue_vc(issuer=ISS, kid=KID, key=ISSUER, vct=VCT, claims={"a": 1, "b": {"c": 2}},
                    holder_jwk=HOLDER.public_key.to_jwk(), now=NOW).sd_jwt


def signed(payload: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    return sdjwt.issue(payload, ISSUER, header=HEADER if header is None else header).compact()


def code_of(call: Any) -> str:
    with pytest.raises(SsiError) as err:
        call()
    return err.value.code


# ------------------------------------------------------------------ what a token names


def test_a_credential_names_its_issuer_key_as_of_the_issuance_day() -> None:
    token = issued()
    want = (IssuerKeyRef(ISS, KID, day_floor(NOW)),)
    assert keys_named(token) == want
    assert keys_named(token.compact()) == want
    assert keys_named(token.to_json()) == want


def test_a_presentation_names_the_same_key() -> None:
    shown = sdjwt.present(issued(), [("a",)], holder_key=HOLDER, nonce="n", aud="v", iat=NOW)
    assert keys_named(shown.compact()) == (IssuerKeyRef(ISS, KID, day_floor(NOW)),)


def test_every_issuer_signature_names_a_key_once_in_order() -> None:
    token = add_signature(issued(), ROLLOVER, {"typ": VC_TYP, "kid": KID2})
    assert [r.kid for r in keys_named(token.to_json(general=True))] == [KID, KID2]
    again = add_signature(token, ISSUER, {"typ": VC_TYP, "kid": KID})
    assert [r.kid for r in keys_named(again)] == [KID, KID2]


def test_an_unprotected_kid_is_read_as_verification_reads_it() -> None:
    token = add_signature(issued(), ROLLOVER, {"typ": VC_TYP}, unprotected={"kid": KID2})
    assert [r.kid for r in keys_named(token)] == [KID, KID2]


def test_a_non_did_issuer_may_name_a_plain_key_id() -> None:
    iss = "https://issuer.example.org"
    token = signed({"iss": iss, "iat": NOW, "vct": VCT}, {"typ": VC_TYP, "kid": "key-1"})
    assert keys_named(token) == (IssuerKeyRef(iss, "key-1", NOW),)


@pytest.mark.parametrize(("payload", "header", "code"), [
    ({"iat": NOW, "vct": VCT}, None, "vc.missing_iss"),
    ({"iss": "", "iat": NOW}, None, "vc.missing_iss"),
    ({"iss": ["did:keten:issuer"], "iat": NOW}, None, "vc.missing_iss"),
    ({"iss": ISS, "vct": VCT}, None, "sdjwt.invalid_time_claim"),
    ({"iss": ISS, "iat": "1700000000"}, None, "sdjwt.invalid_time_claim"),
    ({"iss": ISS, "iat": True}, None, "sdjwt.invalid_time_claim"),
    ({"iss": ISS, "iat": NOW + 0.5}, None, "vc.missing_iat"),
    ({"iss": ISS, "iat": NOW}, {"typ": VC_TYP}, "vc.invalid_kid"),
    ({"iss": ISS, "iat": NOW}, {"typ": VC_TYP, "kid": ""}, "vc.invalid_kid"),
    ({"iss": ISS, "iat": NOW}, {"typ": VC_TYP, "kid": 7}, "vc.invalid_kid"),
    # a kid must be a key of iss itself: never another party's key
    ({"iss": ISS, "iat": NOW}, {"kid": "did:keten:other#key-1"}, "issuer.kid_mismatch"),
    ({"iss": ISS, "iat": NOW}, {"kid": "key-1"}, "issuer.kid_mismatch"),
    ({"iss": ISS, "iat": NOW}, {"kid": ISS}, "issuer.kid_mismatch"),
    ({"iss": ISS, "iat": NOW}, {"kid": ISS + "#"}, "issuer.kid_mismatch"),
    ({"iss": ISS, "iat": NOW}, {"kid": "#key-1"}, "issuer.kid_mismatch"),
    ({"iss": ISS, "iat": NOW}, {"kid": ISS + "x#key-1"}, "issuer.kid_mismatch"),
    ({"iss": "https://issuer.example.org", "iat": NOW}, {"kid": KID}, "issuer.kid_mismatch"),
])
def test_what_cannot_name_a_key_is_refused_with_the_verify_codes(
        payload: dict[str, Any], header: dict[str, Any] | None, code: str) -> None:
    token = signed(payload, header)
    assert code_of(lambda: keys_named(token)) == code
    # verify_vc refuses the same way, whatever keys it is given
    assert code_of(lambda: verify_vc(token, keys={KID: ISSUER.public_key}, now=NOW,
                                     key_binding=None)) == code


def test_a_second_signature_without_kid_is_refused() -> None:
    token = add_signature(issued(), ROLLOVER, {"typ": VC_TYP})
    assert code_of(lambda: keys_named(token)) == "vc.invalid_kid"


def test_malformed_serializations_raise_our_errors() -> None:
    good = issued().compact()
    protected, payload, rest = good.split(".", 2)
    bad: Any
    for bad in ("", "~", "a.b.c~", good.replace("~", "", 1)[:40], f"{protected}.!!.{rest}",
                f"e30.{payload}.{rest}", f"{protected}.e30.{rest}", "{}", "[]",
                {"payload": payload}, {"signatures": []}):
        assert code_of(lambda b=bad: keys_named(b))  # an SsiError with a code


@settings(max_examples=300, deadline=None)
@given(cut=st.integers(min_value=0, max_value=400), junk=st.text(max_size=8))
def test_any_damage_to_a_token_raises_only_our_errors(cut: int, junk: str) -> None:
    good = issued().compact()
    text = good[:cut] + junk + good[cut + len(junk):]
    try:
        refs = keys_named(text)
    except SsiError as exc:
        assert exc.code
    else:
        assert all(isinstance(r.kid, str) and r.kid for r in refs)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=120))
def test_any_text_raises_only_our_errors(text: str) -> None:
    try:
        keys_named(text)
    except SsiError as exc:
        assert exc.code


# ------------------------------------------------------------------ verify with keys handed in


def test_verify_uses_the_key_handed_in_for_the_named_kid() -> None:
    vc = verify_vc(issued(), keys={KID: ISSUER.public_key, KID2: ROLLOVER.public_key},
                   now=NOW, key_binding=None, expect_kb=False)
    assert (vc.iss, vc.kid, vc.iat, vc.disclosed) == (ISS, KID, day_floor(NOW),
                                                     {"a": 1, "b": {"c": 2}})


@pytest.mark.parametrize("keys", [{}, {KID2: ISSUER.public_key},
                                  {"did:keten:other#key-1": ISSUER.public_key}])
def test_verify_refuses_when_the_named_key_is_not_handed_in(keys: dict[str, Any]) -> None:
    assert code_of(lambda: verify_vc(issued(), keys=keys, now=NOW, key_binding=None)) == \
        "vc.key_not_given"


def test_verify_refuses_unless_every_signature_s_key_is_handed_in() -> None:
    token = add_signature(issued(), ROLLOVER, {"typ": VC_TYP, "kid": KID2})
    assert code_of(lambda: verify_vc(token, keys={KID: ISSUER.public_key}, now=NOW,
                                     key_binding=None)) == "vc.key_not_given"
    both = {KID: ISSUER.public_key, KID2: ROLLOVER.public_key}
    assert verify_vc(token, keys=both, now=NOW, key_binding=None).kid == KID
    swapped = {KID: ROLLOVER.public_key, KID2: ISSUER.public_key}
    assert code_of(lambda: verify_vc(token, keys=swapped, now=NOW, key_binding=None)) == \
        "jose.bad_signature"


def test_the_wrong_key_for_the_named_kid_is_a_bad_signature() -> None:
    assert code_of(lambda: verify_vc(issued(), keys={KID: ROLLOVER.public_key}, now=NOW,
                                     key_binding=None)) == "jose.bad_signature"
