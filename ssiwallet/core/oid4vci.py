"""OpenID4VCI 1.0 messages as Keten uses them: pre-authorized code offers and key proofs.

Both ends use this module: the issuer builds offers and checks key proofs, the wallet parses
offers, checks the issuer's metadata and builds key proofs. Nothing here does I/O; time is a
parameter.

* **Offer** (§4.1): ``openid-credential-offer://?credential_offer=<JSON>`` carrying the
  issuer's URL, the offered configuration ids and the pre-authorized code grant with a
  ``tx_code`` description (the PIN reaches the citizen by another channel: the clerk's desk).
  ``credential_offer_uri`` is parsed too; the caller fetches it.
* **Key proof** (§F.1, ``jwt`` proof type): header ``typ: openid4vci-proof+jwt`` with the
  holder key as ``jwk`` or as a ``did:key`` ``kid``; payload ``aud`` (credential issuer
  identifier), ``iat``, ``nonce`` (a ``c_nonce``), and no ``iss`` (anonymous pre-authorized
  access). Each proof binds one copy of a batch to its own fresh key.
* **Metadata** (§12.2): the wallet reads only what it needs and checks that the issuer
  identifier in the document is the one it asked, byte for byte. The well-known URIs
  (§12.2.2 for the issuer, RFC 8414 §3.1 for its authorization server) are inserted between
  the host and the path of the identifier: ``https://issuer.example/tenant`` is described at
  ``https://issuer.example/.well-known/openid-credential-issuer/tenant``
  (:func:`well_known_url`).

Decisions:

* A key proof's ``iat`` must lie within 300 s before and 60 s after the issuer's clock,
  the same window as a KB-JWT; the ``c_nonce`` is what makes it fresh, the window bounds
  how long a leaked proof is worth anything.
* A private JWK in a proof header is refused: a wallet that leaks its key must not get a
  credential bound to it.
* A batch must not name the same holder key twice: every copy has its own key, or the copies
  would be linkable by ``cnf`` (DESIGN §3, unlinkability by batch issuance).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from ssiwallet.core import strictjson
from ssiwallet.core.didkey import public_key_from_did_key
from ssiwallet.core.jws import parse_compact, sign_compact, verify
from ssiwallet.core.keys import PrivateKey, PublicKey, jwk_thumbprint, public_key_from_jwk
from ssiwallet.errors import InputError, Oid4vciError, SsiError

__all__ = [
    "OFFER_SCHEME", "PRE_AUTH_GRANT", "PROOF_TYP", "CredentialOffer", "IssuerMetadata",
    "TxCode", "VerifiedProof", "authorization_server_metadata_url", "issuer_metadata_url",
    "make_proof", "parse_issuer_metadata", "parse_offer", "parse_offer_uri", "verify_proof",
    "verify_proofs", "well_known_url",
]

OFFER_SCHEME = "openid-credential-offer"
PRE_AUTH_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYP = "openid4vci-proof+jwt"
PROOF_PAST = 300
PROOF_FUTURE = 60
MAX_OFFER_CHARS = 16 * 1024
MAX_BATCH = 100
_CONFIG_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
ISSUER_WELL_KNOWN = "openid-credential-issuer"
AS_WELL_KNOWN = "oauth-authorization-server"


def _bad(detail: str, code: str = "oid4vci.invalid_offer") -> Oid4vciError:
    return Oid4vciError(detail, code=code)


def _http_url(value: object, what: str, code: str) -> str:
    """An absolute http(s) URL without fragment (https required except on loopback)."""
    if not isinstance(value, str) or len(value) > 2048:
        raise _bad(f"{what} must be a URL", code)
    try:
        parts = urlsplit(value)
        loopback = parts.hostname in {"127.0.0.1", "localhost", "::1"}
    except ValueError:  # e.g. a bracketed host that is no IPv6 address: "https://["
        raise _bad(f"{what} is not a URL (its host does not parse)", code) from None
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise _bad(f"{what} must be an https URL (http only on loopback)", code)
    if not parts.netloc or parts.fragment:
        raise _bad(f"{what} is not an absolute URL without fragment", code)
    return value


def well_known_url(identifier: str, suffix: str) -> str:
    """The URL of ``/.well-known/<suffix>`` for an issuer (or authorization server) id.

    The well-known segment goes between the host and the path, not after the path
    (OpenID4VCI 1.0 §12.2.2, RFC 8414 §3.1); a terminating ``/`` of the path is dropped
    first. An identifier without a path gets the plain ``/.well-known/<suffix>``.
    """
    try:
        parts = urlsplit(identifier)
    except ValueError:
        parts = urlsplit("")  # refused just below, like any other identifier without a host
    if not parts.scheme or not parts.netloc or parts.query or parts.fragment:
        raise _bad(f"{identifier[:80]!r} is not an identifier a well-known URI can be made "
                   "from (absolute, without query or fragment)", "oid4vci.invalid_metadata")
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}/.well-known/{suffix}{path}"


def issuer_metadata_url(credential_issuer: str) -> str:
    """Where the Credential Issuer Metadata of ``credential_issuer`` is (§12.2.2)."""
    return well_known_url(credential_issuer, ISSUER_WELL_KNOWN)


def authorization_server_metadata_url(issuer: str) -> str:
    """Where the OAuth authorization server metadata of ``issuer`` is (RFC 8414 §3.1)."""
    return well_known_url(issuer, AS_WELL_KNOWN)


@dataclass(frozen=True)
class TxCode:
    """How the wallet should ask for the transaction code (PIN)."""

    input_mode: str = "numeric"
    length: int | None = None
    description: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"input_mode": self.input_mode}
        if self.length is not None:
            out["length"] = self.length
        if self.description is not None:
            out["description"] = self.description
        return out

    def accepts(self, value: str) -> bool:
        """Whether ``value`` has the announced form (the wallet checks before sending)."""
        if self.length is not None and len(value) != self.length:
            return False
        return value.isdigit() if self.input_mode == "numeric" else bool(value)


@dataclass(frozen=True)
class CredentialOffer:
    """A pre-authorized code credential offer (§4.1.1)."""

    credential_issuer: str
    configuration_ids: tuple[str, ...]
    pre_authorized_code: str
    tx_code: TxCode | None

    def to_json(self) -> dict[str, Any]:
        grant: dict[str, Any] = {"pre-authorized_code": self.pre_authorized_code}
        if self.tx_code is not None:
            grant["tx_code"] = self.tx_code.to_json()
        return {"credential_issuer": self.credential_issuer,
                "credential_configuration_ids": list(self.configuration_ids),
                "grants": {PRE_AUTH_GRANT: grant}}

    def to_uri(self) -> str:
        """The ``openid-credential-offer://`` URI carrying the offer by value."""
        text = json.dumps(self.to_json(), separators=(",", ":"), ensure_ascii=False)
        return f"{OFFER_SCHEME}://?credential_offer={quote(text, safe='')}"


