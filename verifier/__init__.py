"""Keten verifier: the verification pipeline, the OpenID4VP service and the ``ssi-verifier`` CLI."""
