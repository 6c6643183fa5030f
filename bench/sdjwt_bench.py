"""SD-JWT VC issuance and verification: ours, the PyPI ``sd-jwt`` reference, the raw bound.

Workload (as in the foundation issue): a credential with 10 subject claims, all
selectively disclosable, Ed25519 issuer and holder keys; verification of a presentation
disclosing 3 of them with a KB-JWT. The raw bound performs only the cryptography the
work cannot avoid: the same number of PyNaCl signature operations and SHA-256 hashes,
with no encoding or parsing at all.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import nacl.signing
from jwcrypto.jwk import JWK
from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer
from sd_jwt.verifier import SDJWTVerifier

from bench.harness import Row, ops_per_second
from ssiwallet.core import sdjwt
from ssiwallet.core.b64 import b64u_decode, b64u_encode
from ssiwallet.core.keys import Ed25519PrivateKey
from ssiwallet.core.vc import issue_vc, verify_vc

NOW = 1_767_225_600
CLAIMS = {f"claim_{i}": f"value number {i}" for i in range(10)}
DISCLOSED = ("claim_1", "claim_4", "claim_7")
NONCE, AUD = "n-0S6_WzA2Mj", "decentralized_identifier:did:keten:verifier"


class _ReferenceVerifier(SDJWTVerifier):  # type: ignore[misc]
    """The reference verifies KB-JWTs as ES256 only; let it verify our EdDSA holder keys
    so that both sides do exactly the same cryptography."""

    def _verify_key_binding_jwt(self, expected_aud: Any = None, expected_nonce: Any = None,
                                sign_alg: Any = None) -> Any:
        return super()._verify_key_binding_jwt(expected_aud, expected_nonce, "EdDSA")


def _jwk(key: Ed25519PrivateKey) -> JWK:
    return JWK(**{**key.to_private_jwk(), "alg": "EdDSA"})


def run() -> list[Row]:
    issuer, holder = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    issuer_jwk, holder_jwk = _jwk(issuer), _jwk(holder)
    issuer_public = JWK(**issuer.public_key.to_jwk())

    def ours_issue() -> Any:
        return issue_vc(issuer="did:keten:issuer", kid="did:keten:issuer#key-1", key=issuer,
                        vct="urn:keten:vct:diploma:1", claims=CLAIMS,
                        holder_jwk=holder.public_key.to_jwk(), now=NOW, decoys=0)

    def ref_issue() -> Any:
        claims: dict[Any, Any] = {"iss": "did:keten:issuer", "iat": NOW,
                                  "vct": "urn:keten:vct:diploma:1"}
        claims.update({SDObj(k): v for k, v in CLAIMS.items()})
        return SDJWTIssuer(claims, issuer_jwk, holder_jwk, sign_alg="EdDSA")

    issued = ours_issue()
    shown = sdjwt.present(issued.sd_jwt, [(c,) for c in DISCLOSED], holder_key=holder,
                          nonce=NONCE, aud=AUD, iat=NOW).compact()
    policy = sdjwt.KeyBindingPolicy(nonce=NONCE, aud=AUD, max_age=10**9)

    def ours_verify() -> Any:
        return verify_vc(shown, keys={"did:keten:issuer#key-1": issuer.public_key}, now=NOW,
                         key_binding=policy)

    ref_holder = SDJWTHolder(ref_issue().sd_jwt_issuance)
    ref_holder.create_presentation({c: True for c in DISCLOSED}, NONCE, AUD, holder_jwk,
                                   "EdDSA")
    ref_shown = ref_holder.sd_jwt_presentation

    def ref_verify() -> Any:
        return _ReferenceVerifier(ref_shown, lambda iss, header: issuer_public, AUD,
                             NONCE).get_verified_payload()

    assert ours_verify().disclosed == {c: CLAIMS[c] for c in DISCLOSED}
    assert {c: ref_verify()[c] for c in DISCLOSED} == {c: CLAIMS[c] for c in DISCLOSED}

    # The bound: identical sizes of signed bytes and hashed strings, nothing else.
    issuer_jwt, *disclosures, kb_jwt = shown.split("~")
    signing_key = nacl.signing.SigningKey(issuer.seed)
    issuer_msg = issuer_jwt.rsplit(".", 1)[0].encode()
    all_disclosures = [d.encode() for d in issued.sd_jwt.disclosures]
    issuer_signed = signing_key.sign(issuer_msg)
    kb_msg = kb_jwt.rsplit(".", 1)[0].encode()
    kb_signed = nacl.signing.SigningKey(holder.seed).sign(kb_msg)
    verify_key = nacl.signing.VerifyKey(issuer.public_key.raw)
    holder_verify_key = nacl.signing.VerifyKey(holder.public_key.raw)
    shown_disclosures = [d.encode() for d in disclosures if d]
    sd_part = shown.rsplit("~", 1)[0].encode() + b"~"

    def bound_issue() -> None:
        for d in all_disclosures:
            hashlib.sha256(d).digest()
        signing_key.sign(issuer_msg)

    def bound_verify() -> None:
        verify_key.verify(issuer_signed)
        for d in shown_disclosures:
            hashlib.sha256(d).digest()
        hashlib.sha256(sd_part).digest()
        holder_verify_key.verify(kb_signed)

    def decode_floor_verify() -> None:
        """The bound plus the bare decoding any verifier must do (base64url and JSON of
        every part, digest lookups), with none of the checks: a realistic floor."""
        bound_verify()
        jwt, *parts, kb = shown.split("~")
        protected, body, sig = jwt.split(".")
        json.loads(b64u_decode(protected))
        payload = json.loads(b64u_decode(body))
        b64u_decode(sig)
        digests = set(payload["_sd"])
        for d in parts:
            if d:
                json.loads(b64u_decode(d))
                assert b64u_encode(hashlib.sha256(d.encode()).digest()) in digests
        kb_protected, kb_body, kb_sig = kb.split(".")
        json.loads(b64u_decode(kb_protected))
        json.loads(b64u_decode(kb_body))
        b64u_decode(kb_sig)
        b64u_decode(payload["cnf"]["jwk"]["x"])

    ours_i, ref_i, bound_i, ours_v, ref_v, bound_v, floor_v = ops_per_second(
        [ours_issue, ref_issue, bound_issue, ours_verify, ref_verify, bound_verify,
         decode_floor_verify])
    return [
        Row("SD-JWT VC issuance (10 claims)", ours_i, "sd-jwt 0.10.4 (PyPI reference)",
            ref_i, goal=3.0),
        Row("SD-JWT VC issuance (10 claims)", ours_i,
            "raw bound: 1 Ed25519 sign + 10 SHA-256", bound_i),
        Row("verification (3 of 10 disclosed, KB-JWT)", ours_v,
            "sd-jwt 0.10.4 (PyPI reference)", ref_v, goal=3.0),
        Row("verification (3 of 10 disclosed, KB-JWT)", ours_v,
            "raw bound: 2 Ed25519 verify + 4 SHA-256", bound_v, goal=0.7),
        Row("verification (3 of 10 disclosed, KB-JWT)", ours_v,
            "raw bound + bare base64url/JSON decoding, no checks", floor_v),
    ]
