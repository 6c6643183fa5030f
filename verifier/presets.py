"""Presets: the questions a verifier's desk can ask, each one DCQL query.

A preset asks for the fewest claims that serve its purpose ("age 18+" asks for
``age_over_18`` and nothing else). It may only ask for claims the verifier is registered
for on the registry: :func:`over_asked` lists every claim that is not, and the service
refuses to start with such a preset (a wallet would warn the citizen about it anyway).

Decisions:

* Every preset requires key binding and one credential per query (``multiple: false``).
* Presets name claims with concrete paths only (no ``null`` wildcards), so the comparison
  with the registration is exact.
* "Competence X from VDAB" is expressed as the competence type (which only accredited
  issuers such as VDAB can sign, checked per credential) plus a ``values`` constraint on
  ``esco_skill``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ssiwallet.core.claimpath import ClaimPath
from ssiwallet.core.credtype_schemas import VCT_COMPETENCE, VCT_DIPLOMA, VCT_IDENTITY
from ssiwallet.core.dcql import DcqlQuery, parse_query
from ssiwallet.errors import DcqlError
from verifier.errors import VerifierError

__all__ = ["BUILTIN", "Preset", "competence_preset", "over_asked", "registration_claims"]

PYTHON_SKILL = "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d"


@dataclass(frozen=True)
class Preset:
    """A named DCQL query with titles for the desk (nl, en)."""

    id: str
    title: dict[str, str]
    query_json: dict[str, Any]

    @property
    def query(self) -> DcqlQuery:
        return parse_query(self.query_json)

    def requested(self) -> dict[str, set[ClaimPath]]:
        """Claim paths asked for, per vct."""
        out: dict[str, set[ClaimPath]] = {}
        for cq in self.query_json["credentials"]:
            for vct in cq["meta"]["vct_values"]:
                paths = out.setdefault(vct, set())
                for claim in cq.get("claims", []):
                    paths.add(ClaimPath.parse(claim["path"]))
        return out


def _one(qid: str, vct: str, claims: list[dict[str, Any]]) -> dict[str, Any]:
    return {"credentials": [{"id": qid, "format": "dc+sd-jwt", "multiple": False,
                             "require_cryptographic_holder_binding": True,
                             "meta": {"vct_values": [vct]}, "claims": claims}]}


def competence_preset(skill: str, name_nl: str, name_en: str) -> Preset:
    """A preset asking for one ESCO skill (with who holds it and at what level)."""
    return Preset(f"competence-{skill.rsplit('/', 1)[-1][:12]}",
                  {"nl": f"Competentie: {name_nl}", "en": f"Competence: {name_en}"},
                  _one("competence", VCT_COMPETENCE, [
                      {"path": ["given_name"]}, {"path": ["family_name"]},
                      {"path": ["esco_skill"], "values": [skill]}, {"path": ["skill_name"]},
                      {"path": ["level"]}]))


BUILTIN: dict[str, Preset] = {p.id: p for p in (
    Preset("age18", {"nl": "Leeftijd 18+", "en": "Age 18+"},
           _one("identity", VCT_IDENTITY, [{"path": ["age_over_18"], "values": [True]}])),
    Preset("diploma-eqf6", {"nl": "Diploma op EQF-niveau 6 of hoger",
                            "en": "Diploma at EQF level 6 or higher"},
           _one("diploma", VCT_DIPLOMA, [
               {"path": ["holder_name"]}, {"path": ["title"]},
               {"path": ["eqf_level"], "values": [6, 7, 8]}, {"path": ["institution"]}])),
    competence_preset(PYTHON_SKILL, "Python programmeren", "Python programming"),
)}


def registration_claims(registration: Mapping[str, Any] | None) -> dict[str, set[ClaimPath]]:
    """What a registry registration (``GET /verifiers/{did}``) allows, per vct.

    An inactive or missing registration allows nothing.
    """
    if not registration or not registration.get("active"):
        return {}
    allowed: dict[str, set[ClaimPath]] = {}
    for entry in registration.get("credentials", []):
        if isinstance(entry, dict) and isinstance(entry.get("vct"), str):
            allowed.setdefault(entry["vct"], set()).update(
                p for p in map(_path_or_none, entry.get("claims", [])) if p is not None)
    return allowed


def _path_or_none(value: object) -> ClaimPath | None:
    """A registered claim path; a malformed one allows nothing (the registry checks them)."""
    try:
        return ClaimPath.parse(value)
    except DcqlError:
        return None


def over_asked(preset: Preset, allowed: Mapping[str, set[ClaimPath]]) -> list[str]:
    """The claims ``preset`` asks for that the registration does not allow (``vct:path``).

    A registered path also allows what lies beneath it (``address`` covers
    ``address.locality``).
    """
    problems = []
    for vct, paths in preset.requested().items():
        granted = allowed.get(vct, set())
        for path in sorted(paths):
            if not any(path.startswith(g) for g in granted):
                problems.append(f"{vct}:{path.dotted()}")
    return problems


def check_presets(presets: Iterable[Preset], registration: Mapping[str, Any] | None) -> None:
    """Refuse presets that over-ask (the service does not start with them).

    Raises:
        VerifierError: ``verifier.preset_over_asks`` naming every claim, per preset.
    """
    allowed = registration_claims(registration)
    problems = [f"{p.id}: {', '.join(bad)}" for p in presets if (bad := over_asked(p, allowed))]
    if problems:
        raise VerifierError("presets ask for claims this verifier is not registered for: "
                            + "; ".join(problems), code="verifier.preset_over_asks")


def register_claims_args(presets: Iterable[Preset]) -> list[str]:
    """``--claims VCT=a,b.c`` arguments for ``ssi-registry register-verifier``."""
    merged: dict[str, set[ClaimPath]] = {}
    for preset in presets:
        for vct, paths in preset.requested().items():
            merged.setdefault(vct, set()).update(paths)
    return [f"{vct}={','.join(p.dotted() for p in sorted(paths))}"
            for vct, paths in sorted(merged.items())]
