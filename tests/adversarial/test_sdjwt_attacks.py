"""Hand-forged SD-JWTs against the core verifier (SECURITY-TESTS.md items 1–13).

Every attack is a real token: where it needs a valid issuer signature, the forged payload
is signed with the issuer's key, so the test proves the *check* rejects it, not the
signature. Each case asserts the exact error code, once through
:func:`ssiwallet.core.sdjwt.verify_sd_jwt` and once through
:func:`verifier.check.check_presentation` (the contract of ``ssi-verifier check``), and
that the error class fits the code's area.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from ssiwallet.core import sdjwt
from ssiwallet.core.b64 import b64u_decode, b64u_encode
from ssiwallet.core.jws import sign_compact
from ssiwallet.core.keys import Ed25519PrivateKey, P256PrivateKey, PrivateKey, PublicKey
from ssiwallet.core.sdjwt import SD, Disclosure, KeyBindingPolicy, make_disclosure
from ssiwallet.core.sdjwt.disclosure import digest
from ssiwallet.core.statuslist import StatusRef
from ssiwallet.core.vc import issue_marked, issue_vc, verify_vc
from ssiwallet.errors import InputError, JoseError, SdJwtError, SsiError, VcError
from verifier.check import check_presentation

NOW = 1_700_000_000
IAT = NOW - 3600
ISS = "did:keten:issuer"
KID = ISS + "#key-1"
VCT = "urn:keten:vct:diploma:1"
NONCE = "n-0S6_WzA2Mj"
AUD = "https://verifier.example.org"
POLICY = KeyBindingPolicy(nonce=NONCE, aud=AUD)

ISSUER = Ed25519PrivateKey(bytes(range(32)))
HOLDER = Ed25519PrivateKey(bytes(range(100, 132)))
ATTACKER = Ed25519PrivateKey(bytes(range(200, 232)))
P256_ISSUER = P256PrivateKey(ec.derive_private_key(0x5EC2E7_1D, ec.SECP256R1()))
P256_ATTACKER = P256PrivateKey(ec.derive_private_key(0xBAD_C0DE, ec.SECP256R1()))

_CLASS_OF_AREA: dict[str, type[SsiError]] = {
    "json": InputError, "b64": InputError, "jose": JoseError, "sdjwt": SdJwtError,
    "vc": VcError,
}

# --------------------------------------------------------------------------- no network

NETWORK_ATTEMPTS: list[str] = []


@pytest.fixture(autouse=True, scope="module")
def no_network() -> Iterator[None]:
    """Every test here runs with outgoing connections refused and recorded (item 5: a
    ``jku``/``x5u`` header must never make the verifier fetch anything)."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        NETWORK_ATTEMPTS.append(repr(args[:2]))
        raise OSError("network access attempted during an adversarial test")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", refuse)
        mp.setattr(socket.socket, "connect_ex", refuse)
        mp.setattr(socket, "create_connection", refuse)
        mp.setattr(socket, "getaddrinfo", refuse)
        yield
    assert NETWORK_ATTEMPTS == []


# ---------------------------------------------------------------------- forging helpers


def enc(text: str | bytes) -> str:
    """base64url of exactly these bytes (hand-written JSON stays byte-for-byte)."""
    return b64u_encode(text.encode("utf-8") if isinstance(text, str) else text)


def jws_raw(header: str, payload: str | bytes, key: PrivateKey) -> str:
    """A compact JWS over these exact header and payload texts, signed with ``key``."""
    signing_input = enc(header) + "." + enc(payload)
    return signing_input + "." + b64u_encode(key.sign(signing_input.encode("ascii")))


def salt(n: int) -> str:
    return b64u_encode(n.to_bytes(16, "big"))


def disc(name: str | None, value: Any, n: int = 0) -> Disclosure:
    return make_disclosure(salt(n), name, value)


def raw_disc(text: str | bytes) -> str:
    """A disclosure from hand-written JSON (reserved names, duplicates, NaN …)."""
    return enc(text)


def base(**claims: Any) -> dict[str, Any]:
    return {"iss": ISS, "iat": IAT, "cnf": {"jwk": HOLDER.public_key.to_jwk()},
            "_sd_alg": "sha-256", **claims}


def forge(payload: dict[str, Any] | str, disclosures: list[str] | tuple[str, ...] = (), *,
          header: dict[str, Any] | str | None = None, key: PrivateKey = ISSUER) -> str:
    """``<issuer JWT>~<D1>~…~<Dn>~`` over a hand-made payload, really signed by ``key``."""
    payload_text = payload if isinstance(payload, str) else json.dumps(
        payload, separators=(",", ":"))
    header_text = header if isinstance(header, str) else json.dumps(
        {"alg": key.sign_alg, **(header or {})}, separators=(",", ":"))
    return "".join([jws_raw(header_text, payload_text, key), "~",
                    *(d + "~" for d in disclosures)])


def kb(presentation: str, *, key: PrivateKey = HOLDER, header: dict[str, Any] | str | None
       = None, payload: dict[str, Any] | str | None = None, **claims: Any) -> str:
    """Append a KB-JWT (``typ: kb+jwt``) over ``presentation`` (which ends with ``~``)."""
    body: dict[str, Any] | str = payload if payload is not None else {
        "nonce": NONCE, "aud": AUD, "iat": NOW, "sd_hash": digest(presentation), **claims}
    body_text = body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))
    header_text = header if isinstance(header, str) else json.dumps(
        {"alg": key.sign_alg, "typ": "kb+jwt", **(header or {})}, separators=(",", ":"))
    return presentation + jws_raw(header_text, body_text, key)


def verify(text: str, *, key: PublicKey = ISSUER.public_key,
           policy: KeyBindingPolicy | None = None) -> dict[str, Any]:
    return sdjwt.verify_sd_jwt(sdjwt.parse(text), lambda h, p: key, now=NOW,
                               key_binding=policy).claims


def cli(text: str, *, key: PublicKey = ISSUER.public_key, require_kb: bool = False
        ) -> dict[str, Any]:
    return check_presentation(text, key, now=NOW, nonce=NONCE, aud=AUD, require_kb=require_kb)


def raises(code: str, fn: Callable[[], object]) -> SsiError:
    """``fn()`` raises an :class:`SsiError` of exactly ``code`` and of the matching class."""
    with pytest.raises(SsiError) as exc:
        fn()
    assert exc.value.code == code, repr(exc.value)
    assert isinstance(exc.value, _CLASS_OF_AREA[code.split(".")[0]]), repr(exc.value)
    return exc.value


