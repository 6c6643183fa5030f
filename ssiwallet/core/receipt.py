"""The response leg of OpenID4VP at Keten: the direct_post form and the verifier's signed receipt.

Everything that crosses ``response_uri`` lives here. The wallet posts :func:`build_response`
(or :func:`build_error_response` when the citizen declines). The verifier reads it with
:func:`parse_response` / :func:`parse_error_response`, verifies the presentations, and
answers with JSON (:func:`build_post_answer`). The answer carries a receipt
(:func:`build_receipt`) stating what it received, why, and for how long it keeps it. The
wallet checks the receipt (:func:`parse_post_answer`, :func:`parse_receipt`,
:func:`verify_receipt`) and keeps it in its disclosure history. Pure, like
:mod:`ssiwallet.core.oid4vp`, whose validators it shares.

Decisions:
- direct_post form: a field given twice is refused (RFC 6749 §3.1). Unknown fields are
  ignored (§8.1), at most 16 fields. ``state`` is required. ``vp_token`` is a JSON object
  keyed by credential query id (DCQL id syntax, at most 32 ids). Each value is a list of 1 to
  16 non-empty strings: ``dc+sd-jwt`` presentations are strings, and object-shaped
  presentations of other formats are refused. The field is at most 512 KiB. ``{}`` is
  accepted (all-optional credential sets, §8.1); the DCQL checks decide the rest.
- Error form: ``error`` and ``error_description`` use the RFC 6749 character sets (at most 64
  and 500 characters), and ``state`` is required. A form with both ``error`` and ``vp_token``
  is refused. The builder writes only codes that OpenID4VP (§8.5) and RFC 6749 define, and no
  default description (§14.5: say nothing that could reveal data). The parser accepts any
  well-formed code, since the registry of codes is open.
- The verifier's answer (§8.2) is a JSON object. The receipt goes in ``keten_receipt``, a
  collision-resistant name as §8.2 allows for extra members. ``redirect_uri`` is optional
  (https, or http to loopback). Unknown members are ignored (§8.2). An error response gets no
  receipt, since nothing was received.
- Receipt: a JWS with ``typ: keten-receipt+jwt``, signed by the verifier's registered key
  (``kid`` is a DID URL of ``iss``), at most 64 KiB.
- No ``aud``: the wallet has no identifier, and a hash of the nonce would add nothing to the
  ``nonce`` already inside. Instead ``vp_token_hash`` (base64url SHA-256 of the exact
  ``vp_token`` form value) binds the receipt to what the wallet sent, without repeating a
  single claim value.
- ``received``: one entry per credential, with ``vct``, ``issuer`` (a did:keten DID) and
  ``claims`` (DCQL claims path pointers). Paths only, no values: the wallet already has the
  values, and a signed document repeating personal data would be one more copy to guard.
- ``purpose`` is ``{nl, en}``, as in the registry registration (1 to 200 characters, no
  control characters), so the wallet can compare the two.
- ``retention`` is an integer number of seconds (0 = deleted when the session ends), up to
  100 years. Seconds are exact and comparable; ISO 8601 durations are not (months vary).
- ``result`` is ``accepted`` or ``rejected``. ``jti`` is caller randomness (the builder
  requires at least 22 URL-safe characters). Unknown members are ignored (JWT practice, so
  the format can grow); known members are required and typed.
- Verification checks the signature with the key the registry gives for ``kid``. ``iss`` must
  be the request's verifier, and ``nonce``, ``state`` and ``vp_token_hash`` the session's.
  ``iat`` may be at most ``leeway`` in the future and at most ``max_age`` (300 s) old. To
  re-check a stored receipt later, pass ``now=receipt.iat``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ssiwallet.core import jws as jose
from ssiwallet.core import strictjson
from ssiwallet.core.b64 import b64u_encode
from ssiwallet.core.claimpath import ClaimPath
from ssiwallet.core.keys import PrivateKey, PublicKey
from ssiwallet.core.oid4vp import (
    MIN_RANDOM_CHARS,
    check_http_url,
    check_kid,
    check_url_safe,
    fail,
    is_keten_did,
    numeric_date,
    parse_keten_jwt,
    show,
)
from ssiwallet.errors import DcqlError

RECEIPT_TYP = "keten-receipt+jwt"
ANSWER_MEMBER = "keten_receipt"
RESULTS = ("accepted", "rejected")
MAX_VP_TOKEN_CHARS = 1 << 19
MAX_CREDENTIAL_IDS = 32
MAX_PRESENTATIONS = 16
MAX_FORM_FIELDS = 16
MAX_RECEIVED = 16
MAX_CLAIMS = 64
MAX_RETENTION = 100 * 366 * 86400
WALLET_ERRORS = frozenset({
    "access_denied", "invalid_request", "invalid_client", "invalid_scope",
    "vp_formats_not_supported", "invalid_request_uri_method", "invalid_transaction_data",
    "wallet_unavailable", "unauthorized_client", "unsupported_response_type", "server_error",
    "temporarily_unavailable",
})

_QUERY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_ERROR_CODE = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]{1,64}")  # RFC 6749 NQSCHAR
_ERROR_TEXT = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]{1,500}")
_DIGEST = re.compile(r"[A-Za-z0-9_-]{43}")
_VCT = re.compile(r"[\x21-\x7e]{1,256}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass(frozen=True)
class ErrorResponse:
    """A wallet's error answer (e.g. ``access_denied`` when the citizen declines)."""

    error: str
    description: str | None
    state: str


