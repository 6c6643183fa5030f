"""Presenting credentials: the wallet side of OpenID4VP 1.0 (DCQL, ``direct_post``).

Two steps, so that a person can decide in between:

1. :func:`prepare` reads the ``openid4vp://`` link, fetches the signed request object,
   verifies it with the key the registry holds for the verifier today, reads the verifier's
   registration (name, purpose, the claims it may ask for), and matches the DCQL query
   against the wallet's credentials. The :class:`Plan` says exactly which claims would leave
   and which stay, and warns when the request asks for more than the registration allows.
2. :func:`send` builds one presentation per selected credential from a **fresh copy** (the
   caller supplies it: no holder key, digest, signature or status index is reused between
   two verifiers), with a KB-JWT for this verifier's ``client_id`` and nonce, posts them,
   and verifies the signed receipt. :func:`decline` tells the verifier "no".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from registry.client.client import ClientError, RegistryClient
from ssiwallet.core import strictjson
from ssiwallet.core.claimpath import ClaimPath, leaves
from ssiwallet.core.dcql_match import Candidate, CredentialMatch, evaluate
from ssiwallet.core.keys import PrivateKey
from ssiwallet.core.oid4vp import (
    RequestObject,
    parse_request_object,
    parse_request_uri,
    verify_request_object,
)
from ssiwallet.core.receipt import (
    Receipt,
    build_error_response,
    build_response,
    parse_post_answer,
    parse_receipt,
    verify_receipt,
)
from ssiwallet.core.sdjwt import parse
from ssiwallet.core.sdjwt.holder import present as sd_present
from ssiwallet.errors import Oid4vpError, SsiError
from ssiwallet.infra.clock import Clock, system_clock
from ssiwallet.infra.http import AddressRefusedError, Client, HttpError, Response, as_http

__all__ = ["Plan", "PresentationResult", "SentError", "decline", "prepare", "send"]

MAX_RESPONSE = 1 << 20
"""Largest verifier answer read (a request object, the answer to a presentation)."""
TIMEOUT = 30.0
"""The wallet's :class:`~ssiwallet.infra.http.Http` (or an aiohttp session to send through)."""


@dataclass(frozen=True)
class Plan:
    """What a verifier asks and what the wallet would send: the consent screen's content.

    Attributes:
        request: the verified request object.
        verifier: the verifier's DID; ``name`` and ``purpose`` come from its registration.
        registered: whether the registry lists it as an active verifier.
        matches: per credential query id, the wallet credential chosen and its paths.
        leaving: per candidate id, the claim paths that would be disclosed.
        staying: per candidate id, the claim paths that would stay in the wallet.
        over_asked: ``vct:path`` the request asks for beyond the registration (warn!).
        satisfiable: whether the wallet holds what is asked; ``reasons`` say why not.
    """

    request: RequestObject
    verifier: str
    name: str
    purpose: dict[str, str]
    registered: bool
    matches: dict[str, CredentialMatch]
    leaving: dict[str, list[ClaimPath]]
    staying: dict[str, list[ClaimPath]]
    over_asked: list[str]
    satisfiable: bool
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PresentationResult:
    """The verifier's answer: its verified receipt and, if refused, the reason codes.

    ``receipt`` and ``receipt_jwt`` are ``None`` for a verifier that sends no Keten receipt;
    then ``accepted`` is ``None`` too (OpenID4VP's answer does not say) and ``redirect_uri``
    is where the verifier would like the person to go next (shown, never followed here).
    """

    accepted: bool | None
    receipt: Receipt | None
    receipt_jwt: str | None
    reasons: list[str]
    used: dict[str, str]  # candidate id -> the copy (credential) that was presented
    sent: dict[str, list[str]]  # the vp_token as posted (what left the wallet)
    redirect_uri: str | None = None