def rejected(text: str, code: str, *, key: PublicKey = ISSUER.public_key,
             kb_required: bool = False) -> None:
    """Both the library and the CLI contract refuse ``text`` with ``code``."""
    raises(code, lambda: verify(text, key=key, policy=POLICY if kb_required else None))
    raises(code, lambda: cli(text, key=key, require_kb=kb_required))


def test_forging_helpers_make_tokens_that_verify() -> None:
    """Control: the hand-made tokens below fail for the reason under test, not the forge."""
    name, inner = disc("given_name", "Ada", 1), disc("street", "Main St", 2)
    outer, elem = disc("address", {"_sd": [inner.digest()]}, 3), disc(None, "DE", 4)
    payload = base(_sd=[name.digest(), outer.digest()], nationalities=[{"...": elem.digest()}])
    text = kb(forge(payload, [name.encoded, outer.encoded, inner.encoded, elem.encoded]))
    expected = {"iss": ISS, "iat": IAT, "cnf": {"jwk": HOLDER.public_key.to_jwk()},
                "given_name": "Ada", "address": {"street": "Main St"}, "nationalities": ["DE"]}
    assert verify(text, policy=POLICY) == expected
    assert cli(text, require_kb=True) == expected
    # jws_raw over the texts sign_compact would write is byte-identical (Ed25519 is
    # deterministic), so the forge adds nothing of its own beyond the chosen bytes
    assert jws_raw('{"alg":"EdDSA","typ":"kb+jwt"}', '{"a":1}', HOLDER) == sign_compact(
        {"typ": "kb+jwt"}, {"a": 1}, HOLDER)


# ------------------------------------------------------------- 1. digest listed twice


@pytest.mark.parametrize("presented", [True, False], ids=["disclosed", "decoy"])
def test_digest_twice_in_one_sd(presented: bool) -> None:
    d = disc("given_name", "Ada")
    rejected(forge(base(_sd=[d.digest(), d.digest()]), [d.encoded] if presented else []),
             "sdjwt.duplicate_digest")


def test_digest_twice_across_two_objects() -> None:
    d = disc("street", "Main St")
    payload = base(_sd=[d.digest()], address={"_sd": [d.digest()]})
    rejected(forge(payload, [d.encoded]), "sdjwt.duplicate_digest")


def test_digest_twice_via_a_recursive_disclosure() -> None:
    """The second occurrence only appears once the outer disclosure is processed."""
    inner = disc("street", "Main St", 1)
    outer = disc("address", {"_sd": [inner.digest()]}, 2)
    payload = base(_sd=[outer.digest(), inner.digest()])
    rejected(forge(payload, [outer.encoded, inner.encoded]), "sdjwt.duplicate_digest")


def test_digest_twice_inside_recursive_disclosures_only() -> None:
    inner = disc(None, "DE", 1)
    a = disc("a", [{"...": inner.digest()}], 2)
    b = disc("b", [{"...": inner.digest()}], 3)
    payload = base(_sd=[a.digest(), b.digest()])
    rejected(forge(payload, [a.encoded, b.encoded, inner.encoded]), "sdjwt.duplicate_digest")


def test_array_element_digest_twice() -> None:
    e = disc(None, "DE")
    payload = base(nationalities=[{"...": e.digest()}, {"...": e.digest()}])
    rejected(forge(payload, [e.encoded]), "sdjwt.duplicate_digest")


def test_same_digest_in_array_and_in_sd() -> None:
    e = disc(None, "DE")
    payload = base(_sd=[e.digest()], nationalities=[{"...": e.digest()}])
    rejected(forge(payload, [e.encoded]), "sdjwt.duplicate_digest")


# ------------------------------------------------ 2. unreferenced or repeated disclosure


def _one_claim() -> tuple[dict[str, Any], Disclosure]:
    d = disc("given_name", "Ada", 1)
    return base(_sd=[d.digest()]), d


def test_disclosure_from_another_credential_is_refused() -> None:
    """A genuine disclosure, signed for by the same issuer in another credential."""
    other = sdjwt.issue({"iss": ISS, SD("family_name"): "Eve"}, ISSUER)
    payload, d = _one_claim()
    assert verify(forge(payload, [d.encoded]))["given_name"] == "Ada"
    rejected(forge(payload, [d.encoded, other.disclosures[0].encoded]),
             "sdjwt.unreferenced_disclosure")


def test_disclosure_never_signed_for_is_refused() -> None:
    payload, d = _one_claim()
    rejected(forge(payload, [d.encoded, disc("admin", True, 9).encoded]),
             "sdjwt.unreferenced_disclosure")


def test_same_disclosure_presented_twice() -> None:
    payload, d = _one_claim()
    rejected(forge(payload, [d.encoded, d.encoded]), "sdjwt.duplicate_disclosure")


# ------------------------------------- 3. reserved names, collisions and wrong shapes


@pytest.mark.parametrize("name", ["_sd", "..."])
@pytest.mark.parametrize("nested", [False, True], ids=["top", "nested"])
def test_disclosure_with_reserved_name(name: str, nested: bool) -> None:
    d = raw_disc(json.dumps([salt(1), name, ["AAAA"]]))
    payload = base(address={"_sd": [digest(d)]}) if nested else base(_sd=[digest(d)])
    rejected(forge(payload, [d]), "sdjwt.forbidden_claim_name")


@pytest.mark.parametrize("name", ["_sd", "..."])
def test_issuer_refuses_reserved_names(name: str) -> None:
    raises("sdjwt.forbidden_claim_name", lambda: make_disclosure(salt(1), name, 1))
    raises("sdjwt.forbidden_claim_name", lambda: sdjwt.issue({SD(name): 1}, ISSUER))
    raises("sdjwt.forbidden_claim_name", lambda: sdjwt.issue({"a": {name: 1}}, ISSUER))
    raises("sdjwt.forbidden_claim_name", lambda: sdjwt.issue({"_sd_alg": "x"}, ISSUER))


@pytest.mark.parametrize("nested", [False, True], ids=["top", "nested"])
def test_disclosure_colliding_with_plaintext_claim(nested: bool) -> None:
    """The plaintext claim is never overwritten: the whole SD-JWT is refused."""
    d = disc("given_name", "Eve")
    if nested:
        payload = base(person={"given_name": "Ada", "_sd": [d.digest()]})
        assert verify(forge(payload))["person"] == {"given_name": "Ada"}
    else:
        payload = base(given_name="Ada", _sd=[d.digest()])
        assert verify(forge(payload))["given_name"] == "Ada"
    rejected(forge(payload, [d.encoded]), "sdjwt.claim_exists")


