"""The registration handler's rules: registering, capacity, invitations, personal links,
a participant's own data, and who sees a dialogue's registrations."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import func, select

from parley.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from parley.handlers.dialogues import DialogueView
from parley.handlers.registration import RegistrationInput
from parley.server import Server
from parley.storage.models import AuthSession, Registration, Role, User
from tests.dialogues.conftest import People
from tests.fakes.clock import FakeClock

pytestmark = pytest.mark.integration

MakeDialogue = Callable[..., Awaitable[DialogueView]]

FORM = RegistrationInput(
    display_name="Amina Diallo",
    email="amina@example.org",
    preferred_language="fr",
    country="SN",
    age_group="18-24",
    gender="woman",
    education="university",
    consent_participate=True,
    consent_transcript=True,
    consent_quotes=False,
)


async def count(server: Server, model: type) -> int:
    async with server.db.session() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def test_registering_creates_a_participant_who_logs_in_by_link(
    server: Server, make_dialogue: MakeDialogue
) -> None:
    d = await make_dialogue("scheduled")
    outcome = await server.registrations.register(d.id, FORM, None)
    assert outcome.created and outcome.session is not None and outcome.link_token
    user = outcome.user
    assert (user.role, user.has_password, user.email) == (Role.PARTICIPANT, False, "amina@example.org")
    r = outcome.registration
    assert (r.preferred_language, r.country, r.age_group, r.gender, r.education) == (
        "fr", "SN", "18-24", "woman", "university")
    assert (r.consent_participate, r.consent_transcript, r.consent_quotes) == (True, True, False)
    login = await server.registrations.open_link(outcome.link_token)
    assert login.user.id == user.id
    assert (await server.accounts.resolve_session(login.token)) is not None


async def test_registering_again_updates_instead_of_duplicating(server: Server, make_dialogue: MakeDialogue) -> None:
    d = await make_dialogue("scheduled")
    first = await server.registrations.register(d.id, FORM, None)
    again = await server.registrations.register(
        d.id, replace(FORM, preferred_language="en", gender="undisclosed", consent_quotes=True), first.user
    )
    assert not again.created and again.session is None
    assert (again.registration.preferred_language, again.registration.gender) == ("en", "undisclosed")
    assert again.registration.consent_quotes
    assert await count(server, Registration) == 1


async def test_a_known_email_gets_a_separate_account_and_nothing_of_the_existing_one(
    server: Server, make_dialogue: MakeDialogue, people: People
) -> None:
    """Registering never tells whether an address has an account (module doc of
    `parley.handlers.registration`); the existing account stays as it was."""
    d = await make_dialogue("scheduled")
    first = await server.registrations.register(d.id, FORM, None)
    other = await make_dialogue("scheduled", title="Another one")
    for email, owner in (("AMINA@example.org", first.user), (people.organiser.email, people.organiser)):
        outcome = await server.registrations.register(other.id, replace(FORM, email=email), None)
        assert outcome.created and outcome.session is not None and outcome.link_token
        assert outcome.user.id != owner.id and outcome.user.role == Role.PARTICIPANT
        assert (await server.registrations.my_data(outcome.user)).email == email.lower()
        assert await server.registrations.mine(owner) == ([] if owner is people.organiser else [first.registration])
    organiser = await server.accounts.user(people.organiser.id)
    assert organiser is not None and organiser.email == people.organiser.email and organiser.role == Role.ORGANISER
    attendees = (await server.registrations.for_dialogue(people.organiser, other.id)).attendees
    assert attendees is not None and sorted(a.email for a in attendees) == sorted(
        ["amina@example.org", people.organiser.email])
    assert await count(server, Registration) == 3


async def test_a_logged_in_person_registers_only_themselves(
    server: Server, make_dialogue: MakeDialogue, people: People
) -> None:
    d = await make_dialogue("scheduled")
    with pytest.raises(InvalidInput) as caught:
        await server.registrations.register(d.id, replace(FORM, email="someone.else@example.org"), people.participant)
    assert caught.value.code == "email_mismatch"
    outcome = await server.registrations.register(d.id, replace(FORM, email="", display_name=""), people.participant)
    assert outcome.user.id == people.participant.id and outcome.link_token
    # Staff may take part too, but get no password-free link to their account.
    staff = await server.registrations.register(d.id, replace(FORM, email=""), people.other_facilitator)
    assert staff.link_token is None and staff.session is None


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"preferred_language": "es"}, {"preferred_language": "not_offered"}),
        ({"country": "XX"}, {"country": "unknown_country"}),
        ({"age_group": "ancient"}, {"age_group": "invalid"}),
        ({"age_group": "16-30"}, {"age_group": "invalid"}),  # the old bands are not the survey's
        ({"age_group": ""}, {"age_group": "invalid"}),
        ({"education": "doctorate"}, {"education": "invalid"}),
        ({"education": ""}, {"education": "invalid"}),
        ({"gender": "robot"}, {"gender": "invalid"}),
        ({"consent_participate": False}, {"consent_participate": "required"}),
        ({"display_name": "", "email": "not-an-email"}, {"display_name": "length", "email": "invalid"}),
        ({"display_name": "n" * 121}, {"display_name": "length"}),
        ({"display_name": "Bad\x00name"}, {"display_name": "invalid"}),
        ({"email": "nul\x00@example.org"}, {"email": "invalid"}),
    ],
)
async def test_invalid_registrations_write_nothing(
    server: Server, make_dialogue: MakeDialogue, change: dict[str, Any], fields: dict[str, str]
) -> None:
    d = await make_dialogue("scheduled")
    with pytest.raises(InvalidInput) as caught:
        await server.registrations.register(d.id, replace(FORM, **change), None)
    assert caught.value.fields == fields
    assert await count(server, Registration) == 0
    assert await count(server, AuthSession) == 0


async def test_prefer_not_to_say_is_accepted(server: Server, make_dialogue: MakeDialogue) -> None:
    d = await make_dialogue("scheduled")
    outcome = await server.registrations.register(
        d.id, replace(FORM, age_group="unstated", gender="undisclosed", education="unstated"), None
    )
    r = outcome.registration
    assert (r.age_group, r.gender, r.education) == ("unstated", "undisclosed", "unstated")


async def test_registrations_from_before_the_survey_groups_are_asked_again(
    server: Server, make_dialogue: MakeDialogue
) -> None:
    """Registrations whose old age band had no exact survey group were migrated to null, and
    education was not asked: the owner sees nothing, aggregates count them as unstated, and
    saving the registration again needs both answers."""
    d = await make_dialogue("scheduled")
    outcome = await server.registrations.register(d.id, FORM, None)
    async with server.db.session() as s:
        row = (await s.execute(select(Registration))).scalar_one()
        row.age_group, row.education = None, None
    mine = await server.registrations.my_registration(outcome.user, d.id)
    assert (mine.age_group, mine.education) == (None, None)
    assert (mine.as_input().age_group, mine.as_input().education) == ("", "")
    with pytest.raises(InvalidInput) as caught:
        await server.registrations.register(d.id, replace(mine.as_input(), consent_participate=True), outcome.user)
    assert caught.value.fields == {"age_group": "invalid", "education": "invalid"}
    again = await server.registrations.register(d.id, replace(FORM, email="", age_group="65-plus"), outcome.user)
    assert (again.registration.age_group, again.registration.education) == ("65-plus", "university")


async def test_aggregates_count_registrations_without_age_or_education_as_unstated(
    server: Server, make_dialogue: MakeDialogue, people: People
) -> None:
    d = await make_dialogue("scheduled")
    await server.registrations.register(d.id, FORM, None)
    await server.registrations.register(d.id, replace(FORM, email="b@example.org"), None)
    async with server.db.session() as s:
        row = (await s.execute(select(Registration).order_by(Registration.id))).scalars().first()
        assert row is not None
        row.age_group, row.education = None, None
    view = await server.registrations.for_dialogue(people.organiser, d.id)
    assert (view.by_age_group, view.by_education) == ({"18-24": 1, "unstated": 1}, {"university": 1, "unstated": 1})


async def test_a_full_dialogue_refuses_cleanly(server: Server, make_dialogue: MakeDialogue) -> None:
    d = await make_dialogue("scheduled", capacity=2)
    for n in range(2):
        await server.registrations.register(d.id, replace(FORM, email=f"p{n}@example.org"), None)
    users_before = await count(server, User)
    with pytest.raises(Conflict) as caught:
        await server.registrations.register(d.id, replace(FORM, email="late@example.org"), None)
    assert caught.value.code == "dialogue_full"
    assert await count(server, User) == users_before  # no half-made account
    assert await count(server, Registration) == 2


async def test_concurrent_registrations_never_overfill(server: Server, make_dialogue: MakeDialogue) -> None:
    d = await make_dialogue("scheduled", capacity=3)
    results = await asyncio.gather(
        *(server.registrations.register(d.id, replace(FORM, email=f"c{n}@example.org"), None) for n in range(6)),
        return_exceptions=True,
    )
    ok = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(ok) == 3 and len(refused) == 3
    assert all(r.code == "dialogue_full" for r in refused)
    assert await count(server, Registration) == 3


async def test_invite_only_needs_the_right_code(server: Server, make_dialogue: MakeDialogue) -> None:
    d = await make_dialogue("scheduled", visibility="invite_only")
    assert d.invite_code
    with pytest.raises(Forbidden) as caught:
        await server.registrations.register(d.id, FORM, None)
    assert caught.value.code == "invite_required"
    with pytest.raises(Forbidden) as caught:
        await server.registrations.register(d.id, replace(FORM, invite_code="guess"), None)
    assert caught.value.code == "invite_invalid"
    outcome = await server.registrations.register(d.id, replace(FORM, invite_code=d.invite_code), None)
    # Once registered, changing the registration needs no code.
    again = await server.registrations.register(d.id, replace(FORM, email="", consent_quotes=True), outcome.user)
    assert not again.created


async def test_registration_closes_when_the_dialogue_ends(
    server: Server, make_dialogue: MakeDialogue, people: People
) -> None:
    live = await make_dialogue("live")
    assert (await server.registrations.register(live.id, FORM, None)).created  # latecomers are welcome
    for state in ("ended", "report_submitted"):
        d = await make_dialogue(state)
        with pytest.raises(Conflict) as caught:
            await server.registrations.register(d.id, replace(FORM, email=f"{state}@example.org"), None)
        assert caught.value.code == "registration_closed"
    draft = await make_dialogue("draft")
    with pytest.raises(NotFound):
        await server.registrations.register(draft.id, replace(FORM, email="draft@example.org"), None)
    with pytest.raises(Conflict):
        await server.registrations.register(draft.id, replace(FORM, email=""), people.organiser)
    with pytest.raises(NotFound):
        await server.registrations.register(987_654, FORM, None)


# --- personal links ------------------------------------------------------------------------------


async def test_personal_links_expire(server: Server, make_dialogue: MakeDialogue, clock: FakeClock) -> None:
    d = await make_dialogue("scheduled")
    token = (await server.registrations.register(d.id, FORM, None)).link_token
    assert token
    clock.advance(server.config.auth.participant_link_days * 86400 - 60)
    await server.registrations.open_link(token)
    clock.advance(120)
    with pytest.raises(Unauthenticated) as caught:
        await server.registrations.open_link(token)
    assert caught.value.code == "link_invalid"


@pytest.mark.parametrize("token", ["", "x" * 600, "not.a.token", "eyJ1IjoxLCJ2IjoxfQ.AAAAAA.forged"])
async def test_forged_links_are_refused(server: Server, token: str) -> None:
    with pytest.raises(Unauthenticated):
        await server.registrations.open_link(token)


async def test_links_for_other_purposes_or_staff_are_refused(server: Server, people: People) -> None:
    other_purpose = server.signer.sign("unsubscribe", {"u": people.participant.id, "v": 1})
    with pytest.raises(Unauthenticated):
        await server.registrations.open_link(other_purpose)
    staff = server.signer.sign("participant", {"u": people.organiser.id, "v": 1})
    with pytest.raises(Unauthenticated):
        await server.registrations.open_link(staff)


async def test_revoking_voids_old_links_and_other_logins(server: Server, make_dialogue: MakeDialogue) -> None:
    d = await make_dialogue("scheduled")
    outcome = await server.registrations.register(d.id, FORM, None)
    assert outcome.link_token and outcome.session
    elsewhere = await server.registrations.open_link(outcome.link_token)
    fresh = await server.registrations.revoke_links(outcome.user, keep_session_token_hash=None)
    with pytest.raises(Unauthenticated):
        await server.registrations.open_link(outcome.link_token)
    assert await server.accounts.resolve_session(elsewhere.token) is None
    assert (await server.registrations.open_link(fresh)).user.id == outcome.user.id


# --- a participant's own data ------------------------------------------------------------------


async def test_my_data_consent_and_withdrawal(server: Server, make_dialogue: MakeDialogue, people: People) -> None:
    a = await make_dialogue("scheduled", title="First")
    b = await make_dialogue("scheduled", title="Second")
    user = (await server.registrations.register(a.id, FORM, None)).user
    await server.registrations.register(b.id, replace(FORM, email=""), user)

    data = await server.registrations.my_data(user)
    assert data.email == "amina@example.org"
    assert [(r.dialogue_title, r.age_group, r.gender) for r in data.registrations] == [
        ("First", "18-24", "woman"),
        ("Second", "18-24", "woman"),
    ]
    assert (data.registrations[0].consent_transcript, data.registrations[0].consent_quotes) == (True, False)

    changed = await server.registrations.update_consent(user, a.id, transcript=False, quotes=True)
    assert (changed.consent_transcript, changed.consent_quotes) == (False, True)

    await server.registrations.withdraw(user, a.id)
    assert [r.dialogue_id for r in await server.registrations.mine(user)] == [b.id]
    with pytest.raises(NotFound):
        await server.registrations.withdraw(user, a.id)
    # Another participant cannot touch it.
    with pytest.raises(NotFound):
        await server.registrations.my_registration(people.participant, b.id)
    with pytest.raises(NotFound):
        await server.registrations.update_consent(people.participant, b.id, transcript=True, quotes=True)


async def test_deleting_my_data_deletes_the_account_and_its_links(server: Server, make_dialogue: MakeDialogue) -> None:
    d = await make_dialogue("scheduled")
    outcome = await server.registrations.register(d.id, FORM, None)
    assert outcome.link_token and outcome.session
    assert await server.registrations.delete_all(outcome.user)
    assert await count(server, Registration) == 0
    assert await server.accounts.user(outcome.user.id) is None
    assert await server.accounts.resolve_session(outcome.session.token) is None
    with pytest.raises(Unauthenticated):
        await server.registrations.open_link(outcome.link_token)
    # The email is free again.
    assert (await server.registrations.register(d.id, FORM, None)).created


async def test_staff_deleting_their_data_keep_their_account(
    server: Server, make_dialogue: MakeDialogue, people: People
) -> None:
    d = await make_dialogue("scheduled")
    await server.registrations.register(d.id, replace(FORM, email=""), people.other_facilitator)
    assert not await server.registrations.delete_all(people.other_facilitator)
    assert await server.accounts.user(people.other_facilitator.id) is not None
    assert await count(server, Registration) == 0


# --- for the dialogue's staff ----------------------------------------------------------------------


async def test_registration_list_names_for_the_organiser_aggregates_for_the_facilitator(
    server: Server, make_dialogue: MakeDialogue, people: People
) -> None:
    d = await make_dialogue("scheduled")
    await server.registrations.register(d.id, FORM, None)
    await server.registrations.register(
        d.id,
        replace(
            FORM,
            email="b@example.org",
            display_name="Bo",
            preferred_language="en",
            country="SE",
            age_group="45-54",
            gender="man",
            education="unstated",
            consent_transcript=False,
        ),
        None,
    )
    await server.registrations.register(d.id, replace(FORM, email="c@example.org", display_name="Cy"), None)

    organiser_view = await server.registrations.for_dialogue(people.organiser, d.id)
    assert organiser_view.total == 3
    assert organiser_view.attendees is not None
    assert {a.email for a in organiser_view.attendees} == {"amina@example.org", "b@example.org", "c@example.org"}
    assert organiser_view.by_language == {"fr": 2, "en": 1}
    assert organiser_view.by_country == {"SN": 2, "SE": 1}
    assert organiser_view.by_age_group == {"18-24": 2, "45-54": 1}
    assert organiser_view.by_gender == {"woman": 2, "man": 1}
    assert organiser_view.by_education == {"university": 2, "unstated": 1}
    assert (organiser_view.consent_transcript, organiser_view.consent_quotes) == (2, 0)

    facilitator_view = await server.registrations.for_dialogue(people.facilitator, d.id)
    assert facilitator_view.attendees is None and facilitator_view.by_gender == organiser_view.by_gender
    assert (await server.registrations.for_dialogue(people.admin, d.id)).attendees is not None

    for outsider in (people.other_organiser, people.other_facilitator, people.interpreter, people.participant):
        with pytest.raises(Forbidden):
            await server.registrations.for_dialogue(outsider, d.id)
    hidden = await make_dialogue("scheduled", visibility="invite_only")
    with pytest.raises(NotFound):
        await server.registrations.for_dialogue(people.participant, hidden.id)
