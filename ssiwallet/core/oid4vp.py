"""OpenID4VP 1.0 messages as Keten uses them: request object, invocation URI, direct_post form.

Pure: no HTTP, no storage, no clock. ``now`` and the random values (nonce, state) come from
the caller. Each builder runs its own parser on what it built, so a verifier cannot send
something a wallet would refuse.

The flow (cross-device, §3.2): the verifier shows ``openid4vp://?client_id=…&request_uri=…``
(:func:`build_request_uri`). The wallet reads it (:func:`parse_request_uri`), GETs the signed
request object and parses it (:func:`parse_request_object`). It then resolves ``kid`` on the
registry and checks signature and lifetime (:func:`verify_request_object`), and asks the
citizen. What happens at ``response_uri`` (the direct_post form, the error form, and the
verifier's signed receipt) is in :mod:`ssiwallet.core.receipt`, which shares the validators
defined here.

JOSE, JSON and DCQL failures keep their own codes (``jose.*``, ``json.*``, ``dcql.*``), as in
the SD-JWT and status-list layers: ``alg: none`` is ``jose.alg_not_allowed`` wherever it
appears. Failures of this layer are :class:`~ssiwallet.errors.Oid4vpError` ``oid4vp.*``.

Decisions:
- Client identifier: only ``decentralized_identifier:did:keten:…``. Trust in a Keten verifier
  comes from its registry registration, and only a did:keten DID has one. A well-formed
  client_id of another §5.9.3 prefix (``redirect_uri:``, which cannot sign a request;
  ``x509_san_dns:``/``x509_hash:``; a DID of another method; a pre-registered name …) is
  ``oid4vp.unsupported_client_id_prefix`` with the reason; a malformed one is
  ``oid4vp.bad_client_id``. The client_id is judged before the shape of the request, so a
  request from a client the wallet cannot trust is refused for that reason.
- ``kid`` must be ``<that DID>#key-N`` (``oid4vp.bad_kid``; another DID's key is
  ``oid4vp.kid_not_client``). The caller resolves the key on the registry. ``jwk``/``jku``/
  ``x5u``/``x5c`` headers are refused. The did:keten syntax is repeated here rather than
  imported, because the core must not import ``registry`` (which imports the core). A test
  keeps both copies in agreement.
- Signed request objects by reference only. ``request`` by value is refused
  (``oid4vp.request_by_value``). It would make QR codes large, and it would add an unsigned
  path. An unsigned request cannot exist with this client-id prefix (§5.9.3); request
  parameters put in the link itself are ``oid4vp.unsigned_request``.
- ``typ`` must be ``oauth-authz-req+jwt`` already at parse (§5: MUST NOT process otherwise) and
  again at verify. A request object is at most 64 KiB.
- Request payload: ``aud`` is exactly ``https://self-issued.me/v2`` (static discovery, §5.8).
  ``iss`` is ignored (§5). ``redirect_uri`` next to ``direct_post`` is refused (§8.2).
  ``scope`` is refused (Keten requests use ``dcql_query`` only). ``transaction_data`` is
  refused (unsupported, so §5 says MUST reject). Other unknown parameters are ignored (§5).
- ``state`` is required: the response endpoint finds its session by ``state``. Nonce and state
  use the §5.2 alphabet, 1 to 256 characters. The builder requires at least 22 characters
  (128 bits in base64url).
- ``iat`` and ``exp`` are required integers with ``0 < exp - iat <= 3600``. The verifier
  signs when the wallet fetches, so an hour is ample, and a captured QR code goes stale.
  Verification allows ``leeway`` (60 s) on both ends.
- ``response_uri`` (and ``request_uri``): lowercase ``https://``, or ``http://`` to
  127.0.0.1, localhost or ::1 only (development and tests). No userinfo, no fragment, no
  spaces or control characters, at most 2048 characters. The ``redirect_uri`` a response
  endpoint answers with follows the same rules but may have a fragment (§8.2). A refusal
  names the rule broken. ``response_uri`` is not tied to the
  origin of ``request_uri``: it sits inside the object the registered key signed.
- ``client_metadata``: the builder sends ``vp_formats_supported`` for ``dc+sd-jwt`` with the
  algorithms the verifier accepts (``EdDSA``, ``Ed25519``, ``ES256``; §5.1 requires it when
  there is no other means). The parser requires an object there. ``jwks`` is never used to
  verify anything (§5.1).
- No ``purpose`` in the request. The wallet shows the purpose from the verifier's registry
  registration, which a steward approved. A purpose in the request would be the verifier's
  own unchecked word. ``extra`` may add parameters but not redefine the ones above.
- Invocation URI: ``openid4vp://?…`` (also ``openid4vp:?…``, the §12.1.2 endpoint
  ``openid4vp:``). The scheme is case-insensitive (QR alphanumeric mode uppercases).
  ``haip-vp://`` is refused: it promises HAIP (x509 client ids, encrypted responses), which
  Keten does not implement. The parameters are exactly ``client_id`` and ``request_uri``,
  each once, plus an optional ``request_uri_method`` of ``get`` or ``post``. Both are fetched
  with GET, as §5.1 allows a wallet without POST support. Any other parameter is refused,
  although §5.10 would merely ignore it: outside the signed object it can only mislead a
  UI. At most 4096 characters.
- ``parse_request_object(expected_client_id=…)`` enforces §5.10.1: the URI's ``client_id``
  equals the request object's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from ssiwallet.core import jws as jose
from ssiwallet.core.dcql import DcqlQuery, parse_query
from ssiwallet.core.keys import PrivateKey, PublicKey
from ssiwallet.errors import JoseError, Oid4vpError

REQUEST_TYP = "oauth-authz-req+jwt"
CLIENT_ID_PREFIX = "decentralized_identifier:"
SELF_ISSUED_AUD = "https://self-issued.me/v2"
RESPONSE_TYPE = "vp_token"
RESPONSE_MODE = "direct_post"
URI_SCHEME = "openid4vp"
MAX_REQUEST_LIFETIME = 3600
MIN_RANDOM_CHARS = 22
MAX_JWT_CHARS = 1 << 16
MAX_URI_CHARS = 4096
MAX_URL_CHARS = 2048

_DID = re.compile(r"did:keten:[1-9A-HJ-NP-Za-km-z]{16,24}")
_KID = re.compile(r"(did:keten:[1-9A-HJ-NP-Za-km-z]{16,24})#key-[1-9][0-9]{0,5}")
_URL_SAFE = re.compile(r"[A-Za-z0-9._~-]{1,256}")
_UNSAFE_URL_CHAR = re.compile(r"[\x00-\x20\x7f\\]")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_URI_PARAMS = frozenset({"client_id", "request_uri", "request_uri_method"})
_RESERVED = frozenset({
    "client_id", "response_type", "response_mode", "response_uri", "nonce", "state",
    "dcql_query", "aud", "iat", "exp", "iss", "redirect_uri", "scope", "transaction_data",
    "request", "request_uri",
})


def default_client_metadata() -> dict[str, Any]:
    """What a Keten verifier accepts: SD-JWT VCs and KB-JWTs signed with EdDSA or ES256."""
    algs = sorted(jose.ALLOWED_ALGS)
    return {"vp_formats_supported": {"dc+sd-jwt": {"sd-jwt_alg_values": algs,
                                                   "kb-jwt_alg_values": list(algs)}}}


def fail(reason: str, detail: str) -> Oid4vpError:
    """An :class:`Oid4vpError` with code ``oid4vp.<reason>``."""
    return Oid4vpError(detail, code=f"oid4vp.{reason}")


def show(value: object) -> str:
    """A short repr of untrusted input for an error detail (never the whole of it)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_url_safe(value: object, *, what: str, reason: str, min_chars: int = 1) -> str:
    """A nonce/state-like value: §5.2's URL-safe alphabet, ``min_chars`` to 256 characters."""
    if not isinstance(value, str) or not _URL_SAFE.fullmatch(value) or len(value) < min_chars:
        raise fail(reason, f"{what} must be {min_chars} to 256 characters of A-Z a-z 0-9 . _ ~ -"
                           f", got {show(value)}")
    return value


