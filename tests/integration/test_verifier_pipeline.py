"""The verification pipeline against a real did:keten registry node on loopback.

An issuer DID created on the chain and accredited by the steward, a status list on the
registry, credentials issued with the issuer's registry key, presentations made by the
holder: each scenario changes one fact on the registry (or one thing in the presentation)
and must fail with its specific code while every other check is still listed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import unused_port

from registry.author import Controller
from registry.client.client import RegistryClient, TrustPolicy
from ssiwallet.core import sdjwt
from ssiwallet.core.credtypes import identity_claims
from ssiwallet.core.dcql import DcqlQuery, parse_query
from ssiwallet.core.keys import Ed25519PrivateKey
from ssiwallet.core.sdjwt import IssuedSdJwt
from ssiwallet.core.statuslist import StatusRef
from ssiwallet.core.vc import DAY, issue_vc
from tests.support.clock import FakeClock
from verifier.facts import RegistryClientFacts
from verifier.model import RegistryFacts
from verifier.pipeline import Verdict, verify_presentation

pytestmark = pytest.mark.asyncio

T0 = DAY * 20_700 + 10 * 3600  # 10:00 UTC: credentials of this day carry iat = 00:00
IDENTITY = "urn:keten:vct:identity:1"
DIPLOMA = "urn:keten:vct:diploma:1"
CLIENT_ID = "decentralized_identifier:did:keten:CafeDeZwaan"
NONCE = "it-nonce-4f1c"
ADDRESS = {"street_address": "Veldstraat 1", "postal_code": "9000", "locality": "Gent",
           "country": "BE"}
ADULT = identity_claims(given_name="Amira", family_name="El Idrissi",
                        birthdate=date(1990, 5, 17), address=ADDRESS, today=date(2026, 9, 1))
MINOR = identity_claims(given_name="Noor", family_name="Peeters", birthdate=date(2012, 1, 2),
                        address=ADDRESS, today=date(2026, 9, 1))
AGE_18 = parse_query({"credentials": [{
    "id": "age", "format": "dc+sd-jwt", "meta": {"vct_values": [IDENTITY]},
    "claims": [{"path": ["age_over_18"], "values": [True]}]}]})
ALL_CHECKS = ["vp_token", "format", "issuer_key", "signature", "key_binding",
              "issuer_accredited", "status", "validity", "claims_schema", "dcql"]


@dataclass
class Held:
    """A credential in a wallet: the issued SD-JWT VC and the holder key it is bound to."""

    issued: IssuedSdJwt
    holder: Ed25519PrivateKey


@dataclass
class Scene:
    """A registry with one accredited issuer and its status list, and a verifier desk."""

    reg: Any
    client: RegistryClient
    clock: FakeClock
    issuer: Controller
    grant: str
    list_id: str
    next_idx: int = 0

    @property
    def status_uri(self) -> str:
        return f"{self.reg.url}/status/{self.list_id}"

    def issue(self, *, claims: dict[str, Any] | None = None, vct: str = IDENTITY,
              validity: int = 365 * DAY, uri: str | None = None) -> tuple[Held, int]:
        """A credential issued now with the issuer's current key; (held, status index)."""
        holder = Ed25519PrivateKey.generate()
        self.next_idx += 1
        issued = issue_vc(issuer=str(self.issuer.did), kid=self.issuer.kid, key=self.issuer.key,
                          vct=vct, claims=ADULT if claims is None else claims,
                          holder_jwk=holder.public_key.to_jwk(), now=self.clock(),
                          validity=validity, status=StatusRef(self.next_idx,
                                                              uri or self.status_uri))
        return Held(issued, holder), self.next_idx

    def present(self, held: Held, paths: list[tuple[str, ...]] | None = None, *,
                query_id: str = "age", nonce: str = NONCE, aud: str = CLIENT_ID
                ) -> dict[str, list[str]]:
        shown = sdjwt.present(held.issued.sd_jwt, paths or [("age_over_18",)],
                              holder_key=held.holder, nonce=nonce, aud=aud, iat=self.clock())
        return {query_id: [shown.compact()]}

    async def verify(self, vp_token: dict[str, list[str]], query: DcqlQuery = AGE_18,
                     facts: RegistryFacts | None = None) -> Verdict:
        return await verify_presentation(vp_token, query=query, nonce=NONCE,
                                         client_id=CLIENT_ID,
                                         facts=facts or RegistryClientFacts(self.client),
                                         now=self.clock())

    async def set_status(self, idx: int, value: int) -> None:
        await self.client.submit_signed(self.issuer, "status.update",
                                        {"list": self.list_id, "indices": [idx],
                                         "value": value})


