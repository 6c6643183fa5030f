"""One claim path for the whole project: where a claim sits in a credential's claims.

A claims path pointer (OpenID4VP §7, SD-JWT VC §7): object member names (strings), array
indices (non-negative integers) and ``None``, which stands for every element of an array.
A path without ``None`` is *concrete*: the address of exactly one claim, what a holder
discloses and a receipt lists. DCQL queries, verifier registrations, presets, SD-JWT
processing, credential types and the consent screen all use this one type.

``ClaimPath`` is a ``tuple``: it compares and hashes like the plain tuple, so
``("address", "street")`` finds a ``ClaimPath`` key in a dict and the other way round.
The constructor checks every element; :meth:`ClaimPath.parse` reads one from JSON.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Self

from ssiwallet.errors import DcqlError

__all__ = ["ROOT", "ClaimPath", "Element", "leaves"]

Element = str | int | None
"""One step of a path: a member name, an array index, or ``None`` for every element."""


def _bad(where: str, why: str) -> DcqlError:
    return DcqlError(f"{where}: {why}", code="dcql.invalid_path")


def _check(element: object, where: str) -> None:
    ok = (element is None or isinstance(element, str)
          or (type(element) is int and element >= 0))  # excludes bool, a subclass of int
    if not ok:
        raise _bad(where, f"path element {element!r} is not a string, null or "
                   "non-negative integer")


class ClaimPath(tuple[Element, ...]):
    """A non-empty claims path pointer whose elements are checked when it is made.

    Raises:
        DcqlError: ``dcql.invalid_path`` for an empty path, a string or mapping given as
            the whole path, or an element that is not a string, ``None`` or an ``int >= 0``
            (``True`` is refused although it is an ``int``).
    """

    __slots__ = ()

    def __new__(cls, elements: Iterable[Element] = ()) -> Self:
        if type(elements) is cls:
            return elements  # already checked
        if isinstance(elements, str | bytes | dict):
            raise _bad("path", "a path is an array of elements, not a "
                       f"{type(elements).__name__}")
        try:
            items = tuple(elements)
        except TypeError:
            raise _bad("path", "a path is an array of elements") from None
        if not items:
            raise _bad("path", "a path must not be empty")
        for element in items:
            _check(element, "path")
        return super().__new__(cls, items)

    @classmethod
    def parse(cls, value: object, *, mdoc: bool = False, where: str = "path") -> ClaimPath:
        """Read a claims path pointer from JSON (a non-empty array).

        JSON-based credentials take strings, non-negative integers and nulls; an mdoc
        pointer is exactly a namespace and a data element identifier (two strings).

        Raises:
            DcqlError: ``dcql.invalid_path``, naming ``where``.
        """
        if not isinstance(value, list) or not value:
            raise _bad(where, "path must be a non-empty array")
        if mdoc and (len(value) != 2 or not all(isinstance(v, str) for v in value)):
            raise _bad(where, "an mdoc path is exactly [namespace, element identifier]")
        for element in value:
            _check(element, where)
        return tuple.__new__(cls, value)

    def child(self, element: Element) -> ClaimPath:
        """This path one step further down."""
        _check(element, "path")
        return tuple.__new__(type(self), (*self, element))

    @property
    def is_concrete(self) -> bool:
        """Whether the path names exactly one claim (no ``None`` wildcard)."""
        return None not in self

    def startswith(self, prefix: tuple[Element, ...]) -> bool:
        """Whether ``prefix`` is this path or one of its ancestors."""
        return self[: len(prefix)] == prefix

    def dotted(self) -> str:
        """The path for people and messages: ``address.street``, ``nationalities.0``,
        ``degrees.*`` (``*`` for every element)."""
        return ".".join("*" if e is None else str(e) for e in self)

    def to_json(self) -> list[Element]:
        return list(self)


ROOT: ClaimPath = tuple.__new__(ClaimPath, ())
"""The empty path: the claim set itself. Only a starting point for walking the claims
(``ROOT.child("address")``); the constructor refuses an empty path."""


def leaves(claims: Any, prefix: ClaimPath = ROOT) -> list[ClaimPath]:
    """The concrete path of every leaf under ``claims``, in document order.

    Objects and arrays are walked into; a scalar, or an empty object or array, is a leaf.
    The claim set itself is never a leaf: ``leaves({})`` is ``[]``.
    """
    if isinstance(claims, Mapping) and claims:
        return [p for k, v in claims.items() for p in leaves(v, prefix.child(str(k)))]
    if isinstance(claims, list) and claims:
        return [p for i, v in enumerate(claims) for p in leaves(v, prefix.child(i))]
    return [prefix] if prefix else []