class SentError(Oid4vpError):
    """The vp_token was posted (the data has left), then the answer failed.

    ``code`` and ``detail`` are those of the failure (``oid4vp.response_refused``,
    ``oid4vp.bad_answer``, ``json.*``, a receipt's ``oid4vp.*`` or ``jose.*``); ``sent`` and
    ``used`` are as in :class:`PresentationResult`. ``receipt_jwt`` is the Keten receipt that
    did not verify (kept as evidence), else ``None``; ``answered`` is whether an HTTP answer
    came at all (a lost connection may or may not have delivered the data).
    """

    def __init__(self, cause: SsiError, *, sent: dict[str, list[str]], used: dict[str, str],
                 receipt_jwt: str | None = None, answered: bool = True) -> None:
        super().__init__(cause.detail, code=cause.code)
        self.sent, self.used = sent, used
        self.receipt_jwt, self.answered = receipt_jwt, answered


def _err(detail: str, code: str) -> Oid4vpError:
    return Oid4vpError(detail, code=code)



async def _get_text(client: Client, url: str) -> str:
    try:
        resp = await as_http(client).get(url, max_bytes=MAX_RESPONSE, timeout=TIMEOUT)
        if resp.status != 200:
            raise _err(f"the request object could not be fetched (HTTP {resp.status})",
                       "oid4vp.request_unavailable")
        return resp.body.decode("ascii")
    except AddressRefusedError:
        raise
    except HttpError as exc:
        raise _err(f"the request object could not be fetched ({exc.detail})",
                   "oid4vp.request_unavailable") from None
    except UnicodeDecodeError:
        raise _err("the request object could not be fetched (not ASCII)",
                   "oid4vp.request_unavailable") from None


def _allowed(registration: Mapping[str, Any] | None) -> dict[str, list[ClaimPath]]:
    out: dict[str, list[ClaimPath]] = {}
    for entry in (registration or {}).get("credentials", []) or []:
        if isinstance(entry, dict) and isinstance(entry.get("vct"), str):
            out.setdefault(entry["vct"], []).extend(
                ClaimPath(p) for p in entry.get("claims", []) if isinstance(p, list) and p)
    return out


async def prepare(uri: str, *, candidates: Sequence[Candidate],
                  session: Client, registry: RegistryClient,
                  clock: Clock = system_clock) -> Plan:
    """Fetch, verify and match a presentation request (nothing is sent yet).

    Raises:
        Oid4vpError: ``oid4vp.*`` for a bad link or request object; ``registry.*`` when
            the verifier's key cannot be confirmed on the registry.
    """
    client_id, request_uri = parse_request_uri(uri)
    request = parse_request_object(await _get_text(session, request_uri),
                                   expected_client_id=client_id)
    now = clock()
    key = await registry.issuer_key(request.kid, now)
    verify_request_object(request, key, now=now)
    try:
        registration = await registry.verifier(request.verifier)
    except ClientError:
        registration = None
    registered = bool(registration and registration.get("active"))
    result = evaluate(request.dcql_query, candidates)
    matches = result.selection() if result.satisfied else {}
    by_id = {c.id: c for c in candidates}
    leaving: dict[str, list[ClaimPath]] = {}
    staying: dict[str, list[ClaimPath]] = {}
    allowed = _allowed(registration if registered else None)
    over: list[str] = []
    for match in matches.values():
        cand = by_id[match.candidate_id]
        sent = leaving.setdefault(cand.id, [])  # two queries may pick the same credential
        sent.extend(p for p in match.paths if p not in sent)
        granted = allowed.get(cand.vct, [])
        over.extend(f"{cand.vct}:{p.dotted()}" for p in match.paths
                    if not any(p[:len(g)] == g for g in granted))
    for cid, sent in leaving.items():
        staying[cid] = [p for p in leaves(by_id[cid].claims)
                        if not any(p[:len(s)] == s for s in sent)]
    name = str((registration or {}).get("name", request.verifier))
    purpose = (registration or {}).get("purpose")
    return Plan(request, request.verifier, name,
                dict(purpose) if isinstance(purpose, dict) else {"nl": "?", "en": "?"},
                registered, matches, leaving, staying, over, result.satisfied,
                list(result.reasons))