@pytest_asyncio.fixture
async def scene(registry_node: Any) -> AsyncIterator[Scene]:
    clock = FakeClock(T0)
    reg = await registry_node(clock=clock)
    async with aiohttp.ClientSession() as session:
        client = RegistryClient(reg.url, session=session, clock=clock,
                                policy=TrustPolicy(genesis_hash=reg.genesis_hash))
        issuer = await reg.new_did("Gemeente Gent")
        grant = await client.submit_signed(reg.steward, "accreditation.grant", {
            "issuer": issuer.did, "vcts": [IDENTITY], "valid_from": clock(),
            "valid_until": None})
        await client.submit_signed(issuer, "status.list.create",
                                   {"name": "main", "bits": 2, "size": 1024})
        yield Scene(reg, client, clock, issuer, str(grant["id"]),
                    f"{issuer.did.method_id}.main")
        await client.close()


def codes(verdict: Verdict) -> list[tuple[str, str]]:
    return [(c.name, c.code) for c in verdict.failures]


def listed(verdict: Verdict) -> list[str]:
    return [c.name for c in verdict.checks]


def assert_only_failure(verdict: Verdict, name: str, code: str) -> None:
    """``name`` failed with ``code``, every check was run, and all the others passed."""
    assert not verdict.ok and verdict.disclosed == {}
    assert codes(verdict) == [(name, code)]
    assert listed(verdict) == ALL_CHECKS


# --- accepted ----------------------------------------------------------------------------------


async def test_valid_presentation_is_accepted(scene: Scene) -> None:
    held, _ = scene.issue()
    verdict = await scene.verify(scene.present(held))
    assert verdict.ok, verdict.failures
    assert listed(verdict) == ALL_CHECKS and all(c.ok for c in verdict.checks)
    assert verdict.disclosed == {"age": [{"age_over_18": True}]}
    [info] = verdict.credentials
    assert (info.iss, info.vct, info.iat, info.verified) == (
        scene.issuer.did, IDENTITY, T0 - T0 % DAY, True)


async def test_credential_issued_before_a_key_rotation_still_verifies(scene: Scene) -> None:
    before, _ = scene.issue()
    old_kid = scene.issuer.kid
    scene.clock.advance(3 * DAY)
    scene.issuer.seq = await scene.client.sequence(scene.issuer.did)
    await scene.client.submit(scene.issuer.rotate_tx(scene.reg.chain, scene.clock()))
    assert scene.issuer.kid != old_kid
    verdict = await scene.verify(scene.present(before))
    assert verdict.ok, verdict.failures
    after, _ = scene.issue()  # the new key signs from now on
    assert (await scene.verify(scene.present(after))).ok


# --- status on the registry --------------------------------------------------------------------


@pytest.mark.parametrize(("value", "code"), [(1, "status.revoked"), (2, "status.suspended")])
async def test_revoked_or_suspended(scene: Scene, value: int, code: str) -> None:
    held, idx = scene.issue()
    await scene.set_status(idx, value)
    assert_only_failure(await scene.verify(scene.present(held)), "status", code)


async def test_a_revocation_counts_at_the_next_presentation(scene: Scene) -> None:
    held, idx = scene.issue()
    facts = RegistryClientFacts(scene.client)
    assert (await scene.verify(scene.present(held), facts=facts)).ok
    await scene.set_status(idx, 1)  # no time passes: the default facts fetch afresh
    assert_only_failure(await scene.verify(scene.present(held), facts=facts), "status",
                        "status.revoked")


async def test_status_list_is_cached_when_asked_then_refetched(scene: Scene) -> None:
    held, idx = scene.issue()
    facts = RegistryClientFacts(scene.client, status_max_age=600)
    assert (await scene.verify(scene.present(held), facts=facts)).ok
    await scene.set_status(idx, 1)
    scene.clock.advance(120)  # within the token's ttl (300 s): the cached list answers
    assert (await scene.verify(scene.present(held), facts=facts)).ok
    scene.clock.advance(200)  # past the ttl: the registry's limit wins over ours
    assert_only_failure(await scene.verify(scene.present(held), facts=facts), "status",
                        "status.revoked")


async def test_status_list_elsewhere_fails_closed(scene: Scene) -> None:
    held, _ = scene.issue(uri=f"http://status.example/status/{scene.list_id}")
    verdict = await scene.verify(scene.present(held))
    assert_only_failure(verdict, "status", "status.unavailable")
    assert "registry.status_uri_refused" in verdict.failures[0].detail


