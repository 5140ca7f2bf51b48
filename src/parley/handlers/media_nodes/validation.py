"""A node's registration checked and cleaned: its name, its Janus URLs (ws for the API,
http for the admin API), its secrets, the address it advertises and its capacity. Each
refusal is ``invalid_node`` naming the field.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from parley.errors import InvalidInput
from parley.handlers.dialogues import clean_text
from parley.handlers.media_nodes.rules import NAME_MAX, SECRET_MAX, SECRET_MIN, URL_MAX
from parley.handlers.media_nodes.views import NodeRegistration


def _check_url(key: str, value: str, schemes: tuple[str, ...]) -> str:
    text = clean_text(value) or ""
    parts = urlsplit(text)
    if len(text) > URL_MAX or parts.scheme not in schemes or not parts.hostname:
        raise InvalidInput(f"The {key} must be a {' or '.join(s + '://' for s in schemes)} URL.",
                           code="invalid_node", fields={key: "invalid"})
    return text


def validate(reg: NodeRegistration) -> NodeRegistration:
    """The registration with its text cleaned; InvalidInput (``invalid_node``) naming the field."""
    name = clean_text(reg.name) or ""
    if not 1 <= len(name) <= NAME_MAX or not all(ch.isalnum() or ch in "-_." for ch in name):
        raise InvalidInput("A node name is 1 to 64 letters, digits, '-', '_' or '.'.", code="invalid_node",
                           fields={"name": "invalid"})
    for key in ("api_secret", "admin_secret", "admin_key"):
        secret = getattr(reg, key)
        if not SECRET_MIN <= len(secret) <= SECRET_MAX or clean_text(secret) != secret or " " in secret:
            raise InvalidInput(f"The node's {key} must be {SECRET_MIN} to {SECRET_MAX} characters without spaces.",
                               code="invalid_node", fields={key: "invalid"})
    advertise = clean_text(reg.advertise) or ""
    if advertise:
        try:
            ipaddress.ip_address(advertise)
        except ValueError:
            if len(advertise) > URL_MAX or not all(ch.isalnum() or ch in "-." for ch in advertise):
                raise InvalidInput("The advertised address must be an IP address or a host name.",
                                   code="invalid_node", fields={"advertise": "invalid"}) from None
    for key in ("max_rooms", "max_participants"):
        if not 0 <= getattr(reg, key) <= 1_000_000:
            raise InvalidInput("Capacity is 0 (no limit) or a positive number.", code="invalid_node",
                               fields={key: "invalid"})
    return NodeRegistration(
        name=name, ws_url=_check_url("ws_url", reg.ws_url, ("ws", "wss")),
        admin_url=_check_url("admin_url", reg.admin_url, ("http", "https")), api_secret=reg.api_secret,
        admin_secret=reg.admin_secret, admin_key=reg.admin_key, advertise=advertise, max_rooms=reg.max_rooms,
        max_participants=reg.max_participants, supervised=reg.supervised,
    )
