"""Keten's credential types: what each ``vct`` may contain, how it is shown, what is hidden.

A :class:`CredentialType` joins the pieces every party needs about one ``vct``: the issuer
validates a clerk's claims against its JSON Schema before anything is signed, the SD-JWT
issuer asks which claims are selectively disclosable, the issuer metadata endpoint and the
wallet show its ``display`` texts and claim labels (in the OpenID4VCI 1.0
``credential_metadata`` shape), and the registry publishes its schema.

Validation reports *every* problem with the path of the claim it concerns, because a clerk
fixing a form wants the whole list at once (the issuer returns it in a 422). Messages never
repeat claim values: they are personal data, and error details end up in logs.

Decisions:

* Dates are ISO 8601 calendar dates ``YYYY-MM-DD`` that must exist (``2023-02-30`` is
  refused); the ``date`` format is always enforced, not left as an annotation.
* Integers must be JSON integers: ``8.0`` is not an EQF level, because the signed
  credential would carry a float that other platforms may not read as 8.
* ``age_over_N`` holds from the N-th birthday on. Someone born on 29 February reaches an
  age on 1 March in years without 29 February (the day after 28 February, as in Belgian
  practice of counting a completed year).
* Competence levels are the ordinal scale ``basic < intermediate < advanced < expert``
  (:data:`~ssiwallet.core.credtype_schemas.SKILL_LEVELS`): four steps are what an assessor
  can tell apart reliably and what a verifier's "at least" rule needs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any, TypedDict

# jsonschema ships no type information; pyproject's mypy overrides do not list it (yet).
from jsonschema import (
    Draft202012Validator,
    FormatChecker,
    ValidationError,
    validators,
)
from jsonschema.exceptions import SchemaError

from ssiwallet.core import credtype_schemas as s
from ssiwallet.errors import CredentialTypeError

LANGUAGES: tuple[str, ...] = ("nl", "en")
FALLBACK_LANGUAGE = "en"

SchemaPath = tuple[str, ...]
"""Where JSON Schema puts something in a claims object: member names only, ``()`` for the
whole object (a problem or a label, not a request: requests use
:class:`~ssiwallet.core.claimpath.ClaimPath`)."""

_VCT = re.compile(r"urn:keten:vct:[a-z][a-z0-9-]*:[1-9][0-9]*")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class Problem(TypedDict):
    """One reason why claims were refused: a dotted claim path ("" for the whole set)."""

    path: str
    message: str


class InvalidClaimsError(CredentialTypeError):
    """Claims that do not fit their credential type; ``problems`` lists each reason."""

    code = "credtype.invalid_claims"

    def __init__(self, vct: str, problems: Sequence[Problem]) -> None:
        self.vct = vct
        self.problems: list[Problem] = sorted(problems, key=lambda p: (p["path"], p["message"]))
        listed = "; ".join(f"{p['path'] or '(claims)'}: {p['message']}" for p in self.problems)
        super().__init__(f"claims do not match {vct}: {listed}")


def _parse_date(value: str) -> date:
    # Python's fromisoformat also takes "20230101" and week dates; the schema means only
    # the extended calendar form.
    if not _ISO_DATE.fullmatch(value):
        raise ValueError("not YYYY-MM-DD")
    return date.fromisoformat(value)


def _is_date(instance: object) -> bool:
    if isinstance(instance, str):
        _parse_date(instance)
    return True


# A checker of our own, so that "date" is enforced whatever optional packages jsonschema
# finds installed, and no other format silently changes meaning with the environment.
_FORMATS = FormatChecker(formats=())
_FORMATS.checks("date", raises=ValueError)(_is_date)


_Validator = validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _checker, value: isinstance(value, int) and not isinstance(value, bool)
    ),
)

_TYPE_WORDS = {
    "string": "a string",
    "boolean": "a boolean (true or false)",
    "integer": "a whole number",
    "object": "an object",
}


def _messages(error: ValidationError) -> Iterator[tuple[SchemaPath, str]]:
    """Turn one jsonschema error into (claim path, message) pairs, without claim values."""
    where: SchemaPath = tuple(str(part) for part in error.absolute_path)
    keyword, rule, schema = error.validator, error.validator_value, error.schema
    instance = error.instance
    if keyword == "required" and isinstance(instance, Mapping):
        for name in rule:
            if name not in instance:
                yield (*where, name), "is required"
    elif keyword == "additionalProperties" and isinstance(instance, Mapping):
        known = schema.get("properties", {}) if isinstance(schema, Mapping) else {}
        for name in instance:
            if name not in known:
                yield (*where, str(name)), "is not a claim of this credential type"
    elif keyword == "type":
        yield where, f"must be {_TYPE_WORDS.get(str(rule), str(rule))}"
    elif keyword == "format" and rule == "date":
        yield where, "must be a real calendar date written YYYY-MM-DD"
    elif keyword == "minLength":
        yield where, "must not be empty" if rule == 1 else f"must have at least {rule} characters"
    elif keyword == "maxLength":
        yield where, f"must have at most {rule} characters"
    elif keyword in ("minimum", "maximum"):
        yield where, f"must be between {schema.get('minimum')} and {schema.get('maximum')}"
    elif keyword == "enum":
        if "title" in schema:
            yield where, f"is not a valid {schema['title']}"
        else:
            yield where, "must be one of: " + ", ".join(map(str, rule))
    elif keyword == "pattern":
        yield where, s.PATTERN_MESSAGES.get(str(rule), "has the wrong form")
    elif keyword == "not" and isinstance(rule, Mapping):
        yield where, s.PATTERN_MESSAGES.get(str(rule.get("pattern")), "has the wrong form")
    else:  # pragma: no cover - only reachable if a schema grows a new keyword
        yield where, f"breaks the {keyword!r} rule"


def _walk(schema: Mapping[str, Any], prefix: SchemaPath = ()
          ) -> Iterator[tuple[SchemaPath, Mapping[str, Any]]]:
    for name, sub in schema.get("properties", {}).items():
        yield (*prefix, name), sub
        if sub.get("type") == "object":
            yield from _walk(sub, (*prefix, name))


def _pick(texts: Mapping[str, str], lang: str) -> str:
    primary = lang.split("-", 1)[0].lower()
    return texts.get(lang) or texts.get(primary) or texts[FALLBACK_LANGUAGE]


def _bad(reason: str) -> CredentialTypeError:
    return CredentialTypeError(reason, code="credtype.bad_definition")


@dataclass(frozen=True)
class CredentialType:
    """One credential type, checked for coherence when it is built.

    A type cannot exist with an invalid schema, a missing translation or a claim without a
    label, so the issuer, wallet and registry never need to check that again. Equality and
    hashing go by ``vct`` alone: the URN *is* the identity of a type.

    Attributes:
        vct: The type URN, ``urn:keten:vct:<name>:<version>``.
        name: Display name per language (``nl``, ``en``).
        description: One-sentence description per language.
        schema: JSON Schema (draft 2020-12) of the subject claims. Treat as read-only.
        claim_labels: Label per claim path, in display order; one entry for every claim the
            schema defines, nested ones included.
    """

    vct: str
    name: Mapping[str, str] = field(compare=False)
    description: Mapping[str, str] = field(compare=False)
    schema: Mapping[str, Any] = field(compare=False, repr=False)
    claim_labels: Mapping[SchemaPath, Mapping[str, str]] = field(compare=False, repr=False)
    _validator: Draft202012Validator = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not _VCT.fullmatch(self.vct):
            raise _bad(f"{self.vct!r} is not a urn:keten:vct:<name>:<version> URN")
        try:
            _Validator.check_schema(self.schema)
        except SchemaError as exc:
            raise _bad(f"schema of {self.vct} is not valid JSON Schema: {exc.message}") from exc
        objects = [self.schema, *(sub for _, sub in _walk(self.schema) if "properties" in sub)]
        if any(obj.get("additionalProperties") is not False for obj in objects):
            raise _bad(f"every object in the schema of {self.vct} must be closed")
        paths = [path for path, _ in _walk(self.schema)]
        if sorted(paths) != sorted(self.claim_labels):
            raise _bad(f"claim labels of {self.vct} do not match the schema's claims")
        for texts in (self.name, self.description, *self.claim_labels.values()):
            if any(not texts.get(lang) for lang in LANGUAGES):
                raise _bad(f"{self.vct} lacks a text in one of {LANGUAGES}")
        validator = _Validator(self.schema, format_checker=_FORMATS)
        object.__setattr__(self, "_validator", validator)

    def validate(self, claims: Mapping[str, Any], *, as_of: date | None = None) -> None:
        """Check subject claims before they are signed; report every problem at once.

        Args:
            claims: The subject claims (no ``iss``, ``vct``, ``cnf``, ...).
            as_of: The issuance date. When given, dates may not lie after it and the
                ``age_over_N`` claims must agree with ``birthdate`` on that day; without
                it those checks are skipped (a verifier re-validating later cannot know it).

        Raises:
            InvalidClaimsError: ``credtype.invalid_claims``, with ``problems`` sorted by path.
        """
        instance: Any = dict(claims) if isinstance(claims, Mapping) else claims
        found: set[tuple[SchemaPath, str]] = set()
        for error in self._validator.iter_errors(instance):
            found.update(_messages(error))
        if as_of is not None and isinstance(instance, dict):
            found.update(self._consistency(instance, as_of, {path for path, _ in found}))
        if found:
            problems = [Problem(path=".".join(p), message=m) for p, m in found]
            raise InvalidClaimsError(self.vct, problems)

    def _consistency(
        self, claims: Mapping[str, Any], as_of: date, broken: set[SchemaPath]
    ) -> Iterator[tuple[SchemaPath, str]]:
        """Checks that need the issuance date; claims already refused are not re-judged."""
        dates: dict[SchemaPath, date] = {}
        for path, sub in _walk(self.schema):
            value: Any = claims
            for part in path:
                value = value.get(part) if isinstance(value, Mapping) else None
            if sub.get("format") == "date" and isinstance(value, str) and path not in broken:
                dates[path] = _parse_date(value)
                if dates[path] > as_of:
                    yield path, f"must not lie after the issuance date {as_of.isoformat()}"
        birthdate = dates.get(("birthdate",))
        if birthdate is None or birthdate > as_of:
            return
        for claim, expected in derive_age_claims(birthdate, as_of).items():
            if isinstance(claims.get(claim), bool) and claims[claim] is not expected:
                yield (claim,), f"does not agree with birthdate on {as_of.isoformat()}"

    def display(self) -> list[dict[str, str]]:
        """The type's ``credential_metadata.display`` list (OpenID4VCI 1.0), one per language."""
        return [
            {"name": self.name[lang], "locale": lang, "description": self.description[lang]}
            for lang in LANGUAGES
        ]

    def claims_metadata(self) -> list[dict[str, Any]]:
        """The type's ``credential_metadata.claims`` list (OpenID4VCI 1.0), in display order.

        ``mandatory`` is true for claims every credential of this type carries.
        """
        required = self.required_paths()
        return [
            {
                "path": list(path),
                "mandatory": path in required,
                "display": [{"name": labels[lang], "locale": lang} for lang in LANGUAGES],
            }
            for path, labels in self.claim_labels.items()
        ]

    def label(self, path: str | Sequence[str], lang: str = "nl") -> str:
        """Name of a claim for people, e.g. ``label("address.locality", "nl") == "Gemeente"``.

        Args:
            path: Claim path as a tuple/list of names or as a dotted string.
            lang: A BCP 47 tag; ``nl-BE`` falls back to ``nl``, unknown languages to English.

        Raises:
            CredentialTypeError: ``credtype.unknown_claim`` if the type has no such claim.
        """
        key = tuple(path.split(".")) if isinstance(path, str) else tuple(path)
        labels = self.claim_labels.get(key)
        if labels is None:
            raise CredentialTypeError(
                f"{self.vct} has no claim {'.'.join(key)!r}", code="credtype.unknown_claim"
            )
        return _pick(labels, lang)

    def selectively_disclosable(self) -> tuple[SchemaPath, ...]:
        """Claim paths the issuer must make selectively disclosable, parents before children.

        All subject claims are; nested objects (``address``) recursively, so that the object
        itself and each of its members is a disclosure of its own.
        """
        return tuple(path for path, _ in _walk(self.schema))

    def required_paths(self) -> frozenset[SchemaPath]:
        """Claim paths present in every valid credential of this type."""
        out: set[SchemaPath] = set()

        def visit(schema: Mapping[str, Any], prefix: SchemaPath) -> None:
            for name in schema.get("required", ()):
                out.add((*prefix, name))
                visit(schema["properties"][name], (*prefix, name))

        visit(self.schema, ())
        return frozenset(out)


