"""The data of Keten's three credential types: JSON Schemas, display texts and claim labels.

Kept apart from :mod:`ssiwallet.core.credtypes` so that the logic stays short and the data
can be reviewed (and translated) on its own. Everything here is plain Python data that is
also valid JSON, because the schemas are published as they are on the registry
(``schema.publish``) and must mean the same to validators that know nothing of this code:

* only standard draft 2020-12 keywords are used; the checks that matter to us (real calendar
  dates, country codes, ESCO URIs, whole-number EQF levels) are expressed with ``format``,
  ``enum``, ``pattern`` and ``type`` so that a foreign validator enforces as much as it can;
* every object has ``additionalProperties: false``, so a typo in a claim name is an error
  at the clerk's desk instead of an unreadable claim in a citizen's wallet;
* every string has a ``maxLength`` and forbids control characters and leading or trailing
  white space (:data:`BAD_TEXT`): the values end up on screens, in QR-sized presentations
  and in equality checks by verifiers, where an invisible space is a bug.

Claim labels are ordered: OpenID4VCI uses the order of the ``claims`` metadata as display
order, so the order below is the order a wallet shows.
"""

from __future__ import annotations

from typing import Any

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

VCT_IDENTITY = "urn:keten:vct:identity:1"
VCT_COMPETENCE = "urn:keten:vct:competence:1"
VCT_DIPLOMA = "urn:keten:vct:diploma:1"

AGE_THRESHOLDS: tuple[int, ...] = (12, 16, 18, 21, 65)

# Searched for (JSON Schema ``pattern`` is unanchored) under ``not``: a control character
# anywhere, or white space at either end. Written as a negative rule because Python's ``$``
# also matches before a final newline, so a positive fully-anchored pattern would let one in.
BAD_TEXT = r"[\u0000-\u001f\u007f]|^\s|\s$"

ESCO_SKILL_PREFIX = "http://data.europa.eu/esco/skill/"
ESCO_SKILL_PATTERN = r"^http://data\.europa\.eu/esco/skill/[A-Za-z0-9][A-Za-z0-9._-]*$"

SKILL_LEVELS: tuple[str, ...] = ("basic", "intermediate", "advanced", "expert")