def test_two_disclosures_with_one_name() -> None:
    a, b = disc("given_name", "Ada", 1), disc("given_name", "Eve", 2)
    rejected(forge(base(_sd=[a.digest(), b.digest()]), [a.encoded, b.encoded]),
             "sdjwt.claim_exists")


def test_issuer_refuses_a_claim_given_plain_and_disclosable() -> None:
    raises("sdjwt.duplicate_claim", lambda: sdjwt.issue({"a": 1, SD("a"): 2}, ISSUER))


def test_array_element_disclosure_referenced_from_sd() -> None:
    e = disc(None, "DE")
    rejected(forge(base(_sd=[e.digest()]), [e.encoded]), "sdjwt.disclosure_wrong_shape")


def test_property_disclosure_referenced_from_array() -> None:
    d = disc("nationality", "DE")
    rejected(forge(base(nationalities=[{"...": d.digest()}]), [d.encoded]),
             "sdjwt.disclosure_wrong_shape")


@pytest.mark.parametrize("text", [
    "[]", '["c2FsdA"]', '["c2FsdA","n","v","x"]', '{"salt":"n"}', '"str"', "42",
    '[1,"n","v"]', '[1,"v"]', '["c2FsdA",1,"v"]', '["c2FsdA",null,"v"]',
])
def test_malformed_disclosure_shapes(text: str) -> None:
    d = raw_disc(text)
    rejected(forge(base(_sd=[digest(d)]), [d]), "sdjwt.malformed_disclosure")


@pytest.mark.parametrize("sd", ['"not-a-list"', "[1]", "[null]", "[[\"x\"]]", "{}"])
def test_malformed_sd_array(sd: str) -> None:
    payload = json.dumps(base())[:-1] + f',"_sd":{sd}}}'
    rejected(forge(payload), "sdjwt.malformed_sd")


def test_malformed_array_digest() -> None:
    rejected(forge(base(nationalities=[{"...": 5}])), "sdjwt.malformed_sd")


# ------------------------------------------------------------ 4. re-encoded disclosure


def _padded_disclosure() -> Disclosure:
    """A disclosure whose encoding needs padding and whose standard base64 has ``+``/``/``."""
    for n in range(1000):
        d = disc("given_name", "?~" * (n % 5 + 1) + ">" * (n % 3), n)
        raw = b64u_decode(d.encoded)
        std = base64.b64encode(raw).decode()
        if len(d.encoded) % 4 and ("+" in std or "/" in std):
            return d
    raise AssertionError("no suitable disclosure found")


def test_whitespace_reencoding_changes_the_digest() -> None:
    """Same JSON value, spaces added: a valid disclosure whose digest the issuer never
    signed, so it is *unreferenced* (RFC 9901 §7.1 step 5), not a parse error."""
    payload, d = _one_claim()
    spaced = raw_disc(json.dumps(json.loads(b64u_decode(d.encoded)), indent=1))
    assert sdjwt.parse_disclosure(spaced).value == d.value
    rejected(forge(payload, [spaced]), "sdjwt.unreferenced_disclosure")


def test_padding_is_refused_by_the_strict_decoder() -> None:
    """``=`` is outside the base64url alphabet (RFC 7515 §2): ``b64.alphabet``."""
    d = _padded_disclosure()
    payload = base(_sd=[d.digest()])
    assert verify(forge(payload, [d.encoded]))["given_name"] == d.value
    rejected(forge(payload, [d.encoded + "=" * (-len(d.encoded) % 4)]), "b64.alphabet")


def test_standard_base64_alphabet_is_refused() -> None:
    """The same bytes in standard base64 (``+``/``/``): ``b64.alphabet``."""
    d = _padded_disclosure()
    std = base64.b64encode(b64u_decode(d.encoded)).decode().rstrip("=")
    assert std != d.encoded
    rejected(forge(base(_sd=[d.digest()]), [std]), "b64.alphabet")


def test_non_canonical_trailing_bits_are_refused() -> None:
    """Unused low bits set in the last character decode to the same bytes: refused as
    ``b64.non_canonical``, so no second spelling of a signed disclosure exists."""
    d = _padded_disclosure()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twisted = d.encoded[:-1] + alphabet[alphabet.index(d.encoded[-1]) | 1]
    assert twisted != d.encoded
    rejected(forge(base(_sd=[d.digest()]), [twisted]), "b64.non_canonical")


@pytest.mark.parametrize("where", [0, 10, -1])
def test_whitespace_inside_a_disclosure_is_refused(where: int) -> None:
    payload, d = _one_claim()
    broken = d.encoded[:where] + "\n" + d.encoded[where:] if where >= 0 else d.encoded + " "
    rejected(forge(payload, [broken]), "b64.alphabet")


# ------------------------------------------------------ 5. algorithm and key confusion


def _hs(alg: str, secret: bytes) -> str:
    """An HMAC-"signed" issuer JWT keyed with public material (the classic confusion)."""
    header = json.dumps({"alg": alg})
    signing_input = enc(header) + "." + enc(json.dumps(base()))
    mac = hmac.new(secret, signing_input.encode(), getattr(hashlib, "sha" + alg[2:])).digest()
    return signing_input + "." + b64u_encode(mac) + "~"


@pytest.mark.parametrize("secret", ["raw", "jwk", "x"])
@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_hmac_keyed_with_the_issuer_public_key(alg: str, secret: str) -> None:
    pub = ISSUER.public_key
    material = {"raw": pub.raw, "jwk": json.dumps(pub.to_jwk()).encode(),
                "x": pub.to_jwk()["x"].encode()}[secret]
    rejected(_hs(alg, material), "jose.alg_not_allowed")
    assert NETWORK_ATTEMPTS == []


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE", "RS256", "PS256", "ES384",
                                 "ES512", "ES256K", "", "EdDSA ", "eddsa", "ED25519"])
def test_algorithms_outside_the_allow_list(alg: str) -> None:
    header = json.dumps({"alg": alg})
    rejected(forge(base(), header=header), "jose.alg_not_allowed")


def test_alg_none_with_empty_signature() -> None:
    """The textbook ``none`` token has an empty third part: refused as malformed before
    its header is even read."""
    token = enc('{"alg":"none"}') + "." + enc(json.dumps(base())) + ".~"
    rejected(token, "sdjwt.malformed")


