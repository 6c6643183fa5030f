"""Interop with the PyPI reference implementation ``sd-jwt`` 0.10.4 (sd-jwt-python).

The reference is used as a black-box peer: credentials and presentations made by one side
are verified by the other, and both verifiers must yield the same processed claims, which
must also equal the claims written out by hand here. One claim set, marked with our
:class:`SD`, drives both issuers (converted to the reference's ``SDObj`` marks).

Where the reference is known to be wrong (see the ``test_reference_quirk_*`` tests), our
verifier is the judge. Two quirks need adapting to in order to interoperate at all:

* its verifier checks every KB-JWT with ``alg=ES256``, so an EdDSA KB-JWT always fails;
  :class:`_RefVerifier` passes the algorithm of the holder's ``cnf.jwk`` through the
  verifier's own ``sign_alg`` parameter instead;
* its JSON serialization puts ``disclosures``/``kb_jwt`` at the top level of the JWS JSON
  object rather than in the unprotected header (RFC 9901 §8.1); the two ``*_json``
  converters move them.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import pytest
from jwcrypto.jwk import JWK
from jwcrypto.jws import InvalidJWSSignature
from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer
from sd_jwt.verifier import SDJWTVerifier

from ssiwallet.core import sdjwt
from ssiwallet.core.b64 import b64u_decode
from ssiwallet.core.keys import Ed25519PrivateKey, P256PrivateKey, PublicKey
from ssiwallet.core.sdjwt import SD, KeyBindingPolicy, SdJwt, parse_disclosure
from ssiwallet.core.vc import VC_TYP, IssuerKeyRef, issue_vc, keys_named, verify_vc
from ssiwallet.errors import SdJwtError

pytestmark = pytest.mark.interop

ISS = "https://issuer.example.org"
KID = "issuer-key-1"
AUD = "https://verifier.example.org"
NONCE = "n-0S6_WzA2Mj"
VCT = "https://credentials.example.org/pid"

# ---------------------------------------------------------------- the common claim set

#: Plain, nested, recursive and array-element disclosures, and non-ASCII / non-string data.
CLAIMS: dict[Any, Any] = {
    SD("given_name"): "Zoë",
    SD("family_name"): "Łukasiewicz",
    "nationality": "PL",
    SD("email"): "zoe@example.org",
    SD("address"): {SD("street_address"): "ul. Długa 1", SD("locality"): "Gdańsk",
                    "country": "PL"},
    "nationalities": [SD("PL"), SD("FR"), "NL"],
    SD("degrees"): [SD({"type": "BSc", SD("year"): 1832}), {"type": "MSc"}],
    "plain_nested": {SD("secret"): 42, "open": True},
    SD("height_m"): 1.65,
    SD("nothing"): None,
}

#: What the holder discloses, in the reference holder's nested form; our holder gets the
#: same selection as claim paths (``paths_from_selection``). ``True`` only on leaves or on
#: containers without nested marks: the reference discloses one level for ``True``, ours
#: everything below, and the two agree exactly there.
SELECTIONS: dict[str, dict[str, Any]] = {
    "some": {"given_name": True, "address": {"locality": True},
             "nationalities": [False, True], "degrees": [{"year": True}],
             "plain_nested": {"secret": True}, "nothing": True},
    "none": {},
}

#: The user claims a verifier must see for each selection: exactly these, nothing more.
EXPECTED: dict[str, dict[str, Any]] = {
    "some": {"given_name": "Zoë", "nationality": "PL",
             "address": {"locality": "Gdańsk", "country": "PL"},
             "nationalities": ["FR", "NL"],
             "degrees": [{"type": "BSc", "year": 1832}, {"type": "MSc"}],
             "plain_nested": {"secret": 42, "open": True}, "nothing": None},
    "none": {"nationality": "PL", "nationalities": ["NL"], "plain_nested": {"open": True}},
}


def to_reference_marks(value: Any) -> Any:
    """Our ``SD`` marks (dict keys, list elements) as the reference's ``SDObj`` marks."""
    if isinstance(value, SD):
        raise TypeError("SD marks a key or an array element, not a value")
    if isinstance(value, Mapping):
        return {(SDObj(key.value) if isinstance(key, SD) else key): to_reference_marks(member)
                for key, member in value.items()}
    if isinstance(value, list | tuple):
        return [SDObj(to_reference_marks(e.value)) if isinstance(e, SD)
                else to_reference_marks(e) for e in value]
    return value


