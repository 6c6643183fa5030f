"""One way to read a service's TOML configuration: typed values, one error per problem.

Each service (issuer, verifier) describes its settings as a frozen dataclass and fills it
from a :class:`ConfigFile`: ``file.table("issuer").integer("port", low=1, high=65535)``.
Every accessor checks the type (a ``bool`` is never an ``int``), the range, URLs through
:class:`~ssiwallet.core.values.HttpOrigin`, and resolves paths against the file's folder.
The first problem raises the service's own error (its ``code``), naming the key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ssiwallet.core.values import HttpOrigin
from ssiwallet.errors import BadValueError, SsiError

__all__ = ["ConfigFile", "ConfigTable"]

T = TypeVar("T")
ErrorFactory = Callable[[str], SsiError]
_MISSING: Any = object()


class ConfigTable:
    """One ``[table]`` of a configuration file, read through typed accessors."""

    def __init__(self, name: str, data: dict[str, Any], base: Path,
                 error: ErrorFactory) -> None:
        self.name, self.data, self.base, self._error = name, data, base, error

    def fail(self, detail: str) -> SsiError:
        """The service's error for a problem in this table."""
        return self._error(f"configuration: {detail}")

    def _key(self, key: str) -> str:
        return f"{self.name}.{key}"

    def _typed(self, key: str, kind: type[T], default: Any, what: str) -> T:
        value = self.data.get(key, default)
        if value is _MISSING:
            raise self.fail(f"{self._key(key)} is missing ({what})")
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise self.fail(f"{self._key(key)} must be {what}")
        return value

    def text(self, key: str, default: Any = _MISSING) -> str:
        return self._typed(key, str, default, "a string")

    def optional_text(self, key: str) -> str | None:
        return None if self.data.get(key) is None else self.text(key)

    def integer(self, key: str, default: Any = _MISSING, *, low: int | None = None,
                high: int | None = None, unit: str = "") -> int:
        value = self._typed(key, int, default, "an integer")
        if (low is not None and value < low) or (high is not None and value > high):
            raise self.fail(f"{self._key(key)} must be from {low} to {high}{unit}")
        return value

    def origin(self, key: str) -> HttpOrigin:
        value = self.text(key)
        try:
            return HttpOrigin(value)
        except BadValueError as exc:
            raise self.fail(f"{self._key(key)} must be an http(s) origin URL: "
                            f"{exc.detail}") from None

    def path(self, key: str, default: str) -> Path:
        """A file named relative to the configuration file's folder."""
        return self.base / self.text(key, default)

    def genesis_hash(self, key: str = "genesis_hash") -> str | None:
        value = self.optional_text(key)
        if value is not None and (len(value) != 64 or
                                  any(c not in "0123456789abcdef" for c in value)):
            raise self.fail(f"{self._key(key)} must be 64 lower-case hex digits")
        return value

    def list_of_text(self, key: str, default: Any = _MISSING) -> list[str]:
        value = self._typed(key, list, default, "a list of strings")
        if not all(isinstance(v, str) for v in value):
            raise self.fail(f"{self._key(key)} must be a list of strings")
        return value


class ConfigFile:
    """A TOML configuration file, read once; see the module docstring."""

    def __init__(self, path: Path, error: ErrorFactory) -> None:
        self.path, self._error = path, error
        try:
            self.data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise error(f"cannot read {path}: {exc}") from None
        self.base = path.resolve().parent

    def table(self, name: str) -> ConfigTable:
        """A required ``[name]`` table."""
        value = self.data.get(name)
        if not isinstance(value, dict):
            raise self._error(f"configuration: a [{name}] table is required")
        return ConfigTable(name, value, self.base, self._error)

    def array_of_tables(self, name: str) -> list[ConfigTable]:
        """``[[name]]`` tables (none is an empty list)."""
        value = self.data.get(name, [])
        if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
            raise self._error(f"configuration: each [[{name}]] must be a table")
        return [ConfigTable(name, t, self.base, self._error) for t in value]
