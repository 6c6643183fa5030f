"""The sd-jwt-python behaviour cases, run through our issuer, holder and verifier.

Each ``specification.yml`` marks disclosable claims with ``!sd``, says which claims the
holder discloses, and which verified claims must come out: exactly those, nothing more.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ssiwallet.core import sdjwt
from ssiwallet.core.keys import private_key_from_jwk
from ssiwallet.core.sdjwt import SD
from ssiwallet.core.sdjwt.issuer import add_signature
from tests.support.paths import VECTORS

CASES_DIR = VECTORS / "sd-jwt-python-testcases"
CASES = sorted(p.parent.name for p in CASES_DIR.glob("*/specification.yml"))
NOW = 1683000000 + 3600


class _Loader(yaml.SafeLoader):
    """A safe YAML loader that also knows the specifications' ``!sd`` tag."""


def _sd(loader: yaml.SafeLoader, node: yaml.Node) -> SD:
    if isinstance(node, yaml.MappingNode):
        return SD(loader.construct_mapping(node, deep=True))
    if isinstance(node, yaml.SequenceNode):
        return SD(loader.construct_sequence(node, deep=True))
    assert isinstance(node, yaml.ScalarNode)
    # an explicit tag hides the scalar's implicit type (42, true, null): resolve it again
    tag = loader.resolve(yaml.ScalarNode, node.value, (node.style is None, False))
    return SD(loader.construct_object(yaml.ScalarNode(tag, node.value, style=node.style)))


_Loader.add_constructor("!sd", _sd)


def _load(path: Path) -> Any:
    return yaml.load(path.read_text(), Loader=_Loader)  # noqa: S506 - SafeLoader subclass


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(
            out.get(key), dict) else value
    return out


def test_all_seventeen_cases_present() -> None:
    assert len(CASES) == 17


@pytest.mark.parametrize("case", CASES)
def test_case(case: str) -> None:
    settings = _load(CASES_DIR / "settings.yml")
    spec = _load(CASES_DIR / case / "specification.yml")
    settings = _merge(settings, spec.get("settings_override", {}))
    keys = settings["key_settings"]
    issuer_keys = [private_key_from_jwk({k: v for k, v in jwk.items() if k != "kid"})
                   for jwk in keys["issuer_keys"]]
    holder = private_key_from_jwk(keys["holder_key"])
    key_binding = bool(spec.get("key_binding", False))

    claims: dict[Any, Any] = {"iss": settings["identifiers"]["issuer"],
                              "iat": settings["iat"], "exp": settings["exp"]}
    if key_binding:
        claims["cnf"] = {"jwk": holder.public_key.to_jwk()}
    claims.update(spec["user_claims"])
    header = dict(spec.get("extra_header_parameters", {}))
    kids = [jwk.get("kid") for jwk in keys["issuer_keys"]]
    if len(issuer_keys) > 1:
        header["kid"] = kids[0]
    issued = sdjwt.issue(claims, issuer_keys[0], header=header, decoys=2)
    token = issued.sd_jwt
    if spec.get("serialization_format") == "json":
        for kid, extra in zip(kids[1:], issuer_keys[1:], strict=True):
            token = add_signature(token, extra, {"kid": kid})

    paths = sdjwt.paths_from_selection(spec["holder_disclosed_claims"])
    aud = settings["identifiers"]["verifier"]
    nonce = settings["key_binding_nonce"]
    presentation = sdjwt.present(token, paths, holder_key=holder if key_binding else None,
                                 nonce=nonce, aud=aud, iat=NOW, strict=False)
    general = len(presentation.signatures) > 1
    wire: str | dict[str, Any] = (presentation.to_json(general=general)
                                  if spec.get("serialization_format") == "json"
                                  else presentation.compact())
    by_kid = {kid: k.public_key for kid, k in zip(kids, issuer_keys, strict=True)}

    def lookup(header: Any, payload: Any) -> Any:
        assert payload["iss"] == settings["identifiers"]["issuer"]
        return by_kid[header["kid"]] if general else issuer_keys[0].public_key

    policy = sdjwt.KeyBindingPolicy(nonce=nonce, aud=aud) if key_binding else None
    verified = sdjwt.verify_sd_jwt(sdjwt.parse(wire), lookup, now=NOW, key_binding=policy)
    user_claims = {k: v for k, v in verified.claims.items()
                   if k not in ("iss", "iat", "exp", "cnf")}
    assert user_claims == spec["expect_verified_user_claims"]
    if key_binding:
        assert verified.kb_payload is not None and verified.kb_payload["nonce"] == nonce