async def _post(client: Client, url: str, form: Mapping[str, str]) -> bytes:
    try:
        resp: Response = await as_http(client).post(
            url, urlencode(dict(form)).encode("ascii"),
            content_type="application/x-www-form-urlencoded", max_bytes=MAX_RESPONSE,
            timeout=TIMEOUT)
    except AddressRefusedError:
        raise
    except HttpError as exc:
        raise _err(f"the verifier cannot be reached ({exc.detail})",
                   "oid4vp.response_unavailable") from None
    if resp.status != 200:
        detail = resp.body[:300].decode("utf-8", "replace")
        raise _err(f"the verifier refused the response: HTTP {resp.status} {detail}",
                   "oid4vp.response_refused")
    return resp.body


async def send(plan: Plan, *, copies: Mapping[str, tuple[str, PrivateKey]],
               session: Client, registry: RegistryClient,
               clock: Clock = system_clock) -> PresentationResult:
    """Present what the plan says, each credential from the fresh copy given for it.

    Args:
        plan: from :func:`prepare`, after the person agreed.
        copies: per candidate id, an unused copy (the issued SD-JWT and its holder key).

    Raises:
        Oid4vpError: ``oid4vp.unsatisfiable`` (nothing sent).
        SentError: after the vp_token was posted: ``oid4vp.response_*``, an answer that is
            not a JSON object, a Keten receipt that does not verify.
    """
    if not plan.satisfiable:
        raise _err("the wallet cannot answer this request: " + "; ".join(plan.reasons),
                   "oid4vp.unsatisfiable")
    now = clock()
    request = plan.request
    vp_token: dict[str, list[str]] = {}
    used: dict[str, str] = {}
    for qid, match in plan.matches.items():
        token, key = copies[match.candidate_id]
        shown = sd_present(parse(token), match.paths, holder_key=key, nonce=request.nonce,
                           aud=request.client_id, iat=now)
        vp_token.setdefault(qid, []).append(shown.compact())
        used[match.candidate_id] = token
    form = build_response(vp_token, request.state)
    try:
        body = await _post(session, request.response_uri, form)
    except AddressRefusedError:
        raise  # refused before connecting: nothing left
    except Oid4vpError as exc:
        raise SentError(exc, sent=vp_token, used=used,
                        answered=exc.code != "oid4vp.response_unavailable") from None
    try:
        answer = parse_post_answer(body)
        members = strictjson.loads_object(body, what="answer")
    except SsiError as exc:
        raise SentError(exc, sent=vp_token, used=used) from None
    if answer.receipt is None:  # a verifier that is not Keten's (§8.2): done, no receipt
        return PresentationResult(None, None, None, [], used, vp_token, answer.redirect_uri)
    try:
        receipt = parse_receipt(answer.receipt)
        verifier_key = await registry.issuer_key(receipt.kid, clock())
        verify_receipt(receipt, verifier_key, verifier=plan.verifier, nonce=request.nonce,
                       state=request.state, vp_token=form["vp_token"], now=clock())
    except SsiError as exc:
        raise SentError(exc, sent=vp_token, used=used, receipt_jwt=answer.receipt) from None
    reasons = members.get("keten_reasons", [])
    if not isinstance(reasons, list):
        reasons = []
    return PresentationResult(receipt.accepted, receipt, answer.receipt,
                              [str(r) for r in reasons if isinstance(r, str)], used, vp_token,
                              answer.redirect_uri)


async def decline(plan: Plan, *, session: Client) -> None:
    """Tell the verifier the person declined (``access_denied``)."""
    form = build_error_response(error="access_denied", state=plan.request.state)
    await _post(session, plan.request.response_uri, form)
