"""What the wallet accepts from a verifier it did not write: OpenID4VP 1.0 as published.

* §8.2: the response endpoint's ``redirect_uri`` may carry its fresh value in a fragment
  (the specification's own example is ``https://client.example.org/cb#response_code=…``)
  or in the query; a URL that is refused says what is wrong with it.
* §5.9.3: a ``redirect_uri:`` client cannot sign its request; a request by value from one
  is refused for that reason, not as a malformed query.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from urllib.parse import quote, urlencode

import base58
import pytest

from ssiwallet.core.oid4vp import check_http_url, parse_request_uri
from ssiwallet.core.receipt import build_post_answer, parse_post_answer
from ssiwallet.errors import Oid4vpError
from tests.support.paths import SPECS

DID = "did:keten:" + base58.b58encode(bytes(range(16))).decode()
CLIENT_ID = "decentralized_identifier:" + DID
REQUEST_URI = "https://verifier.example/oid4vp/request/abc"
SPEC = (SPECS / "openid4vp-1_0.md").read_text(encoding="utf-8")


def refusal(fn: Callable[[], object]) -> Oid4vpError:
    with pytest.raises(Oid4vpError) as err:
        fn()
    return err.value


def spec_response_endpoint_answer() -> dict[str, str]:
    """§8.2's example answer of a response endpoint (``redirect_uri`` with a fragment)."""
    marker = "using a `response_code` parameter"
    start = SPEC.index(marker)
    body = re.search(r"\n\n(\{.*?\})\n```", SPEC[start:], re.DOTALL)
    assert body is not None
    value: dict[str, str] = json.loads(body.group(1))
    return value


# --- redirect_uri (§8.2) --------------------------------------------------------------------


def test_the_specifications_own_redirect_uri_with_a_fragment_is_accepted() -> None:
    example = spec_response_endpoint_answer()
    assert "#response_code=" in example["redirect_uri"]
    answer = parse_post_answer(json.dumps(example))
    assert answer.redirect_uri == example["redirect_uri"]
    assert answer.receipt is None


@pytest.mark.parametrize("uri", [
    "https://client.example.org/cb?response_code=091535f699ea575c7937fa5f0f454aee",
    "https://client.example.org/cb/091535f699ea575c7937fa5f0f454aee",
    "https://client.example.org/cb?session=1#response_code=0915",
])
def test_a_fresh_value_in_query_path_or_fragment_is_accepted(uri: str) -> None:
    assert parse_post_answer(json.dumps({"redirect_uri": uri})).redirect_uri == uri
    assert build_post_answer(receipt=None, redirect_uri=uri) == {"redirect_uri": uri}


@pytest.mark.parametrize(("uri", "says"), [
    ("http://client.example.org/cb", "https"),
    ("javascript:alert(1)", "https"),
    ("https://user@client.example.org/cb", "user information"),
    ("https:///cb", "no host"),
    ("https://client.example.org/c b", "characters"),
    ("https://client.example.org:0/cb", "port 0"),
])
def test_a_refused_redirect_uri_says_what_is_wrong(uri: str, says: str) -> None:
    err = refusal(lambda: parse_post_answer(json.dumps({"redirect_uri": uri})))
    assert err.code == "oid4vp.bad_answer"
    assert says in err.detail, err.detail


def test_a_fragment_where_none_may_be_is_named_as_such() -> None:
    err = refusal(lambda: check_http_url("https://v.example/post#x", what="response_uri",
                                         reason="bad_response_uri"))
    assert err.code == "oid4vp.bad_response_uri"
    assert "fragment" in err.detail and "https URL" not in err.detail, err.detail


# --- client identifiers and requests by value (§5.9.3, §5) --------------------------------------


REDIRECT_CLIENT = "redirect_uri:https://client.example.org/cb"


def test_a_signed_request_by_value_from_a_redirect_uri_client_says_why() -> None:
    """§5.5's example request: ``client_id=redirect_uri:…&request=eyJ…``."""
    uri = "openid4vp://?" + urlencode({"client_id": REDIRECT_CLIENT,
                                       "request": "eyJrZCI6IngifQ.e30.c2ln"})
    err = refusal(lambda: parse_request_uri(uri))
    assert err.code == "oid4vp.unsupported_client_id_prefix"
    assert "redirect_uri:" in err.detail and "sign" in err.detail
    assert "malformed" not in err.detail


def test_an_unsigned_request_from_a_redirect_uri_client_says_why() -> None:
    """§5.9.3's example of an unsigned request, in full: more parameters than a link has."""
    uri = "openid4vp://?" + urlencode({
        "response_type": "vp_token", "client_id": REDIRECT_CLIENT,
        "redirect_uri": "https://client.example.org/cb", "dcql_query": "{}",
        "nonce": "n-0S6_WzA2Mj", "client_metadata": json.dumps(
            {"vp_formats_supported": {"dc+sd-jwt": {"sd-jwt_alg_values": ["ES256"]}}})})
    err = refusal(lambda: parse_request_uri(uri))
    assert err.code == "oid4vp.unsupported_client_id_prefix"
    assert "malformed" not in err.detail


def test_an_unsigned_request_from_a_keten_client_is_named_unsigned() -> None:
    uri = "openid4vp://?" + urlencode({
        "client_id": CLIENT_ID, "response_type": "vp_token", "response_mode": "direct_post",
        "response_uri": "https://v.example/post", "nonce": "n" * 22, "state": "s" * 22,
        "dcql_query": "{}"})
    assert refusal(lambda: parse_request_uri(uri)).code == "oid4vp.unsigned_request"


def test_a_request_by_value_from_a_keten_client_is_still_by_value() -> None:
    uri = f"openid4vp://?client_id={quote(CLIENT_ID, safe='')}&request=eyJ9.e30.c2ln"
    assert refusal(lambda: parse_request_uri(uri)).code == "oid4vp.request_by_value"


@pytest.mark.parametrize(("client_id", "says"), [
    ("decentralized_identifier:did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
     "did:keten"),
    ("decentralized_identifier:did:web:verifier.example", "did:keten"),
    ("x509_san_dns:verifier.example", "X.509"),
    ("verifier-1", "pre-registered"),
])
def test_other_client_identifier_prefixes_are_named_unsupported(client_id: str,
                                                                says: str) -> None:
    uri = "openid4vp://?" + urlencode({"client_id": client_id, "request_uri": REQUEST_URI})
    err = refusal(lambda: parse_request_uri(uri))
    assert err.code == "oid4vp.unsupported_client_id_prefix"
    assert says in err.detail, err.detail


@pytest.mark.parametrize("client_id", ["decentralized_identifier:did:keten:0OIl",
                                       "decentralized_identifier:", "did:keten:x", ""])
def test_a_malformed_client_id_is_still_bad(client_id: str) -> None:
    uri = "openid4vp://?" + urlencode({"client_id": client_id, "request_uri": REQUEST_URI})
    assert refusal(lambda: parse_request_uri(uri)).code == "oid4vp.bad_client_id"


def test_a_keten_link_still_parses() -> None:
    uri = "openid4vp://?" + urlencode({"client_id": CLIENT_ID, "request_uri": REQUEST_URI})
    assert parse_request_uri(uri) == (CLIENT_ID, REQUEST_URI)