def _form_fields(form: object) -> dict[str, str]:
    """The form as a dict; refuses repeats (a multidict shows them in ``items()``)."""
    if not isinstance(form, Mapping):
        raise fail("bad_response", "response must be a form")
    pairs = list(form.items())
    if len(pairs) > MAX_FORM_FIELDS:
        raise fail("bad_response", f"response has more than {MAX_FORM_FIELDS} fields")
    fields: dict[str, str] = {}
    for name, value in pairs:
        if not isinstance(name, str) or not isinstance(value, str) or name in fields:
            raise fail("bad_response", f"response field {show(name)} is repeated or not text")
        fields[name] = value
    return fields


def _check_vp_token(value: object) -> dict[str, list[str]]:
    if not isinstance(value, dict) or len(value) > MAX_CREDENTIAL_IDS:
        raise fail("bad_response", f"vp_token must be a JSON object of at most "
                                   f"{MAX_CREDENTIAL_IDS} credential query ids")
    out: dict[str, list[str]] = {}
    for qid, items in value.items():
        if not isinstance(qid, str) or not _QUERY_ID.fullmatch(qid):
            raise fail("bad_response", f"vp_token key {show(qid)} is not a credential query id")
        if not isinstance(items, list | tuple) or not 0 < len(items) <= MAX_PRESENTATIONS \
                or not all(isinstance(p, str) and p for p in items):
            raise fail("bad_response", f"vp_token[{qid!r}] must be 1 to {MAX_PRESENTATIONS} "
                                       "non-empty strings")
        out[qid] = list(items)
    return out


def build_response(vp_token: Mapping[str, Sequence[str]], state: str) -> dict[str, str]:
    """The direct_post form fields: ``vp_token`` as JSON text and ``state``."""
    text = strictjson.dumps(_check_vp_token(dict(vp_token)))
    if len(text) > MAX_VP_TOKEN_CHARS:
        raise fail("too_large", f"vp_token is larger than {MAX_VP_TOKEN_CHARS} characters")
    return {"vp_token": text, "state": check_url_safe(state, what="state", reason="bad_state")}