def _has_reached_age(birthdate: date, years: int, today: date) -> bool:
    if birthdate.year + years > date.max.year:
        return False  # the birthday lies beyond any date Python (or today) can name
    try:
        birthday = birthdate.replace(year=birthdate.year + years)
    except ValueError:  # 29 February in a year without one: the age is reached on 1 March
        birthday = date(birthdate.year + years, 3, 1)
    return today >= birthday


def derive_age_claims(birthdate: date, today: date) -> dict[str, bool]:
    """Compute ``age_over_12/16/18/21/65`` so that no clerk ever types them.

    An age is reached on the birthday itself; for a birthdate of 29 February the birthday in
    other years is 1 March. A ``today`` before the birthdate yields all ``False`` (the
    function stays total; :meth:`CredentialType.validate` refuses such a birthdate).

    Args:
        birthdate: The subject's date of birth.
        today: The day the claims must hold on, normally the issuance date.

    Returns:
        ``{"age_over_12": bool, ..., "age_over_65": bool}``.
    """
    return {f"age_over_{n}": _has_reached_age(birthdate, n, today) for n in s.AGE_THRESHOLDS}


IDENTITY = CredentialType(
    vct=s.VCT_IDENTITY,
    name=s.IDENTITY_NAME,
    description=s.IDENTITY_DESCRIPTION,
    schema=s.IDENTITY_SCHEMA,
    claim_labels=s.IDENTITY_LABELS,
)
COMPETENCE = CredentialType(
    vct=s.VCT_COMPETENCE,
    name=s.COMPETENCE_NAME,
    description=s.COMPETENCE_DESCRIPTION,
    schema=s.COMPETENCE_SCHEMA,
    claim_labels=s.COMPETENCE_LABELS,
)
DIPLOMA = CredentialType(
    vct=s.VCT_DIPLOMA,
    name=s.DIPLOMA_NAME,
    description=s.DIPLOMA_DESCRIPTION,
    schema=s.DIPLOMA_SCHEMA,
    claim_labels=s.DIPLOMA_LABELS,
)

