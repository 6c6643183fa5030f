"""``make demo``: the main job of Keten, end to end, in one readable transcript.

At this stage everything runs in one process with real keys and real tokens: a school
issues a diploma as an SD-JWT VC, an employer asks for three claims with a DCQL query,
the citizen's wallet discloses exactly those with key binding, and the employer's
verifier checks everything and shows what it learned and what it did not. The demo
exits non-zero if any step does not end as stated.
"""

from __future__ import annotations

import json
import secrets
import sys
import time
from typing import Any

from ssiwallet.core import sdjwt
from ssiwallet.core.credtypes import get_type
from ssiwallet.core.dcql import parse_query
from ssiwallet.core.dcql_match import Candidate, check_presented, evaluate
from ssiwallet.core.didkey import did_key_from_public, public_key_from_did_key
from ssiwallet.core.keys import Ed25519PrivateKey, PublicKey
from ssiwallet.core.vc import VerifiedVc, issue_vc, verify_vc
from ssiwallet.errors import SsiError

DIPLOMA_VCT = "urn:keten:vct:diploma:1"
EMPLOYER = "decentralized_identifier:did:key:employer-desk"
YEAR = 365 * 86400
CLAIMS = {
    "title": "Bachelor in de Toegepaste Informatica",
    "eqf_level": 6,
    "field_of_study": "Informatics",
    "awarded_on": "2024-06-28",
    "institution": "Hogeschool Gent",
    "holder_name": "Amira El Idrissi",
}
QUERY = {  # "a diploma at EQF level 6 or higher: title, level, institution"
    "credentials": [{
        "id": "diploma",
        "format": "dc+sd-jwt",
        "meta": {"vct_values": [DIPLOMA_VCT]},
        "claims": [{"path": ["title"]}, {"path": ["eqf_level"], "values": [6, 7, 8]},
                   {"path": ["institution"]}],
    }],
}


class DemoFailure(Exception):
    """A scenario did not end as the transcript says it should."""


def say(step: str, text: str = "") -> None:
    print(f"\n\033[1m{step}\033[0m" if sys.stdout.isatty() else f"\n{step}")
    if text:
        print(text)


def show(obj: Any, indent: int | None = 2) -> str:
    return "    " + json.dumps(obj, indent=indent, ensure_ascii=False).replace("\n", "\n    ")


def passed(what: str) -> None:
    """Report a check that the preceding call enforced (it raises when the check fails)."""
    print(f"    ✓ {what}")


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise DemoFailure(what)
    print(f"    ✓ {what}")


