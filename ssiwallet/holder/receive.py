"""Receiving credentials: the wallet side of OpenID4VCI 1.0 (pre-authorized code flow).

Every step checks what comes back before going on: the issuer metadata must name the
issuer the offer named; the token endpoint comes from the issuer's own authorization server
metadata; each copy must be a valid SD-JWT VC signed by a key its ``iss`` held on the
registry on the day of issuance, bound (``cnf.jwk``) to the fresh key made for that copy, of
the offered ``vct``, and carry a status reference on the registry. One bad copy refuses the
whole response: an issuer that sends something else than was asked is not trusted with the
rest.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from registry.client.client import ClientError, RegistryClient
from ssiwallet.core import strictjson
from ssiwallet.core.keys import Ed25519PrivateKey, PublicKey
from ssiwallet.core.oid4vci import (
    PRE_AUTH_GRANT,
    CredentialOffer,
    IssuerMetadata,
    authorization_server_metadata_url,
    issuer_metadata_url,
    make_proof,
    parse_issuer_metadata,
    parse_offer,
    parse_offer_uri,
)
from ssiwallet.core.vc import VerifiedVc, keys_named, verify_vc
from ssiwallet.errors import Oid4vciError, SsiError
from ssiwallet.infra.clock import Clock, system_clock
from ssiwallet.infra.http import (
    AddressRefusedError,
    Client,
    HttpError,
    Response,
    TooLargeError,
    as_http,
)

__all__ = ["ReceivedCopy", "ReceivedCredential", "fetch_offer", "receive"]

MAX_RESPONSE = 4 << 20
"""Largest issuer answer read (a credential response with a batch of copies)."""
TIMEOUT = 30.0
DEFAULT_COPIES = 10
"""The wallet's :class:`~ssiwallet.infra.http.Http` (or an aiohttp session to send through)."""


@dataclass(frozen=True)
class ReceivedCopy:
    """One bound copy: the credential as issued and the holder key it is bound to."""

    credential: str
    holder_key: Ed25519PrivateKey = field(repr=False)
    verified: VerifiedVc = field(repr=False)


@dataclass(frozen=True)
class ReceivedCredential:
    """What one offer yielded: N copies of the same claims, each with its own key."""

    issuer_url: str
    configuration_id: str
    vct: str
    issuer_display: list[dict[str, Any]]
    credential_display: list[dict[str, Any]]
    accredited: bool
    copies: tuple[ReceivedCopy, ...]

    @property
    def claims(self) -> dict[str, Any]:
        """The subject claims (identical in every copy)."""
        return self.copies[0].verified.disclosed


def _err(detail: str, code: str) -> Oid4vciError:
    return Oid4vciError(detail, code=code)


def _read_json(resp: Response, what: str) -> dict[str, Any]:
    try:
        obj = strictjson.loads_object(resp.body, what=what, max_bytes=MAX_RESPONSE)
    except SsiError:
        raise _err(f"{what}: HTTP {resp.status} without a JSON object",
                   "oid4vci.bad_response") from None
    if resp.status >= 400:
        error = str(obj.get("error", "error"))[:64]
        detail = str(obj.get("error_description", obj.get("detail", "")))[:300]
        raise _err(f"{what} refused: {error}: {detail}", f"oid4vci.{_code(error)}")
    return obj


def _code(error: str) -> str:
    return "".join(c for c in error.lower() if c.isalnum() or c == "_") or "refused"



