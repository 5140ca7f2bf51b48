"""The dialogue handler's rules: validation, the state machine, who may do what, the
channel sync, the public listing and the organisers' overview."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from parley.errors import Conflict, Forbidden, InvalidInput, NotFound
from parley.handlers.dialogues import DEFAULT_QUESTIONS, Action, DialogueInput, DialogueView, ListingQuery
from parley.handlers.registration import RegistrationInput
from parley.server import Server
from parley.storage.models import Channel, ChannelMember, Dialogue, DialogueState, Role, User
from tests.dialogues.conftest import HAVE_WORKSPACE, ChannelSpy, People, future_start
from tests.fakes.clock import FakeClock

pytestmark = pytest.mark.integration

MakeDialogue = Callable[..., Awaitable[DialogueView]]


async def dialogue_count(server: Server) -> int:
    async with server.db.session() as s:
        return int((await s.execute(select(func.count()).select_from(Dialogue))).scalar_one())


def draft(server: Server, **fields: Any) -> DialogueInput:
    values: dict[str, Any] = {
        "title": "Youth and the future",
        "starts_at": future_start(server),
        "time_zone": "Africa/Nairobi",
        "languages": ["en", "sw"],
        "country": "KE",
    }
    values.update(fields)
    return DialogueInput(**values)


async def register(server: Server, dialogue_id: int, email: str, language: str = "fr") -> None:
    await server.registrations.register(
        dialogue_id,
        RegistrationInput(
            display_name="Someone",
            email=email,
            preferred_language=language,
            country="FR",
            age_group="35-44",
            gender="undisclosed",
            education="unstated",
            consent_participate=True,
        ),
        None,
    )


# --- creating and validating -------------------------------------------------------------------


async def test_a_new_dialogue_is_a_draft_with_un75_questions(server: Server, people: People) -> None:
    view = await server.dialogues.create(people.organiser, draft(server))
    assert view.state == DialogueState.DRAFT
    assert view.questions == list(DEFAULT_QUESTIONS)
    assert view.questions[0] == "What future do we want to create?"
    assert view.organiser is not None and view.organiser.id == people.organiser.id
    assert view.invite_code  # every dialogue has one, used when it is invite-only
    assert view.permissions.can_edit and view.permissions.can_publish


async def test_every_bad_field_is_reported_at_once_and_nothing_is_written(server: Server, people: People) -> None:
    bad = draft(
        server,
        title="x",
        capacity=1,
        duration_minutes=10,
        languages=["not a code"],
        country="ZZ",
        time_zone="Mars/Olympus",
        visibility="secret",
        questions=[],
    )
    with pytest.raises(InvalidInput) as caught:
        await server.dialogues.create(people.organiser, bad)
    assert caught.value.fields == {
        "title": "length",
        "capacity": "range",
        "duration_minutes": "range",
        "languages": "unknown_language",
        "country": "unknown_country",
        "time_zone": "unknown_time_zone",
        "visibility": "invalid",
        "questions": "count",
    }
    assert caught.value.status == 422
    assert await dialogue_count(server) == 0


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        ("capacity", 2, True),
        ("capacity", 500, True),
        ("capacity", 1, False),
        ("capacity", 501, False),
        ("duration_minutes", 15, True),
        ("duration_minutes", 480, True),
        ("duration_minutes", 14, False),
        ("duration_minutes", 481, False),
        ("title", "abc", True),
        ("title", "ab", False),
        ("title", "t" * 200, True),
        ("title", "t" * 201, False),
        ("description", "d" * 5000, True),
        ("description", "d" * 5001, False),
        ("questions", ["Why?"], True),
        ("questions", ["q" * 501], False),
        ("questions", ["Ok?"] * 13, False),
        ("title", "Bad\x00title", False),
        ("capacity", True, False),
        ("capacity", "12", True),
    ],
)
async def test_field_limits(server: Server, people: People, field: str, value: Any, ok: bool) -> None:
    data = draft(server, **{field: value})
    if ok:
        await server.dialogues.create(people.organiser, data)
    else:
        with pytest.raises(InvalidInput) as caught:
            await server.dialogues.create(people.organiser, data)
        assert field in caught.value.fields


async def test_language_codes_are_normalised_and_deduplicated(server: Server, people: People) -> None:
    view = await server.dialogues.create(people.organiser, draft(server, languages=["PT_br", "pt-BR", "fr", "ar"]))
    assert view.languages == ["pt-BR", "fr", "ar"]


@pytest.mark.parametrize(
    ("local", "zone", "utc"),
    [
        ("2026-07-01T14:00", "Europe/Paris", datetime(2026, 7, 1, 12, 0, tzinfo=UTC)),
        ("2026-12-01T14:00", "Europe/Paris", datetime(2026, 12, 1, 13, 0, tzinfo=UTC)),
        ("2026-07-01T14:00", "Asia/Kolkata", datetime(2026, 7, 1, 8, 30, tzinfo=UTC)),
        ("2026-07-01T09:00", "America/Sao_Paulo", datetime(2026, 7, 1, 12, 0, tzinfo=UTC)),
    ],
)
async def test_local_start_is_stored_in_utc_and_shown_back_in_its_zone(
    server: Server, people: People, local: str, zone: str, utc: datetime
) -> None:
    view = await server.dialogues.create(people.organiser, draft(server, starts_at=local, time_zone=zone))
    assert view.starts_at == utc
    assert view.time_zone == zone
    assert view.starts_local is not None and view.starts_local.strftime("%Y-%m-%dT%H:%M") == local
    assert view.ends_at == utc + timedelta(minutes=90)


async def test_an_instant_with_an_offset_is_kept_as_that_instant(server: Server, people: People) -> None:
    view = await server.dialogues.create(
        people.organiser, draft(server, starts_at="2026-07-01T10:00:00+03:00", time_zone="Europe/Paris")
    )
    assert view.starts_at == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)


async def test_a_local_time_that_does_not_exist_is_refused(server: Server, people: People) -> None:
    # Clocks in Paris jump from 02:00 to 03:00 on 29 March 2026.
    with pytest.raises(InvalidInput) as caught:
        await server.dialogues.create(
            people.organiser, draft(server, starts_at="2026-03-29T02:30", time_zone="Europe/Paris")
        )
    assert caught.value.fields == {"starts_at": "nonexistent_time"}


@pytest.mark.parametrize("value", ["tomorrow", "2026-13-01T10:00", "1800-01-01T10:00"])
async def test_unreadable_start_times_are_refused(server: Server, people: People, value: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        await server.dialogues.create(people.organiser, draft(server, starts_at=value))
    assert "starts_at" in caught.value.fields


@pytest.mark.parametrize("role", [Role.PARTICIPANT, Role.FACILITATOR, Role.INTERPRETER])
async def test_only_organisers_and_admins_create_dialogues(
    server: Server, make_user: Callable[..., Awaitable[User]], people: People, role: Role
) -> None:
    user = await make_user(role, password=None)
    with pytest.raises(Forbidden) as caught:
        await server.dialogues.create(user, draft(server))
    assert caught.value.code == "role_required"
    assert (await server.dialogues.create(people.admin, draft(server))).organiser is not None


async def test_facilitator_and_interpreters_must_hold_those_roles(server: Server, people: People) -> None:
    with pytest.raises(InvalidInput) as caught:
        await server.dialogues.create(people.organiser, draft(server, facilitator_id=people.other_organiser.id))
    assert caught.value.fields == {"facilitator_id": "not_facilitator"}
    with pytest.raises(InvalidInput) as caught:
        await server.dialogues.create(people.organiser, draft(server, facilitator_id=999_999))
    assert caught.value.fields == {"facilitator_id": "not_facilitator"}
    with pytest.raises(InvalidInput) as caught:
        await server.dialogues.create(people.organiser, draft(server, interpreters=[(people.facilitator.id, "en")]))
    assert caught.value.fields == {"interpreters": "not_interpreter"}
    with pytest.raises(InvalidInput) as caught:
        await server.dialogues.create(people.organiser, draft(server, interpreters=[(people.interpreter.id, "ru")]))
    assert caught.value.fields == {"interpreters": "language_not_in_dialogue"}
    assert await dialogue_count(server) == 0


async def test_disabled_facilitators_cannot_be_chosen(server: Server, people: People) -> None:
    async with server.db.session() as s:
        row = await s.get(User, people.other_facilitator.id)
        assert row is not None
        row.disabled = True
    with pytest.raises(InvalidInput):
        await server.dialogues.create(people.organiser, draft(server, facilitator_id=people.other_facilitator.id))
    choices = await server.dialogues.staff_choices(people.organiser)
    assert [p.id for p in choices.facilitators] == [people.facilitator.id]
    assert [p.id for p in choices.interpreters] == [people.interpreter.id]


# --- the state machine -------------------------------------------------------------------------


async def test_the_whole_lifecycle_is_time_stamped_and_announced(
    server: Server, people: People, clock: FakeClock
) -> None:
    view = await server.dialogues.create(people.organiser, draft(server, facilitator_id=people.facilitator.id))
    sub = await server.bus.subscribe([f"dialogue:{view.id}"])
    try:
        t0 = clock.now()
        view = await server.dialogues.transition(people.organiser, view.id, Action.PUBLISH)
        assert (view.state, view.published_at) == (DialogueState.SCHEDULED, t0)
        clock.advance(3600)
        view = await server.dialogues.transition(people.facilitator, view.id, Action.START)
        assert (view.state, view.started_at) == (DialogueState.LIVE, t0 + timedelta(hours=1))
        clock.advance(5400)
        view = await server.dialogues.transition(people.facilitator, view.id, Action.END)
        assert (view.state, view.ended_at) == (DialogueState.ENDED, t0 + timedelta(hours=2.5))
        clock.advance(86400)
        view = await server.dialogues.transition(people.facilitator, view.id, Action.SUBMIT_REPORT)
        assert view.state == DialogueState.REPORT_SUBMITTED
        assert view.report_submitted_at == t0 + timedelta(hours=26.5)
        events = [await asyncio.wait_for(sub.get(), 5) for _ in range(4)]
    finally:
        await sub.close()
    assert [(e["state"], e["previous"]) for _, e in events] == [
        ("scheduled", "draft"),
        ("live", "scheduled"),
        ("ended", "live"),
        ("report_submitted", "ended"),
    ]
    assert all(topic == f"dialogue:{view.id}" and e["type"] == "dialogue.state" for topic, e in events)


@pytest.mark.parametrize(
    ("state", "action"),
    [
        ("draft", Action.START),
        ("draft", Action.END),
        ("draft", Action.CANCEL),
        ("scheduled", Action.PUBLISH),
        ("scheduled", Action.END),
        ("scheduled", Action.SUBMIT_REPORT),
        ("live", Action.CANCEL),
        ("live", Action.PUBLISH),
        ("ended", Action.START),
        ("report_submitted", Action.END),
        ("report_submitted", Action.SUBMIT_REPORT),
    ],
)
async def test_illegal_transitions_are_refused(
    server: Server, people: People, make_dialogue: MakeDialogue, state: str, action: Action
) -> None:
    view = await make_dialogue(state)
    with pytest.raises(Conflict) as caught:
        await server.dialogues.transition(people.organiser, view.id, action)
    assert caught.value.code == "invalid_transition"
    assert (await server.dialogues.get(people.organiser, view.id)).state == state


async def test_publishing_needs_a_start_in_the_future(server: Server, people: People, clock: FakeClock) -> None:
    no_time = await server.dialogues.create(people.organiser, draft(server, starts_at=None))
    with pytest.raises(InvalidInput) as caught:
        await server.dialogues.transition(people.organiser, no_time.id, Action.PUBLISH)
    assert caught.value.fields == {"starts_at": "required"}
    soon = await server.dialogues.create(people.organiser, draft(server, starts_at=future_start(server, days=1)))
    clock.advance(3 * 86400)
    with pytest.raises(InvalidInput) as caught:
        await server.dialogues.transition(people.organiser, soon.id, Action.PUBLISH)
    assert caught.value.fields == {"starts_at": "past"}
    assert (await server.dialogues.get(people.organiser, soon.id)).state == DialogueState.DRAFT


async def test_cancelling_takes_a_scheduled_dialogue_back_to_draft(
    server: Server, people: People, make_dialogue: MakeDialogue
) -> None:
    view = await make_dialogue("scheduled")
    view = await server.dialogues.transition(people.organiser, view.id, Action.CANCEL)
    assert view.state == DialogueState.DRAFT and view.published_at is None
    assert (await server.dialogues.listing(ListingQuery())).total == 0


async def test_facilitators_run_their_dialogues_but_do_not_manage_them(
    server: Server, people: People, make_dialogue: MakeDialogue
) -> None:
    view = await make_dialogue("scheduled")
    as_facilitator = await server.dialogues.get(people.facilitator, view.id)
    assert as_facilitator.permissions.can_start and not as_facilitator.permissions.can_edit
    assert as_facilitator.invite_code is None
    with pytest.raises(Forbidden):
        await server.dialogues.transition(people.facilitator, view.id, Action.CANCEL)
    with pytest.raises(Forbidden):
        await server.dialogues.update(people.facilitator, view.id, {"title": "Mine now"})
    with pytest.raises(Forbidden):
        await server.dialogues.transition(people.other_facilitator, view.id, Action.START)
    with pytest.raises(Forbidden):
        await server.dialogues.transition(people.interpreter, view.id, Action.START)
    with pytest.raises(Forbidden):
        await server.dialogues.transition(people.participant, view.id, Action.START)
    assert (await server.dialogues.transition(people.facilitator, view.id, Action.START)).state == DialogueState.LIVE


async def test_only_the_organiser_and_admins_edit(server: Server, people: People, make_dialogue: MakeDialogue) -> None:
    view = await make_dialogue("draft")
    with pytest.raises(Forbidden) as caught:
        await server.dialogues.update(people.other_organiser, view.id, {"title": "Taken over"})
    assert caught.value.code == "not_organiser"
    with pytest.raises(NotFound):
        await server.dialogues.update(people.participant, view.id, {"title": "Taken over"})
    updated = await server.dialogues.update(people.admin, view.id, {"title": "Fixed by an admin"})
    assert updated.title == "Fixed by an admin"


# --- editing -------------------------------------------------------------------------------------


async def test_edits_apply_only_the_given_fields(server: Server, people: People, make_dialogue: MakeDialogue) -> None:
    view = await make_dialogue("scheduled")
    updated = await server.dialogues.update(people.organiser, view.id, {"capacity": 30, "description": "Bring tea"})
    assert (updated.capacity, updated.description, updated.title) == (30, "Bring tea", view.title)
    assert updated.starts_at == view.starts_at and updated.languages == view.languages
    with pytest.raises(InvalidInput) as caught:
        await server.dialogues.update(people.organiser, view.id, {"colour": "red"})
    assert caught.value.fields == {"colour": "unknown"}


async def test_a_failed_edit_changes_nothing(server: Server, people: People, make_dialogue: MakeDialogue) -> None:
    view = await make_dialogue("scheduled")
    with pytest.raises(InvalidInput):
        await server.dialogues.update(people.organiser, view.id, {"title": "New title", "capacity": 9999})
    assert (await server.dialogues.get(people.organiser, view.id)).title == view.title


async def test_capacity_and_languages_respect_existing_registrations(
    server: Server, people: People, make_dialogue: MakeDialogue
) -> None:
    view = await make_dialogue("scheduled", capacity=5)
    for n in range(3):
        await register(server, view.id, f"p{n}@example.org", language="fr")
    with pytest.raises(InvalidInput) as caught:
        await server.dialogues.update(people.organiser, view.id, {"capacity": 2, "languages": ["en"]})
    assert caught.value.fields == {"capacity": "below_registrations", "languages": "in_use"}
    assert (await server.dialogues.update(people.organiser, view.id, {"capacity": 3})).capacity == 3


async def test_a_scheduled_start_cannot_move_into_the_past_nor_a_live_one_move_at_all(
    server: Server, people: People, make_dialogue: MakeDialogue
) -> None:
    view = await make_dialogue("scheduled")
    with pytest.raises(InvalidInput) as caught:
        await server.dialogues.update(people.organiser, view.id, {"starts_at": "2026-01-01T10:00"})
    assert caught.value.fields == {"starts_at": "past"}
    live = await make_dialogue("live")
    with pytest.raises(InvalidInput) as caught:
        await server.dialogues.update(people.organiser, live.id, {"starts_at": future_start(server, 20)})
    assert caught.value.fields == {"starts_at": "locked_live"}
    assert (await server.dialogues.update(people.organiser, live.id, {"title": "Live and renamed"})).title


async def test_ended_dialogues_cannot_be_edited(server: Server, people: People, make_dialogue: MakeDialogue) -> None:
    view = await make_dialogue("ended")
    with pytest.raises(Conflict) as caught:
        await server.dialogues.update(people.organiser, view.id, {"title": "Rewriting history"})
    assert caught.value.code == "dialogue_closed"


async def test_regenerating_the_invite_code_voids_the_old_one(
    server: Server, people: People, make_dialogue: MakeDialogue
) -> None:
    view = await make_dialogue("scheduled", visibility="invite_only")
    old = view.invite_code
    assert old is not None
    assert (await server.dialogues.get(None, view.id, invite_code=old)).id == view.id
    fresh = await server.dialogues.regenerate_invite_code(people.organiser, view.id)
    assert fresh.invite_code and fresh.invite_code != old
    with pytest.raises(NotFound):
        await server.dialogues.get(None, view.id, invite_code=old)
    with pytest.raises(Forbidden):
        await server.dialogues.regenerate_invite_code(people.facilitator, view.id)


# --- visibility ----------------------------------------------------------------------------------


async def test_drafts_are_seen_by_staff_only(server: Server, people: People, make_dialogue: MakeDialogue) -> None:
    view = await make_dialogue("draft", interpreters=[(people.interpreter.id, "fr")])
    for outsider in (None, people.participant, people.other_facilitator):
        with pytest.raises(NotFound):
            await server.dialogues.get(outsider, view.id)
    for insider in (people.organiser, people.other_organiser, people.facilitator, people.interpreter, people.admin):
        assert (await server.dialogues.get(insider, view.id)).id == view.id
    with pytest.raises(NotFound):
        await server.dialogues.get(None, 2**40)


async def test_invite_only_dialogues_need_the_code(server: Server, people: People, make_dialogue: MakeDialogue) -> None:
    view = await make_dialogue("scheduled", visibility="invite_only")
    assert view.invite_code
    with pytest.raises(NotFound):
        await server.dialogues.get(None, view.id)
    with pytest.raises(NotFound):
        await server.dialogues.get(people.participant, view.id, invite_code="wrong")
    seen = await server.dialogues.get(people.participant, view.id, invite_code=view.invite_code)
    assert seen.invite_code is None and seen.permissions.can_register


# --- the workspace channel -----------------------------------------------------------------------


async def test_the_dialogue_channel_follows_its_staff(
    server: Server, people: People, channels: ChannelSpy, make_dialogue: MakeDialogue
) -> None:
    view = await make_dialogue("draft")
    assert channels.last_for(view.id) == (view.id, view.title, sorted([people.organiser.id, people.facilitator.id]))
    calls = len(channels.calls)
    await server.dialogues.update(people.organiser, view.id, {"description": "No staff change"})
    assert len(channels.calls) == calls
    await server.dialogues.update(
        people.organiser,
        view.id,
        {"facilitator_id": people.other_facilitator.id, "interpreters": [(people.interpreter.id, "fr")]},
    )
    expected = sorted([people.organiser.id, people.other_facilitator.id, people.interpreter.id])
    assert channels.last_for(view.id) == (view.id, view.title, expected)
    if HAVE_WORKSPACE:
        async with server.db.session() as s:
            channel = (await s.execute(select(Channel).where(Channel.dialogue_id == view.id))).scalar_one()
            members = (
                (await s.execute(select(ChannelMember.user_id).where(ChannelMember.channel_id == channel.id)))
                .scalars()
                .all()
            )
        assert sorted(members) == expected


async def test_a_workspace_failure_does_not_undo_the_dialogue(
    server: Server, people: People, channels: ChannelSpy
) -> None:
    channels.fail = True
    view = await server.dialogues.create(people.organiser, draft(server))
    assert (await server.dialogues.get(people.organiser, view.id)).title == view.title


# --- the public listing --------------------------------------------------------------------------


async def test_the_listing_shows_upcoming_public_dialogues_only(
    server: Server, people: People, make_dialogue: MakeDialogue
) -> None:
    shown = [await make_dialogue("scheduled", title="Scheduled one"), await make_dialogue("live", title="Live one")]
    for state in ("draft", "ended", "report_submitted"):
        await make_dialogue(state, title=f"Not listed {state}")
    await make_dialogue("scheduled", title="Invite only", visibility="invite_only")
    listing = await server.dialogues.listing(ListingQuery())
    assert sorted(x.id for x in listing.items) == sorted(x.id for x in shown)
    assert listing.total == 2


async def test_search_filters_and_dates(server: Server, people: People, make_dialogue: MakeDialogue) -> None:
    a = await make_dialogue(
        title="Climate and cities",
        languages=["es", "en"],
        country="MX",
        starts_at="2026-06-20T12:00",
        time_zone="America/Mexico_City",
    )
    b = await make_dialogue(
        title="Health for all",
        description="Clinics and CLIMATE",
        languages=["fr"],
        country="SN",
        starts_at="2026-06-21T01:30",
        time_zone="Africa/Dakar",
    )
    c = await make_dialogue(
        title="100% digital",
        languages=["pt-BR"],
        country="BR",
        starts_at="2026-07-15T10:00",
        time_zone="America/Sao_Paulo",
    )

    async def ids(**q: Any) -> list[int]:
        return [x.id for x in (await server.dialogues.listing(ListingQuery(**q))).items]

    assert await ids(q="climate") == [a.id, b.id]
    assert await ids(q="100%") == [c.id]
    assert await ids(q="1_0") == []
    assert await ids(q="%") == [c.id]
    assert await ids(language="es") == [a.id]
    assert await ids(language="pt-br") == [c.id]
    assert await ids(country="sn") == [b.id]
    assert await ids(date_from="2026-06-21", date_to="2026-06-30") == [b.id]
    # 01:30 in Dakar on the 21st is still the 20th in Mexico City.
    assert await ids(date_from="2026-06-20", date_to="2026-06-20", time_zone="America/Mexico_City") == [a.id, b.id]
    assert await ids(date_from="2026-07-01") == [c.id]


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({"country": "XX"}, {"country": "unknown_country"}),
        ({"language": "!!"}, {"language": "unknown_language"}),
        ({"date_from": "01/06/2026"}, {"date_from": "invalid_date"}),
        ({"date_from": "2026-06-10", "date_to": "2026-06-01"}, {"date_to": "before_start"}),
        ({"page": 0}, {"page": "range"}),
        ({"per_page": 1000}, {"per_page": "range"}),
        ({"q": "nul\x00"}, {"q": "invalid"}),
    ],
)
async def test_bad_filters_are_refused(server: Server, query: dict[str, Any], fields: dict[str, str]) -> None:
    with pytest.raises(InvalidInput) as caught:
        await server.dialogues.listing(ListingQuery(**query))
    assert caught.value.fields == fields and caught.value.code == "invalid_filter"


async def test_pagination_is_ordered_by_start(server: Server, people: People, make_dialogue: MakeDialogue) -> None:
    made = [
        await make_dialogue(title=f"Dialogue {n:02}", starts_at=future_start(server, days=30 - n)) for n in range(12)
    ]
    first = await server.dialogues.listing(ListingQuery(per_page=5))
    last = await server.dialogues.listing(ListingQuery(per_page=5, page=3))
    assert (first.total, first.pages) == (12, 3)
    assert [x.id for x in first.items] == [d.id for d in reversed(made)][:5]
    assert [x.id for x in last.items] == [made[1].id, made[0].id]
    assert (await server.dialogues.listing(ListingQuery(per_page=5, page=9))).items == []


async def test_dialogues_held_are_counted_per_country(
    server: Server, people: People, make_dialogue: MakeDialogue
) -> None:
    await make_dialogue("ended", country="KE")
    await make_dialogue("report_submitted", country="KE", visibility="invite_only", languages=["sw", "en"])
    await make_dialogue("ended", country="IN", languages=["hi", "en"])
    await make_dialogue("scheduled", country="IN")
    await make_dialogue("live", country="IN")
    counts = (await server.dialogues.listing(ListingQuery())).countries
    assert [(c.country, c.dialogues) for c in counts] == [("KE", 2), ("IN", 1)]
    by_language = (await server.dialogues.listing(ListingQuery(language="sw"))).countries
    assert [(c.country, c.dialogues) for c in by_language] == [("KE", 1)]


# --- the overview --------------------------------------------------------------------------------


async def test_the_overview_makes_the_report_gap_visible(
    server: Server, people: People, make_dialogue: MakeDialogue, clock: FakeClock
) -> None:
    oldest = await make_dialogue("ended", title="Oldest")
    clock.advance(3 * 86400)
    middle = await make_dialogue("ended", title="Middle")
    clock.advance(5 * 86400)
    newest = await make_dialogue("ended", title="Newest")
    await make_dialogue("report_submitted", title="Reported")
    await make_dialogue("draft")
    soon = await make_dialogue("scheduled", starts_at=future_start(server, days=3), capacity=4)
    later = await make_dialogue("scheduled", starts_at=future_start(server, days=20))
    await register(server, soon.id, "one@example.org")
    live = await make_dialogue("live")

    o = await server.dialogues.overview(people.organiser)
    assert o.counts == {
        DialogueState.DRAFT: 1,
        DialogueState.SCHEDULED: 2,
        DialogueState.LIVE: 1,
        DialogueState.ENDED: 3,
        DialogueState.REPORT_SUBMITTED: 1,
    }
    assert (o.held, o.reports_received, o.reports_missing, o.report_percent) == (4, 1, 3, 25)
    assert [r.dialogue.id for r in o.awaiting_report] == [oldest.id, middle.id, newest.id]
    assert [(r.days_since_end, r.overdue) for r in o.awaiting_report] == [(8, True), (5, False), (0, False)]
    assert o.overdue == 1
    assert [x.id for x in o.this_week] == [soon.id]
    assert [x.id for x in o.scheduled] == [soon.id, later.id]
    fill = {x.id: (x.registered, x.capacity, x.fill_percent) for x in o.scheduled}
    assert fill[soon.id] == (1, 4, 25)
    assert [x.id for x in o.live] == [live.id]


async def test_the_overview_scope(
    server: Server, people: People, make_dialogue: MakeDialogue, make_user: Callable[..., Awaitable[User]]
) -> None:
    mine = await make_dialogue("scheduled")
    theirs = await make_dialogue(
        "scheduled",
        organiser=people.other_organiser,
        facilitator_id=people.other_facilitator.id,
        interpreters=[(people.interpreter.id, "fr")],
    )
    assert {x.id for x in (await server.dialogues.overview(people.organiser)).scheduled} == {mine.id, theirs.id}
    assert [x.id for x in (await server.dialogues.overview(people.organiser, "mine")).scheduled] == [mine.id]
    # Facilitators and interpreters only ever see the dialogues they work on.
    facilitated = await server.dialogues.overview(people.facilitator, "all")
    assert facilitated.scope == "mine" and [x.id for x in facilitated.scheduled] == [mine.id]
    assert [x.id for x in (await server.dialogues.overview(people.interpreter)).scheduled] == [theirs.id]
    with pytest.raises(Forbidden):
        await server.dialogues.overview(people.participant)
    with pytest.raises(InvalidInput):
        await server.dialogues.overview(people.organiser, "everything")
