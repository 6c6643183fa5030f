"""The response leg: direct_post and error forms, the verifier's answer, and signed receipts."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

import base58
import pytest
from hypothesis import given
from hypothesis import strategies as st
from multidict import MultiDict

from ssiwallet.core import receipt as rc
from ssiwallet.core import strictjson
from ssiwallet.core.b64 import b64u_decode, b64u_encode
from ssiwallet.core.claimpath import ClaimPath
from ssiwallet.core.keys import Ed25519PrivateKey, P256PrivateKey, PrivateKey
from ssiwallet.errors import SsiError

DID = "did:keten:" + base58.b58encode(bytes(range(16))).decode()
OTHER_DID = "did:keten:" + base58.b58encode(bytes(range(1, 17))).decode()
ISSUER = "did:keten:" + base58.b58encode(bytes(range(2, 18))).decode()
KID = DID + "#key-2"
KEY = Ed25519PrivateKey(bytes(range(32)))
NONCE = "n0nce-0123456789abcdefgh"
STATE = "st4te-0123456789abcdefgh"
JTI = "jti-0123456789abcdefghijk"
NOW = 1_750_000_000
PRESENTATION = "eyJhbGciOiJFZERTQSJ9.eyJfc2QiOltdfQ.c2ln~WyJzYWx0IiwiZ2l2ZW5fbmFtZSIsIkFydGh1ciJd~"
VP_TOKEN = {"age": [PRESENTATION]}
PURPOSE = {"nl": "Leeftijd controleren aan de bar", "en": "Age check at the bar"}
RECEIVED = [rc.ReceivedCredential(vct="urn:keten:vct:identity:1", issuer=ISSUER,
                                  claims=(ClaimPath(["age_over_18"]),
                                          ClaimPath(["address", "locality"])))]


def code_of(call: Callable[[], object]) -> str:
    with pytest.raises(SsiError) as info:
        call()
    return info.value.code


# -- the direct_post form -------------------------------------------------------------------


def test_response_round_trip() -> None:
    form = rc.build_response(VP_TOKEN, STATE)
    assert set(form) == {"vp_token", "state"}
    assert json.loads(form["vp_token"]) == VP_TOKEN
    assert rc.parse_response(form) == (VP_TOKEN, STATE)
    assert not rc.is_error_response(form)


def test_response_from_a_multidict_and_with_unknown_fields() -> None:
    form = MultiDict(rc.build_response(VP_TOKEN, STATE))
    form.add("id_token", "ignored")
    form.add("iss", "https://wallet.example")
    assert rc.parse_response(form) == (VP_TOKEN, STATE)


def test_empty_vp_token_is_accepted() -> None:
    """All-optional credential sets can leave nothing to send (OpenID4VP §8.1)."""
    assert rc.parse_response({"vp_token": "{}", "state": STATE}) == ({}, STATE)


def test_several_presentations_and_credentials() -> None:
    token = {"a": ["x", "y"], "b-2_c": ["z"]}
    assert rc.parse_response(rc.build_response(token, STATE))[0] == token


@pytest.mark.parametrize(("field", "value"), [("vp_token", "{}"), ("state", "other")])
def test_a_repeated_field_is_refused(field: str, value: str) -> None:
    form = MultiDict(rc.build_response(VP_TOKEN, STATE))
    form.add(field, value)
    assert code_of(lambda: rc.parse_response(form)) == "oid4vp.bad_response"


BAD_VP_TOKENS: list[tuple[str, str, str]] = [
    ("array", "[]", "oid4vp.bad_response"),
    ("string", '"eyJ"', "oid4vp.bad_response"),
    ("null", "null", "oid4vp.bad_response"),
    ("empty list", '{"age":[]}', "oid4vp.bad_response"),
    ("bare string value", '{"age":"eyJ"}', "oid4vp.bad_response"),
    ("empty presentation", '{"age":[""]}', "oid4vp.bad_response"),
    ("number presentation", '{"age":[1]}', "oid4vp.bad_response"),
    ("object presentation", '{"age":[{"x":1}]}', "oid4vp.bad_response"),
    ("null presentation", '{"age":[null]}', "oid4vp.bad_response"),
    ("key with space", '{"a b":["x"]}', "oid4vp.bad_response"),
    ("empty key", '{"":["x"]}', "oid4vp.bad_response"),
    ("key too long", json.dumps({"a" * 65: ["x"]}), "oid4vp.bad_response"),
    ("33 credential ids", json.dumps({f"q{i}": ["x"] for i in range(33)}),
     "oid4vp.bad_response"),
    ("17 presentations", json.dumps({"age": ["x"] * 17}), "oid4vp.bad_response"),
    ("not JSON", "{age: [x]}", "json.malformed"),
    ("duplicate id", '{"age":["x"],"age":["y"]}', "json.duplicate_key"),
    ("NaN", '{"age":[NaN]}', "json.non_finite"),
    ("too deep", "[" * 100 + "]" * 100, "json.too_deep"),
    ("oversized", json.dumps({"age": ["x" * (1 << 19)]}), "oid4vp.too_large"),
]


@pytest.mark.parametrize(("text", "code"), [(t, c) for _, t, c in BAD_VP_TOKENS],
                         ids=[name for name, _, _ in BAD_VP_TOKENS])
def test_malformed_vp_tokens(text: str, code: str) -> None:
    assert code_of(lambda: rc.parse_response({"vp_token": text, "state": STATE})) == code


@pytest.mark.parametrize(("form", "code"), [
    ({"state": STATE}, "oid4vp.bad_response"),
    ({"vp_token": json.dumps(VP_TOKEN)}, "oid4vp.bad_response"),
    ({"vp_token": json.dumps(VP_TOKEN), "state": "a b"}, "oid4vp.bad_response"),
    ({"vp_token": json.dumps(VP_TOKEN), "state": ""}, "oid4vp.bad_response"),
    ({"vp_token": json.dumps(VP_TOKEN), "state": STATE, "error": "access_denied"},
     "oid4vp.bad_response"),
    ({"vp_token": json.dumps(VP_TOKEN).encode(), "state": STATE}, "oid4vp.bad_response"),
    ({"vp_token": json.dumps(VP_TOKEN), "state": STATE,
      **{f"f{i}": "x" for i in range(15)}}, "oid4vp.bad_response"),
    ([("vp_token", "{}"), ("state", STATE)], "oid4vp.bad_response"),
    ("vp_token={}&state=x", "oid4vp.bad_response"),
])
def test_malformed_forms(form: Any, code: str) -> None:
    assert code_of(lambda: rc.parse_response(form)) == code


@pytest.mark.parametrize(("vp_token", "state", "code"), [
    ({"age": []}, STATE, "oid4vp.bad_response"),
    ({"age": "eyJ"}, STATE, "oid4vp.bad_response"),
    ({"a.b": ["x"]}, STATE, "oid4vp.bad_response"),
    (VP_TOKEN, "a b", "oid4vp.bad_state"),
    ({"age": ["x" * (1 << 19)]}, STATE, "oid4vp.too_large"),
])
def test_build_response_refusals(vp_token: Any, state: str, code: str) -> None:
    assert code_of(lambda: rc.build_response(vp_token, state)) == code


_IDS = st.text(alphabet="abcXYZ019_-", min_size=1, max_size=64)


@given(st.dictionaries(_IDS, st.lists(st.text(min_size=1, max_size=50), min_size=1,
                                      max_size=16), max_size=32),
       st.text(alphabet="abcXYZ019._~-", min_size=1, max_size=256))
def test_response_round_trip_property(vp_token: dict[str, list[str]], state: str) -> None:
    surrogate_free = {k: [p.encode("utf-8", "replace").decode() for p in v]
                      for k, v in vp_token.items()}
    form = rc.build_response(surrogate_free, state)
    assert rc.parse_response(form) == (surrogate_free, state)


@given(st.dictionaries(st.text(max_size=12), st.text(max_size=80), max_size=6))
def test_arbitrary_forms_raise_only_project_errors(form: dict[str, str]) -> None:
    for parse in (rc.parse_response, rc.parse_error_response):
        with contextlib.suppress(SsiError):
            parse(form)
        with contextlib.suppress(SsiError):
            parse({**form, "vp_token": next(iter(form.values()), "{}"), "state": STATE})


# -- the error form -------------------------------------------------------------------------


def test_access_denied_round_trip() -> None:
    form = rc.build_error_response(error="access_denied", state=STATE)
    assert form == {"error": "access_denied", "state": STATE}
    assert rc.is_error_response(form)
    assert rc.parse_error_response(form) == rc.ErrorResponse("access_denied", None, STATE)


def test_error_with_description_round_trip() -> None:
    form = rc.build_error_response(error="invalid_request", state=STATE,
                                   description="unsupported client_id prefix")
    assert rc.parse_error_response(form).description == "unsupported client_id prefix"


def test_unknown_but_well_formed_error_code_is_read() -> None:
    assert rc.parse_error_response({"error": "some_future_error", "state": STATE}
                                   ).error == "some_future_error"


@pytest.mark.parametrize(("form", "code"), [
    ({"state": STATE}, "oid4vp.bad_response"),
    ({"error": "", "state": STATE}, "oid4vp.bad_response"),
    ({"error": 'a"b', "state": STATE}, "oid4vp.bad_response"),
    ({"error": "a\\b", "state": STATE}, "oid4vp.bad_response"),
    ({"error": "x" * 65, "state": STATE}, "oid4vp.bad_response"),
    ({"error": "access_denied"}, "oid4vp.bad_response"),
    ({"error": "access_denied", "state": "a/b"}, "oid4vp.bad_response"),
    ({"error": "access_denied", "state": STATE, "error_description": "é"},
     "oid4vp.bad_response"),
    ({"error": "access_denied", "state": STATE, "error_description": "a\nb"},
     "oid4vp.bad_response"),
    ({"error": "access_denied", "state": STATE, "error_description": "x" * 501},
     "oid4vp.bad_response"),
    ({"error": "access_denied", "state": STATE, "error_description": ""},
     "oid4vp.bad_response"),
    ({"error": "access_denied", "state": STATE, "vp_token": "{}"}, "oid4vp.bad_response"),
])
def test_malformed_error_forms(form: dict[str, str], code: str) -> None:
    assert code_of(lambda: rc.parse_error_response(form)) == code


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"error": "some_future_error", "state": STATE}, "oid4vp.bad_response"),
    ({"error": "access_denied", "state": ""}, "oid4vp.bad_state"),
    ({"error": "access_denied", "state": STATE, "description": 'no "quotes"'},
     "oid4vp.bad_response"),
])
def test_build_error_response_refusals(kwargs: dict[str, Any], code: str) -> None:
    assert code_of(lambda: rc.build_error_response(**kwargs)) == code


# -- receipts -------------------------------------------------------------------------------


def receipt(**changes: Any) -> str:
    args: dict[str, Any] = {
        "verifier": DID, "kid": KID, "key": KEY, "nonce": NONCE, "state": STATE,
        "vp_token": json.dumps(VP_TOKEN), "received": RECEIVED, "purpose": PURPOSE,
        "retention": 0, "result": "accepted", "now": NOW, "jti": JTI,
    }
    args.update(changes)
    return rc.build_receipt(**args)


def verify(token: str, **changes: Any) -> rc.Receipt:
    args: dict[str, Any] = {"verifier": DID, "nonce": NONCE, "state": STATE,
                            "vp_token": json.dumps(VP_TOKEN), "now": NOW + 1}
    args.update(changes)
    return rc.verify_receipt(rc.parse_receipt(token), KEY.public_key, **args)


def test_receipt_round_trip() -> None:
    got = verify(receipt(retention=30 * 86400))
    assert (got.verifier, got.kid, got.iat, got.jti) == (DID, KID, NOW, JTI)
    assert (got.nonce, got.state, got.result, got.accepted) == (NONCE, STATE, "accepted", True)
    assert got.received == tuple(RECEIVED)
    assert got.purpose == rc.Purpose(**PURPOSE)
    assert got.retention == 30 * 86400
    assert got.vp_token_hash == rc.vp_token_digest(json.dumps(VP_TOKEN))
    assert got.jws.header == {"alg": "EdDSA", "typ": "keten-receipt+jwt", "kid": KID}


def test_receipt_payload_members_and_no_claim_values() -> None:
    payload = json.loads(b64u_decode(receipt().split(".")[1]))
    assert set(payload) == {"iss", "iat", "jti", "nonce", "state", "vp_token_hash",
                            "received", "purpose", "retention", "result"}
    assert payload["received"] == [{"vct": "urn:keten:vct:identity:1", "issuer": ISSUER,
                                    "claims": [["age_over_18"], ["address", "locality"]]}]
    assert "Arthur" not in json.dumps(payload)  # the disclosed value in PRESENTATION


def test_rejected_receipt_with_nothing_received_and_purpose_object() -> None:
    got = verify(receipt(result="rejected", received=[], purpose=rc.Purpose(**PURPOSE)))
    assert (got.accepted, got.received) == (False, ())


def test_p256_verifier_key() -> None:
    p256 = P256PrivateKey.generate()
    got = rc.parse_receipt(receipt(key=p256))
    rc.verify_receipt(got, p256.public_key, verifier=DID, nonce=NONCE, state=STATE,
                      vp_token=json.dumps(VP_TOKEN), now=NOW)


@pytest.mark.parametrize(("changes", "code"), [
    ({"verifier": OTHER_DID}, "oid4vp.receipt_mismatch"),
    ({"nonce": "other-nonce"}, "oid4vp.receipt_mismatch"),
    ({"state": "other-state"}, "oid4vp.receipt_mismatch"),
    ({"vp_token": json.dumps(VP_TOKEN) + " "}, "oid4vp.receipt_mismatch"),
    ({"now": NOW - 61}, "oid4vp.receipt_from_future"),
    ({"now": NOW - 60}, None),
    ({"now": NOW + 360}, None),
    ({"now": NOW + 361}, "oid4vp.stale_receipt"),
    ({"now": NOW + 86400 * 365, "max_age": 86400 * 366}, None),
])
def test_receipt_verification(changes: dict[str, Any], code: str | None) -> None:
    token = receipt()
    if code is None:
        verify(token, **changes)
    else:
        assert code_of(lambda: verify(token, **changes)) == code


def test_receipt_by_another_key_is_refused() -> None:
    got = rc.parse_receipt(receipt())
    assert code_of(lambda: rc.verify_receipt(
        got, Ed25519PrivateKey(bytes(32)).public_key, verifier=DID, nonce=NONCE, state=STATE,
        vp_token=json.dumps(VP_TOKEN), now=NOW)) == "jose.bad_signature"


def test_stored_receipt_rechecked_later_with_its_own_iat() -> None:
    token = receipt()
    assert code_of(lambda: verify(token, now=NOW + 86400 * 365)) == "oid4vp.stale_receipt"
    verify(token, now=rc.parse_receipt(token).iat)


def _payload(**changes: Any) -> dict[str, Any]:
    base = json.loads(b64u_decode(receipt().split(".")[1]))
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def _signed(body: dict[str, Any] | None = None, header: dict[str, Any] | None = None,
            key: PrivateKey = KEY) -> str:
    head = {"alg": key.sign_alg, **({"typ": "keten-receipt+jwt", "kid": KID}
                                    if header is None else header)}
    signing_input = (b64u_encode(strictjson.dumps(head).encode()) + "."
                     + b64u_encode(strictjson.dumps(_payload() if body is None else body
                                                    ).encode()))
    return signing_input + "." + b64u_encode(key.sign(signing_input.encode("ascii")))


BAD_RECEIPTS: list[tuple[str, Callable[[], str], str]] = [
    ("typ JWT", lambda: _signed(header={"typ": "JWT", "kid": KID}), "jose.wrong_typ"),
    ("typ of a request", lambda: _signed(header={"typ": "oauth-authz-req+jwt", "kid": KID}),
     "jose.wrong_typ"),
    ("jwk header", lambda: _signed(header={"typ": "keten-receipt+jwt", "kid": KID,
                                           "jwk": KEY.public_key.to_jwk()}),
     "jose.header_key_refused"),
    ("kid of another DID", lambda: _signed(header={"typ": "keten-receipt+jwt",
                                                   "kid": OTHER_DID + "#key-1"}),
     "oid4vp.kid_not_client"),
    ("kid missing", lambda: _signed(header={"typ": "keten-receipt+jwt"}), "oid4vp.bad_kid"),
    ("iss missing", lambda: _signed(_payload(iss=None)), "oid4vp.bad_receipt"),
    ("iss not did:keten", lambda: _signed(_payload(iss="did:web:v.example")),
     "oid4vp.bad_receipt"),
    ("iat float", lambda: _signed(_payload(iat=1.5)), "oid4vp.bad_receipt"),
    ("iat missing", lambda: _signed(_payload(iat=None)), "oid4vp.bad_receipt"),
    ("jti missing", lambda: _signed(_payload(jti=None)), "oid4vp.bad_receipt"),
    ("nonce with space", lambda: _signed(_payload(nonce="a b")), "oid4vp.bad_receipt"),
    ("state missing", lambda: _signed(_payload(state=None)), "oid4vp.bad_receipt"),
    ("retention negative", lambda: _signed(_payload(retention=-1)), "oid4vp.bad_receipt"),
    ("retention float", lambda: _signed(_payload(retention=1.0)), "oid4vp.bad_receipt"),
    ("retention bool", lambda: _signed(_payload(retention=True)), "oid4vp.bad_receipt"),
    ("retention ISO 8601", lambda: _signed(_payload(retention="P30D")), "oid4vp.bad_receipt"),
    ("retention over a century", lambda: _signed(_payload(retention=10**11)),
     "oid4vp.bad_receipt"),
    ("result ok", lambda: _signed(_payload(result="ok")), "oid4vp.bad_receipt"),
    ("result missing", lambda: _signed(_payload(result=None)), "oid4vp.bad_receipt"),
    ("hash short", lambda: _signed(_payload(vp_token_hash="abc")), "oid4vp.bad_receipt"),
    ("hash missing", lambda: _signed(_payload(vp_token_hash=None)), "oid4vp.bad_receipt"),
    ("received missing", lambda: _signed(_payload(received=None)), "oid4vp.bad_receipt"),
    ("received an object", lambda: _signed(_payload(received={})), "oid4vp.bad_receipt"),
    ("received entry a string", lambda: _signed(_payload(received=["x"])),
     "oid4vp.bad_receipt"),
    ("received vct with space", lambda: _signed(_payload(received=[
        {"vct": "a b", "issuer": ISSUER, "claims": [["x"]]}])), "oid4vp.bad_receipt"),
    ("received issuer not a DID", lambda: _signed(_payload(received=[
        {"vct": "urn:x", "issuer": "Gemeente Gent", "claims": [["x"]]}])), "oid4vp.bad_receipt"),
    ("received no claims", lambda: _signed(_payload(received=[
        {"vct": "urn:x", "issuer": ISSUER, "claims": []}])), "oid4vp.bad_receipt"),
    ("received claim values", lambda: _signed(_payload(received=[
        {"vct": "urn:x", "issuer": ISSUER, "claims": {"given_name": "Arthur"}}])),
     "oid4vp.bad_receipt"),
    ("received bad path", lambda: _signed(_payload(received=[
        {"vct": "urn:x", "issuer": ISSUER, "claims": [["a", -1]]}])), "oid4vp.bad_receipt"),
    ("received 17 entries", lambda: _signed(_payload(received=[
        {"vct": "urn:x", "issuer": ISSUER, "claims": [["a"]]}] * 17)), "oid4vp.bad_receipt"),
    ("purpose missing en", lambda: _signed(_payload(purpose={"nl": "x"})),
     "oid4vp.bad_receipt"),
    ("purpose extra language", lambda: _signed(_payload(purpose={**PURPOSE, "fr": "x"})),
     "oid4vp.bad_receipt"),
    ("purpose control char", lambda: _signed(_payload(purpose={**PURPOSE, "nl": "a\x07"})),
     "oid4vp.bad_receipt"),
    ("purpose too long", lambda: _signed(_payload(purpose={**PURPOSE, "en": "x" * 201})),
     "oid4vp.bad_receipt"),
    ("purpose a string", lambda: _signed(_payload(purpose="age")), "oid4vp.bad_receipt"),
    ("oversized", lambda: _signed(_payload(pad="x" * 70_000)), "oid4vp.too_large"),
]


@pytest.mark.parametrize(("make", "code"), [(m, c) for _, m, c in BAD_RECEIPTS],
                         ids=[name for name, _, _ in BAD_RECEIPTS])
def test_malformed_receipts(make: Callable[[], str], code: str) -> None:
    token = make()
    assert code_of(lambda: rc.parse_receipt(token)) == code


def test_unknown_receipt_members_are_ignored() -> None:
    assert rc.parse_receipt(_signed(_payload(aud="anyone", keten_v=2))).verifier == DID


def test_receipt_alg_none_is_refused() -> None:
    head = b64u_encode(b'{"alg":"none","typ":"keten-receipt+jwt"}')
    token = f"{head}.{receipt().split('.')[1]}.AAAA"
    assert code_of(lambda: rc.parse_receipt(token)) == "jose.alg_not_allowed"


@pytest.mark.parametrize(("changes", "code"), [
    ({"jti": "short"}, "oid4vp.bad_receipt"),
    ({"verifier": "did:web:v.example"}, "oid4vp.bad_receipt"),
    ({"kid": OTHER_DID + "#key-1"}, "oid4vp.kid_not_client"),
    ({"result": "maybe"}, "oid4vp.bad_receipt"),
    ({"retention": -5}, "oid4vp.bad_receipt"),
    ({"purpose": {"nl": "x"}}, "oid4vp.bad_receipt"),
    ({"received": [rc.ReceivedCredential("urn:x", ISSUER,
                                         (("a", -1),))]},  # type: ignore[arg-type]
     "oid4vp.bad_receipt"),
    ({"received": [rc.ReceivedCredential("urn:x", ISSUER,
                                         ((object(),),))]},  # type: ignore[arg-type]
     "oid4vp.bad_receipt"),
    ({"now": NOW + 0.5}, "oid4vp.bad_receipt"),
])
def test_build_receipt_refusals(changes: dict[str, Any], code: str) -> None:
    assert code_of(lambda: receipt(**changes)) == code


_PATH = st.lists(st.text(min_size=1, max_size=10) | st.integers(0, 50) | st.none(),
                 min_size=1, max_size=4).map(tuple)
_TEXT = st.text(min_size=1, max_size=200).filter(
    lambda t: not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or 0xD800 <= ord(c) <= 0xDFFF
                      for c in t))


@given(claims=st.lists(_PATH, min_size=1, max_size=8), nl=_TEXT, en=_TEXT,
       retention=st.integers(0, rc.MAX_RETENTION), result=st.sampled_from(rc.RESULTS),
       vp_token=st.text(max_size=100))
def test_receipt_round_trip_property(claims: list[tuple[Any, ...]], nl: str, en: str,
                                     retention: int, result: str, vp_token: str) -> None:
    received = [rc.ReceivedCredential("urn:keten:vct:diploma:1", ISSUER,
                                      tuple(ClaimPath(c) for c in claims))]
    token = receipt(received=received, purpose={"nl": nl, "en": en}, retention=retention,
                    result=result, vp_token=vp_token)
    got = verify(token, vp_token=vp_token)
    assert (got.received, got.purpose, got.retention, got.result) == (
        tuple(received), rc.Purpose(nl, en), retention, result)


@given(st.text(max_size=300))
def test_arbitrary_receipts_raise_only_project_errors(junk: str) -> None:
    for token in (junk, f"{junk}.{junk}.{junk}"):
        with contextlib.suppress(SsiError):
            rc.parse_receipt(token)


# -- the verifier's answer ------------------------------------------------------------------


def test_post_answer_round_trip() -> None:
    token = receipt()
    answer = rc.build_post_answer(receipt=token, redirect_uri="https://v.example/done")
    got = rc.parse_post_answer(json.dumps(answer))
    assert got == rc.PostAnswer(receipt=token, redirect_uri="https://v.example/done")
    assert rc.parse_receipt(got.receipt or "").verifier == DID


def test_post_answer_without_receipt_and_with_unknown_members() -> None:
    assert rc.parse_post_answer(b'{"other": 1}') == rc.PostAnswer(None, None)
    assert rc.build_post_answer(receipt=None) == {}


@pytest.mark.parametrize(("body", "code"), [
    ('{"keten_receipt": 1}', "oid4vp.bad_answer"),
    ('{"keten_receipt": ["a"]}', "oid4vp.bad_answer"),
    ('{"redirect_uri": "http://evil.example/"}', "oid4vp.bad_answer"),
    ('{"redirect_uri": "javascript:alert(1)"}', "oid4vp.bad_answer"),
    ('{"redirect_uri": 5}', "oid4vp.bad_answer"),
    ("[]", "json.not_object"),
    ("not json", "json.malformed"),
    ('{"a":1,"a":2}', "json.duplicate_key"),
])
def test_malformed_post_answers(body: str, code: str) -> None:
    assert code_of(lambda: rc.parse_post_answer(body)) == code


def test_build_post_answer_refuses_a_bad_redirect() -> None:
    assert code_of(lambda: rc.build_post_answer(
        receipt=None, redirect_uri="http://evil.example/")) == "oid4vp.bad_answer"
