"""The ``did:keten`` registry by role: ``ledger`` and ``tlog`` (pure), ``node`` (sequencer and
mirror), ``witness``, ``client`` (what wallets, issuers and verifiers import), ``author``
(controller keys and the transactions they sign), ``cli`` (``ssi-registry``).
"""

__all__ = ["author", "cli", "cli_gov", "client", "errors", "ledger", "node", "tlog", "witness"]