def parse_response(form: Mapping[str, str]) -> tuple[dict[str, list[str]], str]:
    """Validate a direct_post form; return ``(vp_token, state)``.

    Only the shape is checked here. Whether the ids and presentations answer the query is for
    :func:`ssiwallet.core.dcql_match.check_presented`, after verification.

    Raises:
        Oid4vpError: ``oid4vp.bad_response``, ``oid4vp.too_large``; ``json.*`` for bad JSON.
    """
    fields = _form_fields(form)
    if "error" in fields:
        raise fail("bad_response", "an error response is read with parse_error_response")
    raw = fields.get("vp_token")
    if raw is None:
        raise fail("bad_response", "response has no vp_token")
    if len(raw) > MAX_VP_TOKEN_CHARS:
        raise fail("too_large", f"vp_token is larger than {MAX_VP_TOKEN_CHARS} characters")
    vp_token = _check_vp_token(strictjson.loads(raw, max_bytes=MAX_VP_TOKEN_CHARS))
    return vp_token, check_url_safe(fields.get("state"), what="state", reason="bad_response")


def is_error_response(form: Mapping[str, str]) -> bool:
    """Whether a direct_post form is an error response (it has an ``error`` field)."""
    return isinstance(form, Mapping) and "error" in form


def build_error_response(*, error: str, state: str,
                         description: str | None = None) -> dict[str, str]:
    """The form a wallet posts instead of a vp_token, e.g. ``access_denied`` on refusal."""
    if error not in WALLET_ERRORS:
        raise fail("bad_response", f"unknown error code {show(error)}")
    form = {"error": error, "state": check_url_safe(state, what="state", reason="bad_state")}
    if description is not None:
        form["error_description"] = description
    parse_error_response(form)
    return form


def parse_error_response(form: Mapping[str, str]) -> ErrorResponse:
    """Validate an error form (``error``, optional ``error_description``, ``state``)."""
    fields = _form_fields(form)
    if "vp_token" in fields:
        raise fail("bad_response", "response carries both error and vp_token")
    error = fields.get("error")
    if error is None or not _ERROR_CODE.fullmatch(error):
        raise fail("bad_response", f"error must be an RFC 6749 error code, got {show(error)}")
    description = fields.get("error_description")
    if description is not None and not _ERROR_TEXT.fullmatch(description):
        raise fail("bad_response", "error_description must be 1 to 500 printable ASCII "
                                   "characters without quote or backslash")
    state = check_url_safe(fields.get("state"), what="state", reason="bad_response")
    return ErrorResponse(error=error, description=description, state=state)


def vp_token_digest(vp_token: str) -> str:
    """base64url SHA-256 of the exact ``vp_token`` form value: what a receipt is bound to."""
    return b64u_encode(hashlib.sha256(vp_token.encode("utf-8", "surrogatepass")).digest())


@dataclass(frozen=True)
class Purpose:
    """Why the verifier asked, in Dutch and English, as registered on the registry."""

    nl: str
    en: str


@dataclass(frozen=True)
class ReceivedCredential:
    """One credential the verifier received: its type, its issuer, and which claims."""

    vct: str
    issuer: str
    claims: tuple[ClaimPath, ...]

    def to_json(self) -> dict[str, Any]:
        return {"vct": self.vct, "issuer": self.issuer, "claims": [list(p) for p in self.claims]}


@dataclass(frozen=True)
class Receipt:
    """A parsed receipt; trust it only after :func:`verify_receipt`."""

    verifier: str
    kid: str
    iat: int
    jti: str
    nonce: str
    state: str
    vp_token_hash: str
    received: tuple[ReceivedCredential, ...]
    purpose: Purpose
    retention: int
    result: str
    jws: jose.Jws = field(hash=False, repr=False, compare=False)

    @property
    def accepted(self) -> bool:
        return self.result == "accepted"


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 200 or _CONTROL.search(value):
        raise fail("bad_receipt", f"{what} must be 1 to 200 characters without control chars")
    return value


def _purpose(value: object) -> Purpose:
    if not isinstance(value, dict) or set(value) != {"nl", "en"}:
        raise fail("bad_receipt", "purpose must be an object with exactly nl and en")
    return Purpose(nl=_text(value["nl"], "purpose.nl"), en=_text(value["en"], "purpose.en"))