@pytest.mark.parametrize("header", ['{"typ":"JWT"}', '{"alg":5}', '{"alg":null}',
                                    '{"alg":["EdDSA"]}'])
def test_missing_or_non_string_alg(header: str) -> None:
    rejected(forge(base(), header=header), "jose.invalid_header")


@pytest.mark.parametrize("signer", ["issuer", "attacker-p256"])
def test_es256_header_on_an_ed25519_issuer_key(signer: str) -> None:
    if signer == "issuer":  # Ed25519 bytes labelled ES256
        token = forge(base(), header='{"alg":"ES256"}', key=ISSUER)
    else:
        token = forge(base(), key=P256_ATTACKER)
    rejected(token, "jose.alg_key_mismatch")


@pytest.mark.parametrize("alg", ["EdDSA", "Ed25519"])
def test_eddsa_header_on_a_p256_issuer_key(alg: str) -> None:
    token = forge(base(), header=json.dumps({"alg": alg}), key=ATTACKER)
    rejected(token, "jose.alg_key_mismatch", key=P256_ISSUER.public_key)
    # the P-256 issuer's own token verifies: the refusal is about the alg, not the key
    assert verify(forge(base(), key=P256_ISSUER), key=P256_ISSUER.public_key)["iss"] == ISS


_HEADER_KEYS: dict[str, Any] = {
    "jwk": ATTACKER.public_key.to_jwk(),
    "jku": "https://127.0.0.1:1/jwks.json",
    "x5u": "https://169.254.169.254/cert.pem",
    "x5c": ["MIIBszCCAVmgAwIBAgIUQ1pA"],
}


@pytest.mark.parametrize("signer", ["attacker", "issuer"])
@pytest.mark.parametrize("param", sorted(_HEADER_KEYS))
def test_issuer_header_offering_a_key(param: str, signer: str) -> None:
    """Refused even when the signature is the issuer's own: the header is no trust source."""
    key = ATTACKER if signer == "attacker" else ISSUER
    rejected(forge(base(), header={param: _HEADER_KEYS[param]}, key=key),
             "jose.header_key_refused")
    assert NETWORK_ATTEMPTS == []


@pytest.mark.parametrize("param", sorted(_HEADER_KEYS))
def test_kb_header_offering_a_key(param: str) -> None:
    value = ATTACKER.public_key.to_jwk() if param == "jwk" else _HEADER_KEYS[param]
    token = kb(forge(base()), key=ATTACKER, header={param: value})
    rejected(token, "jose.header_key_refused", kb_required=True)
    assert NETWORK_ATTEMPTS == []


def test_kb_with_alg_none_or_hmac() -> None:
    sd = forge(base())
    body = json.dumps({"nonce": NONCE, "aud": AUD, "iat": NOW, "sd_hash": digest(sd)})
    none = enc('{"alg":"none","typ":"kb+jwt"}') + "." + enc(body) + ".AA"
    rejected(sd + none, "jose.alg_not_allowed", kb_required=True)
    signing_input = enc('{"alg":"HS256","typ":"kb+jwt"}') + "." + enc(body)
    mac = hmac.new(HOLDER.public_key.raw, signing_input.encode(), hashlib.sha256).digest()
    rejected(sd + signing_input + "." + b64u_encode(mac), "jose.alg_not_allowed",
             kb_required=True)


def test_kb_alg_that_does_not_fit_the_cnf_key() -> None:
    rejected(kb(forge(base()), key=P256_ATTACKER), "jose.alg_key_mismatch", kb_required=True)


# --------------------------------------------------------------------- 6. unknown crit


@pytest.mark.parametrize("crit", [["exp"], ["b64"], [], "exp", ["urn:example:ext"]])
def test_unknown_crit_in_the_issuer_jwt(crit: Any) -> None:
    rejected(forge(base(), header={"crit": crit, "urn:example:ext": 1}),
             "jose.unknown_crit")


@pytest.mark.parametrize("crit", [["exp"], []])
def test_unknown_crit_in_the_kb_jwt(crit: Any) -> None:
    rejected(kb(forge(base()), header={"crit": crit}), "jose.unknown_crit", kb_required=True)


def test_unprotected_crit_in_json_serialization_is_refused() -> None:
    """RFC 7515 §4.1.11: ``crit`` MUST be integrity protected; one in the unprotected
    header of the JSON serialization names an extension we do not implement and must not
    be ignored. Any of the plausible codes is accepted."""
    token = sdjwt.parse(forge(base()))
    sig = replace(token.signatures[0], header={"crit": ["urn:example:ext"],
                                               "urn:example:ext": True})
    forged = json.dumps(replace(token, signatures=(sig,)).to_json())
    attempts: list[Callable[[], object]] = [lambda: verify(forged), lambda: cli(forged)]
    for attempt in attempts:
        with pytest.raises(SsiError) as exc:
            attempt()
        assert exc.value.code in {"jose.unknown_crit", "jose.invalid_header",
                                  "sdjwt.malformed"}


def test_unprotected_typ_cannot_make_a_credential_a_vc() -> None:
    """Explicit typing (RFC 8725 §3.11) only means something when ``typ`` is signed. An
    issuer-signed JWT without ``typ`` must not pass the ``dc+sd-jwt`` check because an
    unprotected header says so."""
    token = sdjwt.parse(forge(base(vct=VCT), header={"kid": KID}))
    sig = replace(token.signatures[0], header={"typ": "dc+sd-jwt"})
    forged = replace(token, signatures=(sig,)).to_json()
    raises("jose.invalid_header", lambda: verify_vc(
        forged, keys={KID: ISSUER.public_key}, now=NOW, key_binding=None))


# ------------------------------------------------------------------ 7. duplicate keys


@pytest.mark.parametrize("header", [
    '{"alg":"EdDSA","alg":"EdDSA"}',
    '{"alg":"EdDSA","typ":"example+sd-jwt","typ":"example+sd-jwt"}',
    '{"alg":"EdDSA","kid":"a","kid":"b"}',
])
def test_duplicate_key_in_the_issuer_header(header: str) -> None:
    """Header JSON errors are wrapped by ``jws.parse_compact`` as ``jose.malformed``."""
    rejected(forge(base(), header=header), "jose.malformed")


@pytest.mark.parametrize("dup", ['"iss":"did:keten:evil"', '"_sd":[]', '"exp":1',
                                 '"cnf":{"jwk":{}}'])
