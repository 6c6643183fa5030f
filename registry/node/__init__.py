"""The registry node: sequencer and mirror (``node``), durable ``storage``, ``sync`` with an
upstream and the witnesses, the HTTP API (``http``) and the served application (``app``).
"""

__all__ = ["app", "http", "node", "storage", "sync"]
