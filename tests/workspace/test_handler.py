"""Workspace rules, through the handler: channels, membership, messages, unread, mentions."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from parley.errors import Conflict, Forbidden, InvalidInput, NotFound
from parley.handlers.workspace import Workspace, find_mentions
from parley.server import Server
from parley.storage.models import Role, User
from parley.storage.stores.accounts import Account
from tests.workspace.conftest import make_dialogue

pytestmark = pytest.mark.integration


@pytest.fixture
def ws(server: Server) -> Workspace:
    return server.workspace


async def staff(make_user: Any, role: Role = Role.ORGANISER, **kw: Any) -> User:
    user: User = await make_user(role, password=None, **kw)
    return user


async def drain(sub: Any) -> list[tuple[str, dict[str, Any]]]:
    out = []
    while True:
        try:
            out.append(await asyncio.wait_for(sub.get(), 0.05))
        except TimeoutError:
            return out


# --- the dialogue channel contract ----------------------------------------------------------


async def test_sync_dialogue_channel_creates_then_reconciles_exact_membership(
    server: Server, ws: Workspace, make_user: Any
) -> None:
    organiser = await staff(make_user, Role.ORGANISER)
    facilitator = await staff(make_user, Role.FACILITATOR)
    interp1 = await staff(make_user, Role.INTERPRETER)
    interp2 = await staff(make_user, Role.INTERPRETER)
    dialogue_id = await make_dialogue(server, organiser, "Youth in Lagos")
    sub = await server.bus.subscribe([f"user:{interp1.id}", f"user:{interp2.id}"])

    cid = await ws.sync_dialogue_channel(dialogue_id, "Youth in Lagos", [organiser.id, facilitator.id, interp1.id])
    detail = await ws.channel(organiser, cid)
    assert detail.channel.kind == "dialogue"
    assert detail.channel.dialogue_id == dialogue_id
    assert detail.channel.title == "Youth in Lagos"
    assert {m.id for m in detail.members} == {organiser.id, facilitator.id, interp1.id}
    events = await drain(sub)
    assert ("user:" + str(interp1.id), "channel.added") in [(t, e["type"]) for t, e in events]

    # Same dialogue: same channel; interpreter swapped, title changed.
    again = await ws.sync_dialogue_channel(
        dialogue_id, "Youth in Lagos (2)", [organiser.id, facilitator.id, interp2.id]
    )
    assert again == cid
    detail = await ws.channel(organiser, cid)
    assert {m.id for m in detail.members} == {organiser.id, facilitator.id, interp2.id}
    assert detail.channel.name == "Youth in Lagos (2)"
    kinds = {(t, e["type"]) for t, e in await drain(sub)}
    assert (f"user:{interp1.id}", "channel.removed") in kinds
    assert (f"user:{interp2.id}", "channel.added") in kinds
    with pytest.raises(Forbidden) as err:
        await ws.history(interp1, cid)
    assert err.value.code == "not_member"
    await sub.close()


async def test_sync_dialogue_channel_refuses_participants_and_unknown_dialogues(
    server: Server, ws: Workspace, make_user: Any
) -> None:
    organiser = await staff(make_user)
    participant = await staff(make_user, Role.PARTICIPANT)
    dialogue_id = await make_dialogue(server, organiser)
    with pytest.raises(InvalidInput) as err:
        await ws.sync_dialogue_channel(dialogue_id, "D", [organiser.id, participant.id])
    assert err.value.code == "not_staff"
    with pytest.raises(NotFound) as missing:
        await ws.sync_dialogue_channel(dialogue_id + 1000, "D", [organiser.id])
    assert missing.value.code == "dialogue_not_found"


async def test_dialogue_channel_members_cannot_reach_another_dialogues_channel(
    server: Server, ws: Workspace, make_user: Any
) -> None:
    a, b = await staff(make_user, Role.FACILITATOR), await staff(make_user, Role.FACILITATOR)
    ca = await ws.sync_dialogue_channel(await make_dialogue(server), "A", [a.id])
    cb = await ws.sync_dialogue_channel(await make_dialogue(server), "B", [b.id])
    msg = await ws.post(b, cb, "only for B")
    for call in (
        ws.history(a, cb),
        ws.post(a, cb, "hi"),
        ws.edit(a, msg.id, "x"),
        ws.delete(a, msg.id),
        ws.mark_read(a, cb),
        ws.channel(a, cb),
    ):
        with pytest.raises(Forbidden) as err:
            await call
        assert err.value.code == "not_member"
    with pytest.raises(Conflict) as leave:
        await ws.leave(a, ca)
    assert leave.value.code == "cannot_leave"


# --- team and direct channels ---------------------------------------------------------------


async def test_team_channels_create_join_leave_and_add(ws: Workspace, make_user: Any) -> None:
    organiser = await staff(make_user, Role.ORGANISER)
    facilitator = await staff(make_user, Role.FACILITATOR)
    interpreter = await staff(make_user, Role.INTERPRETER)
    participant = await staff(make_user, Role.PARTICIPANT)

    with pytest.raises(Forbidden) as err:
        await ws.create_team_channel(facilitator, "Logistics")
    assert err.value.code == "organisers_only"
    channel = await ws.create_team_channel(organiser, "  Logistics  ", "Rooms and links")
    assert (channel.name, channel.topic, channel.is_member) == ("Logistics", "Rooms and links", True)
    with pytest.raises(Conflict) as dup:
        await ws.create_team_channel(organiser, "logistics")
    assert dup.value.code == "channel_name_taken"
    with pytest.raises(InvalidInput) as bad:
        await ws.create_team_channel(organiser, "   ")
    assert bad.value.code == "invalid_channel_name"

    browse = await ws.browse_team_channels(facilitator)
    assert [(c.id, c.is_member) for c in browse] == [(channel.id, False)]
    joined = await ws.join(facilitator, channel.id)
    assert joined.is_member
    await ws.join(facilitator, channel.id)  # idempotent
    assert len((await ws.channel(organiser, channel.id)).members) == 2

    with pytest.raises(Forbidden):
        await ws.add_members(facilitator, channel.id, [interpreter.id])
    with pytest.raises(InvalidInput) as not_staff:
        await ws.add_members(organiser, channel.id, [participant.id])
    assert not_staff.value.code == "not_staff"
    added = await ws.add_members(organiser, channel.id, [interpreter.id, facilitator.id])
    assert [p.id for p in added] == [interpreter.id]

    await ws.leave(facilitator, channel.id)
    with pytest.raises(Forbidden):
        await ws.history(facilitator, channel.id)
    with pytest.raises(Forbidden) as refused:
        await ws.list_channels(participant)
    assert refused.value.code == "staff_only"


async def test_direct_channel_is_one_per_pair(ws: Workspace, make_user: Any) -> None:
    a = await staff(make_user, Role.INTERPRETER, name="Amina Diallo")
    b = await staff(make_user, Role.FACILITATOR, name="Bo Chen")
    c = await staff(make_user, Role.FACILITATOR)
    participant = await staff(make_user, Role.PARTICIPANT)
    first = await ws.open_direct(a, b.id)
    second = await ws.open_direct(b, a.id)
    assert first.id == second.id
    assert (first.kind, first.title, second.title) == ("direct", "Bo Chen", "Amina Diallo")
    assert first.direct_user_id == b.id
    with pytest.raises(Forbidden):
        await ws.history(c, first.id)
    with pytest.raises(InvalidInput) as self_err:
        await ws.open_direct(a, a.id)
    assert self_err.value.code == "direct_self"
    with pytest.raises(InvalidInput) as part_err:
        await ws.open_direct(a, participant.id)
    assert part_err.value.code == "not_staff"
    with pytest.raises(InvalidInput) as unknown:
        await ws.open_direct(a, 99999)
    assert unknown.value.code == "unknown_user"


async def test_concurrent_first_direct_messages_share_one_channel(ws: Workspace, make_user: Any) -> None:
    a, b = await staff(make_user), await staff(make_user, Role.INTERPRETER)
    one, two = await asyncio.gather(ws.open_direct(a, b.id), ws.open_direct(b, a.id))
    assert one.id == two.id


# --- messages ---------------------------------------------------------------------------------


async def test_edit_own_delete_own_and_moderators_delete_any(ws: Workspace, make_user: Any) -> None:
    organiser = await staff(make_user, Role.ORGANISER)
    fac = await staff(make_user, Role.FACILITATOR)
    interp = await staff(make_user, Role.INTERPRETER)
    channel = await ws.create_team_channel(organiser, "Team", member_ids=[fac.id, interp.id])

    m = await ws.post(fac, channel.id, "first draft")
    with pytest.raises(Forbidden) as not_author:
        await ws.edit(interp, m.id, "hijack")
    assert not_author.value.code == "not_author"
    with pytest.raises(Forbidden):
        await ws.edit(organiser, m.id, "even organisers cannot edit")
    with pytest.raises(Forbidden):
        await ws.delete(interp, m.id)

    edited = await ws.edit(fac, m.id, "second draft")
    assert edited.body == "second draft" and edited.edited_at is not None

    other = await ws.post(interp, channel.id, "off topic")
    removed = await ws.delete(organiser, other.id)
    assert removed.deleted_at is not None and removed.body == ""
    own = await ws.delete(fac, m.id)
    assert own.deleted_at is not None
    with pytest.raises(Conflict) as gone:
        await ws.edit(fac, m.id, "again")
    assert gone.value.code == "message_deleted"

    page = await ws.history(organiser, channel.id)
    assert [(x.id, x.body, x.deleted) for x in page.messages] == [(other.id, "", True), (m.id, "", True)]

    # In a direct channel nobody moderates someone else's messages.
    direct = await ws.open_direct(organiser, fac.id)
    dm = await ws.post(fac, direct.id, "private")
    with pytest.raises(Forbidden):
        await ws.delete(organiser, dm.id)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("", "body_empty"),
        ("   \n ", "body_empty"),
        ("x" * 4001, "body_too_long"),
        ("a\x00b", "body_invalid"),
        ("bad \ud800 surrogate", "body_invalid"),
    ],
)
async def test_bad_bodies_are_refused(ws: Workspace, make_user: Any, body: str, code: str) -> None:
    organiser = await staff(make_user)
    channel = await ws.create_team_channel(organiser, "Team")
    with pytest.raises(InvalidInput) as err:
        await ws.post(organiser, channel.id, body)
    assert err.value.code == code


async def test_bodies_keep_their_text_and_line_breaks(ws: Workspace, make_user: Any) -> None:
    organiser = await staff(make_user)
    channel = await ws.create_team_channel(organiser, "Team")
    m = await ws.post(organiser, channel.id, "<b>not bold</b>\r\nنعم 你好 " + "é" * 3977)
    assert m.body.startswith("<b>not bold</b>\nنعم 你好")
    assert len(m.body) == 4000


async def test_history_pages_newest_first_and_catches_up_oldest_first(ws: Workspace, make_user: Any) -> None:
    organiser = await staff(make_user)
    channel = await ws.create_team_channel(organiser, "Team")
    ids = [(await ws.post(organiser, channel.id, f"m{i}")).id for i in range(7)]

    first = await ws.history(organiser, channel.id, limit=3)
    assert [m.id for m in first.messages] == ids[:-4:-1] and first.has_more
    second = await ws.history(organiser, channel.id, before=first.messages[-1].id, limit=3)
    assert [m.id for m in second.messages] == ids[3:0:-1] and second.has_more
    last = await ws.history(organiser, channel.id, before=second.messages[-1].id, limit=3)
    assert [m.id for m in last.messages] == [ids[0]] and not last.has_more

    missed = await ws.history(organiser, channel.id, after=ids[2], limit=3)
    assert [m.id for m in missed.messages] == ids[3:6] and missed.has_more
    for kwargs, code in [
        ({"limit": 0}, "invalid_limit"),
        ({"limit": 101}, "invalid_limit"),
        ({"before": 5, "after": 1}, "invalid_cursor"),
    ]:
        with pytest.raises(InvalidInput) as err:
            await ws.history(organiser, channel.id, **kwargs)
        assert err.value.code == code


async def test_unread_counts_follow_the_read_marker(ws: Workspace, make_user: Any) -> None:
    a, b = await staff(make_user), await staff(make_user, Role.INTERPRETER)
    channel = await ws.create_team_channel(a, "Team", member_ids=[b.id])
    other = await ws.create_team_channel(a, "Other", member_ids=[b.id])
    posted = [await ws.post(a, channel.id, f"n{i}") for i in range(3)]
    await ws.post(a, other.id, "elsewhere")
    await ws.post(b, channel.id, "my own message does not count")

    # b posted after a's messages, which marks the channel read for b.
    views, total = await ws.list_channels(b)
    assert {v.name: v.unread for v in views} == {"Team": 0, "Other": 1} and total == 1

    more = [await ws.post(a, channel.id, f"more{i}") for i in range(3)]
    views, total = await ws.list_channels(b)
    assert {v.name: v.unread for v in views}["Team"] == 3 and total == 4

    await ws.delete(a, more[1].id)
    assert await ws.total_unread(b) == 3
    state = await ws.mark_read(b, channel.id, more[0].id)
    assert (state.unread, state.total_unread, state.last_read_message_id) == (1, 2, more[0].id)
    backwards = await ws.mark_read(b, channel.id, posted[0].id)
    assert backwards.last_read_message_id == more[0].id
    state = await ws.mark_read(b, channel.id)
    assert (state.unread, state.total_unread) == (0, 1)


# --- mentions ---------------------------------------------------------------------------------


def _user(uid: int, name: str, email: str) -> Account:
    return Account(id=uid, email=email, display_name=name, role=Role.ORGANISER, locale=None, time_zone=None,
                   disabled=False, created_at=datetime(2025, 1, 1, tzinfo=UTC), credentials_version=1,
                   has_password=False)


def test_mentions_match_names_and_email_local_parts_as_whole_words() -> None:
    people = [
        _user(1, "Bo Chen", "bo.chen@example.org"),
        _user(2, "Amina", "amina@example.org"),
        _user(3, "Ann", "ann@example.org"),
    ]
    assert find_mentions("hi @bo chen and @AMINA.", people) == {1, 2}
    assert find_mentions("ping @bo.chen, please", people) == {1}
    assert find_mentions("mail amina@example.org or @annex", people) == set()
    assert find_mentions("no at sign", people) == set()
    assert find_mentions("@ann", people) == {3}


async def test_mentions_notify_members_live_and_can_be_read(server: Server, ws: Workspace, make_user: Any) -> None:
    a = await staff(make_user, name="Ada Obi", email="ada@example.org")
    b = await staff(make_user, Role.INTERPRETER, name="Bo Chen", email="bchen@example.org")
    outsider = await staff(make_user, Role.INTERPRETER, name="Cy", email="cy@example.org")
    channel = await ws.create_team_channel(a, "Team", member_ids=[b.id])
    sub = await server.bus.subscribe([f"user:{b.id}", f"user:{outsider.id}", f"user:{a.id}"])

    m = await ws.post(a, channel.id, "@bchen can you check? also @Cy and @Ada Obi")
    events = [(t, e) for t, e in await drain(sub) if e["type"] == "notification"]
    assert [t for t, _ in events] == [f"user:{b.id}"]
    note = events[0][1]["notification"]
    assert (note["channel_id"], note["message_id"], note["actor_name"], note["channel_title"]) == (
        channel.id,
        m.id,
        "Ada Obi",
        "Team",
    )

    notes, unread = await ws.notifications(b)
    assert unread == 1 and [(n.kind, n.message_id, n.read_at) for n in notes] == [("mention", m.id, None)]
    assert (await ws.notifications(outsider))[1] == 0
    assert await ws.mark_notifications_read(b, [notes[0].id]) == 0
    notes, unread = await ws.notifications(b, unread_only=True)
    assert (notes, unread) == ([], 0)
    await sub.close()


async def test_chat_text_never_reaches_the_logs(
    ws: Workspace, make_user: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # Parley's own loggers at every level; third-party drivers at the deployed level (aiosqlite
    # logs SQL parameters at DEBUG, so the log setup must keep it above that).
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="parley")
    a, b = await staff(make_user), await staff(make_user, Role.INTERPRETER, name="Bea")
    channel = await ws.create_team_channel(a, "Team", member_ids=[b.id])
    secret = "the-secret-chat-text-1234"
    m = await ws.post(a, channel.id, f"{secret} @Bea")
    await ws.edit(a, m.id, secret + " edited")
    await ws.delete(a, m.id)
    with pytest.raises(InvalidInput):
        await ws.post(a, channel.id, secret + "\x00")
    assert secret not in caplog.text
