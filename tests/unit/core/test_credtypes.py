"""Credential types: schema validation with paths, display metadata, age derivation."""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssiwallet.core import credtype_schemas
from ssiwallet.core.credtypes import (
    COMPETENCE,
    DIPLOMA,
    IDENTITY,
    LANGUAGES,
    REGISTRY,
    CredentialType,
    InvalidClaimsError,
    Problem,
    derive_age_claims,
    get_type,
    identity_claims,
)
from ssiwallet.errors import CredentialTypeError

ADDRESS = {
    "street_address": "Grote Markt 1",
    "postal_code": "9000",
    "locality": "Gent",
    "country": "BE",
}
TODAY = date(2024, 6, 1)

VALID: dict[str, dict[str, Any]] = {
    "urn:keten:vct:identity:1": {
        "given_name": "An",
        "family_name": "Peeters",
        "birthdate": "2000-05-31",
        "age_over_12": True,
        "age_over_16": True,
        "age_over_18": True,
        "age_over_21": True,
        "age_over_65": False,
        "nationality": "BE",
        "address": ADDRESS,
    },
    "urn:keten:vct:competence:1": {
        "given_name": "An",
        "family_name": "Peeters",
        "esco_skill": "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d",
        "skill_name": "Python programmeren",
        "level": "advanced",
        "assessed_on": "2024-03-15",
        "assessor": "VDAB Competentiecentrum Gent",
    },
    "urn:keten:vct:diploma:1": {
        "holder_name": "An Peeters",
        "title": "Master in de industriële wetenschappen",
        "eqf_level": 7,
        "field_of_study": "Elektronica-ICT",
        "awarded_on": "2023-06-30",
        "institution": "Hogeschool Gent",
    },
}


def claims(vct: str, **changes: Any) -> dict[str, Any]:
    """A deep copy of the valid example with top-level changes; ``None`` removes a claim."""
    out = copy.deepcopy(VALID[vct])
    for name, value in changes.items():
        if value is None:
            out.pop(name, None)
        else:
            out[name] = value
    return out


def problems(ctype: CredentialType, value: Any, **kwargs: Any) -> list[Problem]:
    with pytest.raises(InvalidClaimsError) as info:
        ctype.validate(value, **kwargs)
    assert info.value.code == "credtype.invalid_claims"
    assert isinstance(info.value, CredentialTypeError)
    return info.value.problems


def paths(ctype: CredentialType, value: Any, **kwargs: Any) -> list[str]:
    return [p["path"] for p in problems(ctype, value, **kwargs)]


# --------------------------------------------------------------------------- registry


def test_registry_holds_exactly_the_three_types() -> None:
    assert set(REGISTRY) == set(VALID)
    for vct, ctype in REGISTRY.items():
        assert ctype.vct == vct
        assert get_type(vct) is ctype


@pytest.mark.parametrize("vct", ["urn:keten:vct:passport:1", "", "urn:keten:vct:identity:2"])
def test_unknown_vct(vct: str) -> None:
    with pytest.raises(CredentialTypeError) as info:
        get_type(vct)
    assert info.value.code == "credtype.unknown_vct"


def test_schemas_are_valid_json_schema_and_json() -> None:
    for ctype in REGISTRY.values():
        assert json.loads(json.dumps(ctype.schema)) == ctype.schema
        assert ctype.schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("vct", sorted(VALID))
def test_valid_example_passes(vct: str) -> None:
    get_type(vct).validate(VALID[vct])
    get_type(vct).validate(VALID[vct], as_of=TODAY)


def test_nationality_is_optional() -> None:
    IDENTITY.validate(claims(IDENTITY.vct, nationality=None), as_of=TODAY)


