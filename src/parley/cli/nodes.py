"""``parley media-node`` (run on a media machine: supervise its Janus, register it, heartbeat)
and ``parley nodes list|add|drain|undrain|remove`` (the operator's view of every node).

Both reach the shared database named by the config (``PARLEY_DATABASE_URL``); the schema must
be current (``parley migrate``, which the web processes also run). Secrets for ``nodes add``
come from the environment (``PARLEY_NODE_API_SECRET``, ``PARLEY_NODE_ADMIN_SECRET``,
``PARLEY_NODE_ADMIN_KEY``) rather than the command line, where other users could read them.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from parley.config import Config
from parley.errors import ClientError, EngineError

T = TypeVar("T")


def add_parsers(sub: Any) -> None:
    node = sub.add_parser("media-node", help="run this machine's Janus as a media node of a shared deployment")
    node.add_argument("--name", help="the node's name (default: media.node_name, else the host name)")
    node.add_argument("--advertise", help="the address other machines reach this Janus at (default: media.advertise)")
    node.add_argument("--max-rooms", type=int, help="rooms this node takes at most (0: no limit)")
    node.add_argument("--max-participants", type=int, help="participants this node takes at most (0: no limit)")
    node.set_defaults(func=cmd_media_node)

    nodes = sub.add_parser("nodes", help="the media nodes: list, add, drain, undrain, remove")
    nodes_sub = nodes.add_subparsers(dest="nodes_command", required=True)
    listing = nodes_sub.add_parser("list", help="every node with its state, load, last report and meetings")
    listing.add_argument("--all", action="store_true", help="removed nodes too")
    listing.set_defaults(func=cmd_nodes_list)
    add = nodes_sub.add_parser("add", help="register a Janus run some other way (secrets from PARLEY_NODE_*)")
    add.add_argument("name")
    add.add_argument("--ws-url", required=True, help="its WebSocket API, e.g. ws://10.0.0.5:8188")
    add.add_argument("--admin-url", required=True, help="its Admin API, e.g. http://10.0.0.5:7088/admin")
    add.add_argument("--advertise", default="", help="the address its ICE candidates carry")
    add.add_argument("--max-rooms", type=int, default=0)
    add.add_argument("--max-participants", type=int, default=0)
    add.set_defaults(func=cmd_nodes_add)
    for name, text in (("drain", "take no new meetings (running ones finish)"), ("undrain", "take meetings again"),
                       ("remove", "take the node out (drain it and let its meetings end first)")):
        change = nodes_sub.add_parser(name, help=text)
        change.add_argument("name")
        if name == "remove":
            change.add_argument("--force", action="store_true", help="even while it hosts open meetings")
        change.set_defaults(func=cmd_nodes_change, change=name)


def _with_server(config: Config, work: Callable[[Any], Awaitable[T]]) -> T:
    from parley.server import Server

    async def run() -> T:
        server = Server(config)
        try:
            return await work(server)
        finally:
            await server.db.close()

    return asyncio.run(run())


def _fail(exc: Exception) -> int:
    print(f"error: {exc.message if isinstance(exc, ClientError) else exc}", file=sys.stderr)
    return 2


def _ago(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "offline"
    seconds = int((now - when).total_seconds())
    return f"{seconds}s ago" if seconds < 120 else f"{seconds // 60}min ago"


def _limit(value: int, limit: int) -> str:
    return f"{value}/{limit}" if limit else str(value)


def cmd_nodes_list(args: argparse.Namespace, config: Config) -> int:
    from parley.handlers.media_nodes import NodeView

    async def work(server: Any) -> tuple[list[NodeView], datetime]:
        return await server.media_nodes.nodes(None, include_removed=args.all), server.clock.now()

    try:
        nodes, now = _with_server(config, work)
    except ClientError as exc:
        return _fail(exc)
    rows = [("id", "name", "state", "takes", "rooms", "people", "cpu", "seen", "janus", "meetings")]
    for n in nodes:
        rows.append((str(n.id), n.name, n.state.value, n.availability, _limit(n.rooms, n.max_rooms),
                     _limit(n.participants, n.max_participants), f"{n.cpu_load:.2f}", _ago(n.last_seen, now),
                     n.ws_url, " ".join(str(m.meeting_id) for m in n.meetings) or "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1])
    return 0


def cmd_nodes_add(args: argparse.Namespace, config: Config) -> int:
    from parley.handlers.media_nodes import NodeRegistration

    secrets = {key: os.environ.get(f"PARLEY_NODE_{key.upper()}", "")
               for key in ("api_secret", "admin_secret", "admin_key")}
    missing = [f"PARLEY_NODE_{key.upper()}" for key, value in secrets.items() if not value]
    if missing:
        print(f"error: set {', '.join(missing)} to the node's Janus secrets", file=sys.stderr)
        return 2
    reg = NodeRegistration(name=args.name, ws_url=args.ws_url, admin_url=args.admin_url, advertise=args.advertise,
                           max_rooms=args.max_rooms, max_participants=args.max_participants, supervised=False,
                           **secrets)
    try:
        view = _with_server(config, lambda server: server.media_nodes.add(None, reg))
    except ClientError as exc:
        return _fail(exc)
    print(f"added media node {view.name} (id {view.id}); web processes connect to it within a few seconds")
    return 0


def cmd_nodes_change(args: argparse.Namespace, config: Config) -> int:
    async def work(server: Any) -> Any:
        nodes = server.media_nodes
        node = await nodes.find(None, args.name)
        if args.change == "remove":
            return await nodes.remove(None, node.id, force=args.force)
        return await getattr(nodes, args.change)(None, node.id)

    try:
        view = _with_server(config, work)
    except ClientError as exc:
        return _fail(exc)
    print(f"media node {view.name} is {view.state.value}")
    return 0


def cmd_media_node(args: argparse.Namespace, config: Config) -> int:
    """Supervise this machine's Janus, register it, heartbeat until SIGINT/SIGTERM, then leave."""
    from parley.clock import SystemClock
    from parley.handlers.media_node_agent import MediaNodeAgent
    from parley.media.janus.service import JanusService
    from parley.server import Server

    media = config.media
    janus = dataclasses.replace(config.janus, enabled=True)
    config = dataclasses.replace(config, janus=janus)
    clock = SystemClock()

    async def run() -> int:
        server = Server(config, clock=clock, schema="none")
        service = JanusService.from_config(janus, config.data_path, clock)
        agent = MediaNodeAgent(
            server.media_nodes, service, clock, name=args.name or media.node_name or socket.gethostname(),
            advertise=args.advertise or media.advertise,
            max_rooms=media.max_rooms if args.max_rooms is None else args.max_rooms,
            max_participants=media.max_participants if args.max_participants is None else args.max_participants,
            heartbeat_seconds=media.heartbeat_seconds,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            node_id = await agent.start()
            print(f"media node {agent.name} (id {node_id}) is serving; Ctrl+C stops it", flush=True)
            await agent.run(stop)
        except (ClientError, EngineError) as exc:
            await agent.stop()
            return _fail(exc)
        finally:
            await server.db.close()
        return 0

    return asyncio.run(run())
