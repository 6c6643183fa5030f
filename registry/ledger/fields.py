"""Declarative, closed field specifications for transaction bodies.

Each transaction type's body is an :class:`Obj` of typed fields; no object admits members it
does not name. The same specification validates (fast enough to re-check every transaction
when a whole chain is replayed) and exports itself as JSON Schema for the documentation and
for the test that shows no transaction has room for a person's data: every leaf field is a
DID, a key, a hash, an integer, a type or claim name, or bounded organisation-level text.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from registry.errors import RegistryError
from ssiwallet.core.values import VCT_MAX_LENGTH, VCT_REGEX

__all__ = [
    "CLAIM_NAME", "DID", "DIGEST", "KIND_OF_LEAF", "MULTIKEY", "TX_ID", "VCT",
    "Field", "Int", "JsonSchemaDoc", "ListOf", "Obj", "Pattern", "SchemaTooComplexError", "Text",
    "TxMalformedError",
]


class TxMalformedError(RegistryError):
    """A transaction (or one of its fields) does not have the required shape."""

    code = "registry.tx_malformed"


def _bad(path: str, detail: str) -> TxMalformedError:
    return TxMalformedError(f"{path or 'transaction'}: {detail}")


class Field(ABC):
    """One field's rule. Its JSON Schema marks each leaf with ``x-kind``: what it can hold."""

    @abstractmethod
    def check(self, value: object, path: str) -> Any:
        """The value, checked (and normalised); :class:`TxMalformedError` naming ``path``."""

    @abstractmethod
    def schema(self) -> dict[str, Any]:
        """The rule as JSON Schema."""


@dataclass(frozen=True)
class Pattern(Field):
    """A string matching a regular expression (DIDs, keys, hashes, identifiers)."""

    regex: str
    what: str
    max_length: int = 200
    leaf_kind: str = "identifier"
    _compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", re.compile(self.regex))

    def check(self, value: object, path: str) -> str:
        if (not isinstance(value, str) or len(value) > self.max_length
                or not self._compiled.fullmatch(value)):
            raise _bad(path, f"must be {self.what}")
        return value

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": f"^(?:{self.regex})$", "maxLength": self.max_length,
                "description": self.what, "x-kind": self.leaf_kind}


# C0 and C1 control characters, DEL, and lone surrogates (which have no UTF-8 form).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass(frozen=True)
class Text(Field):
    """Bounded free text about an organisation or a purpose (never about a person)."""

    max_length: int = 200
    kind: ClassVar[str] = "organisation-text"

    def check(self, value: object, path: str) -> str:
        if not isinstance(value, str) or not 1 <= len(value) <= self.max_length:
            raise _bad(path, f"must be text of 1 to {self.max_length} characters")
        if _CONTROL.search(value):
            raise _bad(path, "must not contain control characters or lone surrogates")
        return value

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "minLength": 1, "maxLength": self.max_length,
                "x-kind": self.kind}


@dataclass(frozen=True)
class Int(Field):
    """An integer (never a float, never a boolean) within bounds; optionally null."""

    minimum: int = 0
    maximum: int = (1 << 53) - 1
    nullable: bool = False
    kind: ClassVar[str] = "integer"

    def check(self, value: object, path: str) -> int | None:
        if value is None and self.nullable:
            return None
        if type(value) is not int or not self.minimum <= value <= self.maximum:
            raise _bad(path, f"must be an integer in [{self.minimum}, {self.maximum}]")
        return value

    def schema(self) -> dict[str, Any]:
        types: Any = ["integer", "null"] if self.nullable else "integer"
        return {"type": types, "minimum": self.minimum, "maximum": self.maximum,
                "x-kind": self.kind}