# Officially assigned ISO 3166-1 alpha-2 codes (249). User-assigned codes such as XK are
# deliberately absent: the standard does not define them.
ISO_3166_ALPHA2: tuple[str, ...] = tuple(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
    DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
    GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
    KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
    MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
    PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
    VN VU WF WS YE YT ZA ZM ZW
    """.split()
)

# Human-readable reasons for the patterns above; the validator never echoes claim values
# (they are personal data and error details end up in logs).
PATTERN_MESSAGES: dict[str, str] = {
    BAD_TEXT: "must be single-line text without leading or trailing spaces",
    ESCO_SKILL_PATTERN: f"must be an ESCO skill URI starting with {ESCO_SKILL_PREFIX}",
}

Labels = dict[str, str]
Schema = dict[str, Any]


def _text(max_length: int) -> Schema:
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": max_length,
        "not": {"pattern": BAD_TEXT},
    }


_DATE: Schema = {"type": "string", "format": "date"}
_BOOL: Schema = {"type": "boolean"}
_COUNTRY_REF: Schema = {"$ref": "#/$defs/country"}
_COUNTRY_DEF: Schema = {
    "title": "ISO 3166-1 alpha-2 country code",
    "type": "string",
    "enum": list(ISO_3166_ALPHA2),
}

NAME_MAX = 100

# --------------------------------------------------------------------------- identity

IDENTITY_NAME: Labels = {"nl": "Identiteitsbewijs", "en": "Identity credential"}
IDENTITY_DESCRIPTION: Labels = {
    "nl": "Naam, geboortedatum, leeftijdsgrenzen en woonplaats, uitgereikt door je gemeente.",
    "en": "Name, date of birth, age thresholds and residence, issued by your municipality.",
}
IDENTITY_SCHEMA: Schema = {
    "$schema": JSON_SCHEMA_DIALECT,
    "title": "Keten identity credential claims",
    "type": "object",
    "additionalProperties": False,
    "required": [
        "given_name",
        "family_name",
        "birthdate",
        *(f"age_over_{n}" for n in AGE_THRESHOLDS),
        "address",
    ],
    "properties": {
        "given_name": _text(NAME_MAX),
        "family_name": _text(NAME_MAX),
        "birthdate": _DATE,
        **{f"age_over_{n}": _BOOL for n in AGE_THRESHOLDS},
        "nationality": _COUNTRY_REF,
        "address": {
            "type": "object",
            "additionalProperties": False,
            "required": ["street_address", "postal_code", "locality", "country"],
            "properties": {
                "street_address": _text(200),
                "postal_code": _text(16),
                "locality": _text(NAME_MAX),
                "country": _COUNTRY_REF,
            },
        },
    },
    "$defs": {"country": _COUNTRY_DEF},
}
IDENTITY_LABELS: dict[tuple[str, ...], Labels] = {
    ("given_name",): {"nl": "Voornaam", "en": "Given name"},
    ("family_name",): {"nl": "Familienaam", "en": "Family name"},
    ("birthdate",): {"nl": "Geboortedatum", "en": "Date of birth"},
    **{
        (f"age_over_{n}",): {"nl": f"Ouder dan {n}", "en": f"Aged {n} or over"}
        for n in AGE_THRESHOLDS
    },
    ("nationality",): {"nl": "Nationaliteit", "en": "Nationality"},
    ("address",): {"nl": "Adres", "en": "Address"},
    ("address", "street_address"): {"nl": "Straat en nummer", "en": "Street and number"},
    ("address", "postal_code"): {"nl": "Postcode", "en": "Postal code"},
    ("address", "locality"): {"nl": "Gemeente", "en": "Municipality"},
    ("address", "country"): {"nl": "Land", "en": "Country"},
}

# --------------------------------------------------------------------------- competence

COMPETENCE_NAME: Labels = {"nl": "Competentiebewijs", "en": "Competence credential"}
COMPETENCE_DESCRIPTION: Labels = {
    "nl": "Een door VDAB beoordeelde vaardigheid, gekoppeld aan de ESCO-classificatie.",
    "en": "A skill assessed by VDAB, linked to the ESCO classification.",
}
COMPETENCE_SCHEMA: Schema = {
    "$schema": JSON_SCHEMA_DIALECT,
    "title": "Keten competence credential claims",
    "type": "object",
    "additionalProperties": False,
    "required": [
        "given_name",
        "family_name",
        "esco_skill",
        "skill_name",
        "level",
        "assessed_on",
        "assessor",
    ],
    "properties": {
        "given_name": _text(NAME_MAX),
        "family_name": _text(NAME_MAX),
        "esco_skill": {
            "type": "string",
            "maxLength": 200,
            "pattern": ESCO_SKILL_PATTERN,
            "not": {"pattern": BAD_TEXT},
        },
        "skill_name": _text(200),
        "level": {"type": "string", "enum": list(SKILL_LEVELS)},
        "assessed_on": _DATE,
        "assessor": _text(200),
    },
}
COMPETENCE_LABELS: dict[tuple[str, ...], Labels] = {
    ("given_name",): {"nl": "Voornaam", "en": "Given name"},
    ("family_name",): {"nl": "Familienaam", "en": "Family name"},
    ("skill_name",): {"nl": "Vaardigheid", "en": "Skill"},
    ("esco_skill",): {"nl": "ESCO-vaardigheid", "en": "ESCO skill"},
    ("level",): {"nl": "Niveau", "en": "Level"},
    ("assessed_on",): {"nl": "Beoordeeld op", "en": "Assessed on"},
    ("assessor",): {"nl": "Beoordeeld door", "en": "Assessed by"},
}

# --------------------------------------------------------------------------- diploma

DIPLOMA_NAME: Labels = {"nl": "Diploma", "en": "Diploma"}
DIPLOMA_DESCRIPTION: Labels = {
    "nl": "Een diploma met EQF-niveau en studiegebied, uitgereikt door een onderwijsinstelling.",
    "en": "A diploma with EQF level and field of study, awarded by an educational institution.",
}
DIPLOMA_SCHEMA: Schema = {
    "$schema": JSON_SCHEMA_DIALECT,
    "title": "Keten diploma credential claims",
    "type": "object",
    "additionalProperties": False,
    "required": [
        "holder_name",
        "title",
        "eqf_level",
        "field_of_study",
        "awarded_on",
        "institution",
    ],
    "properties": {
        "holder_name": _text(200),
        "title": _text(200),
        "eqf_level": {"type": "integer", "minimum": 1, "maximum": 8},
        "field_of_study": _text(200),
        "awarded_on": _DATE,
        "institution": _text(200),
    },
}
DIPLOMA_LABELS: dict[tuple[str, ...], Labels] = {
    ("holder_name",): {"nl": "Naam houder", "en": "Holder name"},
    ("title",): {"nl": "Titel", "en": "Title"},
    ("eqf_level",): {"nl": "EQF-niveau", "en": "EQF level"},
    ("field_of_study",): {"nl": "Studiegebied", "en": "Field of study"},
    ("awarded_on",): {"nl": "Uitgereikt op", "en": "Awarded on"},
    ("institution",): {"nl": "Onderwijsinstelling", "en": "Institution"},
}
