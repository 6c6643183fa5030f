"""Interop tests run the project's services on loopback like the integration tests do."""

from tests.integration.conftest import issuer_service, registry_node  # noqa: F401
