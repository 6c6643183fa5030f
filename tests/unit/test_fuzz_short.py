"""The short tier of the fuzzers (fuzz/, `make fuzz`): every target on its committed seed
corpus and a fixed number of structure-aware mutations of it. An input may parse or raise
the project's own SsiError; any other exception fails. Findings not fixed yet are pinned as
strict xfails; fixed ones stay below as regression tests with their minimal inputs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fuzz.engine import CORPUS, hypothesis_run, seeds
from fuzz.targets import TARGETS, run_one
from ssiwallet.core.oid4vci import parse_issuer_metadata, parse_offer, parse_offer_uri
from ssiwallet.errors import SsiError

EXAMPLES = 150


def test_every_target_has_seeds() -> None:
    assert sorted(p.name for p in CORPUS.iterdir() if p.is_dir()) == sorted(TARGETS)
    assert all(seeds(name) for name in TARGETS)
    assert (Path(CORPUS).parent / "kb_presentation.txt").is_file()


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_target_briefly(name: str) -> None:
    assert hypothesis_run(name, examples=EXAMPLES, tolerate=lambda exc: False) > EXAMPLES // 2


def test_the_harness_reports_a_foreign_exception() -> None:
    TARGETS["_boom"] = lambda data: int(data)  # ValueError: not ours
    try:
        run_one("_boom", b"1")
        with pytest.raises(ValueError):
            run_one("_boom", b"x")
    finally:
        del TARGETS["_boom"]


# --- findings: minimal inputs ---------------------------------------------------------------
# Finding 1 (fixed): a bracketed host that is not an IPv6 address ("https://[") in an offer,
# an offer URI or issuer metadata escaped as urlsplit's ValueError ("Invalid IPv6 URL")
# instead of Oid4vciError (SECURITY-TESTS 45). Found by the oid4vci_offer, oid4vci_offer_uri
# and oid4vci_metadata targets.

BRACKETED = "https://["


def test_finding_offer_with_a_bracketed_host() -> None:
    with pytest.raises(SsiError):
        parse_offer({"credential_issuer": BRACKETED})


def test_finding_offer_uri_with_a_bracketed_host() -> None:
    with pytest.raises(SsiError):
        parse_offer_uri("openid-credential-offer://?credential_offer_uri=https%3A%2F%2F%5B")


def test_finding_metadata_with_a_bracketed_endpoint() -> None:
    with pytest.raises(SsiError):
        parse_issuer_metadata({"credential_issuer": "https://issuer.example",
                               "credential_endpoint": BRACKETED},
                              expected_issuer="https://issuer.example")



def test_finding_offer_link_with_a_bracketed_host_of_its_own() -> None:
    """The offer link itself (not a URL inside it) with an unbalanced bracket in its host."""
    with pytest.raises(SsiError):
        parse_offer_uri("opeh4tpsredential-offer://cr]edential_offer=%11%5Cud800%22")
    with pytest.raises(SsiError):
        parse_offer_uri("https://[/?credential_offer_uri=x")
