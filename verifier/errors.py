"""The exception tree of the ``verifier`` package::

    SsiError (ssiwallet.errors)
    └── VerifierError        verifier.*
        └── UsageError       cli.*        a command line that cannot be acted on

Core errors (``jose.*``, ``sdjwt.*``, ``vc.*`` …) pass through unchanged: their codes are the
verdict a clerk or a script needs.
"""

from __future__ import annotations

from ssiwallet.errors import SsiError


class VerifierError(SsiError):
    code = "verifier.error"


class UsageError(VerifierError):
    code = "cli.usage"
