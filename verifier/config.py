"""The verifier's configuration file (``ssi-verifier init`` writes it, ``serve`` reads it).

Paths are relative to the file's folder. ``presets`` names the questions the desk offers,
out of the built-in ones and those defined in the file as ``[[preset]]`` tables (``id``,
``title_nl``, ``title_en``, ``query`` = a DCQL query as JSON text).

The verifier's name and purpose are not here: the registry registration (approved by a
steward) is the only source of them, and what the wallet shows the citizen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ssiwallet.core import strictjson
from ssiwallet.core.dcql import parse_query
from ssiwallet.core.values import HttpOrigin
from ssiwallet.errors import SsiError
from ssiwallet.infra.config import ConfigFile
from verifier.errors import VerifierError
from verifier.presets import BUILTIN, Preset

__all__ = ["VerifierConfig", "load_config", "render_config"]


@dataclass(frozen=True)
class VerifierConfig:
    """A served verifier."""

    public_url: HttpOrigin
    host: str
    port: int
    key_file: Path
    registry_url: HttpOrigin
    genesis_hash: str | None
    presets: tuple[Preset, ...]
    retention: int = 600
    """Seconds a session's result (and its disclosed claims) is kept for the desk."""
    session_ttl: int = 600

    @property
    def response_uri(self) -> str:
        return f"{self.public_url}/response"

    def preset(self, preset_id: str) -> Preset | None:
        return next((p for p in self.presets if p.id == preset_id), None)


def _bad(detail: str) -> VerifierError:
    return VerifierError(f"configuration: {detail}", code="verifier.config")


def load_config(path: Path) -> VerifierConfig:
    """Read and check a verifier configuration.

    Raises:
        VerifierError: ``verifier.config`` naming the first problem.
    """
    file = ConfigFile(path, lambda detail: VerifierError(detail, code="verifier.config"))
    ver, reg = file.table("verifier"), file.table("registry")
    custom = {p.id: p for p in (_custom_preset(t.data) for t in file.array_of_tables("preset"))}
    known = {**BUILTIN, **custom}
    names = ver.list_of_text("presets", list(BUILTIN) + list(custom))
    if not names or any(n not in known for n in names):
        raise ver.fail(f"verifier.presets must be a non-empty list out of {sorted(known)}")
    return VerifierConfig(
        public_url=ver.origin("public_url"), host=ver.text("host", "127.0.0.1"),
        port=ver.integer("port", low=1, high=65535),
        key_file=ver.path("key_file", "verifier-key.json"), registry_url=reg.origin("url"),
        genesis_hash=reg.genesis_hash(), presets=tuple(known[n] for n in names),
        retention=ver.integer("retention", 600, low=0, high=86400, unit=" s"))


def _custom_preset(table: object) -> Preset:
    """A ``[[preset]]`` table: ``id``, ``title_nl``, ``title_en`` and ``query`` (DCQL as
    JSON text). Only ``dc+sd-jwt`` queries with ``vct_values`` and concrete claim paths."""
    if not isinstance(table, dict):
        raise _bad("each [[preset]] is a table")
    pid, nl, en, text = (table.get(k) for k in ("id", "title_nl", "title_en", "query"))
    if not all(isinstance(v, str) and v for v in (pid, nl, en, text)):
        raise _bad("a [[preset]] needs id, title_nl, title_en and query (DCQL as JSON)")
    assert isinstance(pid, str) and isinstance(nl, str) and isinstance(en, str)
    try:
        query = strictjson.loads_object(str(text), what=f"preset {pid} query")
        parse_query(query)
    except SsiError as exc:
        raise _bad(f"preset {pid}: {exc.detail}") from None
    for cq in query["credentials"]:
        if cq.get("format") != "dc+sd-jwt" or not (cq.get("meta") or {}).get("vct_values"):
            raise _bad(f"preset {pid}: every query is dc+sd-jwt with meta.vct_values")
        if any(None in c["path"] or "id" in c for c in cq.get("claims", [])):
            raise _bad(f"preset {pid}: claim paths must be concrete (no null, no claim ids)")
    return Preset(pid, {"nl": nl, "en": en}, query)


def render_config(*, public_url: str, port: int, registry_url: str, genesis_hash: str | None,
                  presets: list[str]) -> str:
    """The text of a new configuration file."""
    lines = [
        "# Keten verifier configuration (ssi-verifier init). Paths are relative to this file.",
        "[verifier]",
        f'public_url = "{public_url}"',
        'host = "127.0.0.1"',
        f"port = {port}",
        'key_file = "verifier-key.json"',
        "presets = [" + ", ".join(f'"{p}"' for p in presets) + "]",
        "retention = 600   # seconds the desk keeps a result",
        "",
        "[registry]",
        f'url = "{registry_url}"',
    ]
    if genesis_hash:
        lines.append(f'genesis_hash = "{genesis_hash}"')
    return "\n".join(lines) + "\n"