def _tx_code(value: object) -> TxCode | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _bad("tx_code must be an object")
    mode = value.get("input_mode", "numeric")
    length = value.get("length")
    description = value.get("description")
    if mode not in ("numeric", "text"):
        raise _bad("tx_code.input_mode must be numeric or text")
    if length is not None and (type(length) is not int or not 1 <= length <= 64):
        raise _bad("tx_code.length must be an integer from 1 to 64")
    if description is not None and (not isinstance(description, str)
                                    or len(description) > 300):
        raise _bad("tx_code.description must be a string of at most 300 characters")
    return TxCode(mode, length, description)


def parse_offer(obj: object) -> CredentialOffer:
    """Validate a credential offer object; only the pre-authorized code grant is usable.

    Raises:
        Oid4vciError: ``oid4vci.invalid_offer`` naming the first problem,
            ``oid4vci.unsupported_grant`` when the offer has no pre-authorized code.
    """
    if not isinstance(obj, dict):
        raise _bad("a credential offer is a JSON object")
    issuer = _http_url(obj.get("credential_issuer"), "credential_issuer",
                       "oid4vci.invalid_offer")
    ids = obj.get("credential_configuration_ids")
    if (not isinstance(ids, list) or not ids or len(ids) > 16
            or not all(isinstance(i, str) and _CONFIG_ID.fullmatch(i) for i in ids)
            or len(set(ids)) != len(ids)):
        raise _bad("credential_configuration_ids must be a non-empty list of unique ids")
    grants = obj.get("grants")
    grant = grants.get(PRE_AUTH_GRANT) if isinstance(grants, dict) else None
    if not isinstance(grant, dict):
        raise _bad("the offer has no pre-authorized code grant", "oid4vci.unsupported_grant")
    code = grant.get("pre-authorized_code")
    if not isinstance(code, str) or not 1 <= len(code) <= 512:
        raise _bad("pre-authorized_code must be a non-empty string")
    return CredentialOffer(issuer, tuple(ids), code, _tx_code(grant.get("tx_code")))


