"""The one TOML configuration reader: typed values, ranges, origins, paths, one error each."""

from __future__ import annotations

from pathlib import Path

import pytest

from ssiwallet.errors import InputError, SsiError
from ssiwallet.infra.config import ConfigFile


def _error(detail: str) -> SsiError:
    return InputError(detail, code="test.config")


def _file(tmp_path: Path, text: str) -> ConfigFile:
    path = tmp_path / "service.toml"
    path.write_text(text, encoding="utf-8")
    return ConfigFile(path, _error)


def test_typed_values_and_paths_relative_to_the_file(tmp_path: Path) -> None:
    table = _file(tmp_path, '[svc]\nport = 8080\nurl = "HTTPS://Registry.Example/"\n'
                            'key_file = "k.json"\ngenesis_hash = "' + "ab" * 32 + '"\n'
                  ).table("svc")
    assert table.integer("port", low=1, high=65535) == 8080
    assert table.origin("url") == "https://registry.example"
    assert table.path("key_file", "default.json") == tmp_path.resolve() / "k.json"
    assert table.path("other", "default.json") == tmp_path.resolve() / "default.json"
    assert table.genesis_hash() == "ab" * 32
    assert table.text("missing", "fallback") == "fallback"


@pytest.mark.parametrize(("text", "read", "words"), [
    ("[svc]\nport = true", lambda t: t.integer("port"), "svc.port must be an integer"),
    ("[svc]\nport = 0", lambda t: t.integer("port", low=1, high=9), "from 1 to 9"),
    ("[svc]\n", lambda t: t.integer("port"), "svc.port is missing"),
    ('[svc]\nurl = "registry.example"', lambda t: t.origin("url"), "no scheme"),
    ('[svc]\ngenesis_hash = "xyz"', lambda t: t.genesis_hash(), "64 lower-case hex"),
    ('[svc]\nnames = ["a", 1]', lambda t: t.list_of_text("names"), "a list of strings"),
])
def test_each_problem_is_one_error_naming_the_key(tmp_path: Path, text: str, read: object,
                                                  words: str) -> None:
    table = _file(tmp_path, text).table("svc")
    with pytest.raises(InputError) as err:
        read(table)  # type: ignore[operator]
    assert err.value.code == "test.config" and words in err.value.detail


def test_missing_table_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"\[svc\] table is required"):
        _file(tmp_path, "[other]\n").table("svc")
    with pytest.raises(InputError, match="cannot read"):
        _file(tmp_path, "[svc\n")
    with pytest.raises(InputError, match="cannot read"):
        ConfigFile(tmp_path / "absent.toml", _error)
    with pytest.raises(InputError, match=r"each \[\[preset\]\] must be a table"):
        _file(tmp_path, "preset = [1]\n").array_of_tables("preset")