@pytest.mark.parametrize(
    ("ctype", "changes", "expected"),
    [
        pytest.param(IDENTITY, {"given_name": None}, ["given_name"], id="missing-required"),
        pytest.param(
            IDENTITY,
            {"address": {k: v for k, v in ADDRESS.items() if k != "postal_code"}},
            ["address.postal_code"],
            id="missing-nested-required",
        ),
        pytest.param(IDENTITY, {"age_over_18": "yes"}, ["age_over_18"], id="wrong-type-bool"),
        pytest.param(DIPLOMA, {"eqf_level": "7"}, ["eqf_level"], id="wrong-type-int"),
        pytest.param(DIPLOMA, {"eqf_level": 7.0}, ["eqf_level"], id="float-is-not-integer"),
        pytest.param(DIPLOMA, {"eqf_level": True}, ["eqf_level"], id="bool-is-not-integer"),
        pytest.param(IDENTITY, {"address": "Gent"}, ["address"], id="wrong-type-object"),
        pytest.param(IDENTITY, {"email": "an@example.be"}, ["email"], id="extra-property"),
        pytest.param(
            IDENTITY,
            {"address": {**ADDRESS, "box": "2"}},
            ["address.box"],
            id="extra-nested-property",
        ),
        pytest.param(IDENTITY, {"birthdate": "2023-02-30"}, ["birthdate"], id="date-not-real"),
        pytest.param(IDENTITY, {"birthdate": "20000531"}, ["birthdate"], id="date-basic-form"),
        pytest.param(IDENTITY, {"birthdate": "31/05/2000"}, ["birthdate"], id="date-not-iso"),
        pytest.param(DIPLOMA, {"awarded_on": "2023-13-01"}, ["awarded_on"], id="date-month-13"),
        pytest.param(DIPLOMA, {"eqf_level": 9}, ["eqf_level"], id="eqf-too-high"),
        pytest.param(DIPLOMA, {"eqf_level": 0}, ["eqf_level"], id="eqf-too-low"),
        pytest.param(
            COMPETENCE,
            {"esco_skill": "http://data.europa.eu/esco/occupation/abc"},
            ["esco_skill"],
            id="esco-not-a-skill",
        ),
        pytest.param(
            COMPETENCE,
            {"esco_skill": "https://data.europa.eu/esco/skill/abc"},
            ["esco_skill"],
            id="esco-https",
        ),
        pytest.param(
            COMPETENCE,
            {"esco_skill": "http://data.europa.eu/esco/skill/abc\n"},
            ["esco_skill"],
            id="esco-trailing-newline",
        ),
        pytest.param(COMPETENCE, {"level": "guru"}, ["level"], id="level-not-in-enum"),
        pytest.param(IDENTITY, {"nationality": "XX"}, ["nationality"], id="country-unknown"),
        pytest.param(IDENTITY, {"nationality": "be"}, ["nationality"], id="country-lowercase"),
        pytest.param(IDENTITY, {"nationality": "BEL"}, ["nationality"], id="country-alpha3"),
        pytest.param(
            IDENTITY,
            {"address": {**ADDRESS, "country": "UK"}},
            ["address.country"],
            id="address-country-unknown",
        ),
        pytest.param(IDENTITY, {"given_name": ""}, ["given_name"], id="empty-string"),
        pytest.param(IDENTITY, {"given_name": "a" * 101}, ["given_name"], id="too-long"),
        pytest.param(IDENTITY, {"family_name": " Peeters"}, ["family_name"], id="leading-space"),
        pytest.param(IDENTITY, {"family_name": "Peeters\n"}, ["family_name"], id="newline"),
        pytest.param(IDENTITY, {"family_name": "Pee\x00ters"}, ["family_name"], id="control"),
    ],
)
def test_each_violation_is_reported_at_its_path(
    ctype: CredentialType, changes: dict[str, Any], expected: list[str]
) -> None:
    assert paths(ctype, claims(ctype.vct, **changes)) == expected


def test_messages_are_specific_and_do_not_echo_values() -> None:
    bad = claims(
        IDENTITY.vct,
        birthdate="2023-02-30",
        nationality="XX",
        given_name=None,
        secret_note="sensitive-value",
    )
    found = {p["path"]: p["message"] for p in problems(IDENTITY, bad)}
    assert found == {
        "birthdate": "must be a real calendar date written YYYY-MM-DD",
        "given_name": "is required",
        "nationality": "is not a valid ISO 3166-1 alpha-2 country code",
        "secret_note": "is not a claim of this credential type",
    }
    with pytest.raises(InvalidClaimsError) as info:
        IDENTITY.validate(bad)
    assert "2023-02-30" not in info.value.detail
    assert "sensitive-value" not in info.value.detail
    assert "birthdate" in info.value.detail


def test_eqf_message_names_the_range() -> None:
    assert problems(DIPLOMA, claims(DIPLOMA.vct, eqf_level=9)) == [
        {"path": "eqf_level", "message": "must be between 1 and 8"}
    ]


def test_all_problems_are_listed_sorted_by_path() -> None:
    bad = claims(
        IDENTITY.vct,
        family_name=None,
        birthdate="2023-02-30",
        age_over_65="no",
        address={"street_address": "Grote Markt 1", "country": "ZZ", "extra": 1},
        zodiac="leo",
    )
    assert paths(IDENTITY, bad) == [
        "address.country",
        "address.extra",
        "address.locality",
        "address.postal_code",
        "age_over_65",
        "birthdate",
        "family_name",
        "zodiac",
    ]


