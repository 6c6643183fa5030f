"""The verifier's OpenID4VP logic between its HTTP routes and the pure pipeline.

``client_id`` is ``decentralized_identifier:<the verifier's did:keten>``; request objects and
receipts are signed with the DID's current key (re-read after a rotation). Before serving,
:meth:`VerifierContext.prepare` reads the verifier's registration from the registry and
refuses presets that ask for more than it allows.

Decisions:

* A request object is signed when the wallet fetches it (``iat`` = fetch time, valid 10
  minutes), so a QR code printed long ago does not carry a stale signature.
* The response endpoint answers every well-formed response with 200 and a signed receipt,
  accepted or rejected; a rejection lists the failed check codes (``keten_reasons``), never
  their details, which may quote claim values. A rejected presentation's claims are not
  kept, and its receipt lists no received claims (retention 0).
* A session takes one response. A second one for the same ``state`` is refused
  (``invalid_request``), and the nonce check catches a replay inside the first.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from registry.author import ControllerFile
from registry.client.client import ClientError, RegistryClient
from registry.client.wait import cosigned_checkpoint
from ssiwallet.core.claimpath import leaves
from ssiwallet.core.oid4vp import build_request_object, build_request_uri, client_id_for
from ssiwallet.core.receipt import (
    ReceivedCredential,
    build_post_answer,
    build_receipt,
    is_error_response,
    parse_error_response,
    parse_response,
)
from ssiwallet.infra.clock import Clock, system_clock
from verifier.config import VerifierConfig
from verifier.errors import VerifierError
from verifier.facts import RegistryClientFacts
from verifier.model import RegistryFacts
from verifier.pipeline import Verdict, verify_presentation
from verifier.presets import check_presets
from verifier.sessions import Session, Sessions

log = logging.getLogger(__name__)

__all__ = ["REQUEST_LIFETIME", "SessionError", "VerifierContext"]

REQUEST_LIFETIME = 600
CHECKPOINT_SECONDS = 30


class SessionError(VerifierError):
    """A request for a session that does not exist (any more)."""

    code = "verifier.unknown_session"


@dataclass
class VerifierContext:
    """One served verifier: configuration, keys, registry, sessions, clock."""

    config: VerifierConfig
    keys: ControllerFile
    client: RegistryClient
    facts: RegistryFacts
    sessions: Sessions
    clock: Clock = system_clock
    registration: dict[str, Any] | None = None
    checkpoint_error: str | None = None
    registry_untrusted: bool = False
    """The registry's checkpoint stopped verifying (a fork, a rollback, too few witnesses):
    no answer from it can be trusted, so the verifier fails closed until it verifies again.
    An unreachable registry is not this: presentations then fail on their own checks."""

    @classmethod
    def build(cls, config: VerifierConfig, client: RegistryClient,
              clock: Clock = system_clock) -> VerifierContext:
        return cls(config, ControllerFile(config.key_file), client, RegistryClientFacts(client),
                   Sessions(ttl=config.session_ttl, retention=config.retention), clock)

    @property
    def did(self) -> str:
        return str(self.keys.controller.did)

    @property
    def client_id(self) -> str:
        return client_id_for(self.did)

    async def prepare(self) -> dict[str, Any]:
        """Read the registration and check every preset against it (fail to start if not).

        Raises:
            VerifierError: ``verifier.not_registered`` or ``verifier.preset_over_asks``.
        """
        try:
            registration = await self.client.verifier(self.did)
        except ClientError as exc:
            raise VerifierError(f"cannot read the registration: {exc.detail}",
                                code="verifier.registry") from None
        if not registration or not registration.get("active"):
            raise VerifierError(f"{self.did} is not a registered verifier on the registry",
                                code="verifier.not_registered")
        check_presets(self.config.presets, registration)
        self.registration = registration
        await self.follow_checkpoint(wait=True)
        return registration

    async def follow_checkpoint(self, *, wait: bool = False) -> None:
        """Fetch the registry's checkpoint: witness quorum, and consistent with the last one.

        Called at start (a registry whose checkpoint does not verify stops ``serve``; one
        whose newest checkpoint is not cosigned yet, right after the registration, is waited
        for, bounded and logged) and every :data:`CHECKPOINT_SECONDS` by the app, so that a
        fork or a rollback of the registry is noticed (``/health`` reports it) rather than
        silently followed.
        """
        try:
            if wait:
                await cosigned_checkpoint(self.client, notice=log.info)
            else:
                await self.client.checkpoint()
            self.checkpoint_error = None
            self.registry_untrusted = False
        except ClientError as exc:
            self.checkpoint_error = f"{exc.code}: {exc.detail}"
            self.registry_untrusted = exc.code != "registry.unavailable"
            raise VerifierError(f"the registry's checkpoint does not verify: {exc.detail}",
                                code="verifier.registry") from None

    @property
    def purpose(self) -> dict[str, str]:
        purpose = (self.registration or {}).get("purpose")
        if isinstance(purpose, dict) and all(isinstance(purpose.get(k), str) for k in
                                             ("nl", "en")):
            return {"nl": purpose["nl"], "en": purpose["en"]}
        return {"nl": "onbekend", "en": "unknown"}

    def _require_trusted_registry(self) -> None:
        if self.registry_untrusted:
            raise VerifierError("the registry's checkpoint does not verify "
                                f"({self.checkpoint_error}); this desk verifies nothing until "
                                "it does", code="verifier.registry_untrusted")

    def start(self, preset_id: object) -> tuple[Session, str]:
        """A new session for a preset, and the ``openid4vp://`` link for the wallet."""
        self._require_trusted_registry()
        preset = self.config.preset(preset_id) if isinstance(preset_id, str) else None
        if preset is None:
            raise SessionError(f"no preset {str(preset_id)[:40]!r}; this desk offers "
                               f"{[p.id for p in self.config.presets]}",
                               code="verifier.unknown_preset")
        session = self.sessions.create(preset, self.clock())
        return session, self.wallet_uri(session)

    def wallet_uri(self, session: Session) -> str:
        """The ``openid4vp://`` link (and QR code content) of a session."""
        return build_request_uri(
            client_id=self.client_id,
            request_uri=f"{self.config.public_url}/request/{session.request_id}")

    def session(self, session_id: str) -> Session:
        found = self.sessions.get(session_id, self.clock())
        if found is None:
            raise SessionError("no such session (it may have expired)")
        return found

    def request_object(self, request_id: str) -> str:
        """The signed request object of a session (GET ``request_uri``)."""
        now = self.clock()
        session = self.sessions.by_request(request_id, now)
        if session is None or session.status not in ("created", "fetched"):
            raise SessionError("no open session for this request_uri")
        session.status = "fetched"
        controller = self.keys.controller
        return build_request_object(
            client_id=self.client_id, nonce=session.nonce, state=session.state,
            dcql_query=session.preset.query_json, response_uri=self.config.response_uri,
            now=now, lifetime=REQUEST_LIFETIME, key=controller.key, kid=controller.kid)

    async def answer(self, form: Mapping[str, str]) -> dict[str, Any]:
        """Handle a direct_post (a response or the wallet's error) and answer the wallet."""
        now = self.clock()
        if is_error_response(form):
            declined = parse_error_response(form)
            session = self._open_session(declined.state, now)
            self.sessions.finish(session, now, wallet_error=declined.error)
            return {}
        vp_token, state = parse_response(form)
        session = self._open_session(state, now)
        self._require_trusted_registry()
        session.status = "answering"

        async def consume(_: str) -> bool:
            return self.sessions.consume_nonce(session)

        verdict = await verify_presentation(vp_token, query=session.preset.query,
                                            nonce=session.nonce, client_id=self.client_id,
                                            facts=self.facts, now=now, consume_nonce=consume)
        self.sessions.finish(session, now, verdict=verdict)
        receipt = self._receipt(session, verdict, form["vp_token"], now)
        answer: dict[str, Any] = dict(build_post_answer(receipt=receipt))
        if not verdict.ok:
            answer["keten_reasons"] = sorted({c.code for c in verdict.failures})
        return answer

    def _open_session(self, state: str, now: int) -> Session:
        session = self.sessions.by_state(state, now)
        if session is None:
            raise VerifierError("no open session for this state", code="verifier.unknown_state")
        if session.status in ("answered", "declined", "answering"):
            raise VerifierError("this session was already answered",
                                code="verifier.already_answered")
        return session

    def _receipt(self, session: Session, verdict: Verdict, vp_token: str, now: int) -> str:
        received: list[ReceivedCredential] = []
        if verdict.ok:
            by_query: dict[str, list[dict[str, Any]]] = {
                k: list(v) for k, v in verdict.disclosed.items()}
            for info in verdict.credentials:
                claims = by_query.get(info.query_id, [])
                disclosed = claims.pop(0) if claims else {}
                if info.vct and info.iss:
                    received.append(ReceivedCredential(info.vct, info.iss,
                                                       tuple(leaves(disclosed))))
        controller = self.keys.controller
        return build_receipt(
            verifier=self.did, kid=controller.kid, key=controller.key, nonce=session.nonce,
            state=session.state, vp_token=vp_token, received=received, purpose=self.purpose,
            retention=self.config.retention if verdict.ok else 0,
            result="accepted" if verdict.ok else "rejected", now=now,
            jti=secrets.token_urlsafe(24))

