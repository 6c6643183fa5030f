"""Credential ids a clerk types: never read as a command-line option."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from issuer import cli, issuance


def test_a_new_id_never_starts_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: Iterator[str] = iter(["-starts-with-dash", "-again", "fine-id_0123"])
    monkeypatch.setattr("issuer.issuance.secrets.token_urlsafe", lambda n: next(drawn))
    assert issuance.new_credential_id() == "fine-id_0123"


def test_real_ids_are_base64url_of_twelve_bytes() -> None:
    ids = {issuance.new_credential_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(len(i) == 16 and not i.startswith("-") for i in ids)


def test_an_older_id_with_a_dash_is_given_after_a_double_dash() -> None:
    """Ids issued before may start with '-': `ssi-issuer revoke --config F -- -id` takes it."""
    args = cli._parser().parse_args(["revoke", "--config", "issuer.toml", "--", "-Ab3_x"])
    assert args.credential == "-Ab3_x"