def numeric_date(payload: Mapping[str, Any], name: str, *, reason: str, what: str) -> int:
    """A required JWT NumericDate as a JSON integer (never a float, bool or string)."""
    value = payload.get(name)
    if type(value) is not int or not 0 <= value < 1 << 53:
        raise fail(reason, f"{what} {name} must be a non-negative integer, got {show(value)}")
    return value


def is_keten_did(value: object) -> bool:
    """Whether ``value`` is a syntactically valid did:keten DID."""
    return isinstance(value, str) and _DID.fullmatch(value) is not None


def verifier_did(client_id: object) -> str:
    """The did:keten DID named by a ``decentralized_identifier:`` client_id."""
    if isinstance(client_id, str) and client_id.startswith(CLIENT_ID_PREFIX):
        did = client_id[len(CLIENT_ID_PREFIX):]
        if is_keten_did(did):
            return did
    raise fail("bad_client_id", f"client_id must be {CLIENT_ID_PREFIX}did:keten:..., "
                                f"got {show(client_id)}")


def client_id_for(did: str) -> str:
    """The client_id of a Keten verifier, which is also the ``aud`` of its KB-JWTs."""
    client_id = CLIENT_ID_PREFIX + did
    verifier_did(client_id)
    return client_id


def check_kid(kid: object, did: str, *, what: str) -> str:
    """``kid`` must be a key of ``did`` (``did:keten:…#key-N``), not of some other DID."""
    match = _KID.fullmatch(kid) if isinstance(kid, str) else None
    if match is None:
        raise fail("bad_kid", f"{what} kid must be a did:keten key id, got {show(kid)}")
    if match.group(1) != did:
        raise fail("kid_not_client", f"{what} is signed by a key of {match.group(1)}, not {did}")
    return match.group(0)


