"""``ssi-verifier check``: the RFC 9901 §5.2 presentation and the output contract."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ssiwallet.core import sdjwt
from ssiwallet.core.keys import Ed25519PrivateKey
from ssiwallet.core.vc import issue_vc
from tests.support.paths import SPECS
from verifier.cli import main

SPEC = SPECS / "rfc9901-sd-jwt.txt"
RFC_ISSUER_JWK = {"kty": "EC", "crv": "P-256",
                  "x": "b28d4MwZMjw8-00CG4xfnn9SLMVMM19SlqZpVb_uNtQ",
                  "y": "Xv5zWwuoaTgdS6hV43yI6gBwTnjukmFQQnJ_kCxzqk8"}
RFC_NOW = 1748537243 + 10


def rfc_presentation() -> str:
    """The SD-JWT+KB printed in RFC 9901 §5.2, re-joined from the text's wrapped lines."""
    text = SPEC.read_text()
    start = text.index("5.2.  Presentation\n\n   The following non-normative")
    block = text[start:text.index("The following Key Binding JWT payload", start)]
    lines = [ln.strip() for ln in block.splitlines()]
    token_lines = [ln for ln in lines if re.fullmatch(r"[A-Za-z0-9_\-.~]+", ln)]
    return "".join(token_lines)


@pytest.fixture
def rfc_files(tmp_path: Path) -> tuple[Path, Path]:
    pres = tmp_path / "presentation.txt"
    pres.write_text(rfc_presentation())
    jwk = tmp_path / "issuer.jwk"
    jwk.write_text(json.dumps(RFC_ISSUER_JWK))
    return pres, jwk


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, object]:
    code = main(["check", *args])
    return code, json.loads(capsys.readouterr().out)


def test_rfc9901_section_5_2_presentation(rfc_files: tuple[Path, Path],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    pres, jwk = rfc_files
    code, out = run(capsys, str(pres), "--issuer-jwk", str(jwk), "--nonce", "1234567890",
                    "--aud", "https://verifier.example.org", "--now", str(RFC_NOW))
    assert code == 0
    assert out == {
        "iss": "https://issuer.example.com", "iat": 1683000000, "exp": 1883000000,
        "sub": "user_42", "nationalities": ["US"],
        "cnf": {"jwk": {"kty": "EC", "crv": "P-256",
                        "x": "TCAER19Zvu3OHF4j4W4vfSVoHIP1ILilDls7vCeGemc",
                        "y": "ZxjiWWbZMQGHVWKVQ4hbSIirsVfuecCE6t4jT9F2HZQ"}},
        "family_name": "Doe",
        "address": {"street_address": "123 Main St", "locality": "Anytown",
                    "region": "Anystate", "country": "US"},
        "given_name": "John"}


@pytest.mark.slow
def test_as_a_real_command(rfc_files: tuple[Path, Path]) -> None:
    pres, jwk = rfc_files
    exe = Path(sys.executable).with_name("ssi-verifier")
    ok = subprocess.run([str(exe), "check", str(pres), "--issuer-jwk", str(jwk), "--nonce",
                         "1234567890", "--aud", "https://verifier.example.org", "--now",
                         str(RFC_NOW)], capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert json.loads(ok.stdout)["given_name"] == "John"
    bad = subprocess.run([str(exe), "check", str(pres), "--issuer-jwk", str(jwk), "--nonce",
                          "other", "--aud", "https://verifier.example.org", "--now",
                          str(RFC_NOW)], capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["error"] == "sdjwt.kb_nonce_mismatch"


@pytest.mark.parametrize(("args", "code"), [
    (["--nonce", "1234567890", "--aud", "https://other.example"], "sdjwt.kb_aud_mismatch"),
    (["--nonce", "1234567890", "--aud", "https://verifier.example.org", "--now",
      str(1883000000 + 3600)], "sdjwt.expired"),
    (["--nonce", "1234567890", "--aud", "https://verifier.example.org", "--now",
      str(RFC_NOW + 3600)], "sdjwt.kb_stale"),
    ([], "cli.missing_kb_params"),
])
def test_failures_print_error_and_exit_1(rfc_files: tuple[Path, Path], args: list[str],
                                         code: str, capsys: pytest.CaptureFixture[str]) -> None:
    pres, jwk = rfc_files
    if "--now" not in args:
        args = [*args, "--now", str(RFC_NOW)]
    status, out = run(capsys, str(pres), "--issuer-jwk", str(jwk), *args)
    assert status == 1
    assert isinstance(out, dict) and out["error"] == code and out["detail"]


def test_wrong_issuer_key(rfc_files: tuple[Path, Path], tmp_path: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    pres, _ = rfc_files
    other = tmp_path / "other.jwk"
    other.write_text(json.dumps(Ed25519PrivateKey.generate().public_key.to_jwk()))
    status, out = run(capsys, str(pres), "--issuer-jwk", str(other), "--no-kb",
                      "--now", str(RFC_NOW))
    assert isinstance(out, dict)
    assert (status, out) == (1, {"error": "jose.alg_key_mismatch", "detail": out["detail"]})


def test_missing_file_is_a_json_error(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run(capsys, str(tmp_path / "nope"), "--issuer-jwk", str(tmp_path / "k"))
    assert status == 1 and isinstance(out, dict) and out["error"] == "cli.io_error"


def test_sd_jwt_vc_without_kb(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    issuer, holder = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    issued = issue_vc(issuer="did:keten:x", kid="did:keten:x#key-1", key=issuer,
                      vct="urn:keten:vct:diploma:1", claims={"title": "MSc", "eqf_level": 7},
                      holder_jwk=holder.public_key.to_jwk(), now=1_700_000_000)
    shown = sdjwt.present(issued.sd_jwt, [("eqf_level",)], holder_key=None)
    (tmp_path / "p").write_text(shown.compact())
    (tmp_path / "k").write_text(json.dumps(issuer.public_key.to_jwk()))
    status, out = run(capsys, str(tmp_path / "p"), "--issuer-jwk", str(tmp_path / "k"),
                      "--no-kb", "--now", "1700000000")
    assert status == 0 and isinstance(out, dict)
    assert out["eqf_level"] == 7 and "title" not in out and "_sd" not in out
    assert "_sd_alg" not in out
