"""Issuer profiles and the configuration file ``ssi-issuer init`` writes and ``serve`` reads.

A profile is what kind of body issues what: the municipality identity and age, VDAB
competences, a school diplomas. The configuration (TOML) names the organisation, where its
DID key file and database live, the registry it is on, and how long offers and credentials
last. Paths in the file are relative to the file's folder, so a folder can be moved whole.
"""

from __future__ import annotations

import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from issuer.errors import ConfigError
from ssiwallet.core.credtype_schemas import VCT_COMPETENCE, VCT_DIPLOMA, VCT_IDENTITY
from ssiwallet.core.credtypes import CredentialType, get_type
from ssiwallet.core.values import HttpOrigin
from ssiwallet.errors import BadValueError

__all__ = ["PROFILES", "CredentialConfig", "IssuerConfig", "Profile", "load_config",
           "render_config"]

YEAR = 365 * 86400


@dataclass(frozen=True)
class CredentialConfig:
    """One credential configuration the issuer offers (an OpenID4VCI configuration id)."""

    id: str
    vct: str
    validity: int | None  # seconds; None = no expiry (a diploma does not lapse)

    @property
    def type(self) -> CredentialType:
        return get_type(self.vct)


@dataclass(frozen=True)
class Profile:
    """A kind of issuing body: its default names and what it offers."""

    name: str
    display: dict[str, str]
    credentials: tuple[CredentialConfig, ...]


PROFILES: dict[str, Profile] = {
    "municipality": Profile("municipality", {"nl": "Gemeente Gent", "en": "City of Ghent"},
                            (CredentialConfig("identity_dc_sd_jwt", VCT_IDENTITY, 5 * YEAR),)),
    "vdab": Profile("vdab", {"nl": "VDAB", "en": "VDAB (Flemish employment service)"},
                    (CredentialConfig("competence_dc_sd_jwt", VCT_COMPETENCE, 10 * YEAR),)),
    "school": Profile("school", {"nl": "Hogeschool Gent", "en": "Ghent University College"},
                      (CredentialConfig("diploma_dc_sd_jwt", VCT_DIPLOMA, None),)),
}


@dataclass(frozen=True)
class IssuerConfig:
    """A served issuer, as read from its configuration file (see :func:`load_config`)."""

    profile: Profile
    display: dict[str, str]
    public_url: HttpOrigin
    host: str
    port: int
    key_file: Path
    database: Path
    admin_token: str
    registry_url: HttpOrigin
    genesis_hash: str | None
    status_list: str = "main"
    status_list_size: int = 1 << 16
    batch_size: int = 10
    offer_ttl: int = 86400
    token_ttl: int = 600
    max_pin_attempts: int = 5

    @property
    def credentials(self) -> dict[str, CredentialConfig]:
        return {c.id: c for c in self.profile.credentials}


def _get(table: dict[str, Any], key: str, kind: type, default: Any = ...) -> Any:
    value = table.get(key, default)
    if value is ... or not isinstance(value, kind) or isinstance(value, bool) is not (
            kind is bool):
        raise ConfigError(f"configuration: {key!r} must be a {kind.__name__}")
    return value


def _url(value: str, key: str) -> HttpOrigin:
    try:
        return HttpOrigin(value)
    except BadValueError as exc:
        raise ConfigError(f"configuration: {key!r} must be an http(s) origin URL: "
                          f"{exc.detail}") from None


def load_config(path: Path) -> IssuerConfig:
    """Read and check an issuer configuration file.

    Raises:
        ConfigError: ``issuer.config`` naming the first problem.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    base = path.resolve().parent
    issuer, registry = data.get("issuer"), data.get("registry")
    if not isinstance(issuer, dict) or not isinstance(registry, dict):
        raise ConfigError("configuration needs [issuer] and [registry] tables")
    profile = PROFILES.get(issuer.get("profile", ""))
    if profile is None:
        raise ConfigError(f"configuration: profile must be one of {sorted(PROFILES)}")
    token = issuer.get("admin_token")
    token_file = issuer.get("admin_token_file")
    if token is None and isinstance(token_file, str):
        try:
            token = (base / token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"cannot read the admin token: {exc.strerror}") from None
    if not isinstance(token, str) or len(token) < 16:
        raise ConfigError("configuration: an admin token of at least 16 characters is needed")
    genesis = registry.get("genesis_hash")
    if genesis is not None and (not isinstance(genesis, str) or len(genesis) != 64):
        raise ConfigError("configuration: registry genesis_hash must be 64 hex digits")
    config = IssuerConfig(
        profile=profile,
        display={"nl": _get(issuer, "name_nl", str, profile.display["nl"]),
                 "en": _get(issuer, "name_en", str, profile.display["en"])},
        public_url=_url(_get(issuer, "public_url", str), "public_url"),
        host=_get(issuer, "host", str, "127.0.0.1"),
        port=_get(issuer, "port", int),
        key_file=base / _get(issuer, "key_file", str, "issuer-key.json"),
        database=base / _get(issuer, "database", str, "issuer.db"),
        admin_token=token,
        registry_url=_url(_get(registry, "url", str), "registry.url"),
        genesis_hash=genesis,
        status_list=_get(issuer, "status_list", str, "main"),
        status_list_size=_get(issuer, "status_list_size", int, 1 << 16),
        batch_size=_get(issuer, "batch_size", int, 10),
        offer_ttl=_get(issuer, "offer_ttl", int, 86400),
    )
    if not 1 <= config.batch_size <= 100:
        raise ConfigError("configuration: batch_size must be from 1 to 100")
    if not 64 <= config.status_list_size <= 1 << 20:
        raise ConfigError("configuration: status_list_size must be from 64 to 1048576")
    if not 60 <= config.offer_ttl <= 30 * 86400:
        raise ConfigError("configuration: offer_ttl must be from 60 s to 30 days")
    return config


def render_config(*, profile: str, public_url: str, port: int, registry_url: str,
                  genesis_hash: str | None, name_nl: str | None = None,
                  name_en: str | None = None, batch_size: int = 10,
                  status_list_size: int = 1 << 16) -> tuple[str, str]:
    """The text of a new configuration file and its fresh admin token."""
    chosen = PROFILES[profile]
    token = secrets.token_urlsafe(32)
    lines = [
        "# Keten issuer configuration (ssi-issuer init). Paths are relative to this file.",
        "[issuer]",
        f'profile = "{profile}"',
        f"name_nl = {_toml_str(name_nl or chosen.display['nl'])}",
        f"name_en = {_toml_str(name_en or chosen.display['en'])}",
        f'public_url = "{public_url}"',
        'host = "127.0.0.1"',
        f"port = {port}",
        'key_file = "issuer-key.json"',
        'database = "issuer.db"',
        'admin_token_file = "admin-token"',
        f"batch_size = {batch_size}",
        "offer_ttl = 86400",
        f"status_list_size = {status_list_size}",
        "",
        "[registry]",
        f'url = "{registry_url}"',
    ]
    if genesis_hash:
        lines.append(f'genesis_hash = "{genesis_hash}"')
    return "\n".join(lines) + "\n", token


def _toml_str(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
