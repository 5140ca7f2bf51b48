"""What a browser needs to reach Janus: the WebSocket URL (a path means Parley's proxy)
and the ICE servers (the configured STUN ones, TURN with a credential of the person's own).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parley.config import JanusConfig

PROXY_PATH = "/ws/janus"


@dataclass(frozen=True)
class BrowserConfig:
    """What janus.js needs: the WebSocket URL (a path means Parley's proxy) and ICE servers
    (the configured STUN ones, plus TURN with a credential of this person's own)."""

    server: str
    ice_servers: list[dict[str, Any]] = field(default_factory=list)


def ice_servers(cfg: JanusConfig) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for url in cfg.ice_servers:
        entry: dict[str, Any] = {"urls": url}
        if url.startswith(("turn:", "turns:")) and cfg.turn_username:
            entry["username"] = cfg.turn_username
            entry["credential"] = cfg.turn_credential
        out.append(entry)
    return out