def parse_offer_uri(uri: str) -> CredentialOffer | str:
    """Parse an offer link: the offer itself, or the ``credential_offer_uri`` to fetch.

    Accepts ``openid-credential-offer://?…`` and an ``https`` link with the same query.

    Raises:
        Oid4vciError: ``oid4vci.invalid_offer``.
    """
    if not isinstance(uri, str) or len(uri) > MAX_OFFER_CHARS:
        raise _bad("an offer link must be a string of at most 16 KiB")
    try:
        parts = urlsplit(uri.strip())
    except ValueError:  # a bracketed host that is no IPv6 address
        raise _bad("the offer link does not parse") from None
    if parts.scheme not in (OFFER_SCHEME, "https", "http"):
        raise _bad(f"not an {OFFER_SCHEME}:// link")
    try:
        query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=True,
                         errors="strict")
    except (ValueError, UnicodeDecodeError):
        raise _bad("the offer link's query does not parse") from None
    if any(len(v) != 1 for v in query.values()):
        raise _bad("a query parameter appears more than once")
    by_value, by_reference = query.get("credential_offer"), query.get("credential_offer_uri")
    if (by_value is None) == (by_reference is None):
        raise _bad("exactly one of credential_offer and credential_offer_uri is required")
    if by_reference is not None:
        return _http_url(by_reference[0], "credential_offer_uri", "oid4vci.invalid_offer")
    try:
        obj = strictjson.loads(by_value[0] if by_value else "")
    except InputError as exc:
        raise _bad(f"credential_offer is not JSON: {exc.detail}") from None
    return parse_offer(obj)


def make_proof(holder_key: PrivateKey, *, aud: str, nonce: str | None, iat: int) -> str:
    """A key proof (``openid4vci-proof+jwt``) carrying the holder's public key as ``jwk``."""
    payload: dict[str, Any] = {"aud": aud, "iat": iat}
    if nonce is not None:
        payload["nonce"] = nonce
    header = {"typ": PROOF_TYP, "jwk": holder_key.public_key.to_jwk()}
    return sign_compact(header, payload, holder_key)


@dataclass(frozen=True)
class VerifiedProof:
    """What a checked key proof establishes: the holder controls ``jwk``."""

    jwk: dict[str, str]
    nonce: str | None
    thumbprint: str


def _holder_key(header: Mapping[str, Any]) -> tuple[PublicKey, dict[str, str]]:
    jwk, kid = header.get("jwk"), header.get("kid")
    if "x5c" in header or (jwk is None) == (kid is None):
        raise _bad("a key proof names its key by exactly one of jwk or kid (did:key)",
                   "oid4vci.invalid_proof")
    try:
        if jwk is not None:
            if isinstance(jwk, dict) and "d" in jwk:
                raise _bad("a key proof's jwk must not contain a private key",
                           "oid4vci.invalid_proof")
            key = public_key_from_jwk(jwk)
        elif isinstance(kid, str) and kid.startswith("did:key:"):
            key = public_key_from_did_key(kid)
        else:
            raise _bad("a key proof's kid must be a did:key DID URL", "oid4vci.invalid_proof")
    except Oid4vciError:
        raise
    except SsiError as exc:
        raise _bad(f"a key proof's key: {exc.detail}", "oid4vci.invalid_proof") from None
    return key, key.to_jwk()


def verify_proof(proof: object, *, aud: str, now: int,
                 algs: Sequence[str] = ("EdDSA", "ES256")) -> VerifiedProof:
    """Check one key proof: typ, key, signature, ``aud`` and ``iat``; return its key.

    The ``nonce`` is returned, not judged: whether a ``c_nonce`` is known and unused is the
    issuer's state, checked by the caller.

    Raises:
        Oid4vciError: ``oid4vci.invalid_proof`` (with the reason in the detail),
            ``oid4vci.missing_nonce`` when the proof carries no nonce.
    """
    try:
        jws = parse_compact(proof if isinstance(proof, str) else "", what="key proof")
        if jws.alg not in algs:
            raise _bad(f"key proof alg {jws.alg!r} is not one of {list(algs)}",
                       "oid4vci.invalid_proof")
        key, jwk = _holder_key(jws.header)
        verify(jws, key, typ=PROOF_TYP, what="key proof")
        payload = jws.payload_json("key proof payload")
    except Oid4vciError:
        raise
    except SsiError as exc:
        raise _bad(exc.detail, "oid4vci.invalid_proof") from None
    if payload.get("aud") != aud:
        raise _bad("key proof aud is not this credential issuer", "oid4vci.invalid_proof")
    if "iss" in payload:
        raise _bad("key proof carries iss, but access was anonymous", "oid4vci.invalid_proof")
    iat = payload.get("iat")
    if type(iat) is not int or not now - PROOF_PAST <= iat <= now + PROOF_FUTURE:
        raise _bad("key proof iat is missing or outside the accepted window",
                   "oid4vci.invalid_proof")
    nonce = payload.get("nonce")
    if nonce is None:
        raise _bad("key proof carries no c_nonce", "oid4vci.missing_nonce")
    if not isinstance(nonce, str):
        raise _bad("key proof nonce must be a string", "oid4vci.invalid_proof")
    return VerifiedProof(jwk, nonce, jwk_thumbprint(jwk))