def test_duplicate_key_in_the_payload(dup: str) -> None:
    payload = json.dumps(base(exp=NOW + 3600, _sd=[]), separators=(",", ":"))
    rejected(forge(payload[:-1] + "," + dup + "}"), "json.duplicate_key")


def test_duplicate_key_nested_in_the_payload() -> None:
    jwk = HOLDER.public_key.to_jwk()
    text = json.dumps(base(), separators=(",", ":")).replace(
        '"kty":"OKP"', '"kty":"OKP","x":"' + ATTACKER.public_key.to_jwk()["x"] + '"', 1)
    assert text.count('"x":') == 2 and jwk["x"] in text
    rejected(forge(text), "json.duplicate_key")


def test_duplicate_key_in_a_disclosure() -> None:
    d = raw_disc(json.dumps([salt(1), "address", {"city": "A"}])[:-2] + ',"city":"B"}]')
    assert '"city":"B"' in b64u_decode(d).decode()
    rejected(forge(base(_sd=[digest(d)]), [d]), "json.duplicate_key")


def test_duplicate_key_in_the_kb_header() -> None:
    header = '{"alg":"EdDSA","typ":"kb+jwt","typ":"kb+jwt"}'
    rejected(kb(forge(base()), header=header), "jose.malformed", kb_required=True)


@pytest.mark.parametrize("dup", ["nonce", "aud", "sd_hash", "iat"])
def test_duplicate_key_in_the_kb_payload(dup: str) -> None:
    sd = forge(base())
    body = {"nonce": NONCE, "aud": AUD, "iat": NOW, "sd_hash": digest(sd)}
    text = json.dumps(body, separators=(",", ":"))[:-1] + f',"{dup}":{json.dumps(body[dup])}}}'
    rejected(kb(sd, payload=text), "json.duplicate_key", kb_required=True)


def test_duplicate_member_in_the_json_serialization() -> None:
    flat = json.dumps(sdjwt.parse(forge(base())).to_json(), separators=(",", ":"))
    doubled = flat[:-1] + ',"payload":"' + enc('{"iss":"x"}') + '"}'
    rejected(doubled, "json.duplicate_key")


# ------------------------------------------------------------- 8. hostile exp values

_EXP_CASES = [
    ("NaN", "json.non_finite"), ("Infinity", "json.non_finite"),
    ("-Infinity", "json.non_finite"), ("1e400", "json.non_finite"),
    ("-1E400", "json.non_finite"), ('"123"', "sdjwt.invalid_time_claim"),
    ("9" * 5000, "json.number_too_long"), ("1" + "0" * 4999 + ".5", "json.number_too_long"),
    ("true", "sdjwt.invalid_time_claim"), ("false", "sdjwt.invalid_time_claim"),
    ("null", "sdjwt.invalid_time_claim"), ("[1900000000]", "sdjwt.invalid_time_claim"),
    ("{}", "sdjwt.invalid_time_claim"),
]
_EXP_IDS = ["NaN", "Infinity", "-Infinity", "1e400", "-1E400", "string", "5000-digits",
            "5000-digit-float", "true", "false", "null", "array", "object"]


def _exp_payload(exp: str, **extra: Any) -> str:
    return json.dumps(base(**extra), separators=(",", ":"))[:-1] + f',"exp":{exp}}}'


@pytest.mark.parametrize(("exp", "code"), _EXP_CASES, ids=_EXP_IDS)
def test_hostile_exp(exp: str, code: str) -> None:
    rejected(forge(_exp_payload(exp)), code)


@pytest.mark.parametrize(("exp", "code"), _EXP_CASES, ids=_EXP_IDS)
def test_hostile_exp_in_an_sd_jwt_vc(exp: str, code: str) -> None:
    """The same verdicts through the SD-JWT VC route (``verify_vc`` reads ``iss`` and
    ``iat`` from the still unverified payload first: that early read must not turn the
    strict-JSON refusal into anything else)."""
    token = forge(_exp_payload(exp, vct=VCT), header={"typ": "dc+sd-jwt", "kid": KID})
    assert raises(code, lambda: cli(token)).detail
    raises(code, lambda: verify_vc(token, keys={KID: ISSUER.public_key}, now=NOW,
                                   key_binding=None))


@pytest.mark.parametrize(("exp", "code"), _EXP_CASES[:7], ids=_EXP_IDS[:7])
def test_hostile_exp_in_a_disclosure(exp: str, code: str) -> None:
    d = raw_disc(f'["{salt(1)}","exp",{exp}]')
    rejected(forge(base(_sd=[digest(d)]), [d]), code)


@pytest.mark.parametrize("claim", ["iat", "nbf"])
@pytest.mark.parametrize("value", ['"1"', "true", "NaN"])
def test_hostile_iat_and_nbf(claim: str, value: str) -> None:
    text = json.dumps({k: v for k, v in base().items() if k != claim}, separators=(",", ":"))
    code = "json.non_finite" if value == "NaN" else "sdjwt.invalid_time_claim"
    rejected(forge(text[:-1] + f',"{claim}":{value}}}'), code)


def test_exp_in_the_past_and_future() -> None:
    rejected(forge(base(exp=NOW - 3600)), "sdjwt.expired")
    assert verify(forge(base(exp=1e308)))["exp"] == 1e308


# -------------------------------------------------- 9. lone surrogates, deep nesting


def test_escaped_lone_surrogate_in_a_disclosure() -> None:
    d = raw_disc(f'["{salt(1)}","given_name","Ada\\ud800"]')
    rejected(forge(base(_sd=[digest(d)]), [d]), "json.lone_surrogate")


def test_raw_surrogate_bytes_in_a_disclosure_are_not_utf8() -> None:
    """A surrogate written as UTF-8-style bytes (``ED A0 80``) is not UTF-8 at all."""
    raw = f'["{salt(1)}","given_name","Ada\ud800"]'.encode("utf-8", "surrogatepass")
    d = raw_disc(raw)
    rejected(forge(base(_sd=[digest(d)]), [d]), "json.not_utf8")


@pytest.mark.parametrize("where", ["value", "key"])
def test_escaped_lone_surrogate_in_the_payload(where: str) -> None:
    text = json.dumps(base(), separators=(",", ":"))[:-1]
    text += ',"name":"\\udc00"}' if where == "value" else ',"\\udc00":"x"}'
    rejected(forge(text), "json.lone_surrogate")


