"""Well-known URIs of a credential issuer and its authorization server.

OpenID4VCI 1.0 §12.2.2 and RFC 8414 §3.1 insert ``/.well-known/<suffix>`` between the host
and the path of the identifier; appending it after the path finds nothing at an issuer
with a path (a tenant of a hosted issuer).
"""

from __future__ import annotations

import pytest

from ssiwallet.core.oid4vci import (
    authorization_server_metadata_url,
    issuer_metadata_url,
    well_known_url,
)
from ssiwallet.errors import Oid4vciError


@pytest.mark.parametrize(("issuer", "url"), [
    # the two examples of §12.2.2
    ("https://issuer.example.com/tenant",
     "https://issuer.example.com/.well-known/openid-credential-issuer/tenant"),
    ("https://tenant.issuer.example.com",
     "https://tenant.issuer.example.com/.well-known/openid-credential-issuer"),
    ("https://issuer.example/a/b", "https://issuer.example/.well-known/openid-credential-issuer/a/b"),
    ("https://issuer.example/tenant/",
     "https://issuer.example/.well-known/openid-credential-issuer/tenant"),
    ("https://issuer.example/", "https://issuer.example/.well-known/openid-credential-issuer"),
    ("http://127.0.0.1:8443/t", "http://127.0.0.1:8443/.well-known/openid-credential-issuer/t"),
])
def test_issuer_metadata_url(issuer: str, url: str) -> None:
    assert issuer_metadata_url(issuer) == url


@pytest.mark.parametrize(("issuer", "url"), [
    # RFC 8414 §3.1's example
    ("https://example.com/issuer1",
     "https://example.com/.well-known/oauth-authorization-server/issuer1"),
    ("https://example.com", "https://example.com/.well-known/oauth-authorization-server"),
])
def test_authorization_server_metadata_url(issuer: str, url: str) -> None:
    assert authorization_server_metadata_url(issuer) == url


@pytest.mark.parametrize("identifier", ["https://i.example/t?x=1", "https://i.example/t#f",
                                        "/relative", "issuer.example"])
def test_no_well_known_uri_for_what_is_not_an_identifier(identifier: str) -> None:
    with pytest.raises(Oid4vciError) as err:
        well_known_url(identifier, "openid-credential-issuer")
    assert err.value.code == "oid4vci.invalid_metadata"
