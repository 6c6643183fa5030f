"""An issuing body's service (``ssi-issuer``): OpenID4VCI 1.0, the admin API and the clerk's desk.
"""

__all__ = ["cli", "config", "context", "desk", "errors", "http", "issuance", "metadata", "offers",
           "registry_link", "store"]
