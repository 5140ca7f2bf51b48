"""Media nodes: the registry of Janus servers, placing meetings on them, and reaching them.

    parley media-node (one per media machine)  --register, heartbeat, depart-->  media_nodes table
    parley nodes add / the admin page           --add, drain, undrain, remove-->  media_nodes table
    parley serve, embedded Janus                --register_local-->              "local" node
    meetings                                    --place(meeting) -> node, service_for(node)-->  JanusPool
    JanusPool: a node unreachable for media.lost_seconds --> on_node_lost(node, its open meetings)

Placement itself is the pure policy in `parley.media.placement`; this package feeds it what
the database knows (reports, open meetings per node) and records the choice on the meeting
with a compare-and-set, so two web processes placing one meeting agree on the winner.
Secrets live in the table and are never shown in full (`NodeView.secrets`).

    rules.py        the "local" name, field limits, connected states, who manages nodes
    views.py        a node's registration and load report, a node as admins see it
    validation.py   a registration checked and cleaned
    reading.py      NodeViews: each node's load and view from the database
    registry.py     Registry: registering, adding, heartbeats, draining, removing, listing
    placing.py      Placing: which node hosts an open meeting
    reaching.py     Reaching: the JanusService for a node or a meeting; lost nodes
    upkeep.py       Upkeep: the "local" node, the web process's heartbeat pass, cpu_load
    service.py      MediaNodes: builds the parts and hands out their calls
"""

from parley.handlers.media_nodes.placing import Placing
from parley.handlers.media_nodes.reaching import LostCallback, Reaching, endpoint
from parley.handlers.media_nodes.reading import NodeViews
from parley.handlers.media_nodes.registry import Registry
from parley.handlers.media_nodes.rules import (
    CONNECTED_STATES,
    LOCAL,
    NAME_MAX,
    SECRET_MAX,
    SECRET_MIN,
    URL_MAX,
    require_admin,
)
from parley.handlers.media_nodes.service import MediaNodes
from parley.handlers.media_nodes.upkeep import Upkeep, cpu_load
from parley.handlers.media_nodes.validation import validate
from parley.handlers.media_nodes.views import HostedMeeting, LoadReport, NodeRegistration, NodeView, mask

__all__ = [
    "CONNECTED_STATES",
    "HostedMeeting",
    "LOCAL",
    "LoadReport",
    "LostCallback",
    "MediaNodes",
    "NAME_MAX",
    "NodeRegistration",
    "NodeView",
    "NodeViews",
    "Placing",
    "Reaching",
    "Registry",
    "SECRET_MAX",
    "SECRET_MIN",
    "URL_MAX",
    "Upkeep",
    "cpu_load",
    "endpoint",
    "mask",
    "require_admin",
    "validate",
]
