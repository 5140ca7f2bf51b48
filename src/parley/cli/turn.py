"""``parley turn config``: the coturn config (turnserver.conf) for this deployment's [turn]
section; ``parley turn credential``: one time-limited credential, to try the server by hand
(e.g. with coturn's ``turnutils_uclient``)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from parley.config import Config
from parley.errors import ConfigError


def add_parser(sub: Any) -> None:
    """Register ``turn`` and its commands on the top-level subparsers."""
    turn = sub.add_parser("turn", help="the TURN relay (coturn) for participants behind NAT and firewalls")
    commands = turn.add_subparsers(dest="turn_command", required=True)
    conf = commands.add_parser("config", help="print a turnserver.conf for coturn (it holds the secret: keep it 0600)")
    conf.add_argument("--log-file", default="syslog", help='a path, "stdout" or "syslog" (default)')
    conf.add_argument("--pid-file", default="", help="where coturn writes its pid")
    conf.set_defaults(func=cmd_turn_config)
    cred = commands.add_parser("credential", help="print one credential (username, password) valid turn.ttl_seconds")
    cred.add_argument("--id", default="operator", help="the id part of the username")
    cred.set_defaults(func=cmd_turn_credential)


def cmd_turn_config(args: argparse.Namespace, config: Config) -> int:
    from parley.media.coturn import render_turnserver_conf

    try:
        sys.stdout.write(render_turnserver_conf(config.turn, log_file=args.log_file, pid_file=args.pid_file))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_turn_credential(args: argparse.Namespace, config: Config) -> int:
    from parley.clock import SystemClock
    from parley.media.turn import TurnIssuer

    if not config.turn.secret:
        print("error: config turn.secret: is empty (PARLEY_TURN_SECRET)", file=sys.stderr)
        return 2
    credential = TurnIssuer(config.turn, SystemClock()).issue(args.id)
    print(f"username: {credential.username}")
    print(f"password: {credential.password}")
    print(f"expires:  {credential.expires_at.isoformat()}")
    return 0
