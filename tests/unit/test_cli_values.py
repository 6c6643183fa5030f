"""A malformed URL is refused where it enters: on the command line (exit 2, the code, no
traceback, nothing written), in a configuration file, and by the wallet's settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from issuer import cli as issuer_cli
from issuer.config import load_config as load_issuer_config
from issuer.config import render_config as render_issuer_config
from issuer.errors import ConfigError
from ssiwallet import cli as wallet_cli
from ssiwallet.errors import BadValueError
from ssiwallet.wallet.sealed import KdfParams
from ssiwallet.wallet.wallet import Wallet
from verifier import cli as verifier_cli
from verifier.config import load_config as load_verifier_config
from verifier.config import render_config as render_verifier_config
from verifier.errors import VerifierError

FAST_KDF = KdfParams(KdfParams.FLOOR_OPS, KdfParams.FLOOR_MEM)


def _refused(capsys: pytest.CaptureFixture[str], run: object, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as exit_:
        run(argv)  # type: ignore[operator]
    assert exit_.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    assert "(input.bad_url)" in err
    return err


def test_wallet_init_refuses_a_registry_without_scheme(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSIWALLET_PASSPHRASE", "correct horse")
    home = tmp_path / "w"
    err = _refused(capsys, wallet_cli.main,
                   ["--home", str(home), "init", "--registry", "registry.example"])
    assert "write it as https://registry.example" in err
    assert not home.exists()
    _refused(capsys, wallet_cli.main, ["--home", str(home), "--json", "registry",
                                       "https://registry.example/api"])


def test_issuer_and_verifier_init_refuse_a_registry_without_scheme(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    common = ["--public-url", "http://127.0.0.1:9", "--port", "9"]
    _refused(capsys, verifier_cli.main,
             ["init", str(tmp_path / "v"), "--registry", "registry.example", *common])
    _refused(capsys, issuer_cli.main, ["init", str(tmp_path / "i"), "--profile", "vdab",
                                       "--registry", "registry.example", *common])
    _refused(capsys, verifier_cli.main, ["init", str(tmp_path / "v"), "--registry",
                                         "http://127.0.0.1:8", "--public-url", "desk.example",
                                         "--port", "9"])
    assert not (tmp_path / "v").exists() and not (tmp_path / "i").exists()


def test_the_wallet_library_refuses_and_normalises(tmp_path: Path) -> None:
    wallet = Wallet.create(tmp_path / "w", "pw", kdf=FAST_KDF,
                           registry_url="HTTPS://Registry.example/")
    assert wallet.registry_url == "https://registry.example"
    with pytest.raises(BadValueError) as err:
        wallet.set_registry("registry.example")
    assert err.value.code == "input.bad_url"
    assert wallet.registry_url == "https://registry.example"


def test_configuration_files_refuse_a_registry_without_scheme(tmp_path: Path) -> None:
    path = tmp_path / "verifier.toml"
    path.write_text(render_verifier_config(
        public_url="http://127.0.0.1:9", port=9, registry_url="registry.example",
        genesis_hash=None, presets=["age18"]))
    with pytest.raises(VerifierError) as err:
        load_verifier_config(path)
    assert err.value.code == "verifier.config" and "registry.example" in err.value.detail
    text, token = render_issuer_config(profile="vdab", public_url="http://127.0.0.1:9", port=9,
                                       registry_url="registry.example", genesis_hash=None)
    (tmp_path / "issuer.toml").write_text(text)
    (tmp_path / "admin-token").write_text(token)
    with pytest.raises(ConfigError) as err2:
        load_issuer_config(tmp_path / "issuer.toml")
    assert err2.value.code == "issuer.config" and "no scheme" in err2.value.detail