def _received_one(entry: object, n: int) -> ReceivedCredential:
    where = f"received[{n}]"
    if not isinstance(entry, dict):
        raise fail("bad_receipt", f"{where} must be an object")
    vct, issuer, claims = entry.get("vct"), entry.get("issuer"), entry.get("claims")
    if not isinstance(vct, str) or not _VCT.fullmatch(vct):
        raise fail("bad_receipt", f"{where}.vct must be 1 to 256 printable ASCII characters")
    if not is_keten_did(issuer):
        raise fail("bad_receipt", f"{where}.issuer must be a did:keten DID")
    if not isinstance(claims, list) or not 0 < len(claims) <= MAX_CLAIMS:
        raise fail("bad_receipt", f"{where}.claims must be a list of 1 to {MAX_CLAIMS} paths")
    try:
        paths = tuple(ClaimPath.parse(path, where=f"{where}.claims") for path in claims)
    except DcqlError as exc:
        raise fail("bad_receipt", exc.detail) from None
    return ReceivedCredential(vct=vct, issuer=str(issuer), claims=paths)


def _received(value: object) -> tuple[ReceivedCredential, ...]:
    if not isinstance(value, list) or len(value) > MAX_RECEIVED:
        raise fail("bad_receipt", f"received must be a list of at most {MAX_RECEIVED} entries")
    return tuple(_received_one(entry, n) for n, entry in enumerate(value))


def build_receipt(*, verifier: str, kid: str, key: PrivateKey, nonce: str, state: str,
                  vp_token: str, received: Sequence[ReceivedCredential],
                  purpose: Mapping[str, str] | Purpose, retention: int, result: str, now: int,
                  jti: str) -> str:
    """Sign the verifier's receipt for one direct_post response.

    Args:
        verifier: the verifier's did:keten DID; ``kid`` names its current registered key.
        nonce: the request's nonce. ``state``: the request's state.
        vp_token: the ``vp_token`` form value exactly as received.
        received: what was received (paths only, never values).
        purpose: the registered purpose ``{nl, en}``.
        retention: how long the verifier keeps what it received, in seconds.
        result: ``accepted`` or ``rejected``.
        now: the ``iat``. ``jti``: fresh randomness (at least 22 URL-safe characters).
    """
    if not is_keten_did(verifier):
        raise fail("bad_receipt", f"receipt iss must be a did:keten DID, got {show(verifier)}")
    check_kid(kid, verifier, what="receipt")
    check_url_safe(jti, what="jti", reason="bad_receipt", min_chars=MIN_RANDOM_CHARS)
    if isinstance(purpose, Purpose):
        purpose = {"nl": purpose.nl, "en": purpose.en}
    payload = {
        "iss": verifier, "iat": now, "jti": jti, "nonce": nonce, "state": state,
        "vp_token_hash": vp_token_digest(vp_token),
        "received": [r.to_json() for r in received], "purpose": dict(purpose),
        "retention": retention, "result": result,
    }
    try:
        token = jose.sign_compact({"typ": RECEIPT_TYP, "kid": kid}, payload, key)
    except (TypeError, ValueError) as exc:
        raise fail("bad_receipt", f"receipt is not JSON: {exc}") from None
    parse_receipt(token)
    return token