def verify_proofs(proofs: object, *, aud: str, now: int, batch_size: int,
                  algs: Sequence[str] = ("EdDSA", "ES256")) -> list[VerifiedProof]:
    """Check a request's ``proofs`` object (``{"jwt": [...]}``) as one batch.

    Raises:
        Oid4vciError: ``oid4vci.invalid_proof`` for a missing or malformed ``proofs``, a
            batch larger than ``batch_size``, a repeated holder key, or any bad proof.
    """
    if not isinstance(proofs, dict) or set(proofs) != {"jwt"}:
        raise _bad("proofs must be an object with exactly the jwt proof type",
                   "oid4vci.invalid_proof")
    jwts = proofs["jwt"]
    if not isinstance(jwts, list) or not jwts:
        raise _bad("proofs.jwt must be a non-empty array", "oid4vci.invalid_proof")
    if len(jwts) > min(batch_size, MAX_BATCH):
        raise _bad(f"at most {batch_size} proofs per request", "oid4vci.invalid_proof")
    verified = [verify_proof(p, aud=aud, now=now, algs=algs) for p in jwts]
    if len({v.thumbprint for v in verified}) != len(verified):
        raise _bad("every copy needs its own holder key", "oid4vci.invalid_proof")
    return verified


@dataclass(frozen=True)
class IssuerMetadata:
    """The parts of the issuer metadata a wallet acts on."""

    credential_issuer: str
    credential_endpoint: str
    nonce_endpoint: str | None
    batch_size: int
    configurations: dict[str, dict[str, Any]]
    display: list[dict[str, Any]]

    def vct_of(self, config_id: str) -> str:
        """The ``vct`` of an SD-JWT VC configuration.

        Raises:
            Oid4vciError: ``oid4vci.unknown_configuration``.
        """
        conf = self.configurations.get(config_id)
        if conf is None or conf.get("format") != "dc+sd-jwt" or not isinstance(
                conf.get("vct"), str):
            raise _bad(f"the issuer offers no dc+sd-jwt configuration {config_id!r}",
                       "oid4vci.unknown_configuration")
        return str(conf["vct"])


def parse_issuer_metadata(obj: object, *, expected_issuer: str) -> IssuerMetadata:
    """Validate ``/.well-known/openid-credential-issuer`` as fetched for ``expected_issuer``.

    Raises:
        Oid4vciError: ``oid4vci.invalid_metadata``; ``oid4vci.issuer_mismatch`` when the
            document names another issuer (§12.2.2: it must then not be used).
    """
    code = "oid4vci.invalid_metadata"
    if not isinstance(obj, dict):
        raise _bad("issuer metadata is a JSON object", code)
    if obj.get("credential_issuer") != expected_issuer:
        raise _bad("issuer metadata names another credential issuer",
                   "oid4vci.issuer_mismatch")
    endpoint = _http_url(obj.get("credential_endpoint"), "credential_endpoint", code)
    nonce = obj.get("nonce_endpoint")
    nonce_endpoint = None if nonce is None else _http_url(nonce, "nonce_endpoint", code)
    batch = obj.get("batch_credential_issuance")
    size: object = 1
    if batch is not None:
        size = batch.get("batch_size") if isinstance(batch, dict) else None
        if type(size) is not int or size < 2:
            raise _bad("batch_credential_issuance.batch_size must be an integer >= 2", code)
    assert isinstance(size, int)
    configs = obj.get("credential_configurations_supported")
    if not isinstance(configs, dict) or not configs or not all(
            isinstance(v, dict) for v in configs.values()):
        raise _bad("credential_configurations_supported must be a non-empty object", code)
    display = obj.get("display", [])
    if not isinstance(display, list):
        raise _bad("display must be an array", code)
    return IssuerMetadata(expected_issuer, endpoint, nonce_endpoint, size, dict(configs),
                          [d for d in display if isinstance(d, dict)])
