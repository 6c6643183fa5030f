"""Compact JWS: sign/verify, and the RFC 8725 attacks (alg confusion, crit, header keys)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import pytest

from ssiwallet.core import jws, strictjson
from ssiwallet.core.b64 import b64u_decode, b64u_encode
from ssiwallet.core.keys import (
    Ed25519PrivateKey,
    P256PrivateKey,
    PrivateKey,
    private_key_from_jwk,
)
from ssiwallet.errors import InputError, JoseError

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
ED25519 = Ed25519PrivateKey(bytes(range(32)))
P256 = P256PrivateKey.generate()
PAYLOAD = {"iss": "did:keten:abc", "vct": "urn:keten:vct:identity:1", "iat": 1_700_000_000}
HEADER = {"typ": "dc+sd-jwt", "kid": "did:keten:abc#key-1"}

# RFC 8037 Appendix A.4: the Ed25519 signature is deterministic, so the token is exact.
RFC8037_KEY = {"kty": "OKP", "crv": "Ed25519",
               "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
               "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
RFC8037_JWS = ("eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPO"
               "t7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg")


def _raw_token(header: bytes | dict[str, Any], payload: bytes | dict[str, Any],
               sign: Callable[[bytes], bytes]) -> str:
    """Build a token by hand, so its header can say anything an attacker likes."""
    header_bytes = header if isinstance(header, bytes) else strictjson.dumps(header).encode()
    payload_bytes = (payload if isinstance(payload, bytes)
                     else strictjson.dumps(payload).encode())
    signing_input = b64u_encode(header_bytes) + "." + b64u_encode(payload_bytes)
    return signing_input + "." + b64u_encode(sign(signing_input.encode("ascii")))


def _signed_by(key: PrivateKey, header: dict[str, Any] | bytes,
               payload: dict[str, Any] | bytes = PAYLOAD) -> str:
    return _raw_token(header, payload, key.sign)


def _parse_code(token: str) -> str:
    with pytest.raises(JoseError) as info:
        jws.parse_compact(token)
    return info.value.code


def _verify_code(token: str, key: PrivateKey, **kwargs: Any) -> str:
    with pytest.raises(JoseError) as info:
        jws.verify(jws.parse_compact(token), key.public_key, **kwargs)
    return info.value.code


def _replace_signature(token: str, signature: bytes) -> str:
    return token.rsplit(".", 1)[0] + "." + b64u_encode(signature)


# -- the good path -------------------------------------------------------------------------

@pytest.mark.parametrize("key,alg", [(ED25519, "EdDSA"), (P256, "ES256")])
def test_sign_and_verify(key: PrivateKey, alg: str) -> None:
    token = jws.sign_compact(HEADER, PAYLOAD, key)
    parsed = jws.parse_compact(token)
    assert parsed.alg == alg
    assert parsed.header == {"alg": alg, **HEADER}
    assert len(parsed.signature) == 64
    jws.verify(parsed, key.public_key, typ="dc+sd-jwt")
    assert parsed.payload_json() == PAYLOAD


def test_rfc8037_known_answer() -> None:
    key = private_key_from_jwk(RFC8037_KEY)
    assert jws.sign_compact({}, b"Example of Ed25519 signing", key) == RFC8037_JWS
    parsed = jws.parse_compact(RFC8037_JWS)
    jws.verify(parsed, key.public_key)
    assert parsed.payload == b"Example of Ed25519 signing"


def test_fully_specified_ed25519_alg_verifies() -> None:
    token = _signed_by(ED25519, {"alg": "Ed25519", "typ": "dc+sd-jwt"})
    jws.verify(jws.parse_compact(token), ED25519.public_key, typ="dc+sd-jwt")


def test_sign_refuses_an_alg_that_does_not_fit_the_key() -> None:
    for key, alg in ((ED25519, "ES256"), (P256, "EdDSA"), (ED25519, "none")):
        with pytest.raises(JoseError) as info:
            jws.sign_compact({"alg": alg}, PAYLOAD, key)
        assert info.value.code == "jose.alg_key_mismatch"


# -- algorithm confusion -------------------------------------------------------------------

@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_is_not_allowed(alg: str) -> None:
    with_signature = _raw_token({"alg": alg, **HEADER}, PAYLOAD, lambda _: b"\x00")
    assert _parse_code(with_signature) == "jose.alg_not_allowed"
    # The usual form has an empty signature part; it never gets as far as the alg check.
    unsigned = with_signature.rsplit(".", 1)[0] + "."
    assert _parse_code(unsigned) == "jose.malformed"


def test_hs256_keyed_with_the_issuers_public_key_is_not_allowed() -> None:
    public = ED25519.public_key.raw

    def hmac_sign(data: bytes) -> bytes:
        return hmac.new(public, data, hashlib.sha256).digest()

    token = _raw_token({"alg": "HS256", **HEADER}, PAYLOAD, hmac_sign)
    assert _parse_code(token) == "jose.alg_not_allowed"
    # Even a Jws built around the parser is refused: the key, not the header, picks the alg.
    parts = token.split(".")
    forged = jws.Jws({"alg": "HS256", **HEADER}, b64u_decode(parts[1]),
                     f"{parts[0]}.{parts[1]}".encode(), b64u_decode(parts[2]))
    with pytest.raises(JoseError) as info:
        jws.verify(forged, ED25519.public_key)
    assert info.value.code == "jose.alg_key_mismatch"


def test_hs256_keyed_with_the_p256_jwk_is_not_allowed() -> None:
    secret = strictjson.dumps(P256.public_key.to_jwk()).encode()
    token = _raw_token({"alg": "HS256"}, PAYLOAD,
                       lambda data: hmac.new(secret, data, hashlib.sha256).digest())
    assert _parse_code(token) == "jose.alg_not_allowed"


@pytest.mark.parametrize("alg", ["RS256", "PS256", "HS512", "ES384", "ES256K", "EdDSA ",
                                 "eddsa", "ED25519", "es256", ""])
def test_other_algs_are_not_allowed(alg: str) -> None:
    assert _parse_code(_signed_by(ED25519, {"alg": alg})) == "jose.alg_not_allowed"


@pytest.mark.parametrize("header", [
    {"typ": "dc+sd-jwt"}, {"alg": None}, {"alg": 1}, {"alg": ["EdDSA"]}, {"alg": {"EdDSA": 1}},
])
def test_missing_or_non_string_alg(header: dict[str, Any]) -> None:
    assert _parse_code(_signed_by(ED25519, header)) == "jose.invalid_header"


def test_es256_header_on_an_ed25519_key() -> None:
    token = jws.sign_compact(HEADER, PAYLOAD, P256)
    assert _verify_code(token, ED25519) == "jose.alg_key_mismatch"


def test_eddsa_header_on_a_p256_key() -> None:
    token = jws.sign_compact(HEADER, PAYLOAD, ED25519)
    assert _verify_code(token, P256) == "jose.alg_key_mismatch"
    fully_specified = _signed_by(ED25519, {"alg": "Ed25519"})
    assert _verify_code(fully_specified, P256) == "jose.alg_key_mismatch"


# -- header rules --------------------------------------------------------------------------

@pytest.mark.parametrize("crit", [["exp"], ["b64"], [], "exp", None])
def test_crit_is_refused(crit: Any) -> None:
    token = _signed_by(ED25519, {"alg": "EdDSA", "crit": crit, "exp": 1})
    assert _parse_code(token) == "jose.unknown_crit"


@pytest.mark.parametrize("b64", [False, True, "false"])
def test_unencoded_payload_is_refused(b64: Any) -> None:
    token = _signed_by(ED25519, {"alg": "EdDSA", "b64": b64})
    assert _parse_code(token) == "jose.invalid_header"


@pytest.mark.parametrize("typ", [1, None, ["dc+sd-jwt"], {"t": 1}, True])
def test_typ_must_be_a_string(typ: Any) -> None:
    header = {"alg": "EdDSA", "typ": typ}
    if typ is None:     # JSON null: present but not a string; treated as absent by parse
        jws.parse_compact(_signed_by(ED25519, header))
        assert _verify_code(_signed_by(ED25519, header), ED25519, typ="dc+sd-jwt"
                            ) == "jose.wrong_typ"
        return
    assert _parse_code(_signed_by(ED25519, header)) == "jose.invalid_header"


@pytest.mark.parametrize("actual", ["dc+sd-jwt", "DC+SD-JWT", "application/dc+sd-jwt",
                                    "Application/Dc+Sd-Jwt"])
def test_typ_compares_case_insensitively_with_optional_application(actual: str) -> None:
    token = _signed_by(ED25519, {"alg": "EdDSA", "typ": actual})
    parsed = jws.parse_compact(token)
    jws.verify(parsed, ED25519.public_key, typ="dc+sd-jwt")
    jws.verify(parsed, ED25519.public_key, typ="application/dc+sd-jwt")
    jws.verify(parsed, ED25519.public_key, typ=["vc+sd-jwt", "dc+sd-jwt"])


@pytest.mark.parametrize("actual", ["JWT", "kb+jwt", "vc+sd-jwt", "dc+sd-jwt ", "sd-jwt",
                                    "application/application/dc+sd-jwt", "text/dc+sd-jwt"])
def test_wrong_typ(actual: str) -> None:
    token = _signed_by(ED25519, {"alg": "EdDSA", "typ": actual})
    assert _verify_code(token, ED25519, typ="dc+sd-jwt") == "jose.wrong_typ"


def test_missing_typ_when_one_is_required() -> None:
    token = _signed_by(ED25519, {"alg": "EdDSA"})
    assert _verify_code(token, ED25519, typ="dc+sd-jwt") == "jose.wrong_typ"
    assert _verify_code(token, ED25519, typ=["kb+jwt"]) == "jose.wrong_typ"
    jws.verify(jws.parse_compact(token), ED25519.public_key)        # typ=None: not checked


@pytest.mark.parametrize("header", [
    b'{"alg":"EdDSA","alg":"none"}',
    b'{"alg":"EdDSA","typ":"dc+sd-jwt","typ":"kb+jwt"}',
    b'{"alg":"EdDSA","kid":"a","kid":"a"}',
])
def test_duplicate_header_keys(header: bytes) -> None:
    with pytest.raises(JoseError) as info:
        jws.parse_compact(_signed_by(ED25519, header))
    # The strict-JSON InputError surfaces as a JoseError, never as a bare ValueError.
    assert info.value.code == "jose.malformed"
    assert "duplicate member name" in info.value.detail


def test_duplicate_payload_keys() -> None:
    token = _signed_by(ED25519, {"alg": "EdDSA"}, b'{"iss":"a","iss":"b"}')
    parsed = jws.parse_compact(token)
    jws.verify(parsed, ED25519.public_key)
    with pytest.raises(InputError) as info:
        parsed.payload_json()
    assert info.value.code == "json.duplicate_key"


@pytest.mark.parametrize("name", ["jwk", "jku", "x5u", "x5c"])
def test_header_keys_are_refused(name: str) -> None:
    value: Any = {
        "jwk": ED25519.public_key.to_jwk(),
        "jku": "https://attacker.example/jwks.json",
        "x5u": "https://attacker.example/cert.pem",
        "x5c": ["MIIB"],
    }[name]
    parsed = jws.parse_compact(_signed_by(ED25519, {"alg": "EdDSA", name: value}))
    with pytest.raises(JoseError) as info:
        jws.refuse_header_keys(parsed)
    assert info.value.code == "jose.header_key_refused"


def test_clean_header_passes_refuse_header_keys() -> None:
    jws.refuse_header_keys(jws.parse_compact(jws.sign_compact(HEADER, PAYLOAD, ED25519)))


# -- signatures ----------------------------------------------------------------------------

@pytest.mark.parametrize("key", [ED25519, P256], ids=["EdDSA", "ES256"])
def test_tampered_payload(key: PrivateKey) -> None:
    token = jws.sign_compact(HEADER, PAYLOAD, key)
    header, _, signature = token.split(".")
    other = b64u_encode(strictjson.dumps({**PAYLOAD, "iss": "did:keten:evil"}).encode())
    assert _verify_code(f"{header}.{other}.{signature}", key) == "jose.bad_signature"


@pytest.mark.parametrize("key", [ED25519, P256], ids=["EdDSA", "ES256"])
def test_tampered_header(key: PrivateKey) -> None:
    token = jws.sign_compact(HEADER, PAYLOAD, key)
    _, payload, signature = token.split(".")
    header = b64u_encode(strictjson.dumps({"alg": key.sign_alg, "typ": "kb+jwt"}).encode())
    assert _verify_code(f"{header}.{payload}.{signature}", key) == "jose.bad_signature"


@pytest.mark.parametrize("key", [ED25519, P256], ids=["EdDSA", "ES256"])
@pytest.mark.parametrize("index", [0, 31, 32, 63])
def test_tampered_signature(key: PrivateKey, index: int) -> None:
    token = jws.sign_compact(HEADER, PAYLOAD, key)
    signature = bytearray(jws.parse_compact(token).signature)
    signature[index] ^= 0x01
    assert _verify_code(_replace_signature(token, bytes(signature)), key) == "jose.bad_signature"


def test_signature_by_another_key_of_the_same_type() -> None:
    for key, other in ((ED25519, Ed25519PrivateKey.generate()),
                       (P256, P256PrivateKey.generate())):
        token = jws.sign_compact(HEADER, PAYLOAD, other)
        assert _verify_code(token, key) == "jose.bad_signature"


@pytest.mark.parametrize("key", [ED25519, P256], ids=["EdDSA", "ES256"])
@pytest.mark.parametrize("length", [1, 32, 63, 65, 96, 128])
def test_wrong_signature_length(key: PrivateKey, length: int) -> None:
    token = jws.sign_compact(HEADER, PAYLOAD, key)
    real = jws.parse_compact(token).signature
    signature = (real * 3)[:length]
    assert _verify_code(_replace_signature(token, signature), key) == "jose.bad_signature"


@pytest.mark.parametrize("r_value,s_value", [
    (0, None), (None, 0), (0, 0),
    (P256_ORDER, None), (None, P256_ORDER),
    (P256_ORDER + 1, None), (None, P256_ORDER + 1),
    (2**256 - 1, None), (None, 2**256 - 1),
])
def test_es256_scalars_out_of_range(r_value: int | None, s_value: int | None) -> None:
    token = jws.sign_compact(HEADER, PAYLOAD, P256)
    real = jws.parse_compact(token).signature
    r = real[:32] if r_value is None else r_value.to_bytes(32, "big")
    s = real[32:] if s_value is None else s_value.to_bytes(32, "big")
    forged = _replace_signature(token, r + s)
    assert _verify_code(forged, P256) == "jose.bad_signature"
    parsed = jws.parse_compact(forged)
    assert not P256.public_key.verify(parsed.signing_input, parsed.signature)


# -- structure -----------------------------------------------------------------------------

@pytest.mark.parametrize("token", [
    "", ".", "..", "a.b", "a.b.c.d", "a.b.c.d.e", "eyJhbGciOiJFZERTQSJ9..AA",
    "eyJhbGciOiJFZERTQSJ9.e30.", ".e30.AA",
    "eyJhbGciOiJFZERTQSJ9=.e30.AA",                # padding
    "eyJhbGciOiJFZERTQSJ9.e30.A+/A",              # standard alphabet
    "eyJhbGciOiJFZERTQSJ9 .e30.AA",               # whitespace
    "W10.e30.AA",                                 # header is [] not an object
    "bm90IGpzb24.e30.AA",                         # header is not JSON
    "_w.e30.AA",                                  # header is not UTF-8
    "A.e30.AA",                                   # impossible base64 length
])
def test_malformed_tokens(token: str) -> None:
    assert _parse_code(token) == "jose.malformed"


@pytest.mark.parametrize("value", [None, b"a.b.c", 1, "a" * (jws.MAX_TOKEN_CHARS + 1)])
def test_non_string_or_oversize_tokens(value: Any) -> None:
    assert _parse_code(value) == "jose.malformed"


def test_header_with_nan_is_malformed() -> None:
    token = _signed_by(ED25519, b'{"alg":"EdDSA","exp":NaN}')
    with pytest.raises(JoseError) as info:
        jws.parse_compact(token)
    assert info.value.code == "jose.malformed"
    assert "NaN" in info.value.detail


def test_error_detail_names_the_token() -> None:
    with pytest.raises(JoseError) as info:
        jws.parse_compact("a.b", what="KB-JWT")
    assert "KB-JWT" in info.value.detail
    assert info.value.to_json() == {"error": "jose.malformed", "detail": info.value.detail}


def test_mutating_a_parsed_header_does_not_change_the_next_parse() -> None:
    # Parsed headers may be cached; one caller's mutation must not leak into another's view.
    token = _signed_by(ED25519, {"alg": "EdDSA", "typ": "dc+sd-jwt",
                                 "jwk": {"kty": "OKP", "x": "a"}, "x5c": ["MIIB"]})
    first = jws.parse_compact(token)
    first.header["typ"] = "changed"
    first.header["jwk"]["x"] = "MUTATED"
    first.header["x5c"].append("MORE")
    second = jws.parse_compact(token)
    assert second.header == {"alg": "EdDSA", "typ": "dc+sd-jwt",
                             "jwk": {"kty": "OKP", "x": "a"}, "x5c": ["MIIB"]}
