"""The scenarios a newcomer should see, each checked: a step that does not end as stated
raises :class:`~ssiwallet.demo.services.DemoFailure` and the demo exits 1.

The citizen's side is the wallet library the ``ssiwallet`` command and TUI use, with the
same text views the command prints; the clerk's side is the issuers' own commands and the
verifiers' HTTP API their desk pages use.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Callable
from typing import Any

from ssiwallet import cli_text
from ssiwallet.demo.services import ISSUER, REGISTRY, DemoFailure
from ssiwallet.demo.world import Issuer, Verifier, World, cosigned
from ssiwallet.wallet.records import CredentialCard, HistoryEntry
from ssiwallet.wallet.wallet import Wallet
from verifier.words import explain

__all__ = ["play"]

IDENTITY = {"given_name": "Noor", "family_name": "Bakker", "birthdate": "2001-03-14",
            "address": {"street_address": "Korenmarkt 3", "postal_code": "9000",
                        "locality": "Gent", "country": "BE"}}
COMPETENCE = {"given_name": "Noor", "family_name": "Bakker",
              "esco_skill": "http://data.europa.eu/esco/skill/"
                            "ccd0a1d9-afda-43d9-b901-96344886e14d",
              "skill_name": "Python (computer programming)", "level": "advanced",
              "assessed_on": "2026-10-02", "assessor": "VDAB Competentiecentrum Gent"}
DIPLOMA = {"holder_name": "Noor Bakker", "title": "Bachelor in de toegepaste informatica",
           "eqf_level": 6, "field_of_study": "Toegepaste informatica",
           "awarded_on": "2024-06-28", "institution": "Hogeschool Gent"}

Say = Callable[..., None]


def check(ok: bool, what: str) -> None:
    if not ok:
        raise DemoFailure(what)


def _indent(text: str) -> str:
    return "    " + text.replace("\n", "\n    ")


def receive(world: World, wallet: Wallet, key: str, claims: dict[str, Any], say: Say
            ) -> CredentialCard:
    issuer = world.issuers[key]
    (world.stack.workdir / f"{key}-claims.json").write_text(json.dumps(claims))
    offer = world.stack.run(ISSUER, "offer", "--config", issuer.config, "--claims",
                            f"{key}-claims.json")
    say(f"{issuer.name} creates an offer; the citizen gets the link and, separately, "
        f"PIN {offer['tx_code']}", f"$ ssi-issuer offer --config {issuer.config} --claims …")
    card = asyncio.run(wallet.receive(offer["offer_uri"], pin=offer["tx_code"]))
    same = all(card.claims.get(k) == v for k, v in claims.items())
    check(card.accredited and card.copies_total == 10 and same,
          f"the {key} credential was not received as offered")
    say("the wallet verified all 10 copies against the registry and stored them:",
        _indent(cli_text.card_detail(card, wallet.clock())))
    cosigned(world, say)  # an issuer's first credential created its status list
    return card


def present(wallet: Wallet, verifier: Verifier, say: Say) -> tuple[HistoryEntry,
                                                                   dict[str, Any]]:
    session = verifier.start()
    say(f"{verifier.name}'s desk shows a QR code with {session['uri'][:60]}…")
    plan = asyncio.run(wallet.prepare(session["uri"]))
    say("the wallet verified the signed request and looked the verifier up on the "
        "registry; the consent screen says:", _indent(cli_text.consent_text(plan,
                                                                           wallet.cards())))
    entry = asyncio.run(wallet.present(plan))
    return entry, verifier.result(session["id"])["result"]


def learned(view: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(c["path"], c["value"]) for c in view.get("claims", [])]


def library_age(world: World, wallet: Wallet, identity: CredentialCard, say: Say) -> None:
    entry, view = present(wallet, world.verifiers["library"], say)
    check(entry.outcome == "accepted" and view["ok"] is True, "the library refused")
    check(learned(view) == [("age_over_18", True)],
          f"the library learned more than age_over_18: {learned(view)}")
    check(entry.disclosed == {identity.id: [["age_over_18"]]}, "more than one claim left")
    say("the desk turns green. The library learned exactly: age_over_18 = true. Name, "
        "birthdate and address never left the wallet; the signed receipt says so:",
        _indent(cli_text.history_text([entry])))


def employer_diploma(world: World, wallet: Wallet, say: Say) -> None:
    entry, view = present(wallet, world.verifiers["employer"], say)
    check(entry.outcome == "accepted" and view["ok"] is True, "the employer refused")
    paths = sorted(p for p, _ in learned(view))
    check(paths == ["eqf_level", "holder_name", "institution", "title"],
          f"the employer learned {paths}")
    say("accepted. The employer learned: " + ", ".join(f"{p} = {v}" for p, v in
                                                      learned(view))
        + "; field of study and date awarded stayed in the wallet.")


def school_rotates(world: World, wallet: Wallet, say: Say) -> None:
    school = world.issuers["school"]
    rotated = world.stack.run(ISSUER, "rotate-key", "--config", school.config)
    say(f"{school.name} rotates its signing key; the registry now lists only "
        f"{rotated['kid'].split('#')[1]}", f"$ ssi-issuer rotate-key --config {school.config}")
    cosigned(world, say)
    entry, view = present(wallet, world.verifiers["employer"], say)
    check(entry.outcome == "accepted" and view["ok"] is True,
          f"the old diploma no longer verifies after rotation: {entry.reasons}")
    say("the diploma signed with key-1 still verifies: the registry keeps the key's "
        "history, and the verifier checks the key that was valid on the day of issue.")


def municipality_revokes(world: World, wallet: Wallet, say: Say) -> None:
    town: Issuer = world.issuers["municipality"]
    newest = town.admin("GET", "/admin/credentials")["credentials"][0]
    world.stack.run(ISSUER, "revoke", "--config", town.config, "--", newest["id"])
    say(f"{town.name} revokes the identity credential (one status.update on the registry "
        "flips the bit of all 10 copies)", f"$ ssi-issuer revoke --config {town.config} "
        f"{newest['id']}")
    cosigned(world, say)
    entry, view = present(wallet, world.verifiers["library"], say)
    codes = [r["code"] for r in view.get("reasons", [])]
    check(entry.outcome == "refused" and "status.revoked" in entry.reasons
          and "status.revoked" in codes, f"the revoked credential was not refused: {codes}")
    say("the desk turns red: " + explain("status.revoked", "nl") + " / "
        + explain("status.revoked", "en") + " (status.revoked)")
    cards = {c.vct: c for c in wallet.cards()}
    identity = cards["urn:keten:vct:identity:1"]
    check(identity.state(wallet.clock()) == "revoked", "the wallet does not show it revoked")
    say("the wallet re-checked the registry after the refusal: the card now reads REVOKED.",
        _indent(cli_text.card_table(wallet.cards(), wallet.clock())))


def registry_integrity(world: World, say: Say) -> None:
    verified = world.stack.run(REGISTRY, "verify", world.registry, "--genesis", world.genesis)
    check(verified.get("valid") is True, f"the chain does not verify: {verified}")
    with urllib.request.urlopen(world.mirror + "/health", timeout=30) as resp:
        mirror = json.loads(resp.read())
    check(mirror.get("height", -1) <= verified["height"], "the mirror is ahead of the node")
    say(f"anyone can replay the registry from genesis: {verified['size']} transactions in "
        f"{verified['height']} blocks verify (`ssi-registry verify URL --genesis HASH`); "
        f"the mirror re-validated up to block {mirror.get('height')}; two witnesses cosign "
        "each checkpoint, so even the operator cannot rewrite it unnoticed.")


def play(world: World, wallet: Wallet, say: Say, chapter: Callable[[str], None]) -> None:
    chapter("1. A citizen receives credentials")
    identity = receive(world, wallet, "municipality", IDENTITY, say)
    receive(world, wallet, "vdab", COMPETENCE, say)
    receive(world, wallet, "school", DIPLOMA, say)
    chapter("2. Proving age 18+ at the library desk, and nothing else")
    library_age(world, wallet, identity, say)
    chapter("3. Showing a diploma to an employer")
    employer_diploma(world, wallet, say)
    chapter("4. The school rotates its key; the old diploma still verifies")
    school_rotates(world, wallet, say)
    chapter("5. The municipality revokes; the next presentation fails with the reason")
    municipality_revokes(world, wallet, say)
    chapter("6. The disclosure history, with the verifiers' signed receipts")
    say("", _indent(cli_text.history_text(wallet.history())))
    check([h.outcome for h in wallet.history()] == ["refused", "accepted", "accepted",
                                                     "accepted"], "the history is incomplete")
    chapter("7. The registry: replayable, mirrored, witnessed")
    registry_integrity(world, say)