def test_lone_surrogate_in_the_header_and_kb() -> None:
    rejected(forge(base(), header='{"alg":"EdDSA","kid":"\\ud800"}'), "jose.malformed")
    sd = forge(base())
    body = json.dumps({"nonce": NONCE, "aud": AUD, "iat": NOW, "sd_hash": digest(sd)})
    rejected(kb(sd, payload=body[:-1] + ',"x":"\\udbff"}'), "json.lone_surrogate",
             kb_required=True)


def test_surrogate_pair_is_fine() -> None:
    d = raw_disc(f'["{salt(1)}","given_name","\\ud83d\\ude00"]')
    assert verify(forge(base(_sd=[digest(d)]), [d]))["given_name"] == "\U0001f600"


def test_ten_thousand_deep_disclosure() -> None:
    d = raw_disc(f'["{salt(1)}","x",' + "[" * 10_000 + "]" * 10_000 + "]")
    rejected(forge(base(_sd=[digest(d)]), [d]), "json.too_deep")


def test_ten_thousand_deep_payload_and_header() -> None:
    text = json.dumps(base(), separators=(",", ":"))[:-1]
    rejected(forge(text + ',"x":' + '{"a":' * 10_000 + "1" + "}" * 10_000 + "}"),
             "json.too_deep")
    rejected(forge(base(), header='{"alg":"EdDSA","x":' + "[" * 10_000 + "]" * 10_000 + "}"),
             "jose.malformed")


def test_deep_chain_of_recursive_disclosures() -> None:
    """Each disclosure is shallow, but 120 nested ones exceed the processing depth."""
    value: Any = "bottom"
    for _ in range(120):
        value = {SD("n"): value}
    issued = sdjwt.issue({"iss": ISS, "iat": IAT, SD("deep"): value}, ISSUER)
    rejected(issued.compact(), "sdjwt.too_deep")
    raises("sdjwt.too_deep", lambda: sdjwt.holder_view(issued.sd_jwt))


# ----------------------------------------- 10. validity claims must stay in plaintext


def _vc_payload(hide: str) -> dict[Any, Any]:
    plain: dict[str, Any] = {
        "iss": ISS, "iat": IAT, "vct": VCT, "exp": NOW + 86400, "nbf": IAT,
        "cnf": {"jwk": HOLDER.public_key.to_jwk()},
        "status": StatusRef(3, "https://status.example/1").to_claim(),
        "vct#integrity": "sha256-AAAA", "given_name": "Ada"}
    value = plain.pop(hide)
    return {**plain, SD(hide): value}


@pytest.mark.parametrize("name", ["exp", "cnf", "iss", "vct", "status", "nbf",
                                  "vct#integrity"])
def test_issuer_refuses_to_hide_validity_claims(name: str) -> None:
    raises("vc.claim_not_disclosable",
           lambda: issue_marked(_vc_payload(name), key=ISSUER, kid=KID))


@pytest.mark.parametrize("name", ["cnf", "status"])
def test_issuer_refuses_disclosures_inside_cnf_and_status(name: str) -> None:
    payload: dict[Any, Any] = _vc_payload("given_name")
    inner = dict(payload[name])
    first = next(iter(inner))
    payload[name] = {SD(first): inner[first]}
    raises("vc.claim_not_disclosable", lambda: issue_marked(payload, key=ISSUER, kid=KID))


def test_issuer_refuses_a_repeated_salt() -> None:
    fixed = salt(7)
    raises("sdjwt.salt_reused", lambda: issue_vc(
        issuer=ISS, kid=KID, key=ISSUER, vct=VCT, claims={"a": 1, "b": 2},
        holder_jwk=HOLDER.public_key.to_jwk(), now=NOW, salt=lambda: fixed))
    raises("sdjwt.salt_reused", lambda: sdjwt.issue({"l": [SD(1), SD(2)]}, ISSUER,
                                                    salt=lambda: fixed))


@pytest.mark.parametrize("bad", [b64u_encode(b"\x00" * 15), "", "not base64!", "AAAA="])
def test_issuer_refuses_a_weak_salt(bad: str) -> None:
    raises("sdjwt.weak_salt", lambda: issue_vc(
        issuer=ISS, kid=KID, key=ISSUER, vct=VCT, claims={"a": 1},
        holder_jwk=HOLDER.public_key.to_jwk(), now=NOW, salt=lambda: bad))


@pytest.mark.parametrize(("name", "code"), [
    ("exp", "vc.claim_not_disclosable"), ("nbf", "vc.claim_not_disclosable"),
    ("cnf", "vc.claim_not_disclosable"), ("status", "vc.claim_not_disclosable"),
    ("vct", "vc.claim_not_disclosable"), ("vct#integrity", "vc.claim_not_disclosable"),
    ("iss", "vc.missing_iss"),
])
def test_verifier_refuses_validity_claims_in_disclosures(name: str, code: str) -> None:
    """Signed by the real issuer with ``typ: dc+sd-jwt`` (the generic issuer lets it
    through; the profile check in ``verify_vc`` must not). A hidden ``iss`` means there
    is no issuer to look up at all."""
    issued = sdjwt.issue(_vc_payload(name), ISSUER, header={"typ": "dc+sd-jwt", "kid": KID})
    keys = {KID: ISSUER.public_key}

    def as_holder() -> object:
        return verify_vc(issued.compact(), keys=keys, now=NOW, key_binding=None,
                         expect_kb=False)

    def as_verifier() -> object:
        return verify_vc(issued.compact(), keys=keys, now=NOW, key_binding=None)

    raises(code, as_holder)
    raises(code, as_verifier)
    raises(code, lambda: cli(issued.compact()))


def test_verifier_refuses_a_disclosure_nested_in_cnf() -> None:
    payload = _vc_payload("given_name")
    payload["cnf"] = {SD("jwk"): HOLDER.public_key.to_jwk()}
    issued = sdjwt.issue(payload, ISSUER, header={"typ": "dc+sd-jwt", "kid": KID})
    raises("vc.claim_not_disclosable", lambda: cli(issued.compact()))


# ------------------------------------------------------------------ 11. unknown _sd_alg


@pytest.mark.parametrize("sd_alg", ["sha-1", "SHA-256", "", 5, "sha-25", None, "sha-256 ",
                                    "md5", ["sha-256"], "sha3-256"])
def test_unsupported_sd_alg(sd_alg: Any) -> None:
    d = disc("given_name", "Ada")
    rejected(forge(base(_sd_alg=sd_alg, _sd=[d.digest()]), [d.encoded]),
             "sdjwt.unsupported_sd_alg")
    rejected(forge(base(_sd_alg=sd_alg)), "sdjwt.unsupported_sd_alg")


