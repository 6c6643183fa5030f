"""Keten's citizen side and the code every part shares: ``core`` (pure protocols), ``infra``
(side effects, written once), the wallet (``wallet``, ``holder``, ``tui``, ``cli``) and ``demo``.
"""

__all__ = ["cli", "cli_text", "core", "demo", "errors", "holder", "infra", "tui", "wallet"]
