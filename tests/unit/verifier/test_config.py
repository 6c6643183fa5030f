"""The verifier's configuration: built-in and custom presets, and refused files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verifier.config import load_config, render_config
from verifier.errors import VerifierError
from verifier.presets import BUILTIN, over_asked, register_claims_args, registration_claims

QUERY = {"credentials": [{"id": "c", "format": "dc+sd-jwt", "meta": {"vct_values": [
    "urn:keten:vct:competence:1"]}, "claims": [{"path": ["skill_name"]}, {
        "path": ["level"], "values": ["advanced", "expert"]}]}]}


def _write(tmp_path: Path, extra: str = "", presets: list[str] | None = None) -> Path:
    text = render_config(public_url="http://127.0.0.1:9", port=9,
                         registry_url="http://127.0.0.1:8", genesis_hash=None,
                         presets=presets or ["age18"])
    path = tmp_path / "verifier.toml"
    path.write_text(text + extra)
    return path


def test_builtin_presets_load(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path))
    assert [p.id for p in config.presets] == ["age18"]
    assert config.response_uri == "http://127.0.0.1:9/response"


def test_a_custom_preset_from_the_file(tmp_path: Path) -> None:
    extra = ("\n[[preset]]\nid = \"senior-dev\"\ntitle_nl = \"Ervaren\"\ntitle_en = \"Senior\"\n"
             f"query = '{json.dumps(QUERY)}'\n")
    config = load_config(_write(tmp_path, extra, presets=["age18", "senior-dev"]))
    custom = config.preset("senior-dev")
    assert custom is not None and custom.requested() == {
        "urn:keten:vct:competence:1": {("skill_name",), ("level",)}}
    assert register_claims_args([custom]) == ["urn:keten:vct:competence:1=level,skill_name"]


@pytest.mark.parametrize("query", [
    "not json",
    json.dumps({"credentials": [{"id": "c", "format": "mso_mdoc", "meta": {
        "doctype_value": "x"}}]}),
    json.dumps({"credentials": [{"id": "c", "format": "dc+sd-jwt", "meta": {"vct_values": [
        "urn:keten:vct:diploma:1"]}, "claims": [{"path": ["a", None]}]}]}),
])
def test_bad_custom_presets_are_refused(tmp_path: Path, query: str) -> None:
    extra = f"\n[[preset]]\nid = \"x\"\ntitle_nl = \"x\"\ntitle_en = \"x\"\nquery = '{query}'\n"
    with pytest.raises(VerifierError) as err:
        load_config(_write(tmp_path, extra, presets=["x"]))
    assert err.value.code == "verifier.config"


@pytest.mark.parametrize("replace", [("port = 9", "port = 0"), ('"age18"', '"nope"'),
                                     ("retention = 600", "retention = -1"),
                                     ("[registry]", "[other]")])
def test_bad_files_are_refused(tmp_path: Path, replace: tuple[str, str]) -> None:
    path = _write(tmp_path)
    path.write_text(path.read_text().replace(*replace))
    with pytest.raises(VerifierError):
        load_config(path)


def test_over_asking_is_measured_against_the_registration() -> None:
    registration = {"active": True, "credentials": [
        {"vct": "urn:keten:vct:diploma:1", "claims": [["title"], ["eqf_level"]]}]}
    allowed = registration_claims(registration)
    assert over_asked(BUILTIN["diploma-eqf6"], allowed) == [
        "urn:keten:vct:diploma:1:holder_name", "urn:keten:vct:diploma:1:institution"]
    assert over_asked(BUILTIN["age18"], allowed) == ["urn:keten:vct:identity:1:age_over_18"]
    assert registration_claims({**registration, "active": False}) == {}
