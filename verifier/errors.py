"""The exception tree of the ``verifier`` package::

    SsiError (ssiwallet.errors)
    └── VerifierError        verifier.*   e.g. verifier.bad_session (a session without nonce)
        ├── UsageError       cli.*        a command line that cannot be acted on
        └── PolicyError      policy.*     a policy that cannot be built (e.g. an empty AllOf)

Core errors (``jose.*``, ``sdjwt.*``, ``vc.*`` …) pass through unchanged: their codes are the
verdict a clerk or a script needs. The verification pipeline (:mod:`verifier.pipeline`)
raises none of these for what a wallet or the registry sends: it answers with a verdict
whose failed checks carry the codes.
"""

from __future__ import annotations

from ssiwallet.errors import SsiError


class VerifierError(SsiError):
    code = "verifier.error"


class UsageError(VerifierError):
    code = "cli.usage"


class PolicyError(VerifierError):
    """A verifier policy that was put together wrongly (a programming error, not input)."""

    code = "policy.invalid"
