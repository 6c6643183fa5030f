"""Fixtures and helpers of the TUI tests: the loopback services, and a wallet with fixed data.

The flow tests drive the app against the real registry, issuer and verifier services of
the integration tests. The snapshot tests need the same picture on every run, so their
wallet is filled without network: rows with fixed ids and times go straight into the
store, and the clock stands still.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import App
from textual.content import Content
from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Input, Static

from ssiwallet.core.claimpath import ClaimPath
from ssiwallet.core.credtype_schemas import VCT_COMPETENCE, VCT_DIPLOMA, VCT_IDENTITY
from ssiwallet.core.dcql_match import CredentialMatch
from ssiwallet.core.keys import Ed25519PrivateKey
from ssiwallet.core.oid4vp import build_request_object, client_id_for, parse_request_object
from ssiwallet.holder.present import Plan
from ssiwallet.tui.app import KetenApp
from ssiwallet.tui.fmt import flatten
from ssiwallet.wallet.records import CredentialCard
from ssiwallet.wallet.sealed import FAST_KDF
from ssiwallet.wallet.wallet import Wallet

PASSPHRASE = "correct horse battery"
NOW = 1_750_000_000  # 2025-06-15 15:06:40 UTC
DAY = 86400
REGISTRY_URL = "https://registry.keten.example"

TOWN_DID = "did:keten:8nA2fGemeenteGent1xQ"
SCHOOL_DID = "did:keten:4tRkUniversiteitGnt7"
ACADEMY_DID = "did:keten:9zzAcademyUnknown2Vb"
LIBRARY_DID = "did:keten:6vBibGentReadingRm3"
CAFE_DID = "did:keten:2wCafeDeKroonGentZZ9"
EMPLOYER_DID = "did:keten:5eEmpWerkgeverNVGnt4J"

IDENTITY = {"given_name": "Noor", "family_name": "Bakker", "birthdate": "2000-05-17",
            "age_over_12": True, "age_over_16": True, "age_over_18": True,
            "age_over_21": True, "age_over_65": False,
            "address": {"street_address": "Korenmarkt 3", "postal_code": "9000",
                        "locality": "Gent", "country": "BE"}}
DIPLOMA = {"holder_name": "Noor Bakker", "title": "Master in de rechten", "eqf_level": 7,
           "field_of_study": "Rechten", "awarded_on": "2024-07-01",
           "institution": "Universiteit Gent"}
COMPETENCE = {"given_name": "Noor", "family_name": "Bakker", "skill_name": "Python",
              "esco_skill": "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-"
                            "96344886e14d", "level": "advanced", "assessed_on": "2025-02-03",
              "assessor": "Academie Onbekend"}

# (id, vct, issuer DID, issuer name, accredited, status, exp, copies used/total, claims)
CREDENTIALS = [
    ("c1d0000000000001", VCT_IDENTITY, TOWN_DID, "Gemeente Gent", True, "valid", None,
     (3, 10), IDENTITY),
    ("c1d0000000000002", VCT_DIPLOMA, SCHOOL_DID, "Universiteit Gent", True, "revoked", None,
     (1, 4), DIPLOMA),
    ("c1d0000000000003", VCT_COMPETENCE, ACADEMY_DID, "Academie Onbekend", False, "unknown",
     None, (0, 10), COMPETENCE),
    ("c1d0000000000004", VCT_DIPLOMA, SCHOOL_DID, "Universiteit Gent", True, "valid",
     NOW - 30 * DAY, (0, 2), {**DIPLOMA, "title": "Bachelor in de rechten", "eqf_level": 6}),
]


def fill(wallet: Wallet) -> None:
    """Put the fixed credentials, copies and history into ``wallet`` (no network)."""
    with wallet.store.transaction() as db:
        for n, (cid, vct, did, name, accredited, status, exp, (used, total), claims) in \
                enumerate(CREDENTIALS):
            display: dict[str, list[Any]] = {"issuer": [], "credential": [], "claims": []}
            db.execute("INSERT INTO credentials VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", (
                cid, NOW - (n + 1) * DAY, vct, did, f"https://issuer{n}.keten.example",
                vct.split(":")[3], json.dumps(claims), json.dumps(display), name,
                int(accredited), NOW - 400 * DAY, exp, status, NOW - 3600))
            db.executemany("INSERT INTO copies VALUES (?,?,?,?,?,?)", [
                (f"{cid}-{k:02d}", cid, "not-a-token", bytes([k + 1]) * 32,
                 NOW - DAY if k < used else None, LIBRARY_DID if k < used else None)
                for k in range(total)])
        library = {"nl": "Toegang tot de bibliotheek", "en": "Access to the library"}
        receipt = {"jti": "rcpt-7f3a9c21d4e8", "iat": NOW - 2 * 3600, "result": "accepted",
                   "retention": 600, "purpose": library,
                   "received": [{"vct": VCT_IDENTITY, "issuer": TOWN_DID,
                                 "claims": [["age_over_18"]]}]}
        refused = {"jti": "rcpt-0b1c2d3e4f50", "iat": NOW - 26 * 3600, "result": "refused",
                   "retention": 0, "purpose": {"nl": "Aanwerving", "en": "Recruitment"},
                   "received": []}
        history = [
            ("h0000000000000001", NOW - 2 * 3600, LIBRARY_DID, "Bibliotheek Gent", library,
             "accepted", ["c1d0000000000001"], {"c1d0000000000001": [["age_over_18"]]}, [],
             receipt, "header.payload.signature"),
            ("h0000000000000002", NOW - 5 * 3600, CAFE_DID, "Café De Kroon",
             {"nl": "Leeftijd", "en": "Age check"}, "declined", ["c1d0000000000001"], {}, [],
             None, None),
            ("h0000000000000003", NOW - 26 * 3600, EMPLOYER_DID, "Werkgever NV",
             {"nl": "Aanwerving", "en": "Recruitment"}, "refused", ["c1d0000000000002"],
             {"c1d0000000000002": [["holder_name"], ["title"], ["eqf_level"]]},
             ["status.revoked"], refused, "header.payload.signature"),
        ]
        db.executemany("INSERT INTO history VALUES (?,?,?,?,?,?,?,?,?,?,?)", [
            (h, at, v, n, json.dumps(p), o, json.dumps(c), json.dumps(d), json.dumps(r),
             None if rc is None else json.dumps(rc), jwt)
            for h, at, v, n, p, o, c, d, r, rc, jwt in history])


def fixed_wallet(home: Path) -> Wallet:
    """A new wallet in ``home`` holding the fixed data, on a clock that stands still."""
    wallet = Wallet.create(home, PASSPHRASE, registry_url=REGISTRY_URL, kdf=FAST_KDF,
                           clock=lambda: NOW)
    fill(wallet)
    return wallet


def fixed_app(home: Path, wallet: Wallet | None = None) -> KetenApp:
    """The app on ``home`` with the fixed clock (unlocked when ``wallet`` is given)."""
    return KetenApp(home, kdf=FAST_KDF, clock=lambda: NOW, wallet=wallet)


# ------------------------------------------------------------------------------ helpers
def _plain(value: object) -> str:
    if isinstance(value, Text | Content):
        return value.plain
    return str(value)


def screen_text(app: App[Any]) -> str:
    """Every text on the current screen: statics, buttons, inputs and table cells."""
    parts: list[str] = []
    for widget in app.screen.query("*"):
        if isinstance(widget, Button):
            parts.append(_plain(widget.label))
        elif isinstance(widget, Static):
            parts.append(_plain(widget.content))
            parts.extend(str(t) for t in (widget.border_title, widget.border_subtitle) if t)
        elif isinstance(widget, Input):
            parts.append(widget.value)
        elif isinstance(widget, DataTable):
            for row in range(widget.row_count):
                parts.append(" | ".join(_plain(c) for c in widget.get_row_at(row)))
    return "\n".join(parts)


async def wait_for(pilot: Pilot[Any], check: Callable[[], object], *,
                   timeout: float = 15.0, what: str = "the screen") -> None:
    """Let the app (and the services in the same loop) run until ``check()`` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}:\n{screen_text(pilot.app)}")
        await pilot.pause(0.02)


