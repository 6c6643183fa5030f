"""The holder side of the protocols: receiving (OpenID4VCI) and presenting (OpenID4VP).
"""

__all__ = ["present", "receive"]
