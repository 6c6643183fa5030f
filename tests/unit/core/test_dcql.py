"""DCQL: parsing (OpenID4VP §6), claims path pointers (§7), matching and presentation checks."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssiwallet.core.claimpath import ClaimPath
from ssiwallet.core.dcql import (
    ClaimsQuery,
    CredentialSetQuery,
    DcqlQuery,
    TrustedAuthority,
    parse_path,
    parse_query,
    parse_query_json,
)
from ssiwallet.core.dcql_match import (
    Candidate,
    CredentialMatch,
    check_presented,
    evaluate,
    match_credential,
    select,
)
from ssiwallet.errors import DcqlError, InputError
from tests.support.paths import VECTORS as VECTOR_ROOT


def _repo_root() -> Path:
    for parent in Path(__file__).resolve().parents:
        if (parent / "pyproject.toml").is_file():
            return parent
    raise RuntimeError("repository root not found")


VECTORS = VECTOR_ROOT / "dcql"
VECTOR_FILES = sorted(VECTORS.glob("*.json"))

IDENTITY = "https://credentials.example.com/identity_credential"
OTHER_PID = "https://othercredentials.example/pid"
REDUCED = "https://credentials.example.com/reduced_identity_credential"
RESIDENCE = "https://cred.example/residence_credential"
REWARDS = "https://company.example/company_rewards"
AGE_VCT = "urn:keten:vct:identity:1"


def load(name: str) -> DcqlQuery:
    return parse_query_json((VECTORS / name).read_bytes())


def identity(cid: str = "id1", vct: str = IDENTITY, **extra: Any) -> Candidate:
    claims: dict[str, Any] = {
        "given_name": "Arthur",
        "first_name": "Arthur",
        "family_name": "Dent",
        "last_name": "Dent",
        "date_of_birth": "1978-03-08",
        "postal_code": "90210",
        "locality": "Milliways",
        "address": {"street_address": "42 Market Street", "locality": "Milliways"},
    }
    claims.update(extra)
    return Candidate(id=cid, format="dc+sd-jwt", vct=vct, claims=claims)


def without(c: Candidate, *keys: str) -> Candidate:
    claims = {k: v for k, v in c.claims.items() if k not in keys}
    return Candidate(id=c.id, format=c.format, vct=c.vct, claims=claims)


def sd(cid: str, vct: str, claims: dict[str, Any]) -> Candidate:
    return Candidate(id=cid, format="dc+sd-jwt", vct=vct, claims=claims)


def cred(cid: Any = "q", **fields: Any) -> dict[str, Any]:
    """A minimal valid dc+sd-jwt credential query, with fields overridden."""
    base: dict[str, Any] = {"id": cid, "format": "dc+sd-jwt", "meta": {"vct_values": [AGE_VCT]}}
    base.update(fields)
    return base


def query(*creds: dict[str, Any], **top: Any) -> DcqlQuery:
    return parse_query({"credentials": list(creds), **top})


# --- vectors -------------------------------------------------------------------------------


def test_vectors_present() -> None:
    assert len(VECTOR_FILES) == 7


@pytest.mark.parametrize("path", VECTOR_FILES, ids=[p.name for p in VECTOR_FILES])
def test_vector_parses(path: Path) -> None:
    raw = json.loads(path.read_text())
    q = parse_query_json(path.read_bytes())
    assert [c.id for c in q.credentials] == [c["id"] for c in raw["credentials"]]
    assert parse_query(raw) == q
    for cq, rc in zip(q.credentials, raw["credentials"], strict=True):
        assert cq.format == rc["format"]
        assert cq.meta == rc["meta"]
        assert [c.path for c in cq.claims or ()] == [tuple(c["path"]) for c in rc["claims"]]
    assert (q.credential_sets is None) == ("credential_sets" not in raw)


def test_simple_match_discloses_requested_paths() -> None:
    q = load("simple.json")
    m = match_credential(q.credentials[0], identity())
    assert m == CredentialMatch(
        "my_credential", "id1", (ClaimPath(["last_name"]), ClaimPath(["first_name"]),
                                 ClaimPath(["address", "street_address"])))
    result = evaluate(q, [identity()])
    assert result.satisfied and result.reasons == []
    assert result.selection() == {"my_credential": m}


def test_simple_no_match_wrong_vct_or_missing_claim() -> None:
    q = load("simple.json")
    wrong = identity(vct=OTHER_PID)
    assert match_credential(q.credentials[0], wrong) is None
    result = evaluate(q, [wrong])
    assert not result.satisfied
    assert result.reasons == [
        f"credential query 'my_credential': no credential with vct in ['{IDENTITY}']"
    ]
    no_address = without(identity(), "address")
    assert match_credential(q.credentials[0], no_address) is None
    result = evaluate(q, [no_address])
    assert result.reasons == [
        "credential query 'my_credential': credential 'id1': "
        "claim ['address', 'street_address'] is missing"
    ]
    with pytest.raises(DcqlError) as exc:
        result.selection()
    assert exc.value.code == "dcql.unsatisfied"


def test_value_matching() -> None:
    q = load("value_matching_simple.json").credentials[0]
    m = match_credential(q, identity(last_name="Doe"))
    assert m is not None
    assert m.paths == (
        ("last_name",), ("first_name",), ("address", "street_address"), ("postal_code",)
    )
    assert match_credential(q, identity(last_name="Doe", postal_code="90211")) is not None
    assert match_credential(q, identity(last_name="Doe", postal_code="10001")) is None
    # the type must match too: the number 90210 is not the string "90210"
    assert match_credential(q, identity(last_name="Doe", postal_code=90210)) is None
    result = evaluate(DcqlQuery((q,)), [identity(last_name="Prefect")])
    assert result.reasons == [
        "credential query 'my_credential': credential 'id1': "
        "claim ['last_name'] has value 'Prefect', not in ['Doe']"
    ]


def test_claim_sets_preference_order() -> None:
    q = load("claims_alternatives.json").credentials[0]
    full = identity(region="Magrathea")
    m = match_credential(q, full)
    assert m is not None and m.claim_set == ("a", "c", "d", "e")
    assert m.paths == (("last_name",), ("locality",), ("region",), ("date_of_birth",))
    second = match_credential(q, identity())  # no region: falls back to the second option
    assert second is not None and second.claim_set == ("a", "b", "e")
    assert second.paths == (("last_name",), ("postal_code",), ("date_of_birth",))
    neither = without(identity(), "postal_code")
    assert match_credential(q, neither) is None
    result = evaluate(DcqlQuery((q,)), [neither])
    assert result.reasons == [
        "credential query 'pid': credential 'id1': claim set ['a', 'c', 'd', 'e']: "
        "claim ['region'] is missing",
        "credential query 'pid': credential 'id1': claim set ['a', 'b', 'e']: "
        "claim ['postal_code'] is missing",
    ]


def test_credential_sets_alternatives_and_optional() -> None:
    q = load("credentials_alternatives.json")
    reduced1 = sd("r1", REDUCED, {"family_name": "Dent", "given_name": "Arthur"})
    reduced2 = sd("r2", RESIDENCE, {"postal_code": "1", "locality": "x", "region": "y"})
    rewards = sd("rw", REWARDS, {"rewards_number": 42})

    result = evaluate(q, [reduced1, reduced2])
    assert result.satisfied
    assert set(result.selection()) == {"pid_reduced_cred_1", "pid_reduced_cred_2"}

    result = evaluate(q, [identity(vct=OTHER_PID), identity("id2"), rewards, reduced1])
    assert result.satisfied
    sel = result.selection()
    assert list(sel) == ["pid", "nice_to_have"]  # first satisfiable option of each set
    assert sel["pid"].candidate_id == "id2"
    assert [m.candidate_id for m in result.matches["other_pid"]] == ["id1"]

    result = evaluate(q, [reduced1, rewards])  # half of option 3 and an optional set
    assert not result.satisfied
    assert result.reasons[-1] == (
        "credential set 0: none of the options [['pid'], ['other_pid'], "
        "['pid_reduced_cred_1', 'pid_reduced_cred_2']] can be met"
    )


def test_multi_credentials_mdoc_part_never_matches() -> None:
    q = load("multi_credentials.json")
    mdoc = Candidate("m1", "mso_mdoc", "", {"org.iso.7367.1": {"vehicle_holder": "x"}})
    result = evaluate(q, [identity(), mdoc])
    assert not result.satisfied
    assert [m.candidate_id for m in result.matches["pid"]] == ["id1"]
    assert result.matches["mdl"] == []
    assert result.reasons == ["credential query 'mdl': matching 'mso_mdoc' is not supported"]
    assert match_credential(q.credentials[1], mdoc) is None


def test_complex_mdoc_structure() -> None:
    q = load("complex_mdoc.json")
    assert q.credential_sets == (
        CredentialSetQuery((("mdl-id",), ("photo_card-id",)), required=True),
        CredentialSetQuery((("mdl-address",), ("photo_card-address",)), required=False),
    )
    assert q.credential("mdl-id").claims == (
        ClaimsQuery("given_name", ClaimPath(["org.iso.18013.5.1", "given_name"])),
        ClaimsQuery("family_name", ClaimPath(["org.iso.18013.5.1", "family_name"])),
        ClaimsQuery("portrait", ClaimPath(["org.iso.18013.5.1", "portrait"])),
    )
    assert not evaluate(q, [identity()]).satisfied


# --- matching details ----------------------------------------------------------------------


def test_no_claims_requested_matches_with_nothing_to_disclose() -> None:
    q = query(cred())
    m = match_credential(q.credentials[0], identity(vct=AGE_VCT))
    assert m is not None and m.paths == () and m.claim_set is None


def test_format_must_equal() -> None:
    q = query(cred())
    other = Candidate("x", "jwt_vc_json", AGE_VCT, {})
    assert match_credential(q.credentials[0], other) is None


@pytest.mark.parametrize(
    ("wanted", "actual", "ok"),
    [
        ([True], True, True),
        ([True], 1, False),
        ([1], True, False),
        ([1], 1.0, False),
        (["1"], 1, False),
        ([0, "a"], 0, True),
        ([False], False, True),
        ([False], 0, False),
    ],
)
def test_value_match_is_type_strict(wanted: list[Any], actual: Any, ok: bool) -> None:
    q = query(cred(claims=[{"path": ["v"], "values": wanted}]))
    c = sd("c", AGE_VCT, {"v": actual})
    assert (match_credential(q.credentials[0], c) is not None) is ok


DEGREES: dict[str, Any] = {
    "degrees": [
        {"type": "Bachelor of Science", "university": "University of Betelgeuse"},
        {"type": "Master of Science", "university": "University of Betelgeuse"},
        {"university": "Open University"},
    ],
    "nationalities": ["British", "Betelgeusian"],
}


def test_wildcard_discloses_every_selected_element() -> None:
    q = query(cred(claims=[{"path": ["degrees", None, "type"]}]))
    m = match_credential(q.credentials[0], sd("d", AGE_VCT, DEGREES))
    assert m is not None
    assert m.paths == (("degrees", 0, "type"), ("degrees", 1, "type"))


def test_wildcard_with_values_discloses_only_hits() -> None:
    q = query(cred(claims=[{"path": ["nationalities", None], "values": ["Betelgeusian"]}]))
    m = match_credential(q.credentials[0], sd("d", AGE_VCT, DEGREES))
    assert m is not None and m.paths == (("nationalities", 1),)
    q = query(cred(claims=[{"path": ["nationalities", None], "values": ["Dutch"]}]))
    result = evaluate(q, [sd("d", AGE_VCT, DEGREES)])
    assert result.reasons == [
        "credential query 'q': credential 'd': claim ['nationalities', None] has values "
        "['British', 'Betelgeusian'], none in ['Dutch']"
    ]


def test_index_path() -> None:
    q = query(cred(claims=[{"path": ["nationalities", 1]}, {"path": ["degrees", 5]}]))
    assert match_credential(q.credentials[0], sd("d", AGE_VCT, DEGREES)) is None
    q = query(cred(claims=[{"path": ["nationalities", 1]}, {"path": ["degrees", 0, "type"]}]))
    m = match_credential(q.credentials[0], sd("d", AGE_VCT, DEGREES))
    assert m is not None and m.paths == (("nationalities", 1), ("degrees", 0, "type"))


def test_duplicate_claim_paths_disclosed_once() -> None:
    q = query(cred(claims=[{"path": ["age_over_18"]}, {"path": ["age_over_18"]}]))
    m = match_credential(q.credentials[0], sd("a", AGE_VCT, {"age_over_18": True}))
    assert m is not None and m.paths == (("age_over_18",),)


def test_multiple_false_lists_all_matches_and_selection_picks_first() -> None:
    q = query(cred())
    cands = [sd("a", AGE_VCT, {}), sd("b", AGE_VCT, {})]
    result = evaluate(q, cands)
    assert [m.candidate_id for m in result.matches["q"]] == ["a", "b"]
    assert result.selection()["q"].candidate_id == "a"


# --- claims path pointer -------------------------------------------------------------------

SPEC_EXAMPLE: dict[str, Any] = {
    "name": "Arthur Dent",
    "address": {
        "street_address": "42 Market Street",
        "locality": "Milliways",
        "postal_code": "12345",
    },
    "degrees": DEGREES["degrees"][:2],
    "nationalities": ["British", "Betelgeusian"],
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (["name"], [(("name",), "Arthur Dent")]),
        (["address"], [(("address",), SPEC_EXAMPLE["address"])]),
        (["address", "street_address"], [(("address", "street_address"), "42 Market Street")]),
        (
            ["degrees", None, "type"],
            [
                (("degrees", 0, "type"), "Bachelor of Science"),
                (("degrees", 1, "type"), "Master of Science"),
            ],
        ),
        (["nationalities", 1], [(("nationalities", 1), "Betelgeusian")]),
        (["nationalities", 2], []),  # index does not exist
        (["missing"], []),
        (["name", "x"], []),  # string applied to a non-object: error
        (["address", None], []),  # null applied to a non-array: error
        (["address", 0], []),  # index applied to a non-array: error
        (["nationalities", "0"], []),  # key applied to an array: error
        (["degrees", None, None], []),
    ],
)
def test_select_spec_example(path: list[Any], expected: list[Any]) -> None:
    assert select(SPEC_EXAMPLE, path) == expected


def test_select_missing_key_drops_only_that_element() -> None:
    assert select(DEGREES, ["degrees", None, "type"]) == [
        (("degrees", 0, "type"), "Bachelor of Science"),
        (("degrees", 1, "type"), "Master of Science"),
    ]


def test_select_aborts_when_any_selected_element_has_wrong_type() -> None:
    claims = {"items": [{"k": 1}, "not an object", {"k": 2}]}
    assert select(claims, ["items", None, "k"]) == []
    assert select({"a": [[1, 2], 3]}, ["a", None, 0]) == []


@pytest.mark.parametrize("path", [[], "name", ["a", -1], ["a", True], ["a", 1.5], [{"x": 1}]])
def test_select_rejects_invalid_pointer(path: Any) -> None:
    with pytest.raises(DcqlError) as exc:
        select(SPEC_EXAMPLE, path)
    assert exc.value.code == "dcql.invalid_path"


def test_parse_path_mdoc() -> None:
    assert parse_path(["ns", "el"], mdoc=True) == ("ns", "el")
    for bad in (["ns"], ["ns", "el", "x"], ["ns", 1]):
        with pytest.raises(DcqlError) as exc:
            parse_path(bad, mdoc=True)
        assert exc.value.code == "dcql.invalid_path"


json_leaf = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
json_tree = st.recursive(
    json_leaf,
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=4), kids, max_size=4)
    ),
    max_leaves=20,
)


@pytest.mark.slow
@settings(max_examples=200)
@given(claims=st.dictionaries(st.text(max_size=4), json_tree, min_size=1), data=st.data())
def test_select_follows_any_concrete_path(claims: dict[str, Any], data: st.DataObject) -> None:
    path: list[str | int] = []
    node: Any = claims
    while True:
        if isinstance(node, dict) and node:
            key = data.draw(st.sampled_from(sorted(node)))
        elif isinstance(node, list) and node:
            key = data.draw(st.integers(0, len(node) - 1))
        else:
            break
        path.append(key)
        node = node[key]
        if data.draw(st.booleans()):
            break
    assert select(claims, path) == [(tuple(path), node)]


@settings(max_examples=100)
@given(items=st.lists(st.dictionaries(st.sampled_from("abc"), json_leaf), max_size=6))
def test_select_wildcard_selects_exactly_present_keys(items: list[dict[str, Any]]) -> None:
    got = select({"xs": items}, ["xs", None, "a"])
    assert got == [(("xs", i, "a"), item["a"]) for i, item in enumerate(items) if "a" in item]


# --- verifier side -------------------------------------------------------------------------

AGE_QUERY = {
    "credentials": [
        cred("age", claims=[{"path": ["age_over_18"], "values": [True]}]),
        cred("loyalty", meta={"vct_values": [REWARDS]}, multiple=True),
    ],
    "credential_sets": [{"options": [["age"]]}, {"options": [["loyalty"]], "required": False}],
}


def test_check_presented_ok() -> None:
    q = parse_query(AGE_QUERY)
    adult = sd("p", AGE_VCT, {"age_over_18": True})
    assert check_presented(q, {"age": [adult]}) == []
    cards = [sd("l1", REWARDS, {}), sd("l2", REWARDS, {})]
    assert check_presented(q, {"age": [adult], "loyalty": cards}) == []


def test_check_presented_problems() -> None:
    q = parse_query(AGE_QUERY)
    minor = sd("p", AGE_VCT, {"age_over_18": False})
    adult = sd("p", AGE_VCT, {"age_over_18": True})
    assert check_presented(q, {"age": [minor]}) == [
        "credential query 'age': claim ['age_over_18'] has value False, not in [True]",
        "credential set 0: none of the options [['age']] can be met",
    ]
    assert check_presented(q, {"age": [adult], "extra": [adult]}) == [
        "credential 'extra' was not asked for"
    ]
    assert check_presented(q, {"age": [adult, adult]}) == [
        "credential query 'age': 2 credentials presented, only one allowed"
    ]
    assert check_presented(q, {"age": []}) == [
        "credential query 'age': empty list of presentations",
        "credential set 0: none of the options [['age']] can be met",
    ]
    assert check_presented(q, {"age": [adult], "loyalty": [adult]}) == [
        f"credential query 'loyalty': vct '{AGE_VCT}' is not in ['{REWARDS}']"
    ]
    assert check_presented(q, {}) == ["credential set 0: none of the options [['age']] can be met"]


def test_check_presented_without_credential_sets() -> None:
    q = load("simple.json")
    assert check_presented(q, {"my_credential": [identity()]}) == []
    assert check_presented(q, {}) == ["credential query 'my_credential': no credential presented"]
    disclosed_too_little = sd("x", IDENTITY, {"last_name": "Dent", "first_name": "A"})
    assert check_presented(q, {"my_credential": [disclosed_too_little]}) == [
        "credential query 'my_credential': claim ['address', 'street_address'] is missing"
    ]


# --- parsing: accepted ---------------------------------------------------------------------


def test_defaults_and_unknown_properties_ignored() -> None:
    q = parse_query(
        {
            "credentials": [
                cred(
                    future=1,
                    claims=[{"path": ["a", 0, None], "values": [True, 3, "x"], "hint": {}}],
                )
            ],
            "credential_sets": [{"options": [["q"]], "purpose": "x"}],
            "extension": {"anything": []},
        }
    )
    cq = q.credentials[0]
    assert cq.multiple is False
    assert cq.require_cryptographic_holder_binding is True
    assert cq.trusted_authorities is None
    assert cq.claims == (ClaimsQuery(None, ClaimPath(["a", 0, None]), (True, 3, "x")),)
    assert q.credential_sets == (CredentialSetQuery((("q",),), required=True),)
    assert cq.vct_values == (AGE_VCT,)
    assert hash(cq)  # frozen and hashable despite the meta dict


def test_optional_fields_parsed() -> None:
    q = query(
        cred(
            multiple=True,
            require_cryptographic_holder_binding=False,
            trusted_authorities=[{"type": "aki", "values": ["s9tIpPmhxdiuNkHMEWNpYim8S8Y"]}],
        ),
        {
            "id": "mdl",
            "format": "mso_mdoc",
            "meta": {"doctype_value": "org.iso.18013.5.1.mDL"},
            "claims": [{"path": ["ns", "el"], "intent_to_retain": True}],
        },
    )
    cq = q.credential("q")
    assert cq.multiple and not cq.require_cryptographic_holder_binding
    assert cq.trusted_authorities == (TrustedAuthority("aki", ("s9tIpPmhxdiuNkHMEWNpYim8S8Y",)),)
    assert q.credential("mdl").claims == (ClaimsQuery(None, ClaimPath(["ns", "el"]), None, True),)
    with pytest.raises(DcqlError) as exc:
        q.credential("nope")
    assert exc.value.code == "dcql.unknown_credential_id"


def test_other_formats_accept_any_meta_object() -> None:
    q = query({"id": "w3c", "format": "jwt_vc_json", "meta": {}})
    assert q.credentials[0].vct_values is None


def test_parse_query_json_errors_are_input_errors() -> None:
    with pytest.raises(InputError) as exc:
        parse_query_json(b'{"credentials": [}')
    assert exc.value.code == "json.malformed"
    with pytest.raises(InputError) as exc:
        parse_query_json('{"credentials": [], "credentials": []}')
    assert exc.value.code == "json.duplicate_key"
    with pytest.raises(DcqlError) as exc2:
        parse_query_json("[]")
    assert exc2.value.code == "dcql.invalid_query"


# --- parsing: rejected, one case per rule --------------------------------------------------

MDOC = {"id": "m", "format": "mso_mdoc", "meta": {"doctype_value": "d"}}
ABC = [{"id": "a", "path": ["a"]}, {"id": "b", "path": ["b"]}]

BAD: list[tuple[str, Any, str]] = [
    ("not-object", [], "dcql.invalid_query"),
    ("no-credentials", {}, "dcql.missing_credentials"),
    ("empty-credentials", {"credentials": []}, "dcql.missing_credentials"),
    ("credentials-object", {"credentials": {"id": "x"}}, "dcql.invalid_credentials"),
    ("credential-string", {"credentials": ["q"]}, "dcql.invalid_credential"),
    ("id-missing", {"credentials": [{"format": "f", "meta": {}}]}, "dcql.invalid_id"),
    ("id-empty", {"credentials": [cred("")]}, "dcql.invalid_id"),
    ("id-space", {"credentials": [cred("a b")]}, "dcql.invalid_id"),
    ("id-dot", {"credentials": [cred("a.b")]}, "dcql.invalid_id"),
    ("id-newline", {"credentials": [cred("ab\n")]}, "dcql.invalid_id"),
    ("id-non-ascii", {"credentials": [cred("é")]}, "dcql.invalid_id"),
    ("id-int", {"credentials": [cred(7)]}, "dcql.invalid_id"),
    ("id-duplicate", {"credentials": [cred("a"), cred("a")]}, "dcql.duplicate_id"),
    ("claim-id-duplicate", {"credentials": [cred(claims=[ABC[0], ABC[0]])]}, "dcql.duplicate_id"),
    ("claim-id-bad", {"credentials": [cred(claims=[{"id": "", "path": ["a"]}])]},
     "dcql.invalid_id"),
    ("format-missing", {"credentials": [{"id": "q", "meta": {}}]}, "dcql.invalid_format"),
    ("format-int", {"credentials": [cred(format=1)]}, "dcql.invalid_format"),
    ("meta-missing", {"credentials": [{"id": "q", "format": "f"}]}, "dcql.invalid_meta"),
    ("meta-array", {"credentials": [cred(meta=[])]}, "dcql.invalid_meta"),
    ("vct-missing", {"credentials": [cred(meta={})]}, "dcql.invalid_meta"),
    ("vct-empty", {"credentials": [cred(meta={"vct_values": []})]}, "dcql.invalid_meta"),
    ("vct-string", {"credentials": [cred(meta={"vct_values": "urn:x"})]}, "dcql.invalid_meta"),
    ("vct-int", {"credentials": [cred(meta={"vct_values": [1]})]}, "dcql.invalid_meta"),
    ("doctype-missing", {"credentials": [{**MDOC, "meta": {}}]}, "dcql.invalid_meta"),
    ("multiple-string", {"credentials": [cred(multiple="true")]}, "dcql.invalid_boolean"),
    ("multiple-int", {"credentials": [cred(multiple=1)]}, "dcql.invalid_boolean"),
    ("binding-null", {"credentials": [cred(require_cryptographic_holder_binding=None)]},
     "dcql.invalid_boolean"),
    ("required-int", {"credentials": [cred()], "credential_sets": [
        {"options": [["q"]], "required": 0}]}, "dcql.invalid_boolean"),
    ("retain-string", {"credentials": [{**MDOC, "claims": [
        {"path": ["n", "e"], "intent_to_retain": "yes"}]}]}, "dcql.invalid_boolean"),
    ("ta-empty", {"credentials": [cred(trusted_authorities=[])]},
     "dcql.invalid_trusted_authorities"),
    ("ta-no-type", {"credentials": [cred(trusted_authorities=[{"values": ["x"]}])]},
     "dcql.invalid_trusted_authorities"),
    ("ta-no-values", {"credentials": [cred(trusted_authorities=[{"type": "aki", "values": []}])]},
     "dcql.invalid_trusted_authorities"),
    ("claims-empty", {"credentials": [cred(claims=[])]}, "dcql.invalid_claims"),
    ("claims-object", {"credentials": [cred(claims={"path": ["a"]})]}, "dcql.invalid_claims"),
    ("claims-null", {"credentials": [cred(claims=None)]}, "dcql.invalid_claims"),
    ("claim-string", {"credentials": [cred(claims=["a"])]}, "dcql.invalid_claims"),
    ("path-missing", {"credentials": [cred(claims=[{"id": "a"}])]}, "dcql.invalid_path"),
    ("path-empty", {"credentials": [cred(claims=[{"path": []}])]}, "dcql.invalid_path"),
    ("path-string", {"credentials": [cred(claims=[{"path": "a"}])]}, "dcql.invalid_path"),
    ("path-negative", {"credentials": [cred(claims=[{"path": ["a", -1]}])]}, "dcql.invalid_path"),
    ("path-bool", {"credentials": [cred(claims=[{"path": ["a", True]}])]}, "dcql.invalid_path"),
    ("path-float", {"credentials": [cred(claims=[{"path": ["a", 1.0]}])]}, "dcql.invalid_path"),
    ("path-object", {"credentials": [cred(claims=[{"path": [{}]}])]}, "dcql.invalid_path"),
    ("path-mdoc-short", {"credentials": [{**MDOC, "claims": [{"path": ["n"]}]}]},
     "dcql.invalid_path"),
    ("path-mdoc-null", {"credentials": [{**MDOC, "claims": [{"path": ["n", None]}]}]},
     "dcql.invalid_path"),
    ("values-empty", {"credentials": [cred(claims=[{"path": ["a"], "values": []}])]},
     "dcql.invalid_values"),
    ("values-scalar", {"credentials": [cred(claims=[{"path": ["a"], "values": True}])]},
     "dcql.invalid_values"),
    ("values-float", {"credentials": [cred(claims=[{"path": ["a"], "values": [1.5]}])]},
     "dcql.invalid_values"),
    ("values-null", {"credentials": [cred(claims=[{"path": ["a"], "values": [None]}])]},
     "dcql.invalid_values"),
    ("values-object", {"credentials": [cred(claims=[{"path": ["a"], "values": [{}]}])]},
     "dcql.invalid_values"),
    ("claim-sets-without-claims", {"credentials": [cred(claim_sets=[["a"]])]},
     "dcql.invalid_claim_sets"),
    ("claim-sets-empty", {"credentials": [cred(claims=ABC, claim_sets=[])]},
     "dcql.invalid_claim_sets"),
    ("claim-sets-option-empty", {"credentials": [cred(claims=ABC, claim_sets=[[]])]},
     "dcql.invalid_claim_sets"),
    ("claim-sets-option-string", {"credentials": [cred(claims=ABC, claim_sets=["a"])]},
     "dcql.invalid_claim_sets"),
    ("claim-sets-id-int", {"credentials": [cred(claims=ABC, claim_sets=[[1]])]},
     "dcql.invalid_claim_sets"),
    ("claim-sets-needs-ids", {"credentials": [
        cred(claims=[ABC[0], {"path": ["c"]}], claim_sets=[["a"]])]}, "dcql.missing_claim_id"),
    ("claim-sets-unknown", {"credentials": [cred(claims=ABC, claim_sets=[["a"], ["c"]])]},
     "dcql.unknown_claim_set_id"),
    ("sets-empty", {"credentials": [cred()], "credential_sets": []},
     "dcql.invalid_credential_sets"),
    ("sets-object", {"credentials": [cred()], "credential_sets": {"options": [["q"]]}},
     "dcql.invalid_credential_sets"),
    ("set-string", {"credentials": [cred()], "credential_sets": ["q"]},
     "dcql.invalid_credential_sets"),
    ("set-no-options", {"credentials": [cred()], "credential_sets": [{"required": True}]},
     "dcql.invalid_credential_sets"),
    ("set-options-empty", {"credentials": [cred()], "credential_sets": [{"options": []}]},
     "dcql.invalid_credential_sets"),
    ("set-option-empty", {"credentials": [cred()], "credential_sets": [{"options": [[]]}]},
     "dcql.invalid_credential_sets"),
    ("set-option-string", {"credentials": [cred()], "credential_sets": [{"options": ["q"]}]},
     "dcql.invalid_credential_sets"),
    ("set-unknown-id", {"credentials": [cred()], "credential_sets": [{"options": [["q", "r"]]}]},
     "dcql.unknown_credential_id"),
]


@pytest.mark.parametrize(("obj", "code"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_invalid_query_rejected(obj: Any, code: str) -> None:
    with pytest.raises(DcqlError) as exc:
        parse_query(obj)
    assert exc.value.code == code
    assert exc.value.detail


def _replace_somewhere(
    doc: Any, replacement: Any, data: st.DataObject
) -> Any:
    """Replace one randomly chosen node of ``doc`` (a copy) by ``replacement``."""
    doc = copy.deepcopy(doc)
    node = doc
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            return doc
        key = data.draw(st.sampled_from(keys))
        child = node[key]
        if isinstance(child, dict | list) and child and data.draw(st.booleans()):
            node = child
            continue
        node[key] = replacement
        return doc


@settings(max_examples=300)
@given(
    name=st.sampled_from([p.name for p in VECTOR_FILES]),
    replacement=json_tree,
    data=st.data(),
)
def test_mutated_vectors_fail_only_with_dcql_errors(
    name: str, replacement: Any, data: st.DataObject
) -> None:
    doc = json.loads((VECTORS / name).read_text())
    mutated = _replace_somewhere(doc, replacement, data)
    try:
        q = parse_query(mutated)
    except DcqlError as exc:
        assert exc.code.startswith("dcql.")
        return
    evaluate(q, [identity()])  # whatever parses can be evaluated without crashing