async def _call(client: Client, method: str, url: str, what: str, *,
                form: Mapping[str, str] | None = None, json_body: object = None,
                headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """One request to the issuer: its JSON object answer, or an ``oid4vci.*`` error."""
    body: bytes | None = None
    sent = dict(headers or {})
    if form is not None:
        body = urlencode(form).encode("ascii")
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    elif json_body is not None:
        body = json.dumps(json_body, separators=(",", ":")).encode("utf-8")
        sent["Content-Type"] = "application/json"
    try:
        resp = await as_http(client).request(method, url, body=body, headers=sent,
                                           max_bytes=MAX_RESPONSE, timeout=TIMEOUT)
    except TooLargeError:
        raise _err(f"{what} is larger than {MAX_RESPONSE} bytes",
                   "oid4vci.bad_response") from None
    except AddressRefusedError:
        raise
    except HttpError as exc:
        raise _err(f"{what}: {url} cannot be reached ({exc.detail})",
                   "oid4vci.unreachable") from None
    return _read_json(resp, what)


async def fetch_offer(uri: str, session: Client) -> CredentialOffer:
    """Parse an offer link, fetching ``credential_offer_uri`` when the offer is by reference."""
    parsed = parse_offer_uri(uri)
    if isinstance(parsed, CredentialOffer):
        return parsed
    return parse_offer(await _call(session, "GET", parsed, "credential offer"))


async def _token_endpoint(session: Client, issuer: str) -> str:
    meta = await _call(session, "GET", authorization_server_metadata_url(issuer),
                       "authorization server metadata")
    endpoint = meta.get("token_endpoint")
    if meta.get("issuer") != issuer or not isinstance(endpoint, str) or not endpoint.startswith(
            issuer + "/"):
        raise _err("the authorization server metadata is not the issuer's own",
                   "oid4vci.invalid_metadata")
    return endpoint


def _check_copy(token: str, key: Ed25519PrivateKey, vct: str,
                issuer_keys: Mapping[str, PublicKey], now: int, status_prefix: str
                ) -> VerifiedVc:
    vc = verify_vc(token, keys=issuer_keys, now=now, key_binding=None, expect_kb=False)
    cnf = vc.claims.get("cnf")
    if not isinstance(cnf, dict) or cnf.get("jwk") != key.public_key.to_jwk():
        raise _err("a copy is not bound to the key made for it", "oid4vci.wrong_binding")
    if vc.vct != vct:
        raise _err(f"a copy is of type {vc.vct!r}, not the offered {vct!r}",
                   "oid4vci.wrong_type")
    if vc.status is None:
        raise _err("a copy has no status reference", "oid4vci.no_status")
    if not vc.status.uri.startswith(status_prefix):
        raise _err(f"a copy's status list is not on the wallet's registry "
                   f"({vc.status.uri[:100]!r}): no verifier could check it",
                   "oid4vci.status_not_on_registry")
    return vc


async def receive(offer: CredentialOffer, *, tx_code: str | None,
                  session: Client, registry: RegistryClient,
                  copies: int = DEFAULT_COPIES,
                  clock: Clock = system_clock,
                  config_id: str | None = None) -> ReceivedCredential:
    """Redeem a pre-authorized code offer and verify every copy against the registry.

    Args:
        offer: the parsed offer (see :func:`fetch_offer`).
        tx_code: the PIN the citizen got by another channel (required if the offer says so).
        session: the wallet's HTTP client (an aiohttp session is wrapped as it is).
        registry: a client of the registry the wallet trusts.
        copies: how many bound copies to ask for (capped by the issuer's batch size).
        clock: the wallet's clock.
        config_id: which offered configuration to fetch (default: the first).

    Raises:
        Oid4vciError: ``oid4vci.*`` naming the step that failed (``oid4vci.invalid_grant``
            for a wrong PIN, …); core and registry errors for copies that do not verify.
    """
    chosen = config_id or offer.configuration_ids[0]
    if chosen not in offer.configuration_ids:
        raise _err(f"{chosen!r} was not offered", "oid4vci.unknown_configuration")
    if offer.tx_code is not None and (tx_code is None or not offer.tx_code.accepts(tx_code)):
        raise _err("this offer needs the PIN given at the desk", "oid4vci.tx_code_required")
    issuer = offer.credential_issuer
    metadata: IssuerMetadata = parse_issuer_metadata(
        await _call(session, "GET", issuer_metadata_url(issuer), "issuer metadata"),
        expected_issuer=issuer)
    vct = metadata.vct_of(chosen)
    form: dict[str, str] = {"grant_type": PRE_AUTH_GRANT,
                            "pre-authorized_code": offer.pre_authorized_code}
    if offer.tx_code is not None and tx_code is not None:
        form["tx_code"] = tx_code
    token = await _call(session, "POST", await _token_endpoint(session, issuer), "token",
                        form=form)
    access = token.get("access_token")
    if not isinstance(access, str) or str(token.get("token_type", "")).lower() != "bearer":
        raise _err("the token response has no Bearer access token", "oid4vci.bad_response")
    nonce = None
    if metadata.nonce_endpoint is not None:
        answer = await _call(session, "POST", metadata.nonce_endpoint, "nonce")
        nonce = answer.get("c_nonce")
        if not isinstance(nonce, str):
            raise _err("the nonce response has no c_nonce", "oid4vci.bad_response")
    keys = [Ed25519PrivateKey.generate() for _ in range(max(1, min(copies,
                                                                   metadata.batch_size)))]
    now = clock()
    request = {"credential_configuration_id": chosen,
               "proofs": {"jwt": [make_proof(k, aud=issuer, nonce=nonce, iat=now)
                                  for k in keys]}}
    answer = await _call(session, "POST", metadata.credential_endpoint, "credential",
                         json_body=request, headers={"Authorization": f"Bearer {access}"})
    received = answer.get("credentials")
    if not isinstance(received, list) or not 1 <= len(received) <= len(keys) or not all(
            isinstance(c, dict) and isinstance(c.get("credential"), str) for c in received):
        raise _err("the credential response has no credentials array",
                   "oid4vci.bad_response")
    return await _verify_all(received, keys, metadata, chosen, vct, registry, now)


async def _verify_all(received: list[dict[str, Any]], keys: list[Ed25519PrivateKey],
                      metadata: IssuerMetadata, chosen: str, vct: str,
                      registry: RegistryClient, now: int) -> ReceivedCredential:
    out = []
    for item, key in zip(received, keys, strict=False):
        token = str(item["credential"])
        issuer_keys = await registry.issuer_keys(keys_named(token))
        out.append(ReceivedCopy(token, key, _check_copy(token, key, vct, issuer_keys, now,
                                                        f"{registry.base_url}/status/")))
    first = out[0].verified
    if any(c.verified.iss != first.iss or c.verified.disclosed != first.disclosed for c in out):
        raise _err("the copies do not carry the same issuer and claims",
                   "oid4vci.inconsistent_copies")
    try:
        accredited = await registry.accredited_on_day(first.iss, vct, first.iat)
    except ClientError:
        accredited = False
    conf: Mapping[str, Any] = metadata.configurations[chosen]
    cred_meta = conf.get("credential_metadata")
    display = cred_meta.get("display", []) if isinstance(cred_meta, dict) else []
    return ReceivedCredential(metadata.credential_issuer, chosen, vct, metadata.display,
                              [d for d in display if isinstance(d, dict)], accredited,
                              tuple(out))