def test_issuer_refuses_unsupported_sd_alg() -> None:
    raises("sdjwt.unsupported_sd_alg", lambda: sdjwt.issue({SD("a"): 1}, ISSUER,
                                                          sd_alg="sha-1"))


# --------------------------------------------------------------------- 12. key binding


def test_kb_wrong_nonce() -> None:
    rejected(kb(forge(base()), nonce="another-transaction"), "sdjwt.kb_nonce_mismatch",
             kb_required=True)


def test_kb_for_verifier_a_shown_to_verifier_b() -> None:
    rejected(kb(forge(base()), aud="https://verifier-a.example"), "sdjwt.kb_aud_mismatch",
             kb_required=True)


@pytest.mark.parametrize(("iat", "code"), [
    (NOW - 301, "sdjwt.kb_stale"), (NOW - 86400, "sdjwt.kb_stale"), (-1e308, "sdjwt.kb_stale"),
    (NOW + 61, "sdjwt.kb_iat_future"), (1e308, "sdjwt.kb_iat_future"),
])
def test_kb_iat_outside_the_window(iat: float, code: str) -> None:
    rejected(kb(forge(base()), iat=iat), code, kb_required=True)


@pytest.mark.parametrize("iat", [NOW - 300, NOW + 60, NOW])
def test_kb_iat_at_the_edges_of_the_window(iat: int) -> None:
    assert verify(kb(forge(base()), iat=iat), policy=POLICY)["iss"] == ISS


def test_kb_missing_when_required() -> None:
    rejected(forge(base()), "sdjwt.kb_missing", kb_required=True)


@pytest.mark.parametrize("typ", ["JWT", "jwt", "dc+sd-jwt", None, "kb+jwt+x"])
def test_kb_typ(typ: str | None) -> None:
    sd = forge(base())
    body = json.dumps({"nonce": NONCE, "aud": AUD, "iat": NOW, "sd_hash": digest(sd)})
    header = {"alg": "EdDSA"} if typ is None else {"alg": "EdDSA", "typ": typ}
    rejected(kb(sd, header=json.dumps(header), payload=body), "jose.wrong_typ",
             kb_required=True)


def test_kb_typ_compares_as_a_media_type() -> None:
    token = kb(forge(base()), header={"typ": "application/KB+JWT"})
    assert verify(token, policy=POLICY)["iss"] == ISS


@pytest.mark.parametrize(("change", "code"), [
    ({"sd_hash": None}, "sdjwt.kb_invalid"), ({"nonce": None}, "sdjwt.kb_invalid"),
    ({"aud": None}, "sdjwt.kb_invalid"), ({"aud": [AUD]}, "sdjwt.kb_invalid"),
    ({"nonce": 5}, "sdjwt.kb_invalid"), ({"sd_hash": 0}, "sdjwt.kb_invalid"),
    ({"iat": None}, "sdjwt.invalid_time_claim"), ({"iat": str(NOW)}, "sdjwt.invalid_time_claim"),
    ({"iat": True}, "sdjwt.invalid_time_claim"),
], ids=["no-sd_hash", "no-nonce", "no-aud", "aud-list", "nonce-int", "sd_hash-int", "no-iat",
        "iat-string", "iat-bool"])
def test_kb_payload_shape(change: dict[str, Any], code: str) -> None:
    sd = forge(base())
    body = {"nonce": NONCE, "aud": AUD, "iat": NOW, "sd_hash": digest(sd)}
    for name, value in change.items():
        if value is None:
            del body[name]
        else:
            body[name] = value
    rejected(kb(sd, payload=body), code, kb_required=True)


# ---------------------------------------------------- 13. KB bound to what was shown


def _two_claims() -> tuple[dict[str, Any], Disclosure, Disclosure]:
    a, b = disc("given_name", "Ada", 1), disc("family_name", "Lovelace", 2)
    return base(_sd=[a.digest(), b.digest()]), a, b


def test_disclosure_removed_after_kb_signing() -> None:
    payload, a, b = _two_claims()
    signed = kb(forge(payload, [a.encoded, b.encoded]))
    kb_jwt = signed.rsplit("~", 1)[1]
    assert verify(signed, policy=POLICY)["family_name"] == "Lovelace"
    rejected(forge(payload, [a.encoded]) + kb_jwt, "sdjwt.kb_sd_hash_mismatch",
             kb_required=True)


def test_disclosure_added_after_kb_signing() -> None:
    payload, a, b = _two_claims()
    kb_jwt = kb(forge(payload, [a.encoded])).rsplit("~", 1)[1]
    rejected(forge(payload, [a.encoded, b.encoded]) + kb_jwt, "sdjwt.kb_sd_hash_mismatch",
             kb_required=True)


def test_disclosures_reordered_after_kb_signing() -> None:
    payload, a, b = _two_claims()
    kb_jwt = kb(forge(payload, [a.encoded, b.encoded])).rsplit("~", 1)[1]
    rejected(forge(payload, [b.encoded, a.encoded]) + kb_jwt, "sdjwt.kb_sd_hash_mismatch",
             kb_required=True)


def test_kb_moved_to_another_credential_of_the_same_holder() -> None:
    kb_jwt = kb(forge(base(given_name="Ada"))).rsplit("~", 1)[1]
    rejected(forge(base(given_name="Eve")) + kb_jwt, "sdjwt.kb_sd_hash_mismatch",
             kb_required=True)


@pytest.mark.parametrize("required", [True, False], ids=["kb-required", "kb-optional"])
def test_kb_signed_by_a_key_other_than_cnf(required: bool) -> None:
    """A KB-JWT that is present must be valid even when the policy does not require it."""
    rejected(kb(forge(base()), key=ATTACKER), "jose.bad_signature", kb_required=required)


@pytest.mark.parametrize("cnf", [None, {}, {"kid": "holder-key"}, "jwk"])
def test_kb_without_a_holder_key(cnf: Any) -> None:
    claims = {k: v for k, v in base().items() if k != "cnf"}
    if cnf is not None:
        claims["cnf"] = cnf
    for required in (True, False):
        rejected(kb(forge(claims)), "sdjwt.no_holder_key", kb_required=required)


