"""What the media node parts share: the embedded Janus's node name, the limits on a node's
fields, the states this process connects to, and who manages nodes.
"""

from __future__ import annotations

from parley.errors import Forbidden
from parley.storage.stores.accounts import Account
from parley.vocabulary import NodeState, Role

LOCAL = "local"
NAME_MAX = 64
URL_MAX = 255
SECRET_MIN, SECRET_MAX = 8, 128
# A node the pool reaches this many times in a row without meetings is fine; these are the
# states the pool connects to (a removed node's meetings are moved by whoever removed it).
CONNECTED_STATES = (NodeState.ACTIVE, NodeState.DRAINING)


def require_admin(actor: Account | None) -> None:
    """``None`` is the operator at the command line."""
    if actor is not None and actor.role != Role.ADMIN:
        raise Forbidden("Media nodes are managed by admins.", code="not_admin")