def run() -> None:
    now = int(time.time())
    diploma = get_type(DIPLOMA_VCT)
    school_key = Ed25519PrivateKey.generate()
    school = did_key_from_public(school_key.public_key)
    kid = f"{school}#{school.split(':')[-1]}"

    def resolve(iss: str, kid: str | None, *, at: int) -> PublicKey:
        """did:key resolves from the identifier itself; the registry comes later."""
        if kid is None or not kid.startswith(iss + "#"):
            raise SsiError("kid does not belong to the issuer", code="demo.bad_kid")
        return public_key_from_did_key(kid)

    say("1. The school issues a diploma",
        f"    issuer  {school}\n    type    {diploma.name['en']} ({DIPLOMA_VCT})")
    diploma.validate(CLAIMS)
    passed("claims valid against the diploma JSON Schema")
    holder_key = Ed25519PrivateKey.generate()  # one fresh key per credential copy
    issued = issue_vc(issuer=school, kid=kid, key=school_key, vct=DIPLOMA_VCT, claims=CLAIMS,
                      holder_jwk=holder_key.public_key.to_jwk(), now=now, validity=5 * YEAR)
    digests = len(issued.payload["_sd"])
    print(f"    SD-JWT VC of {len(issued.compact())} characters: {len(issued.disclosures)} "
          f"disclosures, {digests} digests in the signed payload "
          f"({digests - len(issued.disclosures)} decoys)")
    held = verify_vc(issued.sd_jwt, lookup=resolve, now=now, key_binding=None, expect_kb=False)
    expect(held.disclosed == CLAIMS, "the wallet verified the credential before storing it")

    say("2. An employer asks for a diploma at EQF level 6+ (DCQL query)",
        show(QUERY["credentials"][0]["claims"], indent=None))
    query = parse_query(QUERY)
    nonce = secrets.token_urlsafe(16)
    result = evaluate(query, [Candidate("my-diploma", "dc+sd-jwt", DIPLOMA_VCT, held.disclosed)])
    expect(result.satisfied, "the wallet found a matching credential")
    paths = list(result.selection()["diploma"].paths)
    print("    the wallet will disclose: " + ", ".join(
        f"{diploma.label(p[0], 'en')}" for p in paths if isinstance(p[0], str)))

    say("3. The citizen's wallet presents 3 claims with key binding")
    shown = sdjwt.present(issued.sd_jwt, paths, holder_key=holder_key, nonce=nonce,
                          aud=EMPLOYER, iat=now)
    print(f"    {len(shown.disclosures)} of {len(issued.disclosures)} disclosures sent, "
          f"KB-JWT bound to nonce {nonce[:8]}… and audience {EMPLOYER}")

    say("4. The employer verifies")
    policy = sdjwt.KeyBindingPolicy(nonce=nonce, aud=EMPLOYER)
    verified: VerifiedVc = verify_vc(shown.compact(), lookup=resolve, now=now,
                                     key_binding=policy)
    passed("issuer signature (EdDSA, key resolved from the issuer's DID as of iat)")
    passed("every disclosure matches a signed digest; none unreferenced or repeated")
    passed("key binding: nonce, audience, freshness and sd_hash")
    problems = check_presented(query, {"diploma": [
        Candidate("presented", "dc+sd-jwt", verified.vct, verified.disclosed)]})
    expect(not problems, "the disclosed claims satisfy the DCQL query")
    learned = verified.disclosed
    print("\n    What the employer learned:\n" + show(learned))
    hidden = sorted(set(CLAIMS) - set(learned))
    print("    What it did not learn (only salted digests): " + ", ".join(hidden))
    expect(set(learned) == {"title", "eqf_level", "institution"},
           "exactly the three requested claims were disclosed")

    say("5. Someone replays the presentation at another desk")
    try:
        verify_vc(shown.compact(), lookup=resolve, now=now, key_binding=sdjwt.KeyBindingPolicy(
            nonce=secrets.token_urlsafe(16), aud="decentralized_identifier:did:key:bar"))
    except SsiError as exc:
        expect(exc.code == "sdjwt.kb_nonce_mismatch", f"refused: {exc.code} ({exc.detail})")
    else:
        raise DemoFailure("a replayed presentation was accepted")

    say("6. Someone slips in a disclosure taken from another credential")
    other = issue_vc(issuer=school, kid=kid, key=school_key, vct=DIPLOMA_VCT,
                     claims={**CLAIMS, "awarded_on": "1999-06-30"},
                     holder_jwk=holder_key.public_key.to_jwk(), now=now)
    stolen = next(d for d in other.disclosures if d.name == "awarded_on")
    forged = sdjwt.SdJwt(shown.payload, shown.signatures,
                         (*shown.disclosures, stolen.encoded), shown.kb_jwt)
    try:
        verify_vc(forged, lookup=resolve, now=now, key_binding=policy)
    except SsiError as exc:
        expect(exc.code == "sdjwt.unreferenced_disclosure", f"refused: {exc.code}")
    else:
        raise DemoFailure("a forged presentation was accepted")


def main(argv: list[str] | None = None) -> int:
    print("Keten — public bodies sign facts, citizens show only what is needed.")
    try:
        run()
    except (DemoFailure, SsiError) as exc:
        print(f"\nDEMO FAILED: {exc!r}", file=sys.stderr)
        return 1
    print("\nAll scenarios ended as stated.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