def check_http_url(value: object, *, what: str, reason: str, fragment: bool = False) -> str:
    """An ``https`` URL, or ``http`` to a loopback host; no userinfo or oddities.

    A query is allowed. A fragment only with ``fragment=True``: a ``redirect_uri`` from a
    response endpoint may carry its fresh value there (§8.2, whose own example is
    ``…/cb#response_code=…``); a ``request_uri`` or ``response_uri`` may not. Each refusal
    says what is wrong with the URL.
    """
    def bad(why: str) -> Oid4vpError:
        return fail(reason, f"{what} {why}, got {show(value)}")

    if not isinstance(value, str):
        raise bad("must be a string")
    if not 0 < len(value) <= MAX_URL_CHARS:
        raise bad(f"must be 1 to {MAX_URL_CHARS} characters")
    if not value.isascii() or _UNSAFE_URL_CHAR.search(value):
        raise bad("has characters a URL may not contain (non-ASCII, space, control or \\)")
    if "#" in value and not fragment:
        raise bad("must not have a fragment (#…)")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise bad("is not a well-formed URL (bad host or port)") from None
    if parts.scheme not in ("https", "http") or not value.startswith(parts.scheme + "://"):
        raise bad("must be an https URL (http only to a loopback host)")
    if not parts.hostname:
        raise bad("has no host")
    if "@" in parts.netloc:
        raise bad("must not carry user information (…@host)")
    if port == 0:
        raise bad("must not name port 0")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise bad("must use https (http only to 127.0.0.1, localhost or ::1)")
    return value


def parse_keten_jwt(token: object, *, typ: str, what: str) -> tuple[jose.Jws, dict[str, Any]]:
    """Parse a compact JWS of ``typ`` whose key comes from the registry (not yet verified)."""
    if not isinstance(token, str) or len(token) > MAX_JWT_CHARS:
        raise fail("too_large", f"{what} must be a string of at most {MAX_JWT_CHARS} chars")
    parsed = jose.parse_compact(token, what=what)
    jose.refuse_header_keys(parsed, what=what)
    actual = parsed.header.get("typ")
    if not isinstance(actual, str) or jose.normalize_typ(actual) != typ:
        raise JoseError(f"{what} typ {show(actual)} is not {typ!r}", code="jose.wrong_typ")
    return parsed, parsed.payload_json(what=f"{what} payload")


