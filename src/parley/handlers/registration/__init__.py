"""Registrations: a participant's place in a dialogue, their personal link, their own data.

Participants have no password. Registering creates a participant account (or, for someone
already logged in, uses theirs) and hands out a personal link: a signed token bound to the
account's credentials version, so it expires, and bumping the version revokes every link
given out before. Registering never tells whether an address has a Parley account (see
`registering`).

A registration is personal data: it never reaches a log line; only its owner sees their
age group, gender and education, the dialogue's organiser (and admins) see who registered,
and the facilitator sees the demographics aggregated. Age group and education use the
survey's codes (`parley.reference`), so the dashboard can filter and break down
dialogue participants and survey respondents alike.

    rules.py        the link's purpose and bound, who has a link, a tick box's yes
    views.py        the form, a registration as its owner sees it, outcomes, lists
    validation.py   a form checked against the dialogue
    links.py        PersonalLinks: giving, opening and revoking personal links
    registering.py  Registering: registering, new participant accounts, capacity
    own_data.py     OwnData: a participant's registrations and data, consents, leaving
    roster.py       Roster: a dialogue's registrations for its staff
    service.py      Registrations: builds the parts and hands out their calls
"""

from parley.handlers.registration.links import PersonalLinks
from parley.handlers.registration.own_data import OwnData
from parley.handlers.registration.registering import Registering
from parley.handlers.registration.roster import Roster, counts
from parley.handlers.registration.rules import LINK_PURPOSE, TOKEN_MAX, flag, link_only
from parley.handlers.registration.service import Registrations
from parley.handlers.registration.validation import validate
from parley.handlers.registration.views import (
    Attendee,
    DialogueRegistrations,
    MyData,
    RegistrationInput,
    RegistrationOutcome,
    RegistrationView,
)

__all__ = [
    "Attendee",
    "DialogueRegistrations",
    "LINK_PURPOSE",
    "MyData",
    "OwnData",
    "PersonalLinks",
    "Registering",
    "RegistrationInput",
    "RegistrationOutcome",
    "RegistrationView",
    "Registrations",
    "Roster",
    "TOKEN_MAX",
    "counts",
    "flag",
    "link_only",
    "validate",
]