def parse_receipt(jwt: object) -> Receipt:
    """Parse a receipt and check every field, without verifying its signature.

    Raises:
        Oid4vpError: ``oid4vp.bad_receipt``, ``oid4vp.bad_kid``, ``oid4vp.kid_not_client``,
            ``oid4vp.too_large``; ``jose.*`` and ``json.*`` from the layers below.
    """
    parsed, payload = parse_keten_jwt(jwt, typ=RECEIPT_TYP, what="receipt")
    iss = payload.get("iss")
    if not is_keten_did(iss):
        raise fail("bad_receipt", f"receipt iss must be a did:keten DID, got {show(iss)}")
    verifier = str(iss)
    retention = payload.get("retention")
    if type(retention) is not int or not 0 <= retention <= MAX_RETENTION:
        raise fail("bad_receipt", f"retention must be 0 to {MAX_RETENTION} seconds")
    result = payload.get("result")
    if result not in RESULTS:
        raise fail("bad_receipt", f"result must be one of {RESULTS}, got {show(result)}")
    digest = payload.get("vp_token_hash")
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise fail("bad_receipt", "vp_token_hash must be a base64url SHA-256 digest")
    return Receipt(
        verifier=verifier, kid=check_kid(parsed.header.get("kid"), verifier, what="receipt"),
        iat=numeric_date(payload, "iat", reason="bad_receipt", what="receipt"),
        jti=check_url_safe(payload.get("jti"), what="jti", reason="bad_receipt"),
        nonce=check_url_safe(payload.get("nonce"), what="nonce", reason="bad_receipt"),
        state=check_url_safe(payload.get("state"), what="state", reason="bad_receipt"),
        vp_token_hash=digest, received=_received(payload.get("received")),
        purpose=_purpose(payload.get("purpose")), retention=retention, result=str(result),
        jws=parsed)


def verify_receipt(receipt: Receipt, key: PublicKey, *, verifier: str, nonce: str, state: str,
                   vp_token: str, now: int, max_age: int = 300, leeway: int = 60) -> Receipt:
    """Verify a receipt against the session it answers.

    Args:
        receipt: from :func:`parse_receipt`.
        key: the key the registry gives for ``receipt.kid``.
        verifier: the DID of the request object's verifier.
        nonce: the request's nonce. ``state``: the request's state.
        vp_token: the ``vp_token`` form value the wallet posted.
        now: the current time; ``max_age`` and ``leeway`` bound ``iat`` around it.

    Raises:
        JoseError: ``jose.bad_signature``, ``jose.alg_key_mismatch``.
        Oid4vpError: ``oid4vp.receipt_mismatch``, ``oid4vp.receipt_from_future``,
            ``oid4vp.stale_receipt``.
    """
    jose.verify(receipt.jws, key, typ=RECEIPT_TYP, what="receipt")
    expected = {"iss": (receipt.verifier, verifier), "nonce": (receipt.nonce, nonce),
                "state": (receipt.state, state),
                "vp_token_hash": (receipt.vp_token_hash, vp_token_digest(vp_token))}
    for name, (got, want) in expected.items():
        if got != want:
            raise fail("receipt_mismatch", f"receipt {name} does not match this presentation")
    if receipt.iat > now + leeway:
        raise fail("receipt_from_future", "receipt is issued in the future")
    if receipt.iat + max_age < now - leeway:
        raise fail("stale_receipt", f"receipt is older than {max_age} s")
    return receipt


@dataclass(frozen=True)
class PostAnswer:
    """The verifier's JSON answer to a direct_post: a receipt and/or a redirect."""

    receipt: str | None
    redirect_uri: str | None


def build_post_answer(*, receipt: str | None, redirect_uri: str | None = None) -> dict[str, str]:
    """The JSON object a Keten response endpoint returns with status 200."""
    answer: dict[str, str] = {}
    if receipt is not None:
        answer[ANSWER_MEMBER] = receipt
    if redirect_uri is not None:
        answer["redirect_uri"] = check_http_url(redirect_uri, what="redirect_uri",
                                                reason="bad_answer", fragment=True)
    return answer


def parse_post_answer(body: str | bytes) -> PostAnswer:
    """Read the verifier's answer; the receipt inside is still to be parsed and verified.

    Raises:
        Oid4vpError: ``oid4vp.bad_answer``; ``json.*`` for text that is not strict JSON.
    """
    answer = strictjson.loads_object(body, what="response endpoint answer")
    receipt = answer.get(ANSWER_MEMBER)
    if receipt is not None and not isinstance(receipt, str):
        raise fail("bad_answer", f"{ANSWER_MEMBER} must be a string")
    redirect = answer.get("redirect_uri")
    if redirect is not None:
        redirect = check_http_url(redirect, what="redirect_uri", reason="bad_answer",
                                  fragment=True)
    return PostAnswer(receipt=receipt, redirect_uri=redirect)
