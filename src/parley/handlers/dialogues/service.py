"""`Dialogues` builds the dialogue parts once and hands out their calls.

    reader       Reader       a dialogue as a viewer may see it
    staff        Staff        whom to choose, the role check, the staff's workspace channel
    editing      Editing      create, update, a new invite code
    transitions  Transitions  publish, cancel, start, end, submit the report
    listings     Listings     the public listing, its filters and the per-country counts
    overviews    Overviews    the organisers' overview

The rules below them (`validation`, `states`, `access`, `views`) are plain functions and
values that other handlers import through `parley.handlers.dialogues`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from parley.bus.base import Bus
from parley.clock import Clock
from parley.handlers.dialogues.editing import Editing
from parley.handlers.dialogues.listing import Listings
from parley.handlers.dialogues.overview import Overviews
from parley.handlers.dialogues.reading import Reader
from parley.handlers.dialogues.staff import Staff
from parley.handlers.dialogues.transitions import Transitions
from parley.storage.database import Database

if TYPE_CHECKING:
    from parley.handlers.workspace import Workspace


class Dialogues:
    def __init__(self, db: Database, clock: Clock, bus: Bus, workspace: Workspace) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus
        self.reader = Reader(db)
        self.staff = Staff(db, workspace)
        self.editing = Editing(db, clock, bus, self.reader, self.staff)
        self.transitions = Transitions(db, clock, bus, self.reader)
        self.listings = Listings(db)
        self.overviews = Overviews(db, clock)
        # What routes, pages and other handlers call.
        self.create = self.editing.create
        self.update = self.editing.update
        self.regenerate_invite_code = self.editing.regenerate_invite_code
        self.transition = self.transitions.transition
        self.get = self.reader.get
        self.staff_choices = self.staff.choices
        self.listing = self.listings.listing
        self.overview = self.overviews.overview

    @property
    def workspace(self) -> Workspace:
        """Where the staff's channel lives; tests swap it for a recording spy."""
        return self.staff.workspace

    @workspace.setter
    def workspace(self, workspace: Workspace) -> None:
        self.staff.workspace = workspace
