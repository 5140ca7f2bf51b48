"""The media node registry and placement on a real database: nodes register and heartbeat,
admins drain, undrain and remove them, meetings are placed by load and stay put, and a lost
node's meetings move (fake Janus nodes, fake clock)."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from parley.errors import ClientError, Conflict, Forbidden, InvalidInput, NotFound
from parley.handlers.media_nodes import LoadReport, MediaNodes
from parley.media.janus.service import RoomSpec
from parley.media.placement import NoMediaNode
from parley.server import Server
from parley.storage.media_node_models import NodeState
from parley.storage.meeting_models import Meeting, MeetingStatus
from parley.storage.models import Role
from parley.storage.stores import media_nodes as store
from parley.storage.stores.media_nodes import NodeInfo
from tests.fakes.clock import FakeClock
from tests.media_nodes.conftest import MakeMeeting, registration
from tests.media_nodes.fakes import CREDS, FakeNodes

pytestmark = pytest.mark.integration


async def test_a_node_registers_heartbeats_and_goes_stale(media_nodes: MediaNodes, clock: FakeClock) -> None:
    node = await media_nodes.register(registration("media-1"))
    assert node.state is NodeState.ACTIVE and node.availability == "ok" and node.last_seen == clock.now()
    clock.advance(20)
    await media_nodes.heartbeat(node.id, LoadReport(rooms=3, participants=17, cpu_load=0.25))
    [listed] = await media_nodes.nodes(None)
    assert (listed.rooms, listed.participants, listed.cpu_load) == (3, 17, 0.25)
    assert listed.last_seen == clock.now()
    clock.advance(31)
    assert (await media_nodes.get(None, node.id)).availability == "stale"


async def test_two_processes_registering_one_name_at_once_share_one_node(
    media_nodes: MediaNodes, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every web process registers the embedded Janus as "local" when it starts; when they start
    together, the loser of the insert race takes the row the winner wrote."""
    first = await media_nodes.register(registration("local"))
    real = store.by_name
    calls = 0

    async def racing(s: AsyncSession, name: str) -> NodeInfo | None:
        nonlocal calls
        calls += 1
        return None if calls == 1 else await real(s, name)  # the first look misses the other's insert

    monkeypatch.setattr(store, "by_name", racing)
    again = await media_nodes.register(registration("local", max_rooms=7))
    assert again.id == first.id and again.max_rooms == 7 and calls == 2
    assert [n.name for n in await media_nodes.nodes(None)] == ["local"]


async def test_secrets_are_kept_but_never_listed_in_full(media_nodes: MediaNodes, fake_nodes: FakeNodes) -> None:
    node = await media_nodes.register(registration("media-1", api_secret="an-api-secret-of-some-length"))
    assert "an-api-secret-of-some-length" not in repr(node)
    assert "an-api-secret-of-some-length" not in node.secrets and node.secrets.startswith("api an-…(28)")
    await media_nodes.sync_pool()
    assert fake_nodes.built[-1].credentials.api_secret == "an-api-secret-of-some-length"


