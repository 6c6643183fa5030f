"""Value types that check themselves where a value enters: URLs, DID URLs, types, list ids.

Each is a ``str`` subclass (like pydid's ``DID``) whose constructor refuses a malformed value
with a :class:`~ssiwallet.errors.BadValueError` carrying a stable code, so a bad value is
refused once, at the border (a command line, a configuration file, a settings form), with
a sentence a person can act on, instead of failing later in every command that uses it.
An instance compares, hashes, prints and serialises exactly like the plain string.

Pure: no I/O. Building a value from an instance of the same type is a no-op check, so
``HttpOrigin(HttpOrigin(x)) == HttpOrigin(x)``.
"""

from __future__ import annotations

import re
from typing import Self
from urllib.parse import urlsplit

from ssiwallet.errors import BadValueError

__all__ = [
    "STATUS_LIST_ID_REGEX",
    "VCT_MAX_LENGTH",
    "VCT_REGEX",
    "DidUrl",
    "HttpOrigin",
    "StatusListId",
    "Vct",
]

_MAX_URL = 2048
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f-\x9f]")
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_HOST = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}\.?|\[[0-9A-Fa-f:.]+\]")
_BARE = re.compile(r"[A-Za-z0-9._-]{1,80}(?::[0-9]{1,5})?/?")
_NETLOC = re.compile(r"(\[[^\]]*\]|[^:\[\]]*)(?::([0-9]{1,5}))?")


def _shown(value: object) -> str:
    """A bounded, printable rendering of a refused value for the error message."""
    text = value if isinstance(value, str) else type(value).__name__
    return repr(text[:80] + ("…" if len(text) > 80 else ""))


class HttpOrigin(str):
    """An ``http`` or ``https`` origin: scheme, host and optional port, nothing else.

    The registry, issuer and verifier are each addressed by an origin; every endpoint is a
    path the code appends. So a path (other than a lone ``/``), user info, a query or a
    fragment is refused rather than silently dropped. The scheme and host are lower-cased
    and a trailing ``/`` is removed: ``HttpOrigin("HTTPS://Registry.example/")`` is
    ``"https://registry.example"``. Whether plain ``http`` is acceptable (loopback only) is
    a policy of the caller, not a question of syntax.

    Raises:
        BadValueError: ``input.bad_url``.
    """

    __slots__ = ()

    def __new__(cls, value: object) -> Self:
        if type(value) is cls:
            return value  # already checked
        return super().__new__(cls, _origin(value))

    @property
    def scheme(self) -> str:
        return self.split("://", 1)[0]

    @property
    def host(self) -> str:
        """The host name or address (an IPv6 address without its brackets)."""
        return urlsplit(self).hostname or ""

    @property
    def port(self) -> int:
        """The port, explicit or the scheme's default."""
        return urlsplit(self).port or (443 if self.scheme == "https" else 80)


def _origin(value: object) -> str:
    def bad(why: str) -> BadValueError:
        return BadValueError(f"{_shown(value)} is not an http(s) URL: {why}",
                             code="input.bad_url")

    if not isinstance(value, str) or not value:
        raise bad("give a URL such as https://registry.example")
    if len(value) > _MAX_URL:
        raise bad(f"longer than {_MAX_URL} characters")
    if _CONTROL_OR_SPACE.search(value):
        raise bad("it contains spaces or control characters")
    if "://" not in value:
        hint = f"; write it as https://{value.rstrip('/')}" if _BARE.fullmatch(value) else ""
        raise bad(f"it has no scheme (https://){hint}")
    try:
        parts = urlsplit(value)
    except ValueError:  # unbalanced IPv6 brackets
        raise bad("its IPv6 address is not in matching brackets") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise bad("the scheme must be https:// (or http://)")
    if "@" in parts.netloc:
        raise bad("a user name or password does not belong in it")
    if parts.netloc.endswith(":"):
        raise bad("the port must be a number from 1 to 65535")
    netloc = _NETLOC.fullmatch(parts.netloc)
    host = netloc.group(1) if netloc else ""
    if not host or not _HOST.fullmatch(host) or len(host) > 255:
        raise bad("it has no valid host name")
    assert netloc is not None
    port = netloc.group(2)
    if port is not None and not 0 < int(port) < 65536:
        raise bad("the port must be a number from 1 to 65535")
    if parts.path not in ("", "/"):
        raise bad("only the origin is wanted (scheme, host, port), without a path")
    if "?" in value or "#" in value:
        raise bad("only the origin is wanted, without a query or fragment")
    return f"{scheme}://{host.lower()}" + (f":{int(port)}" if port is not None else "")


