"""Presentation sessions: one per question asked at the desk, held in memory only.

A session has three unguessable values, each for one party: the ``id`` the desk polls (never
shown in the QR code, so a bystander who scans it cannot read the result), the ``request``
id in the ``request_uri`` the wallet fetches, and the ``state`` the wallet posts back. Its
``nonce`` is consumed once, atomically, by the first response whose key binding proves it.

Results hold personal data (the disclosed claims), so sessions live in memory and are
forgotten ``retention`` seconds after they finish (or ``ttl`` after creation when nobody
answers); a restart forgets everything, which is the intent.

A refused answer keeps less: only what the desk needs to show the refusal (the verdict, each
check's name, result and code, and which issuer and type each presentation claimed to be).
The checks' sentences are dropped, because they may quote a disclosed value (``has value
…``) or name the credential's status list entry; the disclosed claims are never kept for a
refusal, and the ``vp_token`` is never kept at all.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from typing import Any

from verifier.pipeline import Verdict
from verifier.presets import Preset

__all__ = ["Session", "Sessions", "refusal_only"]

MAX_SESSIONS = 10_000


@dataclass
class Session:
    """One question and, once answered, its verdict."""

    id: str
    request_id: str
    state: str
    nonce: str
    preset: Preset
    created: int
    expires: int
    status: str = "created"  # created | fetched | answered | declined | expired
    verdict: Verdict | None = None
    wallet_error: str | None = None
    finished: int | None = None
    nonce_used: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "preset": self.preset.id,
                               "status": self.status, "created": self.created,
                               "expires": self.expires}
        if self.verdict is not None:
            out["verdict"] = self.verdict.to_json()
        if self.wallet_error is not None:
            out["wallet_error"] = self.wallet_error
        return out


def refusal_only(verdict: Verdict) -> Verdict:
    """What a session keeps of a refused verdict (see the module docstring)."""
    return replace(verdict, checks=[replace(c, detail="") for c in verdict.checks],
                   credentials=[replace(c, iat=None, exp=None) for c in verdict.credentials],
                   disclosed={})


class Sessions:
    """The verifier's live sessions (see the module docstring)."""

    def __init__(self, *, ttl: int, retention: int) -> None:
        self.ttl = ttl
        self.retention = retention
        self._by_id: dict[str, Session] = {}
        self._by_request: dict[str, Session] = {}
        self._by_state: dict[str, Session] = {}
        self._swept: int | None = None

    def create(self, preset: Preset, now: int) -> Session:
        self.sweep(now)
        if len(self._by_id) >= MAX_SESSIONS:
            oldest = min(self._by_id.values(), key=lambda s: s.created)
            self._forget(oldest)
        session = Session(secrets.token_urlsafe(24), secrets.token_urlsafe(24),
                          secrets.token_urlsafe(24), secrets.token_urlsafe(32), preset, now,
                          now + self.ttl)
        self._by_id[session.id] = session
        self._by_request[session.request_id] = session
        self._by_state[session.state] = session
        return session

    def get(self, session_id: str, now: int) -> Session | None:
        self.sweep(now)
        return self._by_id.get(session_id)

    def by_request(self, request_id: str, now: int) -> Session | None:
        self.sweep(now)
        return self._by_request.get(request_id)

    def by_state(self, state: str, now: int) -> Session | None:
        self.sweep(now)
        return self._by_state.get(state)

    def consume_nonce(self, session: Session) -> bool:
        """Mark the session's nonce used; ``False`` if it already was (a replay)."""
        if session.nonce_used:
            return False
        session.nonce_used = True
        return True

    def finish(self, session: Session, now: int, *, verdict: Verdict | None = None,
               wallet_error: str | None = None) -> None:
        session.status = "answered" if verdict is not None else "declined"
        if verdict is not None and not verdict.ok:
            verdict = refusal_only(verdict)
        session.verdict, session.wallet_error, session.finished = verdict, wallet_error, now

    def sweep(self, now: int) -> None:
        """Forget finished sessions after ``retention`` and unanswered ones after ``ttl``
        (at most once per second of the clock: lookups call it, and seconds are its grain)."""
        if self._swept == now:
            return
        self._swept = now
        for session in list(self._by_id.values()):
            if session.finished is not None:
                if now >= session.finished + self.retention:
                    self._forget(session)
            elif now >= session.expires:
                self._forget(session)

    def _forget(self, session: Session) -> None:
        self._by_id.pop(session.id, None)
        self._by_request.pop(session.request_id, None)
        self._by_state.pop(session.state, None)

    def __len__(self) -> int:
        return len(self._by_id)