def unmarked(value: Any) -> Any:
    """The claims with every mark removed: what full disclosure must reproduce."""
    if isinstance(value, Mapping):
        return {(k.value if isinstance(k, SD) else k): unmarked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [unmarked(e.value if isinstance(e, SD) else e) for e in value]
    return value


def count_marks(value: Any) -> int:
    if isinstance(value, Mapping):
        return sum(isinstance(k, SD) + count_marks(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return sum(1 + count_marks(e.value) if isinstance(e, SD) else count_marks(e)
                   for e in value)
    return 0


def test_converter_maps_keys_and_elements() -> None:
    converted = to_reference_marks({SD("a"): [SD({SD("b"): 1}), 2], "c": {SD("d"): None}})
    assert converted == {SDObj("a"): [SDObj({SDObj("b"): 1}), 2], "c": {SDObj("d"): None}}
    with pytest.raises(TypeError):
        to_reference_marks({"a": SD(1)})


# ---------------------------------------------------------------- parties and helpers


@dataclass(frozen=True)
class Parties:
    """An issuer and a holder key of one type, in our form and as jwcrypto JWKs."""

    issuer: Ed25519PrivateKey | P256PrivateKey
    holder: Ed25519PrivateKey | P256PrivateKey
    now: int

    @property
    def alg(self) -> str:
        return self.issuer.sign_alg

    @property
    def ref_issuer(self) -> JWK:
        return JWK(**self.issuer.to_private_jwk())

    @property
    def ref_issuer_public(self) -> JWK:
        return JWK(**self.issuer.public_key.to_jwk())

    @property
    def ref_holder(self) -> JWK:
        return JWK(**self.holder.to_private_jwk())

    @property
    def registered(self) -> dict[str, Any]:
        """Registered claims both issuers write in plaintext (the reference adds ``cnf``)."""
        return {"iss": ISS, "iat": self.now - 5, "exp": self.now + 3600}

    @property
    def cnf(self) -> dict[str, Any]:
        return {"jwk": self.holder.public_key.to_jwk()}

    def issuer_lookup(self, _header: Mapping[str, Any], _payload: Mapping[str, Any]
                      ) -> PublicKey:
        return self.issuer.public_key


KEY_TYPES: dict[str, type[Ed25519PrivateKey] | type[P256PrivateKey]] = {
    "Ed25519": Ed25519PrivateKey, "ES256": P256PrivateKey}


@pytest.fixture(params=sorted(KEY_TYPES))
def parties(request: pytest.FixtureRequest) -> Parties:
    cls = KEY_TYPES[request.param]
    # the reference holder stamps its KB-JWT with the wall clock, so ours must use it too
    return Parties(cls.generate(), cls.generate(), int(time.time()))


class _RefVerifier(SDJWTVerifier):  # type: ignore[misc]
    """The reference verifier, checking a KB-JWT with the algorithm of the holder's key.

    Stock 0.10.4 always passes ``alg="ES256"`` to jwcrypto for the KB-JWT
    (see :func:`test_reference_quirk_stock_verifier_rejects_eddsa_kb_jwt`); its own
    ``sign_alg`` parameter is used to pass the right one.
    """

    def _verify_key_binding_jwt(self, expected_aud: str | None = None,
                                expected_nonce: str | None = None,
                                sign_alg: str | None = None) -> None:
        cnf = self._holder_public_key_payload or {}
        kty = cnf.get("jwk", {}).get("kty") if isinstance(cnf, dict) else None
        alg = sign_alg or {"OKP": "EdDSA", "EC": "ES256"}.get(str(kty))
        super()._verify_key_binding_jwt(expected_aud, expected_nonce, alg)


def ref_issue(p: Parties, claims: Mapping[Any, Any], *, fmt: str = "compact",
              header: Mapping[str, Any] | None = None, decoys: bool = True) -> str:
    issuer = SDJWTIssuer(to_reference_marks({**p.registered, **claims}), p.ref_issuer,
                         p.ref_holder, sign_alg=p.alg, add_decoy_claims=decoys,
                         serialization_format=fmt,
                         extra_header_parameters=dict(header or {}))
    return str(issuer.sd_jwt_issuance)


def ref_present(p: Parties, issuance: str, selection: Mapping[str, Any], *,
                kb: bool = True, fmt: str = "compact") -> str:
    holder = SDJWTHolder(issuance, serialization_format=fmt)
    if kb:
        holder.create_presentation(copy.deepcopy(dict(selection)), NONCE, AUD,
                                   p.ref_holder, p.alg)
    else:
        holder.create_presentation(copy.deepcopy(dict(selection)))
    return str(holder.sd_jwt_presentation)


def ref_verify(p: Parties, presentation: str, *, kb: bool = True, fmt: str = "compact",
               headers_seen: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    def issuer_key(iss: str, header: dict[str, Any]) -> JWK:
        assert iss == ISS
        if headers_seen is not None:
            headers_seen.append(dict(header))
        return p.ref_issuer_public

    verifier = _RefVerifier(presentation, issuer_key, AUD if kb else None,
                            NONCE if kb else None, serialization_format=fmt)
    claims = verifier.get_verified_payload()
    assert isinstance(claims, dict)
    return claims


def ours_issue(p: Parties, claims: Mapping[Any, Any], **kwargs: Any) -> sdjwt.IssuedSdJwt:
    return sdjwt.issue({**p.registered, "cnf": p.cnf, **claims}, p.issuer, decoys=3, **kwargs)


def ours_present(p: Parties, token: SdJwt, selection: Mapping[str, Any]) -> SdJwt:
    return sdjwt.present(token, sdjwt.paths_from_selection(selection), holder_key=p.holder,
                         nonce=NONCE, aud=AUD, iat=int(time.time()))


def ours_verify(p: Parties, presentation: str | Mapping[str, Any] | SdJwt, *,
                kb: bool = True) -> sdjwt.Verified:
    token = presentation if isinstance(presentation, SdJwt) else sdjwt.parse(presentation)
    policy = KeyBindingPolicy(nonce=NONCE, aud=AUD) if kb else None
    return sdjwt.verify_sd_jwt(token, p.issuer_lookup, now=int(time.time()),
                               key_binding=policy)


def expected(p: Parties, user_claims: Mapping[str, Any]) -> dict[str, Any]:
    return {**p.registered, "cnf": p.cnf, **user_claims}


def rfc_json_to_reference(obj: Mapping[str, Any]) -> str:
    """Flattened JWS JSON as RFC 9901 §8.1 has it → the reference's layout (top level)."""
    out = {k: v for k, v in obj.items() if k != "header"}
    header = dict(obj.get("header", {}))
    out["disclosures"] = header.pop("disclosures", [])
    if "kb_jwt" in header:
        out["kb_jwt"] = header.pop("kb_jwt")
    if header:
        out["header"] = header
    return json.dumps(out)


def reference_json_to_rfc(text: str) -> dict[str, Any]:
    """The reference's JSON (disclosures at the top level) → RFC 9901 §8.1 layout."""
    obj = json.loads(text)
    header = dict(obj.pop("header", {}))
    header["disclosures"] = obj.pop("disclosures")
    if "kb_jwt" in obj:
        header["kb_jwt"] = obj.pop("kb_jwt")
    obj["header"] = header
    assert isinstance(obj, dict)
    return obj


def disclosure_named(token: SdJwt, name: str) -> str:
    (found,) = [d for d in token.disclosures if parse_disclosure(d).name == name]
    return found


# ---------------------------------------------------------------- 1/2: full issuance


@pytest.mark.parametrize("issuer_side", ["ours", "reference"])
def test_full_issuance_gives_the_same_claims(parties: Parties, issuer_side: str) -> None:
    """Holder view: every disclosure present, no KB; both verifiers rebuild the claims."""
    if issuer_side == "ours":
        issuance = ours_issue(parties, CLAIMS).compact()
    else:
        issuance = ref_issue(parties, CLAIMS)
    want = expected(parties, unmarked(CLAIMS))
    assert ref_verify(parties, issuance, kb=False) == want
    assert ours_verify(parties, issuance, kb=False).claims == want
    assert len(sdjwt.parse(issuance).disclosures) == count_marks(CLAIMS)  # one per mark


# ---------------------------------------------------------------- 1: ours → reference


@pytest.mark.parametrize("selection", sorted(SELECTIONS))
def test_our_presentation_verifies_with_reference(parties: Parties, selection: str) -> None:
    issued = ours_issue(parties, CLAIMS)
    presentation = ours_present(parties, issued.sd_jwt, SELECTIONS[selection])
    assert presentation.kb_jwt is not None
    ours = ours_verify(parties, presentation)
    reference = ref_verify(parties, presentation.compact())
    assert reference == ours.claims == expected(parties, EXPECTED[selection])


def test_our_vc_verifies_with_reference(parties: Parties) -> None:
    """An SD-JWT VC (``typ: dc+sd-jwt``, everything recursively disclosable, decoys)."""
    subject = {"given_name": "Zoë", "address": {"locality": "Gdańsk", "country": "PL"},
               "nationalities": ["PL", "FR"]}
    issued = issue_vc(issuer=ISS, kid=KID, key=parties.issuer, vct=VCT, claims=subject,
                      holder_jwk=parties.holder.public_key.to_jwk(), now=parties.now,
                      validity=86400)
    presentation = sdjwt.present(
        issued.sd_jwt, [("given_name",), ("address", "locality"), ("nationalities", 1)],
        holder_key=parties.holder, nonce=NONCE, aud=AUD, iat=int(time.time()))

    assert keys_named(presentation) == (IssuerKeyRef(ISS, KID, issued.payload["iat"]),)
    ours = verify_vc(presentation.compact(), keys={KID: parties.issuer.public_key},
                     now=int(time.time()), key_binding=KeyBindingPolicy(nonce=NONCE, aud=AUD))
    headers: list[dict[str, Any]] = []
    reference = ref_verify(parties, presentation.compact(), headers_seen=headers)
    assert reference == ours.claims
    assert ours.disclosed == {"given_name": "Zoë", "address": {"locality": "Gdańsk"},
                              "nationalities": ["FR"]}
    # the reference never checks the issuer JWT's typ, so dc+sd-jwt needs no configuring
    assert headers == [{"alg": parties.alg, "typ": VC_TYP, "kid": KID}]


def test_reference_holder_presents_our_credential(parties: Parties) -> None:
    issued = ours_issue(parties, CLAIMS)
    presentation = ref_present(parties, issued.compact(), SELECTIONS["some"])
    want = expected(parties, EXPECTED["some"])
    assert ours_verify(parties, presentation).claims == want
    assert ref_verify(parties, presentation) == want


# ---------------------------------------------------------------- 2: reference → ours


@pytest.mark.parametrize("selection", sorted(SELECTIONS))
def test_reference_presentation_verifies_with_ours(parties: Parties, selection: str) -> None:
    issuance = ref_issue(parties, CLAIMS, decoys=True)
    presentation = ref_present(parties, issuance, SELECTIONS[selection])
    ours = ours_verify(parties, presentation)
    reference = ref_verify(parties, presentation)
    assert ours.claims == reference == expected(parties, EXPECTED[selection])
    assert ours.kb_payload is not None
    assert (ours.kb_payload["nonce"], ours.kb_payload["aud"]) == (NONCE, AUD)


def test_reference_vc_verifies_with_ours(parties: Parties) -> None:
    subject = {"vct": VCT, SD("given_name"): "Zoë",
               SD("address"): {SD("locality"): "Gdańsk", SD("country"): "PL"}}
    issuance = ref_issue(parties, subject, header={"typ": VC_TYP, "kid": KID})
    presentation = ref_present(parties, issuance, {"address": {"locality": True}})

    assert keys_named(presentation) == (IssuerKeyRef(ISS, KID, parties.registered["iat"]),)
    ours = verify_vc(presentation, keys={KID: parties.issuer.public_key}, now=int(time.time()),
                     key_binding=KeyBindingPolicy(nonce=NONCE, aud=AUD))
    assert ours.claims == ref_verify(parties, presentation)
    assert ours.disclosed == {"address": {"locality": "Gdańsk"}}
    assert (ours.vct, ours.kid) == (VCT, KID)


def test_our_holder_presents_reference_credential(parties: Parties) -> None:
    issuance = ref_issue(parties, CLAIMS)
    presentation = ours_present(parties, sdjwt.parse(issuance), SELECTIONS["some"])
    want = expected(parties, EXPECTED["some"])
    assert ours_verify(parties, presentation).claims == want
    assert ref_verify(parties, presentation.compact()) == want


# ---------------------------------------------------------------- 3: negative interop


def test_disclosure_removed_after_kb_is_rejected(parties: Parties) -> None:
    presentation = sdjwt.parse(ref_present(parties, ref_issue(parties, CLAIMS),
                                           SELECTIONS["some"]))
    dropped = disclosure_named(presentation, "given_name")
    tampered = replace(presentation, disclosures=tuple(
        d for d in presentation.disclosures if d != dropped))
    with pytest.raises(SdJwtError) as caught:
        ours_verify(parties, tampered.compact())
    assert caught.value.code == "sdjwt.kb_sd_hash_mismatch"
    # the reference checks sd_hash for the compact serialization too
    with pytest.raises(ValueError, match="Invalid digest in KB-JWT"):
        ref_verify(parties, tampered.compact())


@pytest.mark.parametrize("kb", ["kept", "re-signed"])
def test_disclosure_swapped_from_another_credential_is_rejected(parties: Parties,
                                                                kb: str) -> None:
    """The holder's given_name disclosure is replaced by another credential's (same issuer,
    same holder); re-signing the KB-JWT over the result must not make it acceptable."""
    mine = sdjwt.parse(ref_present(parties, ref_issue(parties, CLAIMS), SELECTIONS["some"]))
    other_claims = {**CLAIMS}
    other_claims[next(k for k in CLAIMS if isinstance(k, SD) and k.value == "given_name")] = (
        "Mallory")
    other = sdjwt.parse(ref_issue(parties, other_claims))
    swapped = tuple(disclosure_named(other, "given_name")
                    if d == disclosure_named(mine, "given_name") else d
                    for d in mine.disclosures)
    tampered = replace(mine, disclosures=swapped)
    if kb == "re-signed":
        tampered = replace(tampered, kb_jwt=sdjwt.make_kb_jwt(
            tampered.without_kb(), parties.holder, nonce=NONCE, aud=AUD, iat=int(time.time())))
        # the new KB-JWT really covers the tampered presentation
        assert tampered.kb_jwt is not None
        kb_payload = json.loads(b64u_decode(tampered.kb_jwt.split(".")[1], what="KB-JWT"))
        assert kb_payload["sd_hash"] == sdjwt.digest(tampered.sd_part())
    with pytest.raises(SdJwtError) as caught:
        ours_verify(parties, tampered.compact())
    assert caught.value.code == "sdjwt.unreferenced_disclosure"


# ---------------------------------------------------------------- 4: JSON serialization


def test_json_ours_to_reference(parties: Parties) -> None:
    issued = ours_issue(parties, CLAIMS)
    presentation = ours_present(parties, issued.sd_jwt, SELECTIONS["some"])
    flattened = presentation.to_json()
    assert set(flattened) == {"payload", "protected", "signature", "header"}
    want = expected(parties, EXPECTED["some"])
    assert ours_verify(parties, flattened).claims == want
    assert ref_verify(parties, rfc_json_to_reference(flattened), fmt="json") == want


def test_json_reference_to_ours(parties: Parties) -> None:
    """Without KB: the reference's JSON-mode KB-JWT cannot verify (see the quirk test)."""
    issuance = ref_issue(parties, CLAIMS, fmt="json")
    presentation = ref_present(parties, issuance, SELECTIONS["some"], kb=False, fmt="json")
    raw = json.loads(presentation)
    assert "disclosures" in raw and "header" not in raw  # the reference's own layout
    want = expected(parties, EXPECTED["some"])
    assert ref_verify(parties, presentation, kb=False, fmt="json") == want
    assert ours_verify(parties, reference_json_to_rfc(presentation), kb=False).claims == want


# ---------------------------------------------------------------- reference quirks, pinned


def test_reference_quirk_stock_verifier_rejects_eddsa_kb_jwt() -> None:
    p = Parties(Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate(), int(time.time()))
    presentation = ref_present(p, ref_issue(p, CLAIMS), SELECTIONS["some"])
    with pytest.raises(InvalidJWSSignature, match='"alg" mismatch, requested "ES256"'):
        SDJWTVerifier(presentation, lambda _iss, _hdr: p.ref_issuer_public, AUD, NONCE)
    assert ours_verify(p, presentation).claims == expected(p, EXPECTED["some"])


def test_reference_quirk_json_kb_jwt_hashes_the_json_text(parties: Parties) -> None:
    """In JSON mode the reference holder's ``sd_hash`` covers the JSON issuance text (not the
    compact issuer JWT, RFC 9901 §8.1) and its verifier does not check ``sd_hash``; ours
    rejects such a KB-JWT."""
    issuance = ref_issue(parties, CLAIMS, fmt="json")
    presentation = ref_present(parties, issuance, SELECTIONS["some"], fmt="json")
    rfc = reference_json_to_rfc(presentation)
    kb_jwt = sdjwt.parse(rfc).kb_jwt
    assert kb_jwt is not None
    sd_hash = json.loads(b64u_decode(kb_jwt.split(".")[1], what="KB-JWT payload"))["sd_hash"]
    disclosures = rfc["header"]["disclosures"]
    assert sd_hash == sdjwt.digest("~".join([issuance, *disclosures, ""]))
    with pytest.raises(SdJwtError) as caught:
        ours_verify(parties, rfc)
    assert caught.value.code == "sdjwt.kb_sd_hash_mismatch"


def test_reference_quirk_accepts_unreferenced_disclosure(parties: Parties) -> None:
    """RFC 9901 §7.1 step 5: a disclosure no digest refers to makes the SD-JWT invalid."""
    presentation = sdjwt.parse(ref_issue(parties, CLAIMS))
    foreign = disclosure_named(sdjwt.parse(ref_issue(parties, CLAIMS)), "email")
    tampered = replace(presentation, disclosures=(*presentation.disclosures, foreign))
    assert ref_verify(parties, tampered.compact(), kb=False) == expected(
        parties, unmarked(CLAIMS))
    with pytest.raises(SdJwtError) as caught:
        ours_verify(parties, tampered, kb=False)
    assert caught.value.code == "sdjwt.unreferenced_disclosure"


def test_reference_quirk_ignores_expiry(parties: Parties) -> None:
    expired = {"iss": ISS, "iat": parties.now - 7200, "exp": parties.now - 3600}
    issuance = str(SDJWTIssuer(to_reference_marks({**expired, SD("a"): 1}), parties.ref_issuer,
                               parties.ref_holder, sign_alg=parties.alg).sd_jwt_issuance)
    assert ref_verify(parties, issuance, kb=False)["a"] == 1
    with pytest.raises(SdJwtError) as caught:
        ours_verify(parties, issuance, kb=False)
    assert caught.value.code == "sdjwt.expired"
