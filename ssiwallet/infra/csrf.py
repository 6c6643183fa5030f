"""Desk pages' defence against forged forms, shared by the issuer's and the verifier's desk.

A state-changing desk action is accepted only when both hold:

* the request's ``Origin`` (or, when a browser sent none, its ``Referer``) is the origin of
  the service's configured ``public_url``: a page on another port, another subdomain or
  another site is refused, whatever cookies the browser attaches;
* the form carries the CSRF token of the browser's desk cookie: an HMAC under a server key
  of the cookie's value (a synchronizer token in a hidden field), so a page that cannot read
  the desk page cannot supply it.

Desk cookies are ``HttpOnly``, ``SameSite=Strict``, limited to ``/desk``, ``Secure`` when the
public URL is ``https``, and carry a ``Max-Age``. A signed-in session's value also names its
end, under the same key, so a cookie kept beyond ``Max-Age`` is refused by the server too.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from aiohttp import web

__all__ = ["DESK_SESSION_SECONDS", "csrf_token", "new_anchor", "open_session", "same_origin",
           "seal_session", "set_desk_cookie", "token_matches"]

DESK_SESSION_SECONDS = 8 * 3600
"""A clerk's desk session lasts a working day."""

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> str | None:
    """``scheme://host[:port]`` of a URL, lower-cased, without a default port; ``None`` if
    it has no http(s) scheme or host."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    shown = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{shown}:{port}"
    return f"{scheme}://{shown}"


def same_origin(request: web.Request, public_url: str) -> bool:
    """Whether the request comes from a page of ``public_url``'s origin (see the module
    docstring); a request with neither ``Origin`` nor ``Referer`` does not."""
    expected = _origin(public_url)
    origin = request.headers.get("Origin")
    given = origin if origin is not None else request.headers.get("Referer")
    if expected is None or given is None or given.strip() == "null":
        return False
    return _origin(given) == expected


def new_anchor() -> str:
    """A fresh random cookie value for a browser that has no desk session yet."""
    return secrets.token_urlsafe(24)


def csrf_token(key: bytes, anchor: str) -> str:
    """The form token bound to the desk cookie value ``anchor``."""
    return hmac.new(key, b"keten/desk/csrf\0" + anchor.encode(), "sha256").hexdigest()


def token_matches(key: bytes, anchor: str | None, given: object) -> bool:
    """Whether ``given`` is the token of ``anchor`` (constant time; no cookie, no match)."""
    if not anchor or not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(given.encode(), csrf_token(key, anchor).encode())


def _session_mac(key: bytes, body: str) -> str:
    return hmac.new(key, b"keten/desk/session\0" + body.encode(), "sha256").hexdigest()


def seal_session(key: bytes, now: int, seconds: int = DESK_SESSION_SECONDS) -> str:
    """A signed-in session's cookie value: its end, a random part, and a MAC over both."""
    body = f"{now + seconds}.{secrets.token_urlsafe(16)}"
    return f"{body}.{_session_mac(key, body)}"


def open_session(key: bytes, value: str | None, now: int,
                 seconds: int = DESK_SESSION_SECONDS) -> bool:
    """Whether ``value`` is a session sealed under ``key`` that has not ended."""
    if not value or value.count(".") != 2:
        return False
    body, _, mac = value.rpartition(".")
    if not hmac.compare_digest(mac.encode(), _session_mac(key, body).encode()):
        return False
    ends = body.split(".", 1)[0]
    return ends.isdigit() and now < int(ends) <= now + seconds


def set_desk_cookie(response: web.StreamResponse, name: str, value: str, *,
                    public_url: str, max_age: int = DESK_SESSION_SECONDS) -> None:
    """Set a desk cookie with the attributes of the module docstring (``max_age`` 0 ends it)."""
    response.set_cookie(name, value, httponly=True, samesite="Strict", path="/desk",
                        secure=public_url.lower().startswith("https://"), max_age=max_age)
