"""What the wallet holds, as values: credential cards, copies and disclosure history.

Rows live in the sealed store (:mod:`ssiwallet.wallet.store`); this module maps them to
frozen dataclasses the CLI and the TUI show, and back. Claim values are kept out of every
``repr`` so that a traceback or a log line never prints them.

Everything here comes from issuers and verifiers, so every text shown in a terminal goes
through :func:`terminal_text` first (the CLI's views and every TUI screen).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ssiwallet.core.claimpath import Element
from ssiwallet.core.credtypes import REGISTRY
from ssiwallet.core.keys import Ed25519PrivateKey

__all__ = ["NO_RECEIPT", "RECEIPT_INVALID", "SENT", "CopyRow", "CredentialCard", "HistoryEntry",
           "card_from_row", "flatten", "history_from_row", "label", "terminal_text",
           "type_claim_label", "type_label"]

STATES = ("valid", "suspended", "revoked", "expired", "unknown")
SENT = "sent"
"""The outcome of a presentation a verifier took without a Keten receipt (OpenID4VP §8.2)."""
NO_RECEIPT = "no receipt: this verifier does not use Keten receipts"
"""What the CLI and the TUI say of a disclosure whose verifier sent no receipt."""
RECEIPT_INVALID = "receipt invalid: the verifier's receipt did not verify"
"""What they say when a Keten receipt came but did not verify (the data left all the same)."""

_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"  # CSI: colours, cursor moves, clearing the screen
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    # ^ OSC, DCS, SOS, PM, APC strings (window titles, links, clipboard) up to BEL or ST
    r"|\x1b[ -/]*[0-~]?")  # any other escape sequence (ESC c resets the terminal)
_BLANK = re.compile(r"\r\n|[\t\n\v\f\r]")
_BLANK_IN_LINES = re.compile(r"[\t\v\f]")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""C0 and C1 controls (the newline apart) and the bidi embeddings, overrides and isolates."""


def terminal_text(value: object, *, lines: bool = False) -> str:
    """``value`` as text that is safe to print in a terminal.

    Escape sequences (CSI, OSC and the other strings, any ESC sequence) are removed whole;
    other control characters (BEL, backspace, carriage return, C1) and the bidi
    overrides and isolates (U+202A-202E, U+2066-2069) are removed. Tabs and line breaks
    become spaces, unless ``lines``: then newlines stay (for a whole view whose layout
    puts them there). The one function for every text from an issuer or a verifier.
    """
    text = _SEQUENCE.sub("", str(value))
    if lines:
        text = _BLANK_IN_LINES.sub(" ", text.replace("\r\n", "\n"))
    else:
        text = _BLANK.sub(" ", text)
    return _CONTROL.sub("", text)


def label(display: Sequence[Mapping[str, Any]], lang: str = "en", default: str = "") -> str:
    """The ``name`` of the display entry for ``lang`` (then English, then any)."""
    by_lang = {str(d.get("locale", ""))[:2]: d for d in display if isinstance(d, Mapping)}
    for key in (lang, "en", *by_lang):
        name = by_lang.get(key, {}).get("name")
        if isinstance(name, str) and name:
            return terminal_text(name)
    return default


def type_label(vct: str, lang: str = "en") -> str:
    """The name Keten gives a credential type (the ``vct`` itself for a foreign type)."""
    known = REGISTRY.get(vct)
    return known.name.get(lang, known.name["en"]) if known else terminal_text(vct)


def type_claim_label(vct: str, path: Sequence[Element], lang: str = "en") -> str:
    """The label Keten's type gives a claim path, else the dotted path itself."""
    known = REGISTRY.get(vct)
    key = tuple(map(str, path))
    if known is not None and key in known.claim_labels:
        return known.label(key, lang)
    return terminal_text(".".join(key))


def flatten(claims: Mapping[str, Any], prefix: tuple[str | int, ...] = ()
            ) -> list[tuple[tuple[str | int, ...], Any]]:
    """Every leaf claim with its path; nested objects (the address) become one row each."""
    rows: list[tuple[tuple[str | int, ...], Any]] = []
    for key, value in claims.items():
        path = (*prefix, key)
        if isinstance(value, Mapping) and value:
            rows.extend(flatten(value, path))
        elif isinstance(value, list) and any(isinstance(v, Mapping) for v in value):
            for index, item in enumerate(value):
                if isinstance(item, Mapping):
                    rows.extend(flatten(item, (*path, index)))
                else:
                    rows.append(((*path, index), item))
        else:
            rows.append((path, value))
    return rows


