"""The C2SP witness: the pure decision (``decide``), its durable ``store``, the HTTP service
(``http``) and the client the node uses to ask for cosignatures.
"""

__all__ = ["client", "decide", "http", "store"]