@dataclass(frozen=True)
class RequestObject:
    """A parsed request object; trust it only after :func:`verify_request_object`.

    ``payload`` keeps every parameter as sent (read-only), for extensions this module ignores.
    """

    client_id: str
    verifier: str
    kid: str
    response_uri: str
    nonce: str
    state: str
    dcql_query: DcqlQuery
    iat: int
    exp: int
    client_metadata: Mapping[str, Any] | None = field(hash=False)
    payload: Mapping[str, Any] = field(hash=False, repr=False)
    jws: jose.Jws = field(hash=False, repr=False, compare=False)


def build_request_object(*, client_id: str, nonce: str, state: str, dcql_query: Mapping[str, Any],
                         response_uri: str, now: int, lifetime: int, key: PrivateKey, kid: str,
                         extra: Mapping[str, Any] | None = None) -> str:
    """Sign a request object for one presentation session.

    Args:
        client_id: ``decentralized_identifier:did:keten:…`` of the verifier.
        nonce: fresh randomness for the KB-JWT (at least 22 URL-safe characters).
        state: fresh randomness naming the session at ``response_uri`` (idem).
        dcql_query: the DCQL query as JSON.
        response_uri: where the wallet posts the response.
        now: the ``iat``; ``exp`` is ``now + lifetime`` (1 to 3600 s).
        key: the verifier's current registered key; ``kid`` names it.
        extra: further parameters (e.g. ``client_metadata``); may not redefine core ones.
    """
    did = verifier_did(client_id)
    check_kid(kid, did, what="request object")
    check_url_safe(nonce, what="nonce", reason="bad_nonce", min_chars=MIN_RANDOM_CHARS)
    check_url_safe(state, what="state", reason="bad_state", min_chars=MIN_RANDOM_CHARS)
    if type(now) is not int or type(lifetime) is not int \
            or not 0 < lifetime <= MAX_REQUEST_LIFETIME:
        raise fail("bad_request_object", f"now must be an integer and lifetime 1 to "
                                         f"{MAX_REQUEST_LIFETIME} s")
    clash = sorted(_RESERVED.intersection(extra or {}))
    if clash:
        raise fail("bad_request_object", f"extra parameters may not redefine {clash}")
    payload: dict[str, Any] = {
        "client_id": client_id, "response_type": RESPONSE_TYPE, "response_mode": RESPONSE_MODE,
        "response_uri": response_uri, "nonce": nonce, "state": state,
        "dcql_query": dict(dcql_query), "client_metadata": default_client_metadata(),
        "aud": SELF_ISSUED_AUD, "iat": now, "exp": now + lifetime,
        **(extra or {}),
    }
    try:
        token = jose.sign_compact({"typ": REQUEST_TYP, "kid": kid}, payload, key)
    except (TypeError, ValueError) as exc:
        raise fail("bad_request_object", f"request object is not JSON: {exc}") from None
    parse_request_object(token)
    return token


