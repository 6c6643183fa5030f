"""The exception tree of the ``issuer`` package.

Every error has a stable Keten ``code`` (the HTTP status is the service's table,
:data:`issuer.http.STATUSES`, shown here beside each) and, where OpenID4VCI or OAuth
names the failure, the ``oauth`` error string the protocol requires in the ``error`` member::

    SsiError (ssiwallet.errors)
    └── IssuerError            issuer.*          400
        ├── ConfigError        issuer.config     a configuration that cannot be served
        ├── TokenError         (token endpoint)  invalid_grant / invalid_request /
        │                                        unsupported_grant_type
        ├── AccessError        issuer.invalid_token   401 invalid_token
        ├── CredentialRequestError  (credential endpoint) invalid_credential_request /
        │                           unknown_credential_configuration / invalid_proof /
        │                           invalid_nonce / credential_request_denied
        ├── AdminAuthError     issuer.unauthorized    401
        ├── NotFoundError      issuer.not_found       404
        ├── ConflictError      issuer.conflict        409
        └── RegistryLinkError  issuer.registry        502  the registry cannot be reached
            └── RegistryRefusedError  registry.*     400  credential_request_denied: the
                                                          registry refused a transaction

Core errors (``credtype.invalid_claims`` with its ``problems``, ``json.*``) pass through; the
HTTP layer gives them a status and, on protocol endpoints, an OAuth error string.
"""

from __future__ import annotations

from ssiwallet.errors import SsiError

__all__ = [
    "AccessError", "AdminAuthError", "ConfigError", "ConflictError", "CredentialRequestError",
    "IssuerError", "NotFoundError", "RegistryLinkError", "RegistryRefusedError", "TokenError",
]


class IssuerError(SsiError):
    """Root of the issuer's errors."""

    code = "issuer.error"
    oauth: str = "invalid_request"

    def __init__(self, detail: str, *, code: str | None = None, oauth: str | None = None
                 ) -> None:
        super().__init__(detail, code=code)
        if oauth is not None:
            self.oauth = oauth


class ConfigError(IssuerError):
    code = "issuer.config"


class TokenError(IssuerError):
    """A token request that is refused (RFC 6749 §5.2, OpenID4VCI §6.3)."""

    code = "issuer.invalid_grant"
    oauth = "invalid_grant"


class AccessError(IssuerError):
    """No valid access token (RFC 6750 §3.1)."""

    code = "issuer.invalid_token"
    oauth = "invalid_token"


class CredentialRequestError(IssuerError):
    """A credential request that is refused (OpenID4VCI §8.3.1.2)."""

    code = "issuer.invalid_credential_request"
    oauth = "invalid_credential_request"


class AdminAuthError(IssuerError):
    code = "issuer.unauthorized"


class NotFoundError(IssuerError):
    code = "issuer.not_found"


class ConflictError(IssuerError):
    code = "issuer.conflict"


class RegistryLinkError(IssuerError):
    code = "issuer.registry"


class RegistryRefusedError(RegistryLinkError):
    """The registry refused the issuer's transaction (``code`` is the registry's reason)."""

    oauth = "credential_request_denied"
