"""The wallet's command line runs against the same loopback services the integration tests use."""

from tests.integration.conftest import issuer_service, registry_node, verifier_service  # noqa: F401