def test_kb_on_an_issued_credential_is_refused_by_the_holder() -> None:
    """RFC 9901 §7.2: what an issuer hands out is an SD-JWT, never an SD-JWT+KB."""
    issued = issue_vc(issuer=ISS, kid=KID, key=ISSUER, vct=VCT, claims={"a": 1},
                      holder_jwk=HOLDER.public_key.to_jwk(), now=NOW)
    with_kb = sdjwt.present(issued.sd_jwt, [("a",)], holder_key=HOLDER, nonce=NONCE,
                            aud=AUD, iat=NOW)

    keys = {KID: ISSUER.public_key}
    assert verify_vc(issued.compact(), keys=keys, now=NOW, key_binding=None,
                     expect_kb=False).claims["a"] == 1
    raises("sdjwt.unexpected_kb", lambda: verify_vc(with_kb.compact(), keys=keys,
                                                    now=NOW, key_binding=None,
                                                    expect_kb=False))


# ------------------------------------------------------------ malformed serialisations


def _valid_parts() -> tuple[str, str]:
    payload, d = _one_claim()
    return forge(payload).rstrip("~"), d.encoded


@pytest.mark.parametrize(("build", "code"), [
    (lambda j, d: "", "sdjwt.malformed"),
    (lambda j, d: "garbage", "sdjwt.malformed"),
    (lambda j, d: j, "sdjwt.malformed"),
    (lambda j, d: f"{j}~~{d}~", "sdjwt.malformed"),
    (lambda j, d: f"~{j}~{d}~", "sdjwt.malformed"),
    (lambda j, d: f"{j}.{j.split('.')[0]}~{d}~", "sdjwt.malformed"),
    (lambda j, d: ".".join(j.split(".")[:2]) + f"~{d}~", "sdjwt.malformed"),
    (lambda j, d: "..~", "sdjwt.malformed"),
    (lambda j, d: "~~~~", "sdjwt.malformed"),
    (lambda j, d: "a.b.c~", "jose.malformed"),
    (lambda j, d: f"{j}~{d}~a.b.c.d", "jose.malformed"),
    (lambda j, d: f"{j}~{d}~garbage", "jose.malformed"),
    (lambda j, d: f"{j}~{d}~{j}", "jose.wrong_typ"),
    (lambda j, d: "{", "json.malformed"),
    (lambda j, d: "{}", "sdjwt.malformed"),
    (lambda j, d: '{"payload":"x","signatures":[]}', "sdjwt.malformed"),
    (lambda j, d: "[]", "sdjwt.malformed"),
], ids=["empty", "no-tilde", "jwt-only", "empty-middle-disclosure", "leading-tilde",
        "four-part-jwt", "two-part-jwt", "empty-parts", "only-tildes", "garbage-jwt",
        "four-part-kb", "garbage-kb", "issuer-jwt-as-kb", "broken-json", "empty-json",
        "json-no-signatures", "json-array"])
def test_malformed_serialisations(build: Callable[[str, str], str], code: str) -> None:
    jwt, d = _valid_parts()
    text = build(jwt, d)
    raises(code, lambda: verify(text))
    raises(code, lambda: cli(text))


def test_non_utf8_bytes_are_refused_as_an_ssi_error() -> None:
    """``sdjwt.parse`` accepts bytes; undecodable ones must surface as an SsiError.
   """
    jwt, d = _valid_parts()
    with pytest.raises(SsiError) as exc:
        sdjwt.parse(f"{jwt}~{d}~".encode() + b"\xff")
    assert exc.value.code in {"sdjwt.malformed", "json.not_utf8"}


# ---------------------------------------------------------------- fuzzing the verifier

_HOLDER_VC = issue_vc(issuer=ISS, kid=KID, key=ISSUER, vct=VCT,
                      claims={"given_name": "Ada", "address": {"city": "London", "zip": "N1"},
                              "degrees": ["BSc", "MSc"]},
                      holder_jwk=HOLDER.public_key.to_jwk(), now=NOW, validity=86400 * 30)
_VC_SHOWN = sdjwt.present(_HOLDER_VC.sd_jwt, [("address", "city"), ("degrees", 1)],
                          holder_key=HOLDER, nonce=NONCE, aud=AUD, iat=NOW)
_PLAIN = sdjwt.issue({"iss": ISS, "iat": IAT, SD("a"): {SD("b"): [SD(1), 2]}, "c": True},
                     ISSUER, decoys=2)
BASES: list[tuple[str, bool]] = [
    (_VC_SHOWN.compact(), True),
    (json.dumps(_VC_SHOWN.to_json()), True),
    (_PLAIN.compact(), False),
]
EXPECTED = [cli(text, require_kb=req) for text, req in BASES]
TOKEN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~=+/ \n{}[]\":,"


def _outcome(text: str, require_kb: bool) -> dict[str, Any] | None:
    """The verifier's result, or ``None`` for a refusal; anything else propagates."""
    try:
        return cli(text, require_kb=require_kb)
    except SsiError as exc:
        assert exc.code and "." in exc.code and exc.detail
        return None


@settings(max_examples=150, deadline=None)
@given(text=st.one_of(
    st.text(max_size=200),
    st.text(st.characters(categories=["Cs", "L", "N", "P"]), max_size=50),
    st.lists(st.text(TOKEN_CHARS, max_size=40), max_size=6).map("~".join),
), require_kb=st.booleans())
def test_random_text_only_raises_ssi_errors(text: str, require_kb: bool) -> None:
    _outcome(text, require_kb)


_mutation = st.tuples(
    st.sampled_from(["flip", "delete", "insert"]),
    st.floats(min_value=0, max_value=1, exclude_max=True),
    st.one_of(st.sampled_from(TOKEN_CHARS), st.characters()),
)


@settings(max_examples=200, deadline=None)
@given(which=st.integers(0, len(BASES) - 1), ops=st.lists(_mutation, min_size=1,
                                                          max_size=4))
def test_mutated_presentations_fail_cleanly_or_mean_the_same(
        which: int, ops: list[tuple[str, float, str]]) -> None:
    """Flip, delete or insert characters anywhere: the verifier refuses with an
    SsiError, or (e.g. whitespace around the token, a dropped optional KB-JWT) returns
    exactly the claims of the untouched presentation."""
    text, require_kb = BASES[which]
    for op, where, char in ops:
        i = int(where * (len(text) + (op == "insert")))
        if op == "flip":
            text = text[:i] + char + text[i + 1:]
        elif op == "delete":
            text = text[:i] + text[i + 1:]
        else:
            text = text[:i] + char + text[i:]
    result = _outcome(text, require_kb)
    assert result is None or result == EXPECTED[which]
