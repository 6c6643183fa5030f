"""issuer.config: the file ``ssi-issuer init`` writes reads back, and every bad value is one
``issuer.config`` error naming the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from issuer.config import PROFILES, IssuerConfig, load_config, render_config
from issuer.errors import ConfigError
from ssiwallet.core.credtype_schemas import VCT_DIPLOMA, VCT_IDENTITY

GENESIS = "ab" * 32


def written(tmp_path: Path, profile: str = "municipality", **kwargs: Any) -> Path:
    """A configuration as ``init`` writes it (admin token in its own file)."""
    text, token = render_config(profile=profile, public_url="https://issuer.example",
                                port=8443, registry_url="https://registry.example",
                                genesis_hash=GENESIS, **kwargs)
    (tmp_path / "admin-token").write_text(token + "\n")
    path = tmp_path / "issuer.toml"
    path.write_text(text)
    return path


def edited(path: Path, old: str, new: str) -> Path:
    text = path.read_text()
    assert old in text, text
    path.write_text(text.replace(old, new))
    return path


def refused(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.code == "issuer.config"
    return err.value


def test_a_rendered_configuration_loads_back(tmp_path: Path) -> None:
    path = written(tmp_path, batch_size=3, status_list_size=1024)
    config = load_config(path)
    assert isinstance(config, IssuerConfig)
    assert config.profile is PROFILES["municipality"]
    assert config.display == PROFILES["municipality"].display
    assert str(config.public_url).rstrip("/") == "https://issuer.example"
    assert str(config.registry_url).rstrip("/") == "https://registry.example"
    assert (config.host, config.port) == ("127.0.0.1", 8443)
    assert (config.batch_size, config.status_list_size, config.offer_ttl) == (3, 1024, 86400)
    assert config.genesis_hash == GENESIS
    # the token comes from its file (stripped); paths are relative to the file's folder
    assert config.admin_token == (tmp_path / "admin-token").read_text().strip()
    assert len(config.admin_token) >= 16
    assert config.key_file == tmp_path.resolve() / "issuer-key.json"
    assert config.database == tmp_path.resolve() / "issuer.db"
    assert [c.vct for c in config.credentials.values()] == [VCT_IDENTITY]


def test_the_folder_can_be_moved_whole(tmp_path: Path) -> None:
    first = tmp_path / "a"
    first.mkdir()
    written(first, profile="school")
    moved = tmp_path / "b"
    first.rename(moved)
    config = load_config(moved / "issuer.toml")
    assert config.database.parent == moved.resolve()
    assert [c.vct for c in config.credentials.values()] == [VCT_DIPLOMA]
    assert config.credentials["diploma_dc_sd_jwt"].validity is None  # a diploma does not lapse


def test_names_with_quotes_and_backslashes_survive_rendering(tmp_path: Path) -> None:
    name = 'Stad "Gent" \\ centrum'
    config = load_config(written(tmp_path, name_nl=name))
    assert config.display["nl"] == name


def test_no_genesis_pin_is_allowed(tmp_path: Path) -> None:
    text, token = render_config(profile="vdab", public_url="http://127.0.0.1:9000", port=9000,
                                registry_url="http://127.0.0.1:8000", genesis_hash=None)
    path = tmp_path / "issuer.toml"
    path.write_text(text.replace('admin_token_file = "admin-token"',
                                 f'admin_token = "{token}"'))
    config = load_config(path)
    assert config.genesis_hash is None and config.admin_token == token


def test_an_unreadable_or_malformed_file(tmp_path: Path) -> None:
    refused(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[issuer\nprofile = ")
    refused(bad)
    bad.write_bytes(b"\xff\xfe[issuer]")
    refused(bad)


@pytest.mark.parametrize("table", ["[issuer]", "[registry]"])
def test_both_tables_are_required(tmp_path: Path, table: str) -> None:
    path = written(tmp_path)
    edited(path, table, "[elsewhere]" if table == "[issuer]" else "[other]")
    refused(path)


@pytest.mark.parametrize(("old", "new", "key"), [
    ('profile = "municipality"', 'profile = "bakery"', "profile"),
    ("port = 8443", 'port = "8443"', "port"),
    ("port = 8443", "port = true", "port"),
    ("port = 8443", "port = 0", "port"),
    ("port = 8443", "port = 70000", "port"),
    ('public_url = "https://issuer.example"', 'public_url = "ftp://issuer.example"',
     "public_url"),
    ('public_url = "https://issuer.example"', 'public_url = "https://issuer.example/path?q"',
     "public_url"),
    ('url = "https://registry.example"', 'url = "not a url"', "url"),
    ("batch_size = 10", "batch_size = 0", "batch_size"),
    ("batch_size = 10", "batch_size = 101", "batch_size"),
    ("batch_size = 10", "batch_size = 2.5", "batch_size"),
    ("offer_ttl = 86400", "offer_ttl = 59", "offer_ttl"),
    ("offer_ttl = 86400", f"offer_ttl = {30 * 86400 + 1}", "offer_ttl"),
    ("status_list_size = 65536", "status_list_size = 63", "status_list_size"),
    ("status_list_size = 65536", f"status_list_size = {(1 << 20) + 1}", "status_list_size"),
    (f'genesis_hash = "{GENESIS}"', 'genesis_hash = "abc"', "genesis_hash"),
    (f'genesis_hash = "{GENESIS}"', "genesis_hash = 12", "genesis_hash"),
])
def test_each_bad_value_is_named(tmp_path: Path, old: str, new: str, key: str) -> None:
    path = edited(written(tmp_path), old, new)
    error = refused(path)
    assert key in error.detail


def test_the_admin_token_must_be_there_and_long_enough(tmp_path: Path) -> None:
    path = written(tmp_path)
    (tmp_path / "admin-token").unlink()
    refused(path)  # the token file is gone
    (tmp_path / "admin-token").write_text("short")
    refused(path)
    edited(path, 'admin_token_file = "admin-token"', 'admin_token = "also-short"')
    refused(path)
    edited(path, 'admin_token = "also-short"', 'admin_token = "long-enough-admin-token"')
    assert load_config(path).admin_token == "long-enough-admin-token"


def test_every_profile_renders_a_loadable_file(tmp_path: Path) -> None:
    for name in PROFILES:
        folder = tmp_path / name
        folder.mkdir()
        config = load_config(written(folder, profile=name))
        assert config.profile.name == name
        assert set(config.credentials) == {c.id for c in PROFILES[name].credentials}