REGISTRY: Mapping[str, CredentialType] = MappingProxyType(
    {t.vct: t for t in (IDENTITY, COMPETENCE, DIPLOMA)}
)


def get_type(vct: str) -> CredentialType:
    """The credential type named by ``vct``.

    Raises:
        CredentialTypeError: ``credtype.unknown_vct`` for a type Keten does not define.
    """
    try:
        return REGISTRY[vct]
    except (KeyError, TypeError):
        raise CredentialTypeError(
            f"unknown credential type {vct!r}", code="credtype.unknown_vct"
        ) from None


def identity_claims(
    *,
    given_name: str,
    family_name: str,
    birthdate: date,
    address: Mapping[str, str],
    today: date,
    nationality: str | None = None,
) -> dict[str, Any]:
    """Build validated identity claims, deriving the age claims from the birthdate.

    This is the municipality issuer's way in: ages are computed, never typed.

    Raises:
        InvalidClaimsError: If any given value breaks the identity schema.
    """
    claims: dict[str, Any] = {
        "given_name": given_name,
        "family_name": family_name,
        "birthdate": birthdate.isoformat(),
        **derive_age_claims(birthdate, today),
        "address": dict(address),
    }
    if nationality is not None:
        claims["nationality"] = nationality
    IDENTITY.validate(claims, as_of=today)
    return claims
