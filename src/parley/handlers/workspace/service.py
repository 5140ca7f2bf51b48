"""`Workspace` builds the workspace parts once and hands out their calls.

    channels           Channels          one's channels with unread counts, one channel, people
    team               TeamChannels      create, rename, join, leave, add members
    direct             DirectChannels    the one direct channel between two people
    dialogue_channels  DialogueChannels  each dialogue's channel holds exactly its staff
    messages           Messages          history, post (and mention), edit, delete
    unread             Unread            read markers and mention notifications
    events             Events            membership and channel changes on the bus

Below them: `access` (staff only, who moderates, the values that prove membership), `reading`
(a member's channel views), `transactions` (one retry after a unique race), and the plain
`validation`, `mentions` and `views`.
"""

from __future__ import annotations

from parley.bus.base import Bus
from parley.clock import Clock
from parley.handlers.workspace.channels import Channels
from parley.handlers.workspace.dialogue_channels import DialogueChannels
from parley.handlers.workspace.direct import DirectChannels
from parley.handlers.workspace.events import Events
from parley.handlers.workspace.messages import Messages
from parley.handlers.workspace.team import TeamChannels
from parley.handlers.workspace.unread import Unread
from parley.storage.database import Database


class Workspace:
    def __init__(self, db: Database, clock: Clock, bus: Bus) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus
        self.events = Events(bus)
        self.channels = Channels(db)
        self.team = TeamChannels(db, clock, self.events)
        self.direct = DirectChannels(db, clock, bus)
        self.dialogue_channels = DialogueChannels(db, clock, self.events)
        self.messages = Messages(db, clock, bus)
        self.unread = Unread(db, clock, bus)
        # The contract with dialogues.
        self.sync_dialogue_channel = self.dialogue_channels.sync
        # What routes, pages and the WebSocket session call.
        self.list_channels = self.channels.list_channels
        self.channel_ids = self.channels.channel_ids
        self.unread_snapshot = self.channels.unread_snapshot
        self.browse_team_channels = self.channels.browse_team_channels
        self.channel = self.channels.channel
        self.people = self.channels.people
        self.create_team_channel = self.team.create
        self.update_team_channel = self.team.update
        self.join = self.team.join
        self.leave = self.team.leave
        self.add_members = self.team.add_members
        self.open_direct = self.direct.open
        self.history = self.messages.history
        self.message = self.messages.message
        self.post = self.messages.post
        self.edit = self.messages.edit
        self.delete = self.messages.delete
        self.mark_read = self.unread.mark_read
        self.total_unread = self.unread.total_unread
        self.notifications = self.unread.notifications
        self.mark_notifications_read = self.unread.mark_notifications_read
