"""The registry's pure rules: transactions, their fields, state, blocks, the hash chain,
``did:keten`` and DID resolution. No I/O, no clock: ``now`` is a parameter.
"""

__all__ = ["block", "bundle", "chain", "commitment", "didketen", "fields", "resolve", "rules",
           "state", "tx"]
