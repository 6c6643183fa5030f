"""``ssi-verifier check`` on credentials as other parties make them.

* RFC 9901 Appendix A.3 prints an SD-JWT VC (``typ: dc+sd-jwt``, ES256) presented with a
  KB-JWT; its issuer-signed JWT has no ``kid``, which SD-JWT VC does not require. With the
  issuer's key pinned (``--issuer-jwk``, the key of RFC 9901 A.5) it must verify as printed.
* A nonce is random base64url: one in 64 starts with ``-``. ``--nonce -abc…`` and
  ``--nonce=-abc…`` both name it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from ssiwallet.core import sdjwt
from ssiwallet.core.jws import parse_compact
from ssiwallet.core.keys import Ed25519PrivateKey, P256PrivateKey
from ssiwallet.core.sdjwt import SD
from tests.support.paths import SPECS
from verifier.cli import main

RFC = (SPECS / "rfc9901-sd-jwt.txt").read_text(encoding="utf-8")
RFC_ISSUER_JWK = {"kty": "EC", "crv": "P-256",  # RFC 9901 A.5
                  "x": "b28d4MwZMjw8-00CG4xfnn9SLMVMM19SlqZpVb_uNtQ",
                  "y": "Xv5zWwuoaTgdS6hV43yI6gBwTnjukmFQQnJ_kCxzqk8"}
RFC_KB_IAT = 1748537243
AUD = "https://verifier.example.org"


def rfc_a3_presentation() -> str:
    """The SD-JWT+KB of RFC 9901 A.3, re-joined from the text's wrapped lines."""
    start = RFC.index("The following is an example of an SD-JWT+KB that discloses only\n"
                      "   nationality")
    block = RFC[start:RFC.index("This is the payload of the corresponding Key Binding JWT",
                                start)]
    lines = [ln.strip() for ln in block.splitlines()]
    return "".join(ln for ln in lines if re.fullmatch(r"[A-Za-z0-9_\-.~]+", ln))


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    code = main(["check", *args])
    return code, json.loads(capsys.readouterr().out)


@pytest.fixture
def pinned(tmp_path: Path) -> Path:
    jwk = tmp_path / "issuer.jwk"
    jwk.write_text(json.dumps(RFC_ISSUER_JWK))
    return jwk


def test_rfc9901_a3_sd_jwt_vc_without_kid_verifies_with_the_pinned_key(
        tmp_path: Path, pinned: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = rfc_a3_presentation()
    header = parse_compact(sdjwt.parse(text).issuer_jwt).header
    assert header == {"alg": "ES256", "typ": "dc+sd-jwt"}  # no kid, as published
    pres = tmp_path / "a3.txt"
    pres.write_text(text)
    code, out = run(capsys, str(pres), "--issuer-jwk", str(pinned), "--nonce", "1234567890",
                    "--aud", AUD, "--now", str(RFC_KB_IAT + 10))
    assert code == 0, out
    assert out == {  # the Processed SD-JWT Payload RFC 9901 A.3 prints
        "iss": "https://pid-issuer.bund.de.example", "iat": 1683000000, "exp": 1883000000,
        "vct": "urn:eudi:pid:de:1",
        "cnf": {"jwk": {"kty": "EC", "crv": "P-256",
                        "x": "TCAER19Zvu3OHF4j4W4vfSVoHIP1ILilDls7vCeGemc",
                        "y": "ZxjiWWbZMQGHVWKVQ4hbSIirsVfuecCE6t4jT9F2HZQ"}},
        "age_equal_or_over": {"18": True}, "nationalities": ["DE"]}


def test_rfc9901_a3_with_another_pinned_key_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pres = tmp_path / "a3.txt"
    pres.write_text(rfc_a3_presentation())
    other = tmp_path / "other.jwk"
    other.write_text(json.dumps(P256PrivateKey.generate().public_key.to_jwk()))
    code, out = run(capsys, str(pres), "--issuer-jwk", str(other), "--nonce", "1234567890",
                    "--aud", AUD, "--now", str(RFC_KB_IAT + 10))
    assert (code, out["error"]) == (1, "jose.bad_signature")


# --- our own SD-JWT VC without kid, and a nonce that starts with '-' -----------------------

NOW = 1_790_000_000
NONCE = "-Zk3q_Hn2vT8sW1xYb0cDe"
ISSUER = Ed25519PrivateKey(bytes([5]) * 32)
HOLDER = Ed25519PrivateKey(bytes([6]) * 32)


def vc_without_kid(tmp_path: Path, *, nonce: str = NONCE) -> tuple[Path, Path]:
    issued = sdjwt.issue({"iss": "https://issuer.example", "iat": NOW, "vct": "urn:x:card:1",
                          "cnf": {"jwk": HOLDER.public_key.to_jwk()},
                          SD("given_name"): "Noor"}, ISSUER, header={"typ": "dc+sd-jwt"})
    shown = sdjwt.present(issued.sd_jwt, [("given_name",)], holder_key=HOLDER, nonce=nonce,
                          aud=AUD, iat=NOW)
    pres, jwk = tmp_path / "p.txt", tmp_path / "k.jwk"
    pres.write_text(shown.compact())
    jwk.write_text(json.dumps(ISSUER.public_key.to_jwk()))
    return pres, jwk


@pytest.mark.parametrize("nonce_args", [["--nonce", NONCE], [f"--nonce={NONCE}"]])
def test_a_nonce_starting_with_a_dash(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      nonce_args: list[str]) -> None:
    pres, jwk = vc_without_kid(tmp_path)
    code, out = run(capsys, str(pres), "--issuer-jwk", str(jwk), *nonce_args, "--aud", AUD,
                    "--now", str(NOW))
    assert code == 0, out
    assert out["given_name"] == "Noor"


def test_a_wrong_dash_nonce_is_a_nonce_mismatch(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    pres, jwk = vc_without_kid(tmp_path)
    code, out = run(capsys, str(pres), "--issuer-jwk", str(jwk), "--nonce", "-other",
                    "--aud", AUD, "--now", str(NOW))
    assert (code, out["error"]) == (1, "sdjwt.kb_nonce_mismatch")


def test_a_forgotten_nonce_value_is_still_a_usage_error(tmp_path: Path) -> None:
    pres, jwk = vc_without_kid(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main(["check", str(pres), "--issuer-jwk", str(jwk), "--nonce", "--aud", AUD])
    assert exit_.value.code == 2


def test_a_vc_without_kid_keeps_the_profile_checks(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    issued = sdjwt.issue({"iss": "https://issuer.example", "iat": NOW, SD("vct"): "urn:x:1",
                          "cnf": {"jwk": HOLDER.public_key.to_jwk()}}, ISSUER,
                         header={"typ": "dc+sd-jwt"})
    (tmp_path / "p").write_text(issued.compact())
    (tmp_path / "k").write_text(json.dumps(ISSUER.public_key.to_jwk()))
    code, out = run(capsys, str(tmp_path / "p"), "--issuer-jwk", str(tmp_path / "k"),
                    "--no-kb", "--now", str(NOW))
    assert (code, out["error"]) == (1, "vc.claim_not_disclosable")
