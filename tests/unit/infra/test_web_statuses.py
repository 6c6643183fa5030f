"""Statuses live at each service's edge: a table of codes and error classes, most specific wins."""

from __future__ import annotations

from registry.errors import RegistryError
from registry.ledger.rules import TxConflictError, TxForbiddenError, TxRejectedError
from registry.node.http import STATUSES as NODE
from ssiwallet.errors import SsiError
from ssiwallet.infra.web import StatusTable, status_for


def test_the_most_specific_class_wins_and_an_exact_code_beats_classes() -> None:
    table: StatusTable = {TxRejectedError: 422, TxForbiddenError: 403, "registry.replayed": 410}
    assert status_for(TxForbiddenError("x", code="registry.not_steward"), table) == 403
    assert status_for(TxConflictError("x"), table) == 422  # its parent's entry
    assert status_for(TxConflictError("x", code="registry.replayed"), table) == 410
    assert status_for(RegistryError("x"), table) == 400  # not in the table: the request's fault
    assert status_for(SsiError("x"), table, default=500) == 500


def test_domain_errors_carry_no_status() -> None:
    """The rule errors say what went wrong; only the services' tables know HTTP."""
    for cls in (RegistryError, TxRejectedError, TxForbiddenError, TxConflictError):
        assert not hasattr(cls, "status")
    assert status_for(TxForbiddenError("x", code="registry.not_steward"), NODE) == 403
    assert status_for(TxConflictError("x", code="registry.replayed"), NODE) == 409