async def test_unreachable_registry_fails_closed(scene: Scene) -> None:
    held, _ = scene.issue()
    async with aiohttp.ClientSession() as session:
        gone = RegistryClient(f"http://127.0.0.1:{unused_port()}", session=session,
                              clock=scene.clock, timeout=2)
        verdict = await scene.verify(scene.present(held), facts=RegistryClientFacts(gone))
    assert codes(verdict) == [("issuer_key", "registry.unavailable"),
                              ("dcql", "dcql.unsatisfied")]
    assert listed(verdict) == ["vp_token", "format", "issuer_key", "dcql"]


# --- validity ----------------------------------------------------------------------------------


async def test_expired(scene: Scene) -> None:
    held, _ = scene.issue(validity=DAY)
    scene.clock.advance(3 * DAY)
    assert_only_failure(await scene.verify(scene.present(held)), "validity", "vc.expired")


# --- accreditation and keys as of the issuance day ---------------------------------------------


async def test_issuer_not_accredited_for_the_vct(scene: Scene) -> None:
    query = parse_query({"credentials": [{
        "id": "diploma", "format": "dc+sd-jwt", "meta": {"vct_values": [DIPLOMA]},
        "claims": [{"path": ["eqf_level"]}]}]})
    held, _ = scene.issue(vct=DIPLOMA, claims={"title": "Bachelor", "eqf_level": 6})
    verdict = await scene.verify(scene.present(held, [("eqf_level",)], query_id="diploma"),
                                 query)
    assert_only_failure(verdict, "issuer_accredited", "issuer.not_accredited")


async def test_accreditation_revoked_before_iat(scene: Scene) -> None:
    earlier, _ = scene.issue()
    day3 = scene.clock.advance(2 * DAY) - (scene.clock() % DAY)
    await scene.client.submit_signed(scene.reg.steward, "accreditation.revoke",
                                     {"accreditation": scene.grant, "since": day3 + 3600})
    later, _ = scene.issue()  # iat = day3 00:00; the revocation took effect during that day
    assert_only_failure(await scene.verify(scene.present(later)), "issuer_accredited",
                        "issuer.not_accredited")
    # what was issued while the accreditation held is still vouched for
    assert (await scene.verify(scene.present(earlier))).ok


async def test_key_compromised_before_iat(scene: Scene) -> None:
    held, _ = scene.issue()
    scene.clock.advance(3 * DAY)
    scene.issuer.seq = await scene.client.sequence(scene.issuer.did)
    leaked_at = T0 - 3600  # key-1 leaked the morning it signed: its whole day fails closed
    await scene.client.submit(scene.issuer.rotate_tx(scene.reg.chain, scene.clock(),
                                                     compromised_since=leaked_at))
    verdict = await scene.verify(scene.present(held))
    assert not verdict.ok
    assert codes(verdict) == [("issuer_key", "registry.key_not_valid"),
                              ("dcql", "dcql.unsatisfied")]
    assert "compromised" in verdict.failures[0].detail
    # no signature can be trusted without the key: the checks after it are not run
    assert listed(verdict) == ["vp_token", "format", "issuer_key", "dcql"]
    assert verdict.credentials[0].iss is None


# --- key binding -------------------------------------------------------------------------------


async def test_wrong_nonce(scene: Scene) -> None:
    held, _ = scene.issue()
    verdict = await scene.verify(scene.present(held, nonce="nonce-of-another-session"))
    assert_only_failure(verdict, "key_binding", "sdjwt.kb_nonce_mismatch")


async def test_kb_for_another_verifier(scene: Scene) -> None:
    held, _ = scene.issue()
    verdict = await scene.verify(scene.present(
        held, aud="decentralized_identifier:did:keten:OtherDesk"))
    assert_only_failure(verdict, "key_binding", "sdjwt.kb_aud_mismatch")


# --- the query ---------------------------------------------------------------------------------


async def test_disclosed_claims_do_not_satisfy_the_query(scene: Scene) -> None:
    held, _ = scene.issue()
    verdict = await scene.verify(scene.present(held, [("given_name",)]))
    assert_only_failure(verdict, "dcql", "dcql.unsatisfied")
    assert "age_over_18" in verdict.failures[0].detail


async def test_claim_value_outside_the_querys_values(scene: Scene) -> None:
    held, _ = scene.issue(claims=MINOR)
    assert_only_failure(await scene.verify(scene.present(held)), "dcql", "dcql.value_mismatch")