# W3C DID Core 1.0 §3.1 (DID syntax) and §3.2 (DID URL), restricted to a fragment.
_PCT = r"%[0-9A-Fa-f]{2}"
_IDCHAR = rf"(?:[A-Za-z0-9._-]|{_PCT})"
_DID = rf"did:[a-z0-9]+:(?:{_IDCHAR}*:)*{_IDCHAR}+"
_FRAGMENT = rf"(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|{_PCT})*"
_DID_URL = re.compile(rf"({_DID})(?:#({_FRAGMENT}))?")
_MAX_DID_URL = 2048


class DidUrl(str):
    """A DID (W3C DID Core ``did:<method>:<id>``), optionally with a ``#fragment``.

    The form of a key id (``did:keten:…#key-2``) or a bare DID. Paths and queries are not
    used anywhere in Keten and are refused. Which methods are acceptable is the caller's
    policy.

    Raises:
        BadValueError: ``input.bad_did_url``.
    """

    __slots__ = ()

    def __new__(cls, value: object) -> Self:
        if type(value) is cls:
            return value
        if not isinstance(value, str) or len(value) > _MAX_DID_URL or not _DID_URL.fullmatch(
                value):
            raise BadValueError(f"{_shown(value)} is not a DID or DID URL "
                                "(did:<method>:<id>, optionally #fragment)",
                                code="input.bad_did_url")
        return super().__new__(cls, value)

    @property
    def did(self) -> str:
        """The DID without the fragment."""
        return self.partition("#")[0]

    @property
    def method(self) -> str:
        return self.split(":", 2)[1]

    @property
    def fragment(self) -> str | None:
        """The fragment without ``#``; ``None`` when there is none (``""`` for a bare ``#``)."""
        did, hash_, fragment = self.partition("#")
        return fragment if hash_ else None


VCT_REGEX = r"(?:urn:[a-z0-9][a-z0-9-]{0,31}:|https://)[A-Za-z0-9._~:/?#@!$&'()*+,;=%-]+"
"""A credential type (SD-JWT VC ``vct``): a ``urn:`` or ``https:`` URI, as the registry
accepts it; Keten's own types are ``urn:keten:vct:<name>:<version>``."""
VCT_MAX_LENGTH = 200
_VCT = re.compile(VCT_REGEX)


class Vct(str):
    """A credential type identifier (the ``vct`` claim of an SD-JWT VC).

    Raises:
        BadValueError: ``input.bad_vct``.
    """

    __slots__ = ()

    def __new__(cls, value: object) -> Self:
        if type(value) is cls:
            return value
        if not isinstance(value, str) or len(value) > VCT_MAX_LENGTH or not _VCT.fullmatch(
                value):
            raise BadValueError(f"{_shown(value)} is not a credential type: a urn: or "
                                "https: URI such as urn:keten:vct:identity:1",
                                code="input.bad_vct")
        return super().__new__(cls, value)


STATUS_LIST_ID_REGEX = r"[1-9A-HJ-NP-Za-km-z]{16,24}\.[a-z0-9][a-z0-9-]{0,31}"
"""A status list id on the registry: ``<issuer's did:keten method id>.<list name>``."""
_STATUS_LIST_ID = re.compile(STATUS_LIST_ID_REGEX)


class StatusListId(str):
    """The id of a status list on the registry, ``<issuer method id>.<name>``.

    Raises:
        BadValueError: ``input.bad_status_list_id``.
    """

    __slots__ = ()

    def __new__(cls, value: object) -> Self:
        if type(value) is cls:
            return value
        if not isinstance(value, str) or not _STATUS_LIST_ID.fullmatch(value):
            raise BadValueError(f"{_shown(value)} is not a status list id "
                                "(<issuer method id>.<name>)",
                                code="input.bad_status_list_id")
        return super().__new__(cls, value)

    @property
    def issuer_method_id(self) -> str:
        return self.partition(".")[0]

    @property
    def name(self) -> str:
        return self.partition(".")[2]
