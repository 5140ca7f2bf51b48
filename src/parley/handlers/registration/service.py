"""`Registrations` builds the registration parts once and hands out their calls.

    links        PersonalLinks  a participant's personal link: giving, opening, revoking
    registering  Registering    registering (or updating a registration) for a dialogue
    own          OwnData        a participant's own registrations and data, consents, leaving
    roster       Roster         a dialogue's registrations for its staff
"""

from __future__ import annotations

from parley.clock import Clock
from parley.config import AuthConfig
from parley.handlers.accounts import Accounts
from parley.handlers.registration.links import PersonalLinks
from parley.handlers.registration.own_data import OwnData
from parley.handlers.registration.registering import Registering
from parley.handlers.registration.roster import Roster
from parley.security import LinkSigner
from parley.storage.database import Database


class Registrations:
    """Registering, personal links, a participant's own data, a dialogue's list (see the parts)."""

    def __init__(
        self, db: Database, clock: Clock, signer: LinkSigner, accounts: Accounts, auth_config: AuthConfig
    ) -> None:
        self.db = db
        self.clock = clock
        self.signer = signer
        self.accounts = accounts
        self.config = auth_config
        self.links = PersonalLinks(db, signer, accounts, auth_config)
        self.registering = Registering(db, clock, accounts, self.links)
        self.own = OwnData(db, clock)
        self.roster = Roster(db)
        # What routes, pages and the rest of the domain call.
        self.register = self.registering.register
        self.link_token = self.links.link_token
        self.open_link = self.links.open_link
        self.revoke_links = self.links.revoke_links
        self.mine = self.own.mine
        self.my_registration = self.own.my_registration
        self.returning_answers = self.own.returning_answers
        self.my_data = self.own.my_data
        self.update_consent = self.own.update_consent
        self.withdraw = self.own.withdraw
        self.delete_all = self.own.delete_all
        self.for_dialogue = self.roster.for_dialogue