@dataclass(frozen=True)
class CredentialCard:
    """One credential as the person sees it (all copies share these facts)."""

    id: str
    vct: str
    issuer: str
    issuer_name: str
    issuer_url: str
    accredited: bool
    iat: int
    exp: int | None
    received_at: int
    status: str  # valid | suspended | revoked | unknown, as last checked on the registry
    checked_at: int | None
    copies_left: int
    copies_total: int
    claims: dict[str, Any] = field(repr=False)
    display: dict[str, Any] = field(repr=False)

    def state(self, now: int) -> str:
        """valid, suspended, revoked, expired or unknown (revocation outranks expiry)."""
        if self.status in ("revoked", "suspended"):
            return self.status
        if self.exp is not None and now >= self.exp:
            return "expired"
        return self.status

    def type_name(self, lang: str = "en") -> str:
        return label(self.display.get("credential", []), lang, type_label(self.vct, lang))

    def claim_label(self, path: Sequence[Element], lang: str = "en") -> str:
        """The issuer's label for a claim path, else the path itself."""
        for entry in self.display.get("claims", []) or []:
            if isinstance(entry, Mapping) and list(entry.get("path", [])) == list(path):
                found = label(entry.get("display", []), lang)
                if found:
                    return found
        return type_claim_label(self.vct, path, lang)

    def to_json(self, now: int, *, claims: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "type": self.type_name(), "vct": self.vct, "issuer": self.issuer,
            "issuer_name": self.issuer_name, "accredited": self.accredited,
            "state": self.state(now), "issued_at": self.iat, "expires_at": self.exp,
            "checked_at": self.checked_at, "copies_left": self.copies_left,
            "copies_total": self.copies_total}
        if claims:
            out["claims"] = self.claims
        return out


@dataclass(frozen=True)
class CopyRow:
    """One bound copy: the issued SD-JWT and the holder key only it uses."""

    id: str
    credential_id: str
    token: str = field(repr=False)
    holder_key: Ed25519PrivateKey = field(repr=False)
    used_at: int | None
    used_for: str | None


@dataclass(frozen=True)
class HistoryEntry:
    """One answer to a verifier: what left the wallet, and the verifier's signed receipt.

    ``outcome``: ``accepted`` or ``refused`` (the verified receipt says which), ``declined``
    (nothing left), ``sent`` (a verifier without Keten receipts took it), or, when the
    answer failed after the data left, ``sent, receipt invalid`` (the receipt that did not
    verify is kept in ``receipt_jwt``), ``sent, verifier error``, ``sent, answer unreadable``
    or ``maybe sent, no answer``. ``redirect_uri`` is only on the entry
    :meth:`~ssiwallet.wallet.wallet.Wallet.present` returns (where the verifier would send
    the person next); the history does not keep it.
    """

    id: str
    at: int
    verifier: str
    name: str
    purpose: dict[str, str]
    outcome: str
    credentials: list[str]
    disclosed: dict[str, list[list[str | int]]]
    reasons: list[str]
    receipt: dict[str, Any] | None
    receipt_jwt: str | None = field(repr=False)
    redirect_uri: str | None = field(default=None, repr=False)

    @property
    def receipt_status(self) -> str | None:
        """``verified``, ``invalid`` (a Keten receipt that did not verify), ``none`` (data
        left without a receipt), or ``None`` when nothing left (declined)."""
        if self.receipt is not None:
            return "verified"
        if self.outcome == "declined":
            return None
        return "invalid" if self.receipt_jwt else "none"

    def to_json(self) -> dict[str, Any]:
        out = {"id": self.id, "at": self.at, "verifier": self.verifier, "name": self.name,
               "purpose": self.purpose, "outcome": self.outcome,
               "credentials": self.credentials, "disclosed": self.disclosed,
               "reasons": self.reasons, "receipt": self.receipt,
               "receipt_status": self.receipt_status, "receipt_jwt": self.receipt_jwt}
        if (note := self.receipt_note) is not None:
            out["receipt_note"] = note
        return out

    @property
    def receipt_note(self) -> str | None:
        """In words, why a disclosure that left has no verified receipt (else ``None``)."""
        return {"none": NO_RECEIPT, "invalid": RECEIPT_INVALID}.get(self.receipt_status or "")


CARD_SQL = """
SELECT c.id, c.vct, c.issuer, c.issuer_name, c.issuer_url, c.accredited, c.iat, c.exp,
       c.received_at, c.status, c.checked_at,
       (SELECT count(*) FROM copies p WHERE p.credential_id = c.id AND p.used_at IS NULL),
       (SELECT count(*) FROM copies p WHERE p.credential_id = c.id),
       c.claims, c.display
FROM credentials c
"""


def card_from_row(row: sqlite3.Row | tuple[Any, ...]) -> CredentialCard:
    (cid, vct, issuer, issuer_name, issuer_url, accredited, iat, exp, received_at, status,
     checked_at, left, total, claims, display) = row
    return CredentialCard(cid, vct, issuer, issuer_name, issuer_url, bool(accredited), iat, exp,
                          received_at, status, checked_at, left, total, json.loads(claims),
                          json.loads(display))


HISTORY_SQL = """SELECT id, at, verifier, name, purpose, outcome, credentials, disclosed,
reasons, receipt, receipt_jwt FROM history"""


def history_from_row(row: sqlite3.Row | tuple[Any, ...]) -> HistoryEntry:
    (hid, at, verifier, name, purpose, outcome, creds, disclosed, reasons, receipt,
     receipt_jwt) = row
    return HistoryEntry(hid, at, verifier, name, json.loads(purpose), outcome, json.loads(creds),
                        json.loads(disclosed), json.loads(reasons),
                        json.loads(receipt) if receipt else None, receipt_jwt)


def copy_from_row(row: sqlite3.Row | tuple[Any, ...]) -> CopyRow:
    cid, credential_id, token, key, used_at, used_for = row
    return CopyRow(cid, credential_id, token, Ed25519PrivateKey(bytes(key)), used_at, used_for)


COPY_SQL = "SELECT id, credential_id, token, holder_key, used_at, used_for FROM copies"
