"""Media nodes: the Janus servers one deployment spreads its meetings over.

A node is registered by `parley media-node` on its own machine (which supervises the Janus,
then heartbeats its load), by `parley nodes add` for a Janus run some other way (reached
through its API with its secrets), or by `parley serve` itself for the embedded Janus
(named "local"). Each open meeting names the node hosting its rooms
(`Meeting.media_node_id`); every web process reaches that node, whichever one a
participant talks to.

The secrets are kept here so every web process can reach every node; they are never shown
in listings or logs (`NodeView` masks them).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from parley.storage.models import Base, _enum

# The columns' vocabulary lives below storage (parley.vocabulary); re-exported for old importers.
from parley.vocabulary import NodeState as NodeState


class MediaNode(Base):
    __tablename__ = "media_nodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    # Janus's WebSocket API (Parley's own connection, and the upstream of the browser proxy).
    ws_url: Mapped[str] = mapped_column(String(255))
    admin_url: Mapped[str] = mapped_column(String(255))
    api_secret: Mapped[str] = mapped_column(String(128))
    admin_secret: Mapped[str] = mapped_column(String(128))
    admin_key: Mapped[str] = mapped_column(String(128))
    # The address the node's Janus advertises in its ICE candidates (what browsers reach).
    advertise: Mapped[str] = mapped_column(String(255), default="")
    state: Mapped[NodeState] = mapped_column(_enum(NodeState), default=NodeState.ACTIVE, index=True)
    # True: a `parley media-node` supervises it and heartbeats; False: an external Janus or
    # the embedded one, kept alive in the listing by the web processes that reach it.
    supervised: Mapped[bool] = mapped_column(Boolean, default=False)
    # Capacity; 0 means no limit of that kind.
    max_rooms: Mapped[int] = mapped_column(Integer, default=0)
    max_participants: Mapped[int] = mapped_column(Integer, default=0)
    # The last load report.
    rooms: Mapped[int] = mapped_column(Integer, default=0)
    participants: Mapped[int] = mapped_column(Integer, default=0)
    # Load average over one minute divided by the CPU count (1.0: every core busy).
    cpu_load: Mapped[float] = mapped_column(Float, default=0.0)
    # Null: never seen, or stopped cleanly.
    last_seen: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
