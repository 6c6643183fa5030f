"""Status refresh: what the registry says today about each credential in the wallet.

Every copy of a credential carries its own status index (so that verifiers cannot link
copies); the issuer changes all of them at once. The wallet reads every copy's index, each
status list fetched once, and shows the worst value found: ``revoked`` outranks
``suspended``, which outranks ``valid``. A list that cannot be fetched or verified leaves
the status ``unknown`` rather than guessing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from registry.client.client import ClientError
from ssiwallet.core.sdjwt import parse
from ssiwallet.core.statuslist import StatusListToken, parse_status_reference, status_of
from ssiwallet.errors import SsiError
from ssiwallet.wallet.net import Online
from ssiwallet.wallet.records import CopyRow, CredentialCard

__all__ = ["STATUS_NAMES", "check_all"]

STATUS_NAMES = {0: "valid", 1: "revoked", 2: "suspended"}
_RANK = {"valid": 0, "unknown": 1, "suspended": 2, "revoked": 3}


async def _status(copies: Sequence[CopyRow], net: Online,
                  lists: dict[str, StatusListToken | None]) -> str:
    worst = "valid"
    for copy in copies:
        try:
            claim = parse(copy.token).unverified_claims.get("status")
            ref = parse_status_reference(claim)
        except SsiError:
            return "unknown"
        if ref.uri not in lists:
            try:
                lists[ref.uri] = await net.registry.status(ref.uri)
            except (ClientError, SsiError):
                lists[ref.uri] = None
        token = lists[ref.uri]
        found = "unknown" if token is None else STATUS_NAMES.get(status_of(token, ref),
                                                                  "revoked")
        if _RANK[found] > _RANK[worst]:
            worst = found
    return worst


async def check_all(cards: Sequence[CredentialCard], copies: dict[str, list[CopyRow]],
                    net: Online, now: int) -> list[tuple[Any, ...]]:
    """``(status, accredited, checked_at, id)`` rows for the cards given."""
    lists: dict[str, StatusListToken | None] = {}
    rows = []
    for card in cards:
        status = await _status(copies.get(card.id, []), net, lists)
        try:
            accredited = await net.registry.accredited(card.issuer, card.vct, now)
        except ClientError:
            accredited = card.accredited
        rows.append((status, int(accredited), now, card.id))
    return rows
