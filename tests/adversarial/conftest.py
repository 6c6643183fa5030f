"""The adversarial tests attack the same loopback services the integration tests drive."""

from tests.integration.conftest import issuer_service, registry_node, verifier_service  # noqa: F401