def parse_request_object(jwt: object, *, expected_client_id: str | None = None) -> RequestObject:
    """Parse and check every field of a request object, without verifying its signature.

    Args:
        jwt: the body fetched from ``request_uri``.
        expected_client_id: the ``client_id`` of the invocation URI, which must be identical.

    Raises:
        Oid4vpError: ``oid4vp.*`` for this profile's rules; ``jose.*``, ``json.*``,
            ``dcql.*`` from the layers below.
    """
    parsed, payload = parse_keten_jwt(jwt, typ=REQUEST_TYP, what="request object")
    client_id = payload.get("client_id")
    did = check_client_id(client_id)
    if expected_client_id is not None and client_id != expected_client_id:
        raise fail("client_id_mismatch", "request object client_id differs from the URI's")
    kid = check_kid(parsed.header.get("kid"), did, what="request object")
    if payload.get("response_type") != RESPONSE_TYPE:
        raise fail("unsupported_response_type", f"response_type must be {RESPONSE_TYPE!r}, "
                                                f"got {show(payload.get('response_type'))}")
    if payload.get("response_mode") != RESPONSE_MODE:
        raise fail("unsupported_response_mode", f"response_mode must be {RESPONSE_MODE!r}, "
                                                f"got {show(payload.get('response_mode'))}")
    if "transaction_data" in payload:
        raise fail("unsupported_transaction_data", "transaction_data is not supported")
    for name in ("redirect_uri", "scope"):
        if name in payload:
            raise fail("bad_request_object", f"{name} is not allowed in a Keten request")
    if payload.get("aud") != SELF_ISSUED_AUD:
        raise fail("bad_request_object", f"aud must be {SELF_ISSUED_AUD!r}")
    iat = numeric_date(payload, "iat", reason="bad_request_object", what="request object")
    exp = numeric_date(payload, "exp", reason="bad_request_object", what="request object")
    if not 0 < exp - iat <= MAX_REQUEST_LIFETIME:
        raise fail("bad_request_object", f"exp - iat must be 1 to {MAX_REQUEST_LIFETIME} s")
    if "dcql_query" not in payload:
        raise fail("bad_request_object", "request object has no dcql_query")
    metadata = payload.get("client_metadata")
    if metadata is not None and (not isinstance(metadata, dict) or not isinstance(
            metadata.get("vp_formats_supported", {}), dict)):
        raise fail("bad_request_object", "client_metadata (and its vp_formats_supported) "
                                         "must be a JSON object")
    return RequestObject(
        client_id=CLIENT_ID_PREFIX + did, verifier=did, kid=kid,
        response_uri=check_http_url(payload.get("response_uri"), what="response_uri",
                                    reason="bad_response_uri"),
        nonce=check_url_safe(payload.get("nonce"), what="nonce", reason="bad_nonce"),
        state=check_url_safe(payload.get("state"), what="state", reason="bad_state"),
        dcql_query=parse_query(payload["dcql_query"]), iat=iat, exp=exp,
        client_metadata=None if metadata is None else MappingProxyType(metadata),
        payload=MappingProxyType(payload), jws=parsed)


def verify_request_object(obj: RequestObject, key: PublicKey, *, now: int,
                          leeway: int = 60) -> RequestObject:
    """Verify the signature with the key the registry gives for ``obj.kid``, then the lifetime.

    Raises:
        JoseError: ``jose.bad_signature``, ``jose.alg_key_mismatch``, ``jose.wrong_typ``.
        Oid4vpError: ``oid4vp.request_not_yet_valid``, ``oid4vp.expired_request``.
    """
    jose.verify(obj.jws, key, typ=REQUEST_TYP, what="request object")
    if now + leeway < obj.iat:
        raise fail("request_not_yet_valid", "request object is issued in the future")
    if now - leeway >= obj.exp:
        raise fail("expired_request", "request object has expired")
    return obj


def build_request_uri(*, client_id: str, request_uri: str) -> str:
    """The ``openid4vp://`` URI (link or QR code) that makes a wallet fetch ``request_uri``."""
    verifier_did(client_id)
    check_http_url(request_uri, what="request_uri", reason="bad_uri")
    uri = (f"{URI_SCHEME}://?client_id={quote(client_id, safe='')}"
           f"&request_uri={quote(request_uri, safe='')}")
    parse_request_uri(uri)
    return uri


_KNOWN_PREFIXES = {
    "redirect_uri": "a redirect_uri: verifier cannot sign its request (§5.9.3), and this "
                    "wallet presents only to signed requests of a registered verifier",
    "x509_san_dns": "X.509 certificate verifiers are not supported (HAIP is not implemented)",
    "x509_hash": "X.509 certificate verifiers are not supported (HAIP is not implemented)",
    "verifier_attestation": "verifier attestations are not supported",
    "openid_federation": "OpenID Federation verifiers are not supported",
    "origin": "the origin: prefix is for the Digital Credentials API only",
}
_UNSIGNED_PARAMS = frozenset({"response_type", "response_mode", "response_uri", "redirect_uri",
                              "nonce", "dcql_query", "scope", "state", "client_metadata"})