@pytest.mark.parametrize("field, value", [
    ("name", "no spaces allowed"), ("name", ""), ("ws_url", "http://not-a-websocket"), ("admin_url", "janus:7088"),
    ("api_secret", "short"), ("advertise", "not an address!"), ("max_rooms", -1),
])
async def test_a_bad_registration_names_its_field(media_nodes: MediaNodes, field: str, value: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        await media_nodes.register(registration(**{field: value}))  # type: ignore[arg-type]
    assert caught.value.code == "invalid_node" and field in caught.value.fields


async def test_only_admins_manage_nodes_and_names_are_unique(media_nodes: MediaNodes, make_user: object) -> None:
    organiser = await make_user(Role.ORGANISER)  # type: ignore[operator]
    admin = await make_user(Role.ADMIN)  # type: ignore[operator]
    with pytest.raises(Forbidden):
        await media_nodes.add(organiser, registration("external"))
    node = await media_nodes.add(admin, registration("external", supervised=False))
    with pytest.raises(Conflict) as caught:
        await media_nodes.add(admin, registration("external"))
    assert caught.value.code == "node_exists"
    for change in (media_nodes.drain, media_nodes.undrain, media_nodes.remove):
        with pytest.raises(Forbidden):
            await change(organiser, node.id)
    with pytest.raises(Forbidden):
        await media_nodes.nodes(organiser)
    with pytest.raises(NotFound):
        await media_nodes.drain(admin, 999)


async def test_meetings_fill_the_least_loaded_node_and_stay_where_they_are(
        media_nodes: MediaNodes, make_meeting: MakeMeeting) -> None:
    a = await media_nodes.register(registration("a"))
    b = await media_nodes.register(registration("b"))
    await media_nodes.heartbeat(a.id, LoadReport(rooms=1))
    placed = [(await media_nodes.place(await make_meeting())).name for _ in range(4)]
    # b was emptier; a's report of one room may already be the meeting then placed on it, so
    # a counts one room until it holds two; from there they alternate.
    assert placed == ["b", "a", "a", "b"]
    first = await make_meeting()
    node = await media_nodes.place(first)
    assert (await media_nodes.place(first)).id == node.id == await media_nodes.node_of(first)
    [listed_a, listed_b] = await media_nodes.nodes(None)
    assert (listed_a.rooms, listed_b.rooms) == (3, 2) or (listed_a.rooms, listed_b.rooms) == (2, 3)
    assert first in [m.meeting_id for m in (listed_a if node.id == a.id else listed_b).meetings]
    assert b.id != a.id


async def test_a_full_deployment_says_so(media_nodes: MediaNodes, make_meeting: MakeMeeting) -> None:
    with pytest.raises(NoMediaNode) as caught:
        await media_nodes.place(await make_meeting())
    assert caught.value.code == "no_media_node"
    await media_nodes.register(registration("tiny", max_rooms=1))
    await media_nodes.place(await make_meeting())
    with pytest.raises(NoMediaNode):
        await media_nodes.place(await make_meeting())


async def test_draining_takes_no_new_meeting_but_keeps_the_running_ones(
        media_nodes: MediaNodes, make_meeting: MakeMeeting) -> None:
    a = await media_nodes.register(registration("a"))
    running = await make_meeting()
    await media_nodes.place(running)
    drained = await media_nodes.drain(None, a.id)
    assert drained.state is NodeState.DRAINING and drained.availability == "draining"
    assert (await media_nodes.place(running)).id == a.id
    with pytest.raises(NoMediaNode):
        await media_nodes.place(await make_meeting())
    b = await media_nodes.register(registration("b"))
    assert (await media_nodes.place(await make_meeting())).id == b.id
    assert (await media_nodes.undrain(None, a.id)).state is NodeState.ACTIVE
    assert (await media_nodes.register(registration("a"))).state is NodeState.ACTIVE


async def test_a_node_hosting_meetings_is_removed_only_by_force(
        media_nodes: MediaNodes, make_meeting: MakeMeeting, server: Server) -> None:
    a = await media_nodes.register(registration("a"))
    meeting = await make_meeting()
    await media_nodes.place(meeting)
    with pytest.raises(Conflict) as caught:
        await media_nodes.remove(None, a.id)
    assert caught.value.code == "node_busy"
    removed = await media_nodes.remove(None, a.id, force=True)
    assert removed.state is NodeState.REMOVED
    assert await media_nodes.nodes(None) == []
    assert [n.name for n in await media_nodes.nodes(None, include_removed=True)] == ["a"]
    with pytest.raises(Conflict):
        await media_nodes.drain(None, a.id)
    b = await media_nodes.register(registration("b"))
    assert (await media_nodes.place(meeting)).id == b.id  # its node is gone: placed again
    async with server.db.session() as s:
        row = await s.get(Meeting, meeting)
        assert row is not None
        row.status = MeetingStatus.ENDED
    with pytest.raises(NotFound):
        await media_nodes.place(meeting)
    assert (await media_nodes.remove(None, b.id)).state is NodeState.REMOVED  # ended meetings do not count
    assert (await media_nodes.register(registration("a"))).state is NodeState.ACTIVE


async def test_a_node_that_stops_cleanly_is_offline_until_it_registers_again(
        media_nodes: MediaNodes, make_meeting: MakeMeeting) -> None:
    a = await media_nodes.register(registration("a"))
    await media_nodes.heartbeat(a.id, LoadReport(rooms=4, participants=30))
    await media_nodes.depart(a.id)
    node = await media_nodes.get(None, a.id)
    assert node.last_seen is None and node.availability == "stale" and node.participants == 0
    with pytest.raises(NoMediaNode):
        await media_nodes.place(await make_meeting())
    await media_nodes.register(registration("a"))
    await media_nodes.place(await make_meeting())


async def test_a_lost_node_hands_its_meetings_to_the_others(
        media_nodes: MediaNodes, make_meeting: MakeMeeting, fake_nodes: FakeNodes, clock: FakeClock) -> None:
    a = await media_nodes.register(registration("a"))
    on_a = [await make_meeting() for _ in range(3)]
    for meeting in on_a:
        assert (await media_nodes.place(meeting)).id == a.id
    b = await media_nodes.register(registration("b"))
    c = await media_nodes.register(registration("c"))
    await media_nodes.sync_pool()
    reports: list[tuple[int, list[int]]] = []

    async def lost(node_id: int, meetings: list[int]) -> None:
        for meeting in meetings:
            await media_nodes.move(meeting, away_from=node_id)
        reports.append((node_id, meetings))

    media_nodes.on_node_lost(lost)
    fake_nodes["a"].kill()
    for _ in range(400):
        if reports:
            break
        for node in (a, b, c):  # the live nodes keep heartbeating; a's process is gone
            if node is not a:
                await media_nodes.heartbeat(node.id, LoadReport())
        await clock.run_for(0.1)
    assert reports == [(a.id, on_a)]
    moved = [node_id for m in on_a if (node_id := await media_nodes.node_of(m)) is not None]
    assert sorted(moved) == sorted([b.id, c.id, b.id]) or sorted(moved) == sorted([b.id, c.id, c.id])
    assert await media_nodes.meetings_on(a.id) == []
    again = await media_nodes.move(on_a[0], away_from=a.id)  # another process's report: a no-op
    assert again.id == moved[0]
    assert (await media_nodes.place(await make_meeting())).id in (b.id, c.id)


async def test_service_for_reaches_a_node_registered_by_another_process(
        media_nodes: MediaNodes, fake_nodes: FakeNodes, make_meeting: MakeMeeting) -> None:
    a = await media_nodes.register(registration("a"))
    service = await media_nodes.service_for(a.id)
    assert service.ready and fake_nodes["a"].sessions
    meeting = await make_meeting()
    node, hosting = await media_nodes.service_for_meeting(meeting)
    assert node.id == a.id and hosting is service and await media_nodes.node_of(meeting) == a.id
    with pytest.raises(NoMediaNode):
        await media_nodes.service_for(999)
    await media_nodes.drain(None, a.id)
    await media_nodes.sync_pool()
    assert (await media_nodes.service_for(a.id)) is service  # draining nodes stay connected
    await media_nodes.remove(None, a.id, force=True)
    await media_nodes.sync_pool()
    assert not service.ready


async def test_web_processes_vouch_for_nodes_no_media_node_process_heartbeats(
        media_nodes: MediaNodes, fake_nodes: FakeNodes, clock: FakeClock) -> None:
    external = await media_nodes.register(registration("external", supervised=False))
    supervised = await media_nodes.register(registration("supervised"))
    await media_nodes.keep_alive()
    service = await media_nodes.service_for(external.id)
    await service.open_rooms(RoomSpec(room_id=77, text_room_id=78))
    clock.advance(40)
    await media_nodes.keep_alive()
    assert (await media_nodes.get(None, external.id)).availability == "ok"
    assert (await media_nodes.get(None, external.id)).rooms == 1
    assert (await media_nodes.get(None, supervised.id)).availability == "stale"
    assert CREDS.admin_key not in repr(await media_nodes.get(None, external.id))


def test_errors_are_client_errors_with_codes() -> None:
    assert issubclass(NoMediaNode, ClientError) and NoMediaNode.code == "no_media_node"
