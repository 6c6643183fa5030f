"""A verifier's service (``ssi-verifier``): OpenID4VP 1.0 with DCQL, the pure verification
pipeline and policies, the desk page and signed receipts.
"""

__all__ = ["check", "cli", "config", "context", "desk", "errors", "facts", "http", "model",
           "pipeline", "policy", "presets", "service", "sessions", "words"]