def test_several_missing_claims_each_get_a_problem() -> None:
    assert paths(DIPLOMA, {}) == [
        "awarded_on",
        "eqf_level",
        "field_of_study",
        "holder_name",
        "institution",
        "title",
    ]


@pytest.mark.parametrize("value", [[], "claims", None, 3])
def test_non_object_claims_are_a_root_problem(value: Any) -> None:
    assert problems(COMPETENCE, value) == [{"path": "", "message": "must be an object"}]


# --------------------------------------------------------------------------- as_of checks


def test_age_claims_must_agree_with_birthdate_as_of() -> None:
    bad = claims(IDENTITY.vct, age_over_21=False, age_over_65=True)
    IDENTITY.validate(bad)  # without as_of the consistency check is skipped
    assert paths(IDENTITY, bad, as_of=TODAY) == ["age_over_21", "age_over_65"]


def test_age_claims_change_on_the_birthday() -> None:
    # born 2000-05-31: 24 on 2024-05-31; turned 21 on 2021-05-31
    turning = claims(IDENTITY.vct, age_over_21=False)
    IDENTITY.validate(turning, as_of=date(2021, 5, 30))
    assert paths(IDENTITY, turning, as_of=date(2021, 5, 31)) == ["age_over_21"]


def test_dates_may_not_lie_after_as_of() -> None:
    assert paths(DIPLOMA, claims(DIPLOMA.vct, awarded_on="2024-06-02"), as_of=TODAY) == [
        "awarded_on"
    ]
    DIPLOMA.validate(claims(DIPLOMA.vct, awarded_on="2024-06-01"), as_of=TODAY)
    future_birth = claims(
        IDENTITY.vct,
        birthdate="2030-01-01",
        **dict.fromkeys(derive_age_claims(TODAY, TODAY), False),
    )
    assert paths(IDENTITY, future_birth, as_of=TODAY) == ["birthdate"]


def test_broken_birthdate_is_reported_once() -> None:
    assert paths(IDENTITY, claims(IDENTITY.vct, birthdate="2023-02-30"), as_of=TODAY) == [
        "birthdate"
    ]


# --------------------------------------------------------------------------- display


@pytest.mark.parametrize("vct", sorted(VALID))
def test_display_has_nl_and_en(vct: str) -> None:
    ctype = get_type(vct)
    display = ctype.display()
    assert [d["locale"] for d in display] == ["nl", "en"]
    assert all(d["name"] and d["description"] for d in display)
    assert set(LANGUAGES) == {"nl", "en"}


@pytest.mark.parametrize("vct", sorted(VALID))
def test_every_claim_has_a_label_in_every_language(vct: str) -> None:
    ctype = get_type(vct)
    metadata = ctype.claims_metadata()
    assert {tuple(c["path"]) for c in metadata} == set(ctype.selectively_disclosable())
    for entry in metadata:
        assert set(entry) == {"path", "mandatory", "display"}
        assert [d["locale"] for d in entry["display"]] == ["nl", "en"]
        assert all(isinstance(d["name"], str) and d["name"] for d in entry["display"])
    assert json.loads(json.dumps(metadata)) == metadata


def test_claims_metadata_marks_mandatory_claims() -> None:
    mandatory = {tuple(c["path"]): c["mandatory"] for c in IDENTITY.claims_metadata()}
    assert mandatory[("nationality",)] is False
    assert mandatory[("address", "postal_code")] is True
    assert mandatory[("age_over_18",)] is True


def test_label_lookup_and_language_fallback() -> None:
    assert IDENTITY.label("address.locality", "nl") == "Gemeente"
    assert IDENTITY.label(("address", "locality"), "en") == "Municipality"
    assert IDENTITY.label(["address", "locality"], "nl-BE") == "Gemeente"
    assert IDENTITY.label("address.locality", "fr") == "Municipality"
    assert DIPLOMA.label("eqf_level") == "EQF-niveau"
    with pytest.raises(CredentialTypeError) as info:
        IDENTITY.label("address.box", "nl")
    assert info.value.code == "credtype.unknown_claim"


def test_selective_disclosure_covers_all_claims_and_address_recursively() -> None:
    sd = IDENTITY.selectively_disclosable()
    assert ("address",) in sd
    assert {p for p in sd if p[0] == "address" and len(p) == 2} == {("address", m) for m in ADDRESS}
    assert sd.index(("address",)) < sd.index(("address", "country"))
    for vct, example in VALID.items():
        top = {p[0] for p in get_type(vct).selectively_disclosable()}
        assert set(example) <= top


# --------------------------------------------------------------------------- self-checks


