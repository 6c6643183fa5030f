"""Issuer profiles and the configuration file ``ssi-issuer init`` writes and ``serve`` reads.

A profile is what kind of body issues what: the municipality identity and age, VDAB
competences, a school diplomas. The configuration (TOML) names the organisation, where its
DID key file and database live, the registry it is on, and how long offers and credentials
last. Paths in the file are relative to the file's folder, so a folder can be moved whole.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from issuer.errors import ConfigError
from ssiwallet.core.credtype_schemas import VCT_COMPETENCE, VCT_DIPLOMA, VCT_IDENTITY
from ssiwallet.core.credtypes import CredentialType, get_type
from ssiwallet.core.values import HttpOrigin
from ssiwallet.infra.config import ConfigFile, ConfigTable

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


def _config_error(detail: str) -> ConfigError:
    return ConfigError(detail)


def _admin_token(issuer: ConfigTable) -> str:
    token = issuer.optional_text("admin_token")
    token_file = issuer.optional_text("admin_token_file")
    if token is None and token_file is not None:
        try:
            token = (issuer.base / token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"cannot read the admin token: {exc.strerror}") from None
    if token is None or len(token) < 16:
        raise issuer.fail("an admin token of at least 16 characters is needed")
    return token


def load_config(path: Path) -> IssuerConfig:
    """Read and check an issuer configuration file.

    Raises:
        ConfigError: ``issuer.config`` naming the first problem.
    """
    file = ConfigFile(path, _config_error)
    issuer, registry = file.table("issuer"), file.table("registry")
    profile = PROFILES.get(issuer.text("profile", ""))
    if profile is None:
        raise issuer.fail(f"issuer.profile must be one of {sorted(PROFILES)}")
    return IssuerConfig(
        profile=profile,
        display={"nl": issuer.text("name_nl", profile.display["nl"]),
                 "en": issuer.text("name_en", profile.display["en"])},
        public_url=issuer.origin("public_url"),
        host=issuer.text("host", "127.0.0.1"),
        port=issuer.integer("port", low=1, high=65535),
        key_file=issuer.path("key_file", "issuer-key.json"),
        database=issuer.path("database", "issuer.db"),
        admin_token=_admin_token(issuer),
        registry_url=registry.origin("url"),
        genesis_hash=registry.genesis_hash(),
        status_list=issuer.text("status_list", "main"),
        status_list_size=issuer.integer("status_list_size", 1 << 16, low=64, high=1 << 20),
        batch_size=issuer.integer("batch_size", 10, low=1, high=100),
        offer_ttl=issuer.integer("offer_ttl", 86400, low=60, high=30 * 86400, unit=" s"),
    )


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
