"""Property tests: any claim set survives issue → present → verify, and a presentation
reveals exactly what the holder chose (RFC 9901 §7.1–§7.3, SD-JWT VC profile).

Expected results are computed here from the original, unmarked claims, never by asking
the library: a path selects its subtree and its ancestors; arrays keep the disclosed
elements in order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssiwallet.core import sdjwt
from ssiwallet.core.keys import Ed25519PrivateKey
from ssiwallet.core.sdjwt import SD, KeyBindingPolicy
from ssiwallet.core.vc import RESERVED, issue_vc, mark_all_disclosable, verify_vc

NOW = 1_700_000_000
IAT = NOW - 3600
ISS = "did:keten:issuer"
KID = ISS + "#key-1"
VCT = "urn:keten:vct:test:1"
NONCE, AUD = "nonce-8Qk2", "https://verifier.example.org"
POLICY = KeyBindingPolicy(nonce=NONCE, aud=AUD)
ISSUER = Ed25519PrivateKey(bytes(range(32)))
HOLDER = Ed25519PrivateKey(bytes(range(50, 82)))
HOLDER_JWK = HOLDER.public_key.to_jwk()
PLAIN_REGISTERED = {"iss": ISS, "iat": IAT, "cnf": {"jwk": HOLDER_JWK}}

Path = tuple[str | int, ...]

# ------------------------------------------------------------------------ strategies

TOP_LEVEL_RESERVED = {"_sd", "...", "_sd_alg", "iss", "iat", "exp", "nbf", "cnf", "vct",
                      "status"} | RESERVED
NESTED_RESERVED = {"_sd", "..."}  # the only names the SD-JWT format itself forbids

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**30), 10**30),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=10),
)
nested_keys = st.text(max_size=6).filter(lambda k: k not in NESTED_RESERVED)
top_keys = st.text(max_size=8).filter(lambda k: k not in TOP_LEVEL_RESERVED)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(nested_keys, inner,
                                                                 max_size=4),
    max_leaves=12,
)
claim_sets = st.dictionaries(top_keys, json_values, max_size=5)


def _marked_containers(inner: st.SearchStrategy[tuple[Any, Any]]
                       ) -> st.SearchStrategy[tuple[Any, Any]]:
    """(marked, plain) pairs: each member or element is hidden behind SD or not."""
    lists = st.lists(st.tuples(inner, st.booleans()), max_size=4).map(
        lambda items: ([SD(m) if hide else m for (m, _), hide in items],
                       [p for (_, p), _ in items]))
    dicts = st.dictionaries(nested_keys, st.tuples(inner, st.booleans()), max_size=4).map(
        lambda items: ({(SD(k) if hide else k): m for k, ((m, _), hide) in items.items()},
                       {k: p for k, ((_, p), _) in items.items()}))
    return lists | dicts


marked_values = st.recursive(scalars.map(lambda v: (v, v)), _marked_containers,
                             max_leaves=12)
marked_claim_sets = st.dictionaries(top_keys, st.tuples(marked_values, st.booleans()),
                                    max_size=5).map(
    lambda items: ({(SD(k) if hide else k): m for k, ((m, _), hide) in items.items()},
                   {k: p for k, ((_, p), _) in items.items()}))


# -------------------------------------------------------------------------- helpers


def same(a: Any, b: Any) -> bool:
    """Equal as JSON: ``True`` is not ``1``, ``1.0`` is not ``1``, ``-0.0`` is kept."""
    return a == b and json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def issue(marked: dict[Any, Any], decoys: int = 2) -> sdjwt.IssuedSdJwt:
    return sdjwt.issue({**PLAIN_REGISTERED, **marked}, ISSUER, decoys=decoys)


def show(issued: sdjwt.IssuedSdJwt, paths: Sequence[Sequence[str | int | None]]
         ) -> dict[str, Any]:
    """Present ``paths`` with a KB-JWT, send it as compact text, verify it."""
    presentation = sdjwt.present(issued.sd_jwt, paths, holder_key=HOLDER, nonce=NONCE,
                                 aud=AUD, iat=NOW)
    verified = sdjwt.verify_sd_jwt(sdjwt.parse(presentation.compact()),
                                   lambda h, p: ISSUER.public_key, now=NOW,
                                   key_binding=POLICY)
    assert verified.kb_payload is not None and verified.kb_payload["nonce"] == NONCE
    return verified.claims


def all_paths(value: Any, prefix: Path = ()) -> Iterator[Path]:
    """Every node below ``value`` (object members and array elements), depth first."""
    items: Any = value.items() if isinstance(value, dict) else (
        enumerate(value) if isinstance(value, list) else ())
    for step, child in items:
        yield (*prefix, step)
        yield from all_paths(child, (*prefix, step))


def prune(value: Any, selected: list[Path]) -> Any:
    """The part of an all-disclosable ``value`` that disclosing ``selected`` reveals."""
    if () in selected:
        return value
    if isinstance(value, dict):
        return {k: prune(v, [p[1:] for p in selected if p[0] == k])
                for k, v in value.items() if any(p[0] == k for p in selected)}
    assert isinstance(value, list)
    return [prune(v, [p[1:] for p in selected if p[0] == i])
            for i, v in enumerate(value) if any(p[0] == i for p in selected)]


def unmark(node: Any) -> Any:
    if isinstance(node, SD):
        return unmark(node.value)
    if isinstance(node, dict):
        return {(k.value if isinstance(k, SD) else k): unmark(v) for k, v in node.items()}
    if isinstance(node, list):
        return [unmark(v) for v in node]
    return node


def visible(node: Any, selected: list[Path]) -> Any:
    """What disclosing ``selected`` reveals of a *marked* tree: plaintext parts always,
    a hidden member or element only on a selected path (whole if the path ends there)."""
    if () in selected:
        return unmark(node)
    if isinstance(node, dict):
        out = {}
        for key, child in node.items():
            name = key.value if isinstance(key, SD) else key
            sub = [p[1:] for p in selected if p[0] == name]
            if sub or not isinstance(key, SD):
                out[name] = visible(child, sub)
        return out
    if isinstance(node, list):
        kept = []
        for i, element in enumerate(node):
            sub = [p[1:] for p in selected if p[0] == i]
            if isinstance(element, SD):
                if sub:
                    kept.append(visible(element.value, sub))
            else:
                kept.append(visible(element, sub))
        return kept
    return node


# ------------------------------------------------------------------ round trips (1)


@settings(max_examples=150, deadline=None)
@given(claims=claim_sets)
def test_all_disclosable_round_trip(claims: dict[str, Any]) -> None:
    issued = issue(mark_all_disclosable(claims))
    assert same(show(issued, [(name,) for name in claims]), {**PLAIN_REGISTERED, **claims})


@settings(max_examples=150, deadline=None)
@given(pair=marked_claim_sets)
def test_randomly_marked_round_trip(pair: tuple[dict[Any, Any], dict[str, Any]]) -> None:
    marked, plain = pair
    issued = issue(marked)
    assert same(show(issued, [(name,) for name in plain]), {**PLAIN_REGISTERED, **plain})


@settings(max_examples=100, deadline=None)
@given(claims=claim_sets)
def test_sd_jwt_vc_round_trip(claims: dict[str, Any]) -> None:
    """The SD-JWT VC issuer hides every subject claim; showing all gives them back."""
    issued = issue_vc(issuer=ISS, kid=KID, key=ISSUER, vct=VCT, claims=claims,
                      holder_jwk=HOLDER_JWK, now=NOW, validity=86400)
    presentation = sdjwt.present(issued.sd_jwt, [(name,) for name in claims],
                                 holder_key=HOLDER, nonce=NONCE, aud=AUD, iat=NOW)

    result = verify_vc(presentation.compact(), keys={KID: ISSUER.public_key}, now=NOW,
                       key_binding=POLICY)
    assert same(result.disclosed, claims)
    assert result.vct == VCT and result.iss == ISS


# ------------------------------------------------------------------- subsets (2)


@settings(max_examples=150, deadline=None)
@given(claims=claim_sets, data=st.data())
def test_top_level_subset_reveals_exactly_that_subset(claims: dict[str, Any],
                                                      data: st.DataObject) -> None:
    names = data.draw(st.lists(st.sampled_from(sorted(claims)), unique=True)
                      if claims else st.just([]))
    issued = issue(mark_all_disclosable(claims))
    expected = {**PLAIN_REGISTERED, **{n: claims[n] for n in names}}
    assert same(show(issued, [(n,) for n in names]), expected)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(claims=claim_sets, data=st.data())
def test_nested_paths_reveal_leaves_and_ancestors_only(claims: dict[str, Any],
                                                       data: st.DataObject) -> None:
    paths = list(all_paths(claims))
    selected = data.draw(st.lists(st.sampled_from(paths), max_size=4) if paths
                         else st.just([]))
    issued = issue(mark_all_disclosable(claims))
    assert same(show(issued, selected), {**PLAIN_REGISTERED, **prune(claims, selected)})


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(pair=marked_claim_sets, data=st.data())
def test_nested_paths_with_random_marks(pair: tuple[dict[Any, Any], dict[str, Any]],
                                        data: st.DataObject) -> None:
    marked, plain = pair
    paths = list(all_paths(plain))
    selected = data.draw(st.lists(st.sampled_from(paths), max_size=4) if paths
                         else st.just([]))
    issued = issue(marked)
    assert same(show(issued, selected), {**PLAIN_REGISTERED, **visible(marked, selected)})


def test_wildcard_path_discloses_only_elements_that_hold_the_claim() -> None:
    """``("degrees", None, "title")`` (a DCQL-style pointer) asks for the titles: an
    element without a title must stay hidden, whole."""
    claims = {"degrees": [{"title": "BSc"}, "private note", {"year": 2020}],
              "name": "Ada"}
    issued = issue(mark_all_disclosable(claims))
    assert show(issued, [("degrees", None, "title")]) == {
        **PLAIN_REGISTERED, "degrees": [{"title": "BSc"}]}


def test_lenient_path_below_a_scalar_discloses_nothing() -> None:
    """With ``strict=False`` a path naming no claim is skipped, but one that runs *through*
    a scalar must not disclose that scalar."""
    issued = issue(mark_all_disclosable({"secret": "s3cr3t", "name": "Ada"}))
    presentation = sdjwt.present(issued.sd_jwt, [("secret", "x")], holder_key=None,
                                 strict=False)
    assert sdjwt.verify_sd_jwt(presentation, lambda h, p: ISSUER.public_key,
                               now=NOW).claims == PLAIN_REGISTERED


# ----------------------------------------------------------------- holder view (3)


@settings(max_examples=150, deadline=None)
@given(pair=marked_claim_sets)
def test_holder_view_is_the_original_claims(pair: tuple[dict[Any, Any], dict[str, Any]]
                                            ) -> None:
    marked, plain = pair
    issued = issue(marked)
    view = sdjwt.holder_view(issued.sd_jwt)
    assert same(view.claims, {**PLAIN_REGISTERED, **plain})
    assert sorted(d.encoded for d in view.provenance.values()) == sorted(
        d.encoded for d in issued.disclosures)


@settings(max_examples=100, deadline=None)
@given(claims=claim_sets)
def test_holder_view_of_an_all_disclosable_credential(claims: dict[str, Any]) -> None:
    issued = issue(mark_all_disclosable(claims), decoys=0)
    assert same(sdjwt.holder_view(issued.sd_jwt).claims, {**PLAIN_REGISTERED, **claims})
    assert len(issued.disclosures) == sum(1 for _ in all_paths(claims))