def _definition(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "vct": "urn:keten:vct:test:1",
        "name": {"nl": "Test", "en": "Test"},
        "description": {"nl": "Test", "en": "Test"},
        "schema": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"a": {"type": "string"}},
        },
        "claim_labels": {("a",): {"nl": "A", "en": "A"}},
    }
    return {**base, **changes}


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"vct": "urn:other:test:1"}, id="bad-vct"),
        pytest.param({"name": {"nl": "Test"}}, id="missing-translation"),
        pytest.param({"claim_labels": {}}, id="unlabelled-claim"),
        pytest.param(
            {"claim_labels": {("a",): {"nl": "A", "en": "A"}, ("b",): {"nl": "B", "en": "B"}}},
            id="label-without-claim",
        ),
        pytest.param({"schema": {"type": "object", "properties": {}}}, id="open-object"),
        pytest.param({"schema": {"type": 12}}, id="invalid-json-schema"),
    ],
)
def test_incoherent_definitions_cannot_be_built(changes: dict[str, Any]) -> None:
    with pytest.raises(CredentialTypeError) as info:
        CredentialType(**_definition(**changes))
    assert info.value.code == "credtype.bad_definition"


def test_types_compare_by_vct() -> None:
    assert CredentialType(**_definition()) == CredentialType(**_definition())
    assert hash(IDENTITY) == hash(get_type(IDENTITY.vct))
    assert IDENTITY != DIPLOMA


# --------------------------------------------------------------------------- ages


def test_age_day_before_and_on_birthday() -> None:
    born = date(2006, 6, 15)
    assert derive_age_claims(born, date(2024, 6, 14))["age_over_18"] is False
    assert derive_age_claims(born, date(2024, 6, 15))["age_over_18"] is True
    assert derive_age_claims(born, date(2024, 6, 16))["age_over_18"] is True


def test_age_claims_all_thresholds() -> None:
    assert derive_age_claims(date(1990, 1, 1), date(2024, 6, 1)) == {
        "age_over_12": True,
        "age_over_16": True,
        "age_over_18": True,
        "age_over_21": True,
        "age_over_65": False,
    }
    assert derive_age_claims(date(1959, 6, 1), date(2024, 6, 1))["age_over_65"] is True
    assert not any(derive_age_claims(date(2020, 1, 1), date(2024, 6, 1)).values())


def test_leap_day_birthday_counts_from_first_of_march() -> None:
    born = date(2004, 2, 29)
    assert derive_age_claims(born, date(2022, 2, 28))["age_over_18"] is False
    assert derive_age_claims(born, date(2022, 3, 1))["age_over_18"] is True
    # 2016 has a 29 February: the 12th birthday falls on it
    assert derive_age_claims(born, date(2016, 2, 28))["age_over_12"] is False
    assert derive_age_claims(born, date(2016, 2, 29))["age_over_12"] is True


def test_before_birth_every_age_claim_is_false() -> None:
    assert not any(derive_age_claims(date(2030, 1, 1), TODAY).values())


@given(
    birthdate=st.dates(),
    today=st.dates(),
    later_by=st.integers(min_value=0, max_value=40_000),
)
def test_age_claims_are_monotone_in_today(birthdate: date, today: date, later_by: int) -> None:
    later = min(today + timedelta(days=min(later_by, (date.max - today).days)), date.max)
    before, after = derive_age_claims(birthdate, today), derive_age_claims(birthdate, later)
    assert all(after[k] for k, v in before.items() if v)


@given(birthdate=st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_age_thresholds_are_nested(birthdate: date) -> None:
    ages = derive_age_claims(birthdate, TODAY)
    flags = [ages[f"age_over_{n}"] for n in credtype_schemas.AGE_THRESHOLDS]
    assert flags == sorted(flags, reverse=True)


# --------------------------------------------------------------------------- helper


def test_identity_claims_derives_ages_and_validates() -> None:
    built = identity_claims(
        given_name="An",
        family_name="Peeters",
        birthdate=date(2006, 6, 2),
        address=ADDRESS,
        today=TODAY,
    )
    assert built["birthdate"] == "2006-06-02"
    assert built["age_over_16"] is True
    assert built["age_over_18"] is False
    assert "nationality" not in built
    IDENTITY.validate(built, as_of=TODAY)


def test_identity_claims_refuses_bad_input() -> None:
    with pytest.raises(InvalidClaimsError) as info:
        identity_claims(
            given_name="An",
            family_name="Peeters",
            birthdate=date(2006, 6, 2),
            address={**ADDRESS, "country": "XX"},
            today=TODAY,
            nationality="BEL",
        )
    assert [p["path"] for p in info.value.problems] == ["address.country", "nationality"]
