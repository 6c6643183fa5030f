"""The issuer's published metadata (OpenID4VCI 1.0 §12.2, RFC 8414 as profiled in §12.3)."""

from __future__ import annotations

from typing import Any

from issuer.config import IssuerConfig
from ssiwallet.core.credtypes import LANGUAGES
from ssiwallet.core.oid4vci import PRE_AUTH_GRANT
from ssiwallet.core.vc import VC_TYP

__all__ = ["PROOF_ALGS", "authorization_server_metadata", "credential_issuer_metadata"]

PROOF_ALGS = ("EdDSA", "ES256")
"""Holder keys the issuer binds to: Ed25519 (Keten's wallet) and P-256 (EU wallets)."""


def credential_issuer_metadata(config: IssuerConfig) -> dict[str, Any]:
    """``/.well-known/openid-credential-issuer``: one configuration per offered type."""
    url = config.public_url
    configurations = {
        c.id: {
            "format": VC_TYP,
            "vct": c.vct,
            "scope": c.id,
            "cryptographic_binding_methods_supported": ["jwk", "did:key"],
            "credential_signing_alg_values_supported": ["EdDSA"],
            "proof_types_supported": {
                "jwt": {"proof_signing_alg_values_supported": list(PROOF_ALGS)},
            },
            "credential_metadata": {"display": c.type.display(),
                                    "claims": c.type.claims_metadata()},
        }
        for c in config.profile.credentials
    }
    metadata: dict[str, Any] = {
        "credential_issuer": url,
        "credential_endpoint": f"{url}/credential",
        "nonce_endpoint": f"{url}/nonce",
        "display": [{"name": config.display[lang], "locale": lang} for lang in LANGUAGES],
        "credential_configurations_supported": configurations,
    }
    if config.batch_size >= 2:
        metadata["batch_credential_issuance"] = {"batch_size": config.batch_size}
    return metadata


def authorization_server_metadata(config: IssuerConfig) -> dict[str, Any]:
    """``/.well-known/oauth-authorization-server``: the issuer is its own AS."""
    url = config.public_url
    return {
        "issuer": url,
        "token_endpoint": f"{url}/token",
        "grant_types_supported": [PRE_AUTH_GRANT],
        "pre-authorized_grant_anonymous_access_supported": True,
        "token_endpoint_auth_methods_supported": ["none"],
        "response_types_supported": [],
    }
