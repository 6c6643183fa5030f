"""The vocabulary used by the verification pipeline and its policies.

Kept apart from :mod:`verifier.pipeline` and :mod:`verifier.policy` so that neither imports
the other's internals: the pipeline builds a :class:`Context` of verified credentials, the
policies judge it and answer with :class:`Check` lines. Nothing here does I/O; the registry
comes in through the :class:`RegistryFacts` protocol, implemented over the network by
:class:`verifier.facts.RegistryClientFacts` and over plain dicts in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from ssiwallet.core.dcql import DcqlQuery
from ssiwallet.core.keys import PublicKey
from ssiwallet.core.statuslist import StatusRef
from ssiwallet.core.vc import VerifiedVc

OK = "ok"
"""The ``code`` of every check that passed; a failed check names its reason instead."""


class RegistryFacts(Protocol):
    """The registry as the verifier needs it, judged on the credential's issuance day.

    Our issuer rounds ``iat`` down to 00:00 UTC, so each question is about the day that
    starts at ``iat`` (see :meth:`registry.client.client.RegistryClient.issuer_key_on_day`). Every
    method raises an :class:`~ssiwallet.errors.SsiError` with a ``code`` when it cannot give
    a trustworthy answer; the pipeline turns that into a failed check (fail closed).
    """

    async def issuer_key(self, kid: str, iat: int) -> PublicKey:
        """The key ``kid`` names if it was valid on the issuance day; raise if not
        (e.g. ``registry.key_not_valid``, ``registry.unavailable``)."""
        ...

    async def accredited(self, iss: str, vct: str, iat: int) -> bool:
        """Whether ``iss`` was accredited for ``vct`` on the issuance day."""
        ...

    async def status(self, ref: StatusRef) -> int:
        """The current status value (0 = valid) at ``ref``, from a verified status list."""
        ...


@dataclass(frozen=True)
class Check:
    """One line of a verdict: which check ran, whether it passed, and why not.

    Attributes:
        name: what was checked (``signature``, ``status`` …); stable, for programs.
        ok: whether it passed.
        code: :data:`OK` when it passed, otherwise the stable failure code
            (``status.revoked``, ``sdjwt.kb_nonce_mismatch`` …).
        detail: a sentence for the clerk. It may quote disclosed claim values, so it is
            shown at the desk and never sent back to the wallet.
        credential: the presentation concerned (``"<query id>[<n>]"``), or ``None`` for a
            check on the whole response.
        waived: the check failed inside an :class:`~verifier.policy.AnyOf` whose other
            alternative passed, so it does not count against the verdict.
    """

    name: str
    ok: bool
    code: str
    detail: str
    credential: str | None = None
    waived: bool = False

    @classmethod
    def passed(cls, name: str, detail: str, credential: str | None = None) -> Check:
        return cls(name, True, OK, detail, credential)

    @classmethod
    def failed(cls, name: str, code: str, detail: str, credential: str | None = None) -> Check:
        return cls(name, False, code, detail, credential)

    @property
    def counts(self) -> bool:
        """Whether this line makes the verdict fail (failed and not waived)."""
        return not self.ok and not self.waived

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"check": self.name, "ok": self.ok, "code": self.code,
                               "detail": self.detail, "credential": self.credential}
        if self.waived:
            out["waived"] = True
        return out


def all_pass(checks: list[Check]) -> bool:
    """Whether none of ``checks`` counts as a failure (an empty list passes)."""
    return not any(c.counts for c in checks)


@dataclass(frozen=True)
class Presented:
    """One presentation whose issuer signature and disclosures verified.

    Attributes:
        label: ``"<query id>[<n>]"``, the name used in every :class:`Check` about it.
        query_id: the credential query it answers (its key in the ``vp_token``).
        vc: the verified credential; its claims are the issuer's, as disclosed.
        kb: the verified KB-JWT payload, or ``None`` when key binding failed (the
            credential is then rejected, but the other checks still run so the clerk
            sees all that is wrong).
    """

    label: str
    query_id: str
    vc: VerifiedVc
    kb: dict[str, Any] | None


@dataclass(frozen=True)
class Context:
    """What a policy judges: the verified credentials of one response and the session.

    Attributes:
        credentials: presentations whose signature verified, in ``vp_token`` order.
        rejected: labels of presentations that did not verify (not judged further).
        query: the DCQL query the response answers.
        nonce: this session's nonce.
        client_id: the verifier's ``client_id`` (the KB-JWT ``aud``).
        facts: the registry.
        now: the verifier's clock (Unix seconds).
    """

    credentials: tuple[Presented, ...]
    rejected: tuple[str, ...]
    query: DcqlQuery
    nonce: str
    client_id: str
    facts: RegistryFacts = field(repr=False)
    now: int