async def type_into(pilot: Pilot[Any], selector: str, value: str) -> None:
    """Focus an input, set its value (pasting a long link), and let the app settle."""
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = value
    await pilot.pause()


def shows(app: App[Any], *needles: str) -> bool:
    """Whether the current screen shows every one of ``needles``."""
    text = screen_text(app)
    return all(n in text for n in needles)


# ------------------------------------------------------------------------------ a plan
def identity_card(wallet: Wallet) -> CredentialCard:
    """The fixed identity credential, as the wallet returns it."""
    return wallet.card(CREDENTIALS[0][0])


def fixed_plan(card: CredentialCard, *, over_ask: bool = True, registered: bool = True,
               satisfiable: bool = True) -> Plan:
    """A consent plan as :meth:`Wallet.prepare` would make it, built without network.

    The library asks for ``age_over_18`` and, when ``over_ask``, for the birthdate it is
    not registered for.
    """
    asked = [ClaimPath(["age_over_18"]), ClaimPath(["birthdate"])] if over_ask \
        else [ClaimPath(["age_over_18"])]
    query = {"credentials": [{"id": "identity", "format": "dc+sd-jwt",
                              "meta": {"vct_values": [VCT_IDENTITY]},
                              "claims": [{"path": list(p)} for p in asked]}]}
    key = Ed25519PrivateKey(bytes(range(32)))
    token = build_request_object(
        client_id=client_id_for(LIBRARY_DID), nonce="n" * 32, state="s" * 32,
        dcql_query=query, response_uri="https://library.keten.example/response", now=NOW,
        lifetime=300, key=key, kid=f"{LIBRARY_DID}#key-1")
    request = parse_request_object(token)
    leaving = {card.id: asked} if satisfiable else {}
    staying = {card.id: [ClaimPath(p) for p, _ in flatten(card.claims) if p not in asked]} \
        if satisfiable else {}
    matches = {"identity": CredentialMatch("identity", card.id, tuple(asked))} \
        if satisfiable else {}
    return Plan(request, LIBRARY_DID, "Bibliotheek Gent",
                {"nl": "Toegang tot de bibliotheek", "en": "Access to the library"},
                registered, matches, leaving, staying,
                [f"{VCT_IDENTITY}:birthdate"] if over_ask else [], satisfiable,
                [] if satisfiable else ["credential query 'identity': no credential of type "
                                        "urn:keten:vct:identity:1 in the wallet"])
