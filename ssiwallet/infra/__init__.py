"""The side effects every Keten part shares, each written once: ``clock``, ``files`` (atomic,
secret 0600), ``sqlite``, ``http`` (bounded, no redirects, address policy, injectable
transport), ``web`` (aiohttp errors, bodies, ``serve``, ``every``) and ``cli`` (the command
runner and its JSON contract); ``budget`` (per-client and overall request budgets, 429).
"""

__all__ = ["budget", "cli", "clock", "files", "http", "sqlite", "web"]
