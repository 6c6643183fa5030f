"""The desk guard (ssiwallet.infra.csrf): origins, tokens, sealed sessions, cookie flags."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from ssiwallet.infra.csrf import (
    DESK_SESSION_SECONDS,
    csrf_token,
    open_session,
    same_origin,
    seal_session,
    set_desk_cookie,
    token_matches,
)

KEY = b"k" * 32


def _request(**headers: str) -> web.Request:
    return make_mocked_request("POST", "/desk/status", headers=headers)


@pytest.mark.parametrize(("public_url", "headers", "same"), [
    ("https://desk.example", {"Origin": "https://desk.example"}, True),
    ("https://desk.example", {"Origin": "https://DESK.example:443"}, True),
    ("http://127.0.0.1:8080", {"Origin": "http://127.0.0.1:8080"}, True),
    ("http://127.0.0.1:8080", {"Referer": "http://127.0.0.1:8080/desk"}, True),
    ("http://127.0.0.1:8080", {"Origin": "http://127.0.0.1:8081"}, False),
    ("http://127.0.0.1:8080", {"Origin": "http://127.0.0.1:8081",
                               "Referer": "http://127.0.0.1:8080/desk"}, False),
    ("https://desk.example", {"Origin": "http://desk.example"}, False),
    ("https://desk.example", {"Origin": "https://evil.desk.example"}, False),
    ("https://desk.example", {"Origin": "null"}, False),
    ("https://desk.example", {"Origin": "https://desk.example:99999"}, False),
    ("https://desk.example", {"Referer": "https://desk.example.evil/desk"}, False),
    ("https://desk.example", {}, False),
])
def test_same_origin(public_url: str, headers: dict[str, str], same: bool) -> None:
    assert same_origin(_request(**headers), public_url) is same


def test_tokens_are_bound_to_the_cookie_and_the_key() -> None:
    token = csrf_token(KEY, "anchor-one")
    assert token_matches(KEY, "anchor-one", token)
    assert not token_matches(KEY, "anchor-two", token)
    assert not token_matches(b"x" * 32, "anchor-one", token)
    assert not token_matches(KEY, None, token) and not token_matches(KEY, "", token)
    assert not token_matches(KEY, "anchor-one", None)
    assert not token_matches(KEY, "anchor-one", "")


def test_sealed_sessions_end_and_cannot_be_forged() -> None:
    value = seal_session(KEY, 1000)
    assert open_session(KEY, value, 1000)
    assert open_session(KEY, value, 1000 + DESK_SESSION_SECONDS - 1)
    assert not open_session(KEY, value, 1000 + DESK_SESSION_SECONDS)
    assert not open_session(b"x" * 32, value, 1000)
    ends, rest = value.split(".", 1)
    assert not open_session(KEY, f"{int(ends) + 3600}.{rest}", 1000)
    assert not open_session(KEY, None, 1000) and not open_session(KEY, "a.b", 1000)
    longer = seal_session(KEY, 1000, DESK_SESSION_SECONDS * 2)
    assert not open_session(KEY, longer, 1000)  # a session may not outlast the limit


@pytest.mark.parametrize(("public_url", "secure"), [("https://desk.example", True),
                                                    ("http://127.0.0.1:8080", False)])
def test_desk_cookie_flags(public_url: str, secure: bool) -> None:
    response = web.Response()
    set_desk_cookie(response, "keten_desk", "v", public_url=public_url)
    morsel = response.cookies["keten_desk"]
    assert morsel["httponly"] and morsel["samesite"] == "Strict" and morsel["path"] == "/desk"
    assert str(morsel["max-age"]) == str(DESK_SESSION_SECONDS)
    assert bool(morsel["secure"]) is secure