@dataclass(frozen=True)
class ListOf(Field):
    """A JSON array of items of one field type, bounded in length, optionally unique."""

    item: Field
    min_items: int = 0
    max_items: int = 64
    unique: bool = True

    def check(self, value: object, path: str) -> list[Any]:
        if not isinstance(value, list) or not self.min_items <= len(value) <= self.max_items:
            raise _bad(path, f"must be a list of {self.min_items} to {self.max_items} items")
        items = [self.item.check(v, f"{path}[{i}]") for i, v in enumerate(value)]
        if self.unique and len({repr(v) for v in items}) != len(items):
            raise _bad(path, "must not repeat an item")
        return items

    def schema(self) -> dict[str, Any]:
        return {"type": "array", "items": self.item.schema(), "minItems": self.min_items,
                "maxItems": self.max_items, "uniqueItems": self.unique}


@dataclass(frozen=True)
class Obj(Field):
    """A closed JSON object: named members only, each required unless listed optional."""

    fields: Mapping[str, Field]
    optional: frozenset[str] = frozenset()

    def check(self, value: object, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _bad(path, "must be an object")
        extra = value.keys() - self.fields.keys()
        if extra:
            raise _bad(path, f"unknown member {sorted(extra)[0]!r}")
        out: dict[str, Any] = {}
        for name, rule in self.fields.items():
            if name in value:
                out[name] = rule.check(value[name], f"{path}.{name}" if path else name)
            elif name not in self.optional:
                raise _bad(path, f"missing member {name!r}")
        return out

    def schema(self) -> dict[str, Any]:
        return {"type": "object", "additionalProperties": False,
                "required": sorted(self.fields.keys() - self.optional),
                "properties": {k: v.schema() for k, v in self.fields.items()}}


# JSON Schema keywords a published credential-type schema may use. Annotations that can
# carry sample values (``examples``, ``default``, ``const``) are not among them, so a
# schema cannot smuggle a person's data onto the chain as an "example".
_SCHEMA_KEYWORDS = frozenset({
    "$schema", "$id", "title", "description", "type", "properties", "required",
    "additionalProperties", "items", "minItems", "maxItems", "uniqueItems", "minimum",
    "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "pattern",
    "format", "enum", "$defs", "$ref", "allOf", "anyOf", "oneOf", "not", "minProperties",
    "maxProperties", "propertyNames", "multipleOf",
})
_SUBSCHEMA_MAPS = frozenset({"properties", "$defs"})


class SchemaTooComplexError(TxMalformedError):
    """A published schema exceeds the bounds within which checking it stays cheap."""

    code = "registry.schema_too_complex"


@dataclass(frozen=True)
class JsonSchemaDoc(Field):
    """A credential type's JSON Schema: valid Draft 2020-12, from an allow-list of keywords.

    Checking a schema against the Draft 2020-12 metaschema is by far the costliest check a
    transaction has (about 0.15 ms of CPU per node), so it is bounded and split in two:

    - the *bounds* (cheap, one pass): at most ``max_nodes`` JSON values (every object, array
      and scalar, enum and ``required`` items included), nested at most ``max_depth``
      objects and arrays deep, at most ``max_chars`` characters of names and strings, and
      only allow-listed keywords. Too many nodes or too deep is ``registry.schema_too_complex``;
    - the *metaschema* validation (:meth:`check_metaschema`), which a node runs only after the
      author's signature verified, off its event loop (``parse_tx(..., defer_costly=True)``).

    ``check`` runs both unless ``metaschema`` is false.
    """

    max_nodes: int = 1000
    max_depth: int = 20
    max_chars: int = 64 * 1024
    metaschema: bool = True
    kind: ClassVar[str] = "json-schema"

    def check(self, value: object, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _bad(path, "must be a JSON Schema object")
        self.check_bounds(value, path)
        if self.metaschema:
            self.check_metaschema(value, path)
        return value

    def check_bounds(self, value: dict[str, Any], path: str) -> None:
        """The cheap part: keyword allow-list, node count, depth and size (linear, bounded)."""
        budget = [self.max_nodes, self.max_chars]
        self._walk(value, path, budget, 0)

    @staticmethod
    def check_metaschema(value: dict[str, Any], path: str) -> None:
        """The costly part: validation against the Draft 2020-12 metaschema.

        Call it only on a schema that passed :meth:`check_bounds` (which bounds its cost).
        """
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError

        try:
            Draft202012Validator.check_schema(value)
        except SchemaError as exc:
            raise _bad(path, f"not a valid JSON Schema: {exc.message}") from None
        except RecursionError:  # not reachable within max_depth; never a crash
            raise SchemaTooComplexError(f"{path}: schema is nested too deeply") from None

    def _walk(self, node: object, path: str, budget: list[int], depth: int) -> None:
        budget[0] -= 1
        if budget[0] < 0:
            raise SchemaTooComplexError(
                f"{path or 'schema'}: schema is larger than {self.max_nodes} nodes")
        if isinstance(node, str):
            budget[1] -= len(node)
        if budget[1] < 0:
            raise _bad(path, f"schema is larger than {self.max_chars} characters")
        if not isinstance(node, list | dict):
            return
        if depth >= self.max_depth:
            raise SchemaTooComplexError(
                f"{path or 'schema'}: schema is nested deeper than {self.max_depth} levels")
        if isinstance(node, list):
            for i, item in enumerate(node):
                self._walk(item, f"{path}[{i}]", budget, depth + 1)
            return
        for key, item in node.items():
            if key not in _SCHEMA_KEYWORDS:
                raise _bad(path, f"schema keyword {key!r} is not allowed")
            budget[1] -= len(key)
            if key in _SUBSCHEMA_MAPS and isinstance(item, dict):
                budget[0] -= 1
                if depth + 1 >= self.max_depth:
                    raise SchemaTooComplexError(f"{path}.{key}: schema is nested deeper than "
                                                f"{self.max_depth} levels")
                for name, sub in item.items():
                    budget[1] -= len(name)
                    self._walk(sub, f"{path}.{key}.{name}", budget, depth + 2)
            elif key in ("enum", "required", "type"):
                # values, not subschemas: counted and measured, keywords not checked
                self._count(item, f"{path}.{key}", budget, depth + 1)
            else:
                self._walk(item, f"{path}.{key}", budget, depth + 1)

    def _count(self, node: object, path: str, budget: list[int], depth: int) -> None:
        budget[0] -= 1
        if budget[0] < 0:
            raise SchemaTooComplexError(f"{path}: schema is larger than {self.max_nodes} nodes")
        if isinstance(node, str):
            budget[1] -= len(node)
        elif isinstance(node, list | dict):
            if depth >= self.max_depth:
                raise SchemaTooComplexError(
                    f"{path}: schema is nested deeper than {self.max_depth} levels")
            items = node.values() if isinstance(node, dict) else node
            if isinstance(node, dict):
                budget[1] -= sum(len(k) for k in node)
            for item in items:
                self._count(item, path, budget, depth + 1)
        if budget[1] < 0:
            raise _bad(path, f"schema is larger than {self.max_chars} characters")

    def schema(self) -> dict[str, Any]:
        return {"type": "object", "description": "a JSON Schema (Draft 2020-12)",
                "x-kind": self.kind}


DID = Pattern(r"did:keten:[1-9A-HJ-NP-Za-km-z]{16,24}", "a did:keten DID", leaf_kind="did")
MULTIKEY = Pattern(r"z6Mk[1-9A-HJ-NP-Za-km-z]{44,45}", "an Ed25519 Multikey (z6Mk…)",
                   leaf_kind="public-key")
DIGEST = Pattern(r"[A-Za-z0-9_-]{43}", "a base64url SHA-256 digest", leaf_kind="digest")
TX_ID = Pattern(r"[0-9a-f]{64}", "a transaction id (hex SHA-256)", leaf_kind="digest")
VCT = Pattern(VCT_REGEX, "a credential type (urn: or https: URI)", max_length=VCT_MAX_LENGTH,
              leaf_kind="credential-type")
CLAIM_NAME = Pattern(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}", "a claim name", max_length=64,
                     leaf_kind="claim-name")

KIND_OF_LEAF = frozenset({
    "did", "public-key", "digest", "credential-type", "claim-name", "identifier", "integer",
    "organisation-text", "json-schema",
})
"""Every kind of leaf a transaction body may hold; none of them is a person's data."""
