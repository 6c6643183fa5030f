"""OpenID4VP request objects and invocation URIs: round trips and every refusal by its code."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import base58
import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.ledger.didketen import DidUrlError, KetenDid, split_kid
from ssiwallet.core import oid4vp, strictjson
from ssiwallet.core.b64 import b64u_encode
from ssiwallet.core.keys import Ed25519PrivateKey, P256PrivateKey, PrivateKey
from ssiwallet.errors import SsiError
from tests.support.paths import SPECS, VECTORS


def _repo_root() -> Path:
    for parent in Path(__file__).resolve().parents:
        if (parent / "pyproject.toml").is_file():
            return parent
    raise RuntimeError("repository root not found")



DID = "did:keten:" + base58.b58encode(bytes(range(16))).decode()
OTHER_DID = "did:keten:" + base58.b58encode(bytes(range(1, 17))).decode()
CLIENT_ID = "decentralized_identifier:" + DID
KID = DID + "#key-1"
KEY = Ed25519PrivateKey(bytes(range(32)))
NONCE = "n0nce-0123456789abcdefgh"
STATE = "st4te-0123456789abcdefgh"
NOW = 1_750_000_000
RESPONSE_URI = "https://verifier.example/oid4vp/post"
REQUEST_URI = "https://verifier.example/oid4vp/request/abc"
QUERY: dict[str, Any] = {"credentials": [{
    "id": "age", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:keten:vct:identity:1"]},
    "claims": [{"path": ["age_over_18"]}]}]}
HEADER = {"typ": "oauth-authz-req+jwt", "kid": KID}


def payload(**changes: Any) -> dict[str, Any]:
    """A valid request object payload; a change to ``None`` removes the member."""
    base: dict[str, Any] = {
        "client_id": CLIENT_ID, "response_type": "vp_token", "response_mode": "direct_post",
        "response_uri": RESPONSE_URI, "nonce": NONCE, "state": STATE, "dcql_query": QUERY,
        "aud": "https://self-issued.me/v2", "iat": NOW, "exp": NOW + 300,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def signed(header: dict[str, Any] | None = None, body: dict[str, Any] | bytes | None = None,
           key: PrivateKey = KEY) -> str:
    """A token signed by hand, so header and payload can say anything an attacker likes."""
    head = {"alg": key.sign_alg, **(HEADER if header is None else header)}
    raw = body if isinstance(body, bytes) else strictjson.dumps(
        payload() if body is None else body).encode()
    signing_input = b64u_encode(strictjson.dumps(head).encode()) + "." + b64u_encode(raw)
    return signing_input + "." + b64u_encode(key.sign(signing_input.encode("ascii")))


def build(**changes: Any) -> str:
    args: dict[str, Any] = {
        "client_id": CLIENT_ID, "nonce": NONCE, "state": STATE, "dcql_query": QUERY,
        "response_uri": RESPONSE_URI, "now": NOW, "lifetime": 300, "key": KEY, "kid": KID,
    }
    args.update(changes)
    return oid4vp.build_request_object(**args)


def code_of(call: Callable[[], object]) -> str:
    with pytest.raises(SsiError) as info:
        call()
    return info.value.code


# -- request object: round trips ------------------------------------------------------------


def test_build_parse_verify_round_trip() -> None:
    token = build()
    obj = oid4vp.parse_request_object(token, expected_client_id=CLIENT_ID)
    assert (obj.client_id, obj.verifier, obj.kid) == (CLIENT_ID, DID, KID)
    assert (obj.nonce, obj.state, obj.response_uri) == (NONCE, STATE, RESPONSE_URI)
    assert (obj.iat, obj.exp) == (NOW, NOW + 300)
    assert obj.dcql_query.credentials[0].claims is not None
    assert obj.dcql_query.credentials[0].claims[0].path == ("age_over_18",)
    assert obj.jws.header == {"alg": "EdDSA", "typ": "oauth-authz-req+jwt", "kid": KID}
    assert oid4vp.verify_request_object(obj, KEY.public_key, now=NOW + 10) is obj


def test_payload_has_exactly_the_documented_members() -> None:
    obj = oid4vp.parse_request_object(build())
    assert set(obj.payload) == {"client_id", "response_type", "response_mode", "response_uri",
                                "nonce", "state", "dcql_query", "client_metadata", "aud",
                                "iat", "exp"}
    assert obj.payload["aud"] == "https://self-issued.me/v2"
    assert obj.client_metadata == oid4vp.default_client_metadata()
    formats = obj.client_metadata["vp_formats_supported"]["dc+sd-jwt"]
    assert set(formats["kb-jwt_alg_values"]) == {"EdDSA", "Ed25519", "ES256"}


def test_p256_verifier_key_round_trips() -> None:
    p256 = P256PrivateKey.generate()
    obj = oid4vp.parse_request_object(build(key=p256))
    assert obj.jws.alg == "ES256"
    oid4vp.verify_request_object(obj, p256.public_key, now=NOW)


def test_extra_parameters_are_carried_and_may_replace_client_metadata() -> None:
    metadata = {"vp_formats_supported": {"dc+sd-jwt": {"kb-jwt_alg_values": ["EdDSA"]}}}
    obj = oid4vp.parse_request_object(build(extra={"client_metadata": metadata,
                                                   "keten_locale": "nl"}))
    assert obj.client_metadata == metadata
    assert obj.payload["keten_locale"] == "nl"


def test_parsed_object_is_read_only() -> None:
    obj = oid4vp.parse_request_object(build())
    with pytest.raises(TypeError):
        obj.payload["nonce"] = "x"  # type: ignore[index]
    with pytest.raises(AttributeError):
        obj.nonce = "x"  # type: ignore[misc]


def test_loopback_http_response_uris_are_accepted() -> None:
    for uri in ("http://127.0.0.1:8080/post", "http://localhost/post", "http://[::1]:9/p",
                "https://v.example:8443/p?session=1"):
        assert oid4vp.parse_request_object(signed(body=payload(response_uri=uri))
                                           ).response_uri == uri


def test_unknown_parameters_and_iss_are_ignored() -> None:
    body = payload(iss=42, wallet_nonce="abc", verifier_info=[{"format": "x", "data": "y"}],
                   request_uri_method="post", something_new={"a": 1})
    obj = oid4vp.parse_request_object(signed(body=body))
    assert obj.verifier == DID


def test_typ_compares_as_a_media_type() -> None:
    token = signed(header={**HEADER, "typ": "application/OAuth-Authz-Req+JWT"})
    obj = oid4vp.parse_request_object(token)
    oid4vp.verify_request_object(obj, KEY.public_key, now=NOW)


# -- request object: verification -----------------------------------------------------------


@pytest.mark.parametrize(("now", "code"), [
    (NOW - 61, "oid4vp.request_not_yet_valid"),
    (NOW - 60, None),
    (NOW + 300 + 59, None),
    (NOW + 300 + 60, "oid4vp.expired_request"),
    (NOW + 10 * 86400, "oid4vp.expired_request"),
])
def test_time_window_with_leeway(now: int, code: str | None) -> None:
    obj = oid4vp.parse_request_object(build())
    if code is None:
        oid4vp.verify_request_object(obj, KEY.public_key, now=now)
    else:
        assert code_of(lambda: oid4vp.verify_request_object(obj, KEY.public_key, now=now)) == code


def test_zero_leeway_is_exact() -> None:
    obj = oid4vp.parse_request_object(build())
    assert code_of(lambda: oid4vp.verify_request_object(
        obj, KEY.public_key, now=NOW + 300, leeway=0)) == "oid4vp.expired_request"


def test_signature_by_another_key_is_refused() -> None:
    obj = oid4vp.parse_request_object(build())
    other = Ed25519PrivateKey(bytes(32))
    assert code_of(lambda: oid4vp.verify_request_object(
        obj, other.public_key, now=NOW)) == "jose.bad_signature"


def test_key_type_decides_the_algorithm() -> None:
    obj = oid4vp.parse_request_object(build())
    p256 = P256PrivateKey.generate()
    assert code_of(lambda: oid4vp.verify_request_object(
        obj, p256.public_key, now=NOW)) == "jose.alg_key_mismatch"


def test_tampered_payload_fails_the_signature() -> None:
    token = build()
    head, _, sig = token.split(".")
    forged = b64u_encode(strictjson.dumps(payload(response_uri="https://evil.example/p")).encode())
    obj = oid4vp.parse_request_object(f"{head}.{forged}.{sig}")
    assert code_of(lambda: oid4vp.verify_request_object(
        obj, KEY.public_key, now=NOW)) == "jose.bad_signature"


# -- request object: refusals ---------------------------------------------------------------


def _alg_none() -> str:
    head = b64u_encode(strictjson.dumps({"alg": "none", **HEADER}).encode())
    return f"{head}.{b64u_encode(strictjson.dumps(payload()).encode())}.AAAA"


def _hs256() -> str:
    head = b64u_encode(strictjson.dumps({"alg": "HS256", **HEADER}).encode())
    return f"{head}.{b64u_encode(strictjson.dumps(payload()).encode())}.AAAA"


REFUSED_TOKENS: dict[str, tuple[Callable[[], object], str]] = {
    "typ JWT": (lambda: signed(header={**HEADER, "typ": "JWT"}), "jose.wrong_typ"),
    "typ missing": (lambda: signed(header={"kid": KID}), "jose.wrong_typ"),
    "typ of a credential": (lambda: signed(header={**HEADER, "typ": "dc+sd-jwt"}),
                            "jose.wrong_typ"),
    "alg none": (_alg_none, "jose.alg_not_allowed"),
    "alg HS256": (_hs256, "jose.alg_not_allowed"),
    "jwk header": (lambda: signed(header={**HEADER, "jwk": KEY.public_key.to_jwk()}),
                   "jose.header_key_refused"),
    "x5c header": (lambda: signed(header={**HEADER, "x5c": ["MIIB"]}),
                   "jose.header_key_refused"),
    "jku header": (lambda: signed(header={**HEADER, "jku": "https://evil.example/k"}),
                   "jose.header_key_refused"),
    "x5u header": (lambda: signed(header={**HEADER, "x5u": "https://evil.example/c"}),
                   "jose.header_key_refused"),
    "crit header": (lambda: signed(header={**HEADER, "crit": ["x"], "x": 1}),
                    "jose.unknown_crit"),
    "two parts": (lambda: "a.b", "jose.malformed"),
    "kid missing": (lambda: signed(header={"typ": "oauth-authz-req+jwt"}), "oid4vp.bad_kid"),
    "kid not a string": (lambda: signed(header={**HEADER, "kid": 1}), "oid4vp.bad_kid"),
    "kid without key-N": (lambda: signed(header={**HEADER, "kid": DID + "#1"}),
                          "oid4vp.bad_kid"),
    "kid a bare DID": (lambda: signed(header={**HEADER, "kid": DID}), "oid4vp.bad_kid"),
    "kid of another DID": (lambda: signed(header={**HEADER, "kid": OTHER_DID + "#key-1"}),
                           "oid4vp.kid_not_client"),
    "kid a did:key": (lambda: signed(header={**HEADER, "kid": "did:key:z6Mk#z6Mk"}),
                      "oid4vp.bad_kid"),
    "payload an array": (lambda: signed(body=b"[]"), "json.not_object"),
    "payload duplicate member": (
        lambda: signed(body=b'{"nonce":"a","nonce":"b"}'), "json.duplicate_key"),
    "oversized": (lambda: signed(body=payload(pad="x" * 70_000)), "oid4vp.too_large"),
    "not a string": (lambda: b"eyJ.eyJ.sig", "oid4vp.too_large"),
}


@pytest.mark.parametrize("case", sorted(REFUSED_TOKENS))
def test_refused_tokens(case: str) -> None:
    make, code = REFUSED_TOKENS[case]
    token = make()
    assert code_of(lambda: oid4vp.parse_request_object(token)) == code


LONG_URL = "https://v.example/" + "a" * 2040
REFUSED_PAYLOADS: list[tuple[str, dict[str, Any], str]] = [
    ("client_id redirect_uri prefix", {"client_id": "redirect_uri:https://v.example/cb"},
     "oid4vp.unsupported_client_id_prefix"),
    ("client_id x509_san_dns", {"client_id": "x509_san_dns:v.example"},
     "oid4vp.unsupported_client_id_prefix"),
    ("client_id origin", {"client_id": "origin:https://v.example"},
     "oid4vp.unsupported_client_id_prefix"),
    ("client_id other DID method", {"client_id": "decentralized_identifier:did:example:123"},
     "oid4vp.unsupported_client_id_prefix"),
    ("client_id bare DID", {"client_id": DID}, "oid4vp.bad_client_id"),
    ("client_id pre-registered", {"client_id": "verifier-1"},
     "oid4vp.unsupported_client_id_prefix"),
    ("client_id prefix in capitals", {"client_id": "Decentralized_Identifier:" + DID},
     "oid4vp.bad_client_id"),
    ("client_id with suffix", {"client_id": CLIENT_ID + "#key-1"}, "oid4vp.bad_client_id"),
    ("client_id missing", {"client_id": None}, "oid4vp.bad_client_id"),
    ("client_id a number", {"client_id": 7}, "oid4vp.bad_client_id"),
    ("response_type id_token", {"response_type": "vp_token id_token"},
     "oid4vp.unsupported_response_type"),
    ("response_type code", {"response_type": "code"}, "oid4vp.unsupported_response_type"),
    ("response_type missing", {"response_type": None}, "oid4vp.unsupported_response_type"),
    ("response_mode query", {"response_mode": "query"}, "oid4vp.unsupported_response_mode"),
    ("response_mode fragment", {"response_mode": "fragment"},
     "oid4vp.unsupported_response_mode"),
    ("response_mode direct_post.jwt", {"response_mode": "direct_post.jwt"},
     "oid4vp.unsupported_response_mode"),
    ("response_mode missing", {"response_mode": None}, "oid4vp.unsupported_response_mode"),
    ("transaction_data", {"transaction_data": ["eyJ0eXBlIjoieCJ9"]},
     "oid4vp.unsupported_transaction_data"),
    ("redirect_uri with direct_post", {"redirect_uri": RESPONSE_URI},
     "oid4vp.bad_request_object"),
    ("scope", {"scope": "com.example.age"}, "oid4vp.bad_request_object"),
    ("response_uri plain http", {"response_uri": "http://verifier.example/post"},
     "oid4vp.bad_response_uri"),
    ("response_uri http lookalike", {"response_uri": "http://127.0.0.1.evil.example/p"},
     "oid4vp.bad_response_uri"),
    ("response_uri ftp", {"response_uri": "ftp://verifier.example/post"},
     "oid4vp.bad_response_uri"),
    ("response_uri javascript", {"response_uri": "javascript:alert(1)"},
     "oid4vp.bad_response_uri"),
    ("response_uri userinfo", {"response_uri": "https://verifier.example@evil.example/p"},
     "oid4vp.bad_response_uri"),
    ("response_uri fragment", {"response_uri": RESPONSE_URI + "#x"}, "oid4vp.bad_response_uri"),
    ("response_uri no host", {"response_uri": "https:///post"}, "oid4vp.bad_response_uri"),
    ("response_uri no authority", {"response_uri": "https:verifier.example/p"},
     "oid4vp.bad_response_uri"),
    ("response_uri bad port", {"response_uri": "https://v.example:99999/p"},
     "oid4vp.bad_response_uri"),
    ("response_uri port 0", {"response_uri": "https://v.example:0/p"},
     "oid4vp.bad_response_uri"),
    ("response_uri capital scheme", {"response_uri": "HTTPS://v.example/p"},
     "oid4vp.bad_response_uri"),
    ("response_uri space", {"response_uri": "https://v.example/a b"}, "oid4vp.bad_response_uri"),
    ("response_uri newline", {"response_uri": "https://v.example/a\nb"},
     "oid4vp.bad_response_uri"),
    ("response_uri backslash", {"response_uri": "https://v.example\\@evil.example/"},
     "oid4vp.bad_response_uri"),
    ("response_uri non-ASCII", {"response_uri": "https://vérifier.example/p"},
     "oid4vp.bad_response_uri"),
    ("response_uri bad IPv6", {"response_uri": "https://[::1/p"}, "oid4vp.bad_response_uri"),
    ("response_uri too long", {"response_uri": LONG_URL}, "oid4vp.bad_response_uri"),
    ("response_uri missing", {"response_uri": None}, "oid4vp.bad_response_uri"),
    ("response_uri a list", {"response_uri": [RESPONSE_URI]}, "oid4vp.bad_response_uri"),
    ("nonce missing", {"nonce": None}, "oid4vp.bad_nonce"),
    ("nonce empty", {"nonce": ""}, "oid4vp.bad_nonce"),
    ("nonce with space", {"nonce": "a b"}, "oid4vp.bad_nonce"),
    ("nonce with slash", {"nonce": "a/b"}, "oid4vp.bad_nonce"),
    ("nonce too long", {"nonce": "a" * 257}, "oid4vp.bad_nonce"),
    ("nonce a number", {"nonce": 12345}, "oid4vp.bad_nonce"),
    ("state missing", {"state": None}, "oid4vp.bad_state"),
    ("state with plus", {"state": "a+b"}, "oid4vp.bad_state"),
    ("aud missing", {"aud": None}, "oid4vp.bad_request_object"),
    ("aud other", {"aud": "https://wallet.example"}, "oid4vp.bad_request_object"),
    ("aud list", {"aud": ["https://self-issued.me/v2"]}, "oid4vp.bad_request_object"),
    ("iat missing", {"iat": None}, "oid4vp.bad_request_object"),
    ("iat float", {"iat": NOW + 0.5}, "oid4vp.bad_request_object"),
    ("iat bool", {"iat": True}, "oid4vp.bad_request_object"),
    ("iat string", {"iat": str(NOW)}, "oid4vp.bad_request_object"),
    ("iat negative", {"iat": -1}, "oid4vp.bad_request_object"),
    ("exp missing", {"exp": None}, "oid4vp.bad_request_object"),
    ("exp before iat", {"exp": NOW - 1}, "oid4vp.bad_request_object"),
    ("exp equal to iat", {"exp": NOW}, "oid4vp.bad_request_object"),
    ("lifetime over an hour", {"exp": NOW + 3601}, "oid4vp.bad_request_object"),
    ("dcql_query missing", {"dcql_query": None}, "oid4vp.bad_request_object"),
    ("dcql_query a string", {"dcql_query": json.dumps(QUERY)}, "dcql.invalid_query"),
    ("dcql_query empty", {"dcql_query": {}}, "dcql.missing_credentials"),
    ("dcql_query without vct_values", {"dcql_query": {"credentials": [
        {"id": "a", "format": "dc+sd-jwt", "meta": {}}]}}, "dcql.invalid_meta"),
    ("client_metadata a string", {"client_metadata": "{}"}, "oid4vp.bad_request_object"),
    ("vp_formats_supported a list", {"client_metadata": {"vp_formats_supported": []}},
     "oid4vp.bad_request_object"),
]


@pytest.mark.parametrize(("changes", "code"), [(c, code) for _, c, code in REFUSED_PAYLOADS],
                         ids=[name for name, _, _ in REFUSED_PAYLOADS])
def test_refused_payloads(changes: dict[str, Any], code: str) -> None:
    token = signed(body=payload(**changes))
    assert code_of(lambda: oid4vp.parse_request_object(token)) == code


def test_client_id_must_equal_the_uris() -> None:
    token = build()
    other = "decentralized_identifier:" + OTHER_DID
    assert code_of(lambda: oid4vp.parse_request_object(
        token, expected_client_id=other)) == "oid4vp.client_id_mismatch"


# -- request object: the builder refuses what a wallet would refuse ---------------------------


@pytest.mark.parametrize(("changes", "code"), [
    ({"nonce": "n-0S6_WzA2Mj"}, "oid4vp.bad_nonce"),  # the spec's example: too short to build
    ({"state": "short"}, "oid4vp.bad_state"),
    ({"state": "x" * 21}, "oid4vp.bad_state"),
    ({"lifetime": 0}, "oid4vp.bad_request_object"),
    ({"lifetime": 3601}, "oid4vp.bad_request_object"),
    ({"lifetime": True}, "oid4vp.bad_request_object"),
    ({"now": NOW + 0.5}, "oid4vp.bad_request_object"),
    ({"extra": {"nonce": "x" * 30}}, "oid4vp.bad_request_object"),
    ({"extra": {"response_mode": "query"}}, "oid4vp.bad_request_object"),
    ({"extra": {"iss": DID}}, "oid4vp.bad_request_object"),
    ({"extra": {"transaction_data": ["x"]}}, "oid4vp.bad_request_object"),
    ({"extra": {"x": {1, 2}}}, "oid4vp.bad_request_object"),
    ({"extra": {"client_metadata": []}}, "oid4vp.bad_request_object"),
    ({"client_id": "redirect_uri:https://v.example/cb"}, "oid4vp.bad_client_id"),
    ({"kid": OTHER_DID + "#key-2"}, "oid4vp.kid_not_client"),
    ({"kid": "key-1"}, "oid4vp.bad_kid"),
    ({"response_uri": "http://v.example/post"}, "oid4vp.bad_response_uri"),
    ({"dcql_query": {"credentials": []}}, "dcql.missing_credentials"),
])
def test_builder_refusals(changes: dict[str, Any], code: str) -> None:
    assert code_of(lambda: build(**changes)) == code


# -- the specification's own examples ---------------------------------------------------------


def _spec_json_after(marker: str) -> dict[str, Any]:
    text = (SPECS / "openid4vp-1_0.md").read_text(encoding="utf-8")
    found = re.search(re.escape(marker) + r"\s*```json\n(.*?)\n```", text, re.DOTALL)
    assert found is not None, f"example after {marker!r} not found in the spec"
    value: dict[str, Any] = json.loads(found.group(1))
    return value


def test_spec_example_payload_shape_parses_once_made_keten() -> None:
    """§5.5's decoded request object with its DCQL query, moved to Keten's profile."""
    example = _spec_json_after("The decoded payload is:")
    assert code_of(lambda: oid4vp.parse_request_object(signed(body={
        **example, "iat": NOW, "exp": NOW + 60}))) == "oid4vp.unsupported_client_id_prefix"
    example.pop("redirect_uri")
    example.update(client_id=CLIENT_ID, iss=CLIENT_ID, response_mode="direct_post",
                   response_uri=RESPONSE_URI, state=STATE, iat=NOW, exp=NOW + 60)
    obj = oid4vp.parse_request_object(signed(body=example))
    oid4vp.verify_request_object(obj, KEY.public_key, now=NOW)
    assert obj.nonce == "n-0S6_WzA2Mj"
    (credential,) = obj.dcql_query.credentials
    assert credential.id == "some_identity_credential"
    assert credential.vct_values == ("https://credentials.example.com/identity_credential",)
    assert credential.claims is not None
    assert [c.path for c in credential.claims] == [("last_name",), ("first_name",)]


def test_spec_direct_post_example_shape_with_the_simple_dcql_vector() -> None:
    """§8.2's direct_post request object, with the spec's ``simple.json`` DCQL example."""
    text = (SPECS / "openid4vp-1_0.md").read_text(encoding="utf-8")
    section = text[text.index('## Response Mode "direct_post"'):]
    found = re.search(r"```json\n(\{.*?\})\n```", section, re.DOTALL)
    assert found is not None
    example = json.loads(found.group(1).replace('"dcql_query": {...}', '"dcql_query": {}'))
    assert example["response_mode"] == "direct_post"
    simple = json.loads((VECTORS / "dcql" / "simple.json").read_text())
    example.update(client_id=CLIENT_ID, dcql_query=simple, state=STATE,
                   aud="https://self-issued.me/v2", iat=NOW, exp=NOW + 60)
    obj = oid4vp.parse_request_object(signed(body=example))
    assert obj.response_uri == "https://client.example.org/post"
    assert obj.dcql_query.credentials[0].id == simple["credentials"][0]["id"]


# -- did:keten syntax agrees with the registry's --------------------------------------------

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


@given(st.text(alphabet=_B58 + "0OIl:#-", min_size=0, max_size=30),
       st.sampled_from(["", "#key-1", "#key-0", "#key-999999", "#key-1000000", "#key-01"]))
def test_did_and_kid_syntax_agree_with_registry(method_id: str, fragment: str) -> None:
    did = "did:keten:" + method_id
    try:
        KetenDid(did)
        registry_ok = True
    except DidUrlError:
        registry_ok = False
    assert oid4vp.is_keten_did(did) == registry_ok
    kid = did + fragment
    try:
        split_kid(kid)
        kid_ok = True
    except DidUrlError:
        kid_ok = False
    if oid4vp.is_keten_did(did):
        try:
            oid4vp.check_kid(kid, did, what="t")
            ours = True
        except SsiError:
            ours = False
        assert ours == kid_ok


# -- invocation URI -------------------------------------------------------------------------


def test_request_uri_round_trip_and_encoding() -> None:
    uri = oid4vp.build_request_uri(client_id=CLIENT_ID, request_uri=REQUEST_URI + "?a=1&b=2")
    assert uri.startswith("openid4vp://?client_id=decentralized_identifier%3Adid%3Aketen%3A")
    assert "&request_uri=https%3A%2F%2Fverifier.example%2F" in uri
    assert "%3Fa%3D1%26b%3D2" in uri
    assert oid4vp.parse_request_uri(uri) == (CLIENT_ID, REQUEST_URI + "?a=1&b=2")


ENC_CLIENT = quote(CLIENT_ID, safe="")
ENC_REQUEST = quote(REQUEST_URI, safe="")


@pytest.mark.parametrize("uri", [
    f"openid4vp://?client_id={ENC_CLIENT}&request_uri={ENC_REQUEST}",
    f"openid4vp:?client_id={ENC_CLIENT}&request_uri={ENC_REQUEST}",
    f"OPENID4VP://?client_id={ENC_CLIENT}&request_uri={ENC_REQUEST}",
    f"openid4vp://?request_uri={ENC_REQUEST}&client_id={ENC_CLIENT}",
    f"openid4vp://?client_id={CLIENT_ID}&request_uri={REQUEST_URI}",
    f"openid4vp://?client_id={ENC_CLIENT}&request_uri={ENC_REQUEST}&request_uri_method=get",
    f"openid4vp://?client_id={ENC_CLIENT}&request_uri={ENC_REQUEST}&request_uri_method=post",
])
def test_accepted_request_uris(uri: str) -> None:
    assert oid4vp.parse_request_uri(uri) == (CLIENT_ID, REQUEST_URI)


BASE = f"client_id={ENC_CLIENT}&request_uri={ENC_REQUEST}"


@pytest.mark.parametrize(("uri", "code"), [
    (f"haip-vp://?{BASE}", "oid4vp.bad_uri"),
    (f"https://wallet.example/?{BASE}", "oid4vp.bad_uri"),
    (f"openid-credential-offer://?{BASE}", "oid4vp.bad_uri"),
    (f"openid4vp://authorize?{BASE}", "oid4vp.bad_uri"),
    (f"openid4vp:///?{BASE}", "oid4vp.bad_uri"),
    (f"openid4vp//?{BASE}", "oid4vp.bad_uri"),
    (f"openid4vp://?{BASE}#frag", "oid4vp.bad_uri"),
    (f"openid4vp://?{BASE}&client_id={ENC_CLIENT}", "oid4vp.bad_uri"),
    (f"openid4vp://?{BASE}&request_uri={ENC_REQUEST}", "oid4vp.bad_uri"),
    (f"openid4vp://?{BASE}&response_type=vp_token", "oid4vp.bad_uri"),
    (f"openid4vp://?{BASE}&dcql_query=%7B%7D", "oid4vp.bad_uri"),
    (f"openid4vp://?client_id={ENC_CLIENT}&request=eyJhbGciOiJFZERTQSJ9.e30.AA",
     "oid4vp.request_by_value"),
    (f"openid4vp://?{BASE}&request_uri_method=PUT", "oid4vp.bad_uri"),
    (f"openid4vp://?{BASE}&request_uri_method=GET", "oid4vp.bad_uri"),
    (f"openid4vp://?client_id={ENC_CLIENT}", "oid4vp.bad_uri"),
    (f"openid4vp://?request_uri={ENC_REQUEST}", "oid4vp.bad_uri"),
    ("openid4vp://?", "oid4vp.bad_uri"),
    ("openid4vp://", "oid4vp.bad_uri"),
    (f"openid4vp://?client_id={ENC_CLIENT}&request_uri=http%3A%2F%2Fevil.example%2Fr",
     "oid4vp.bad_uri"),
    (f"openid4vp://?client_id={ENC_CLIENT}&request_uri=", "oid4vp.bad_uri"),
    (f"openid4vp://?client_id={ENC_CLIENT}&request_uri=%2Frelative", "oid4vp.bad_uri"),
    (f"openid4vp://?client_id=x509_san_dns%3Av.example&request_uri={ENC_REQUEST}",
     "oid4vp.unsupported_client_id_prefix"),
    (f"openid4vp://?client_id=&request_uri={ENC_REQUEST}", "oid4vp.bad_client_id"),
    (f"openid4vp://?client_id={ENC_CLIENT}&request_uri={ENC_REQUEST}%ff", "oid4vp.bad_uri"),
    (f"openid4vp://?{BASE}&novalue", "oid4vp.bad_uri"),
    (f"openid4vp://?{BASE}&&", "oid4vp.bad_uri"),
    (f"openid4vp://?{BASE} ", "oid4vp.bad_uri"),
    (f"openid4vp://?{BASE}\n", "oid4vp.bad_uri"),
    (f"openid4vp://?{BASE}&x=é", "oid4vp.bad_uri"),
    (f"openid4vp://?{BASE}" + "&a=1" * 4, "oid4vp.bad_uri"),
    (f"openid4vp://?{BASE}&pad=" + "a" * 4096, "oid4vp.too_large"),
    (None, "oid4vp.too_large"),
])
def test_refused_request_uris(uri: Any, code: str) -> None:
    assert code_of(lambda: oid4vp.parse_request_uri(uri)) == code


@pytest.mark.parametrize(("client_id", "request_uri", "code"), [
    ("redirect_uri:https://v.example/cb", REQUEST_URI, "oid4vp.bad_client_id"),
    (CLIENT_ID, "http://v.example/r", "oid4vp.bad_uri"),
    (CLIENT_ID, "https://v.example/" + "r" * 2048, "oid4vp.bad_uri"),
])
def test_build_request_uri_refusals(client_id: str, request_uri: str, code: str) -> None:
    assert code_of(lambda: oid4vp.build_request_uri(
        client_id=client_id, request_uri=request_uri)) == code


# -- properties -----------------------------------------------------------------------------

_URL_SAFE = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-",
                    min_size=22, max_size=256)


@given(path=st.text(max_size=200), query=st.text(max_size=200),
       host=st.sampled_from(["v.example", "127.0.0.1:8080", "localhost", "[::1]:1"]),
       scheme=st.sampled_from(["https", "http"]))
def test_request_uri_round_trip_property(path: str, query: str, host: str, scheme: str) -> None:
    if scheme == "http" and host == "v.example":
        scheme = "https"
    request_uri = f"{scheme}://{host}/{quote(path)}" + (f"?q={quote(query, safe='')}"
                                                        if query else "")
    uri = oid4vp.build_request_uri(client_id=CLIENT_ID, request_uri=request_uri)
    assert oid4vp.parse_request_uri(uri) == (CLIENT_ID, request_uri)


@given(nonce=_URL_SAFE, state=_URL_SAFE, lifetime=st.integers(1, 3600),
       now=st.integers(0, 2**40))
def test_request_object_round_trip_property(nonce: str, state: str, lifetime: int,
                                            now: int) -> None:
    obj = oid4vp.parse_request_object(build(nonce=nonce, state=state, lifetime=lifetime, now=now))
    assert (obj.nonce, obj.state, obj.iat, obj.exp) == (nonce, state, now, now + lifetime)
    oid4vp.verify_request_object(obj, KEY.public_key, now=now + lifetime - 1, leeway=0)


@given(st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b.decode("latin-1")))
def test_arbitrary_uris_raise_only_project_errors(text: str) -> None:
    for candidate in (text, "openid4vp://?" + text, f"openid4vp://?{BASE}&" + text):
        with contextlib.suppress(SsiError):
            oid4vp.parse_request_uri(candidate)


@given(st.text(max_size=200), st.dictionaries(st.sampled_from(sorted(payload())),
                                              st.none() | st.integers() | st.text(max_size=20)
                                              | st.lists(st.integers(), max_size=2)))
def test_arbitrary_request_objects_raise_only_project_errors(junk: str,
                                                             changes: dict[str, Any]) -> None:
    for token in (junk, junk + "." + junk + "." + junk, signed(body=payload(**changes))):
        with contextlib.suppress(SsiError):
            oid4vp.parse_request_object(token)