def check_client_id(client_id: object) -> str:
    """The verifier DID of a client_id, or an error that says what kind of client it is.

    ``oid4vp.unsupported_client_id_prefix`` for a well-formed client_id of a Client
    Identifier Prefix of §5.9.3 that Keten does not accept (``redirect_uri:``, ``x509_*:``,
    a DID of another method, a pre-registered name …); ``oid4vp.bad_client_id`` for one
    that is malformed.
    """
    if isinstance(client_id, str) and client_id:
        prefix, colon, rest = client_id.partition(":")
        if prefix in _KNOWN_PREFIXES and rest:
            raise fail("unsupported_client_id_prefix",
                       f"client_id prefix {prefix}: is not supported: {_KNOWN_PREFIXES[prefix]}; "
                       f"got {show(client_id)}")
        if prefix + colon == CLIENT_ID_PREFIX and rest.startswith("did:") \
                and not rest.startswith("did:keten:") and len(rest.split(":")) >= 3:
            raise fail("unsupported_client_id_prefix",
                       f"only did:keten verifiers are supported (their keys and registration "
                       f"are on the registry), got {show(client_id)}")
        if not colon and _URL_SAFE.fullmatch(client_id):
            raise fail("unsupported_client_id_prefix",
                       f"pre-registered client_id {show(client_id)} is not supported: a Keten "
                       f"verifier is named {CLIENT_ID_PREFIX}did:keten:…")
    return verifier_did(client_id)


def parse_request_uri(uri: object) -> tuple[str, str]:
    """Read an invocation URI; return ``(client_id, request_uri)``.

    Raises:
        Oid4vpError: ``oid4vp.bad_uri``, ``oid4vp.too_large``, ``oid4vp.request_by_value``
            (a signed request object in ``request``), ``oid4vp.unsigned_request`` (the
            request parameters themselves in the URI), ``oid4vp.bad_client_id``,
            ``oid4vp.unsupported_client_id_prefix``.
    """
    if not isinstance(uri, str) or len(uri) > MAX_URI_CHARS:
        raise fail("too_large", f"request URI must be a string of at most {MAX_URI_CHARS} chars")
    if not uri.isascii() or _UNSAFE_URL_CHAR.search(uri):
        raise fail("bad_uri", "request URI has characters a URI may not contain (non-ASCII, "
                              "space, control or \\)")
    if "#" in uri:
        raise fail("bad_uri", "request URI must not have a fragment (#…)")
    scheme, _, rest = uri.partition(":")
    if scheme.lower() != URI_SCHEME:
        why = " (HAIP is not supported)" if scheme.lower() == "haip-vp" else ""
        raise fail("bad_uri", f"request URI scheme must be {URI_SCHEME}:{why}, "
                              f"got {show(scheme)}")
    query = rest[3:] if rest.startswith("//?") else rest[1:] if rest.startswith("?") else None
    if query is None:
        raise fail("bad_uri", f"request URI must be {URI_SCHEME}://?client_id=…&request_uri=…")
    try:  # the length is bounded above; the number of parameters is checked below
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True,
                          encoding="utf-8", errors="strict")
    except ValueError as exc:
        why = "a parameter without '='" if "bad query field" in str(exc) else \
            "a parameter that is not percent-encoded UTF-8"
        raise fail("bad_uri", f"request URI query has {why}") from None
    params = dict(pairs)
    if len(params) != len(pairs):
        twice = sorted({k for k, _ in pairs if sum(1 for n, _ in pairs if n == k) > 1})
        raise fail("bad_uri", f"request URI repeats {[show(t) for t in twice]}")
    if "client_id" not in params:
        raise fail("bad_uri", "request URI has no client_id")
    # Who the verifier is decides first: a client this wallet cannot trust is refused for
    # that reason, whatever shape its request has.
    check_client_id(params["client_id"])
    if "request" in params:
        raise fail("request_by_value", "request objects are accepted by reference only "
                                       "(request_uri), not by value (request)")
    if "request_uri" not in params and _UNSIGNED_PARAMS & params.keys():
        raise fail("unsigned_request", "the request parameters are in the URI itself, "
                                       "unsigned; only a signed request object fetched from "
                                       "request_uri is accepted")
    unknown = sorted(params.keys() - _URI_PARAMS)
    if unknown or "request_uri" not in params:
        raise fail("bad_uri", "request URI must carry exactly client_id and request_uri"
                              + (f", not {[show(u) for u in unknown]}" if unknown else ""))
    if params.get("request_uri_method", "get") not in ("get", "post"):
        raise fail("bad_uri", "request_uri_method must be get or post")
    request_uri = check_http_url(params["request_uri"], what="request_uri", reason="bad_uri")
    return params["client_id"], request_uri
