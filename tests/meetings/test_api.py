"""The meeting API end to end against the in-memory Janus: opening, the lobby and waiting
room, tokens Janus itself checks, moderation, the speaker queue with timed turns, speaking
time from Janus talking events, recording consent, chat, ending, and recovery after a
Janus restart."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from parley.handlers.meetings.room import feed_for
from parley.handlers.meetings.rooms import MONITOR_SCAN_S
from parley.media.janus.recording import write_mjr
from parley.server import Server
from parley.storage.meeting_models import MeetingRecording
from parley.storage.models import User
from parley.storage.stores import transcript_translations
from tests.fakes.clock import FakeClock
from tests.fakes.janus import PluginFailure
from tests.meetings.fakes import MeetingJanus
from tests.meetings.scenario import Setup
from tests.meetings.test_recording import rtp

pytestmark = pytest.mark.integration

AsUser = Callable[[User], Awaitable[httpx.AsyncClient]]


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait (bounded) for background work (Janus events, tasks) to show its effect."""
    async with asyncio.timeout(10):
        while not await check():  # noqa: ASYNC110 - polls the database, nothing to wait on
            await asyncio.sleep(0.01)


def api(dialogue_id: int, path: str = "") -> str:
    return f"/api/v1/meetings/{dialogue_id}{path}"


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def person(state: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in state["participants"] + state["waiting"] if p["display_name"] == name)


class Meeting:
    """A started meeting with the facilitator's and participants' clients."""

    def __init__(self, setup: Setup, host: httpx.AsyncClient, clients: dict[str, httpx.AsyncClient]) -> None:
        self.setup = setup
        self.id = setup.dialogue.id
        self.host = host
        self.c = clients

    async def state(self, who: str = "host") -> dict[str, Any]:
        client = self.host if who == "host" else self.c[who]
        return await ok(await client.get(api(self.id)))  # type: ignore[no-any-return]

    async def join(self, who: str, **body: Any) -> dict[str, Any]:
        return await ok(await self.c[who].post(api(self.id, "/join"), json={"mode": "audio", **body}))  # type: ignore[no-any-return]

    async def admit(self, name: str) -> dict[str, Any]:
        pid = person(await self.state(), name)["id"]
        return await ok(await self.host.post(api(self.id, f"/participants/{pid}/admit")))  # type: ignore[no-any-return]

    async def connect(self, who: str) -> dict[str, Any]:
        return await ok(await self.c[who].post(api(self.id, "/me/connect")))  # type: ignore[no-any-return]


@pytest.fixture
async def meeting(make_setup: Callable[..., Awaitable[Setup]], as_user: AsUser) -> Meeting:
    setup = await make_setup()
    p = setup.people
    host = await as_user(p.facilitator)
    clients = {"amina": await as_user(p.amina), "bruno": await as_user(p.bruno), "chen": await as_user(p.chen),
               "ines": await as_user(p.interpreter), "otto": await as_user(p.outsider)}
    await ok(await host.post(api(setup.dialogue.id, "/start")))
    await ok(await host.post(api(setup.dialogue.id, "/join"), json={"mode": "video", "consent": True}))
    return Meeting(setup, host, clients)


async def test_starting_the_meeting_makes_the_dialogue_live_and_creates_locked_down_rooms(
    server: Server, meeting: Meeting, janus: MeetingJanus
) -> None:
    state = await meeting.state()
    dialogue = await server.dialogues.get(meeting.setup.people.facilitator, meeting.id)

    assert dialogue.state.value == "live"
    assert state["status"] == "open" and state["is_host"] is True
    assert person(state, "Fatou Facilitator")["status"] == "admitted"
    [room] = janus.videoroom.rooms.values()
    [created] = janus.videoroom.created
    assert created["is_private"] is True and created["lock_record"] is True and created["audiolevel_event"] is True
    assert room.secret is not None and room.allowed == {server.janus.monitor_token}  # type: ignore[union-attr]
    assert len(janus.textroom.rooms) == 1
    # Parley's silent monitor sits in the room to hear talking events.
    assert list(room.participants) and all(feed < 2**20 for feed in room.participants)


async def test_only_registered_people_and_staff_may_enter(meeting: Meeting, client: httpx.AsyncClient) -> None:
    refused = await meeting.c["otto"].post(api(meeting.id, "/join"), json={"mode": "audio"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "not_registered")
    assert (await client.get(api(meeting.id))).status_code == 401

    state = await meeting.join("ines", language="fr")
    assert state["you"]["status"] == "admitted" and state["you"]["role"] == "staff"


async def test_an_interpreter_is_shown_to_everyone_in_the_language_they_interpret_into(meeting: Meeting) -> None:
    await meeting.join("ines", language="en")  # whatever the lobby sent
    await meeting.join("amina")
    await meeting.admit("Amina Diallo")
    ines = person(await meeting.state("amina"), "Ines Interpreter")
    assert (ines["role"], ines["language"]) == ("staff", "fr")  # the room marks her "Interpreter (French)"


async def test_waiting_room_admission_then_janus_credentials(meeting: Meeting, janus: MeetingJanus) -> None:
    waiting = await meeting.join("amina", mode="video")
    assert waiting["you"]["status"] == "waiting"
    # Someone waiting sees neither the waiting room nor who is inside.
    assert waiting["waiting"] == [] and waiting["participants"] == []
    refused = await meeting.c["amina"].post(api(meeting.id, "/me/connect"))
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "not_admitted")
    assert person(await meeting.state(), "Amina Diallo")["status"] == "waiting"

    await meeting.admit("Amina Diallo")
    info = await meeting.connect("amina")

    assert info["server"] == f"/ws/janus?dialogue={meeting.id}" and info["ice_servers"] == []
    assert info["feed_id"] >> 20 == info["participant_id"]
    # Browsers use the VideoRoom only; captions and chat come through Parley's own socket.
    assert janus.tokens is not None and janus.tokens[info["token"]] == {"janus.plugin.videoroom"}
    room = janus.videoroom.rooms[info["room_id"]]
    assert room.pin == info["pin"] and len(info["pin"]) >= 20
    assert room.allowed is not None and info["token"] in room.allowed
    janus.join(info["room_id"], info["token"], info["feed_id"], pin=info["pin"])  # Janus lets the token holder in
    again = await meeting.connect("amina")
    assert again["token"] == info["token"] and again["feed_id"] != info["feed_id"]
    assert info["feed_id"] not in room.participants  # the old connection was kicked


async def test_janus_refuses_unknown_tokens_and_tokens_of_other_rooms(meeting: Meeting, janus: MeetingJanus) -> None:
    await meeting.join("amina")
    await meeting.admit("Amina Diallo")
    info = await meeting.connect("amina")
    with pytest.raises(PluginFailure) as unknown:
        janus.join(info["room_id"], "made-up-token", 1 << 40, pin=info["pin"])
    assert unknown.value.code == 403
    assert janus.tokens is not None
    janus.tokens["someone-else"] = {"janus.plugin.videoroom"}  # valid in Janus, not admitted here
    with pytest.raises(PluginFailure) as other:
        janus.join(info["room_id"], "someone-else", 1 << 41, pin=info["pin"])
    assert other.value.code == 433
    # A valid token without the room's pin opens nothing, not even as a subscriber.
    with pytest.raises(PluginFailure) as no_pin:
        janus.join(info["room_id"], info["token"], 1 << 42, publisher=False)
    assert no_pin.value.code == 433


async def test_removing_someone_gives_the_room_a_new_pin(meeting: Meeting, janus: MeetingJanus) -> None:
    for name, display in (("amina", "Amina Diallo"), ("bruno", "Bruno Silva")):
        await meeting.join(name)
        await meeting.admit(display)
    amina, bruno = await meeting.connect("amina"), await meeting.connect("bruno")
    assert amina["pin"] == bruno["pin"]

    await ok(await meeting.host.post(api(meeting.id, f"/participants/{amina['participant_id']}/remove")))

    room = janus.videoroom.rooms[amina["room_id"]]
    assert room.pin is not None and room.pin != amina["pin"]
    assert janus.tokens is not None
    janus.tokens["still-valid-elsewhere"] = {"janus.plugin.videoroom"}  # e.g. her token in another meeting
    with pytest.raises(PluginFailure) as refused:
        janus.join(amina["room_id"], "still-valid-elsewhere", 1 << 43, pin=amina["pin"], publisher=False)
    assert refused.value.code == 433
    again = await meeting.connect("bruno")  # the people still inside get the new pin when they connect
    assert again["pin"] == room.pin
    janus.join(again["room_id"], again["token"], again["feed_id"], pin=again["pin"])


async def test_locked_meeting_refuses_newcomers_but_not_returning_people(meeting: Meeting) -> None:
    await meeting.join("amina")
    await meeting.admit("Amina Diallo")
    await ok(await meeting.c["amina"].post(api(meeting.id, "/me/leave")))
    await ok(await meeting.host.post(api(meeting.id, "/lock"), json={"locked": True}))

    refused = await meeting.c["bruno"].post(api(meeting.id, "/join"), json={"mode": "audio"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "meeting_locked")
    back = await meeting.join("amina")
    assert back["you"]["status"] == "admitted" and back["locked"] is True
    not_host = await meeting.c["amina"].post(api(meeting.id, "/lock"), json={"locked": False})
    assert (not_host.status_code, not_host.json()["error"]["code"]) == (403, "not_host")


async def test_removal_kicks_the_feed_and_janus_forgets_the_token(meeting: Meeting, janus: MeetingJanus) -> None:
    await meeting.join("amina")
    await meeting.admit("Amina Diallo")
    info = await meeting.connect("amina")
    janus.join(info["room_id"], info["token"], info["feed_id"], pin=info["pin"])

    state = await ok(await meeting.host.post(api(meeting.id, f"/participants/{info['participant_id']}/remove")))

    assert all(p["display_name"] != "Amina Diallo" for p in state["participants"])
    assert janus.tokens is not None and info["token"] not in janus.tokens
    room = janus.videoroom.rooms[info["room_id"]]
    assert info["feed_id"] not in room.participants
    assert room.allowed is not None and info["token"] not in room.allowed
    mine = await meeting.state("amina")
    assert mine["you"]["status"] == "removed" and mine["participants"] == []
    refused = await meeting.c["amina"].post(api(meeting.id, "/join"), json={"mode": "audio"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "not_admitted")


async def test_host_mute_blocks_the_audio_stream_in_janus(meeting: Meeting, janus: MeetingJanus) -> None:
    await meeting.join("amina")
    await meeting.admit("Amina Diallo")
    info = await meeting.connect("amina")
    janus.join(info["room_id"], info["token"], info["feed_id"], pin=info["pin"])
    pid = info["participant_id"]

    state = await ok(await meeting.host.post(api(meeting.id, f"/participants/{pid}/mute"), json={"muted": True}))
    assert person(state, "Amina Diallo")["force_muted"] is True
    assert (info["feed_id"], "0") in janus.videoroom.rooms[info["room_id"]].muted

    await ok(await meeting.host.post(api(meeting.id, f"/participants/{pid}/mute"), json={"muted": False}))
    assert (info["feed_id"], "0") not in janus.videoroom.rooms[info["room_id"]].muted


async def test_speaker_queue_and_timed_turns(meeting: Meeting, server: Server, clock: FakeClock) -> None:
    for who, name in (("amina", "Amina Diallo"), ("bruno", "Bruno Silva")):
        await meeting.join(who)
        await meeting.admit(name)
    await ok(await meeting.c["bruno"].post(api(meeting.id, "/me/hand"), json={"raised": True}))
    clock.advance(1)
    await ok(await meeting.c["amina"].post(api(meeting.id, "/me/hand"), json={"raised": True}))
    state = await ok(await meeting.host.post(api(meeting.id, "/floor"), json={"action": "length", "seconds": 90}))
    bruno, amina = person(state, "Bruno Silva")["id"], person(state, "Amina Diallo")["id"]
    assert state["queue"] == [bruno, amina] and state["turn_seconds"] == 90

    state = await ok(await meeting.host.post(api(meeting.id, "/floor"), json={"action": "next"}))
    assert state["turn"]["participant_id"] == bruno and state["queue"] == [amina]
    assert state["turn"]["ends_at"] == "2026-06-01T12:01:31Z"

    clock.advance(89)
    await server.meetings.ticker.tick()
    assert (await meeting.state())["turn"]["participant_id"] == bruno
    clock.advance(1)
    await server.meetings.ticker.tick()
    # Time is up: the floor passes to the next raised hand (tests/meetings/test_turns.py has more).
    state = await meeting.state()
    assert state["turn"]["participant_id"] == amina and state["queue"] == []

    state = await ok(await meeting.host.post(api(meeting.id, "/floor"), json={"action": "end"}))
    assert state["turn"] is None
    bad = await meeting.host.post(api(meeting.id, "/floor"), json={"action": "length", "seconds": 3})
    assert bad.status_code == 422


async def test_talking_events_from_janus_become_speaking_time(
    meeting: Meeting, server: Server, janus: MeetingJanus, clock: FakeClock
) -> None:
    await meeting.join("amina")
    await meeting.admit("Amina Diallo")
    info = await meeting.connect("amina")
    assert server.janus is not None
    monitor = server.janus.monitor_handle(info["room_id"])
    assert monitor is not None

    def talk(kind: str) -> None:
        janus.push_event(monitor.session.id, monitor.id, {"videoroom": kind, "room": info["room_id"],
                                                          "id": info["feed_id"]}, kind="event")

    talk("talking")

    async def talking() -> bool:
        return bool(person(await meeting.state(), "Amina Diallo")["talking"])

    await eventually(talking, "talking shows")
    clock.advance(12)
    talk("stopped-talking")

    async def stopped() -> bool:
        return not await talking()

    await eventually(stopped, "talking stops")
    summary = await ok(await meeting.host.get(api(meeting.id, "/summary")))
    seconds = {s["display_name"]: s["seconds"] for s in summary["speakers"]}
    assert seconds == {"Fatou Facilitator": 0.0, "Amina Diallo": 12.0}
    assert summary["speakers"][0]["display_name"] == "Fatou Facilitator"  # quietest first
    hidden = await meeting.c["amina"].get(api(meeting.id, "/summary"))
    assert hidden.status_code == 403


async def test_lost_connection_shows_reconnecting_then_back(
    meeting: Meeting, server: Server, janus: MeetingJanus
) -> None:
    await meeting.join("amina")
    await meeting.admit("Amina Diallo")
    info = await meeting.connect("amina")
    await ok(await meeting.c["amina"].post(api(meeting.id, "/me/status"), json={"presence": "online"}))
    assert server.janus is not None
    monitor = server.janus.monitor_handle(info["room_id"])
    assert monitor is not None
    janus.push_event(monitor.session.id, monitor.id, {"videoroom": "event", "room": info["room_id"],
                                                      "leaving": info["feed_id"]})

    async def presence(value: str) -> bool:
        return bool(person(await meeting.state(), "Amina Diallo")["presence"] == value)

    await eventually(lambda: presence("reconnecting"), "reconnecting")
    again = await meeting.connect("amina")
    janus.push_event(monitor.session.id, monitor.id, {"videoroom": "event", "room": info["room_id"], "publishers": [
        {"id": again["feed_id"], "display": "x", "streams": [{"type": "audio", "mid": "0"}]}]})
    await eventually(lambda: presence("online"), "back online")


async def test_recording_consent_is_off_until_given_in_the_meeting(meeting: Meeting) -> None:
    # Amina agreed to a written transcript when she registered: that is not consent to a recording.
    lobby = await meeting.c["amina"].get(f"/dialogues/{meeting.id}/meeting")
    assert lobby.status_code == 200
    assert '<input type="checkbox" id="consent" >' in lobby.text
    state = await meeting.join("amina")
    assert state["you"]["consent"] is False
    await meeting.admit("Amina Diallo")
    host_view = await meeting.state()
    assert host_view["can_record"] is False and host_view["blockers"] == [person(host_view, "Amina Diallo")["id"]]
    refused = await meeting.host.post(api(meeting.id, "/recording"), json={"on": True})
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "consent_missing")

    agreed = await ok(await meeting.c["amina"].post(api(meeting.id, "/me/consent"), json={"consent": True}))
    assert agreed["you"]["consent"] is True and agreed["can_record"] is True
    # Back on the page (a reload), the lobby shows the agreement given in this meeting.
    assert '<input type="checkbox" id="consent" checked>' in (
        await meeting.c["amina"].get(f"/dialogues/{meeting.id}/meeting")).text


async def test_recording_waits_for_everyone_present_staff_and_listeners_included(
    meeting: Meeting, server: Server, janus: MeetingJanus
) -> None:
    for who, name in (("amina", "Amina Diallo"), ("bruno", "Bruno Silva")):
        await meeting.join(who, consent=True)
        await meeting.admit(name)
    await meeting.join("chen", mode="listen")
    await meeting.admit("Chen Wei")
    await meeting.join("ines", language="fr")  # the interpreter goes straight in
    state = await meeting.state()
    chen, ines = person(state, "Chen Wei")["id"], person(state, "Ines Interpreter")["id"]
    assert state["can_record"] is False and sorted(state["blockers"]) == sorted([chen, ines])
    # Participants see that the recording waits, not who it waits for.
    amina_view = await meeting.state("amina")
    assert amina_view["can_record"] is False and amina_view["blockers"] == []
    assert all(p["consent"] is None for p in amina_view["participants"] if p["display_name"] != "Amina Diallo")
    refused = await meeting.host.post(api(meeting.id, "/recording"), json={"on": True})
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "consent_missing")
    assert refused.json()["error"]["fields"]["blockers"] in (f"{chen},{ines}", f"{ines},{chen}")

    for who in ("chen", "ines"):
        await ok(await meeting.c[who].post(api(meeting.id, "/me/consent"), json={"consent": True}))
    state = await ok(await meeting.host.post(api(meeting.id, "/recording"), json={"on": True}))
    room_id = next(iter(janus.videoroom.rooms))
    assert state["recording"] == {"id": state["recording"]["id"], "paused": False}
    assert janus.videoroom.recording[room_id] is True
    assert janus.videoroom.rec_dirs[room_id].startswith(str(server.config.data_path / "recordings" / str(meeting.id)))
    assert (await meeting.state("amina"))["recording"] is not None  # everyone sees the indicator


async def test_the_host_s_own_consent_is_explicit_too(meeting: Meeting) -> None:
    await ok(await meeting.host.post(api(meeting.id, "/me/consent"), json={"consent": False}))
    refused = await meeting.host.post(api(meeting.id, "/recording"), json={"on": True})
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "consent_missing")
    assert (await meeting.state())["you"]["consent"] is False  # starting is not taken as agreeing


async def recording_meeting(meeting: Meeting, janus: MeetingJanus) -> tuple[int, dict[str, Any]]:
    """Amina and Bruno in, everyone agreed, recording: (Janus room id, state)."""
    for who, name in (("amina", "Amina Diallo"), ("bruno", "Bruno Silva")):
        await meeting.join(who, consent=True)
        await meeting.admit(name)
    state = await ok(await meeting.host.post(api(meeting.id, "/recording"), json={"on": True}))
    room_id = next(iter(janus.videoroom.rooms))
    assert janus.videoroom.recording[room_id] is True
    return room_id, state


async def test_withdrawing_consent_stops_the_recording_at_once(meeting: Meeting, janus: MeetingJanus) -> None:
    room_id, _ = await recording_meeting(meeting, janus)

    state = await ok(await meeting.c["bruno"].post(api(meeting.id, "/me/consent"), json={"consent": False}))

    assert state["recording"] is None and janus.videoroom.recording[room_id] is False

    async def finished() -> bool:
        listed = await ok(await meeting.host.get(api(meeting.id, "/recordings")))
        return bool(listed["recordings"][0]["status"] in ("ready", "failed"))

    await eventually(finished, "recording converted")
    [recording] = (await ok(await meeting.host.get(api(meeting.id, "/recordings"))))["recordings"]
    assert recording["status"] == "ready" and recording["files"] == []
    # Agreeing again does not restart it: a new recording needs the host to start it.
    await ok(await meeting.c["bruno"].post(api(meeting.id, "/me/consent"), json={"consent": True}))
    assert (await meeting.state())["recording"] is None and janus.videoroom.recording[room_id] is False
    not_host = await meeting.c["amina"].get(api(meeting.id, "/recordings"))
    assert not_host.status_code == 403
    await ok(await meeting.host.delete(api(meeting.id, f"/recordings/{recording['id']}")), 204)
    assert (await ok(await meeting.host.get(api(meeting.id, "/recordings"))))["recordings"] == []


async def test_a_newcomer_pauses_the_recording_until_they_agree_or_leave(
    meeting: Meeting, janus: MeetingJanus
) -> None:
    room_id, started = await recording_meeting(meeting, janus)
    rid, rec_dir = started["recording"]["id"], janus.videoroom.rec_dirs[room_id]

    # Chen comes in without agreeing: Janus stops writing, the recording waits for him.
    await meeting.join("chen")
    assert janus.videoroom.recording[room_id] is True  # still in the waiting room: not present
    await meeting.admit("Chen Wei")
    state = await meeting.state()
    assert state["recording"] == {"id": rid, "paused": True} and janus.videoroom.recording[room_id] is False
    assert state["blockers"] == [person(state, "Chen Wei")["id"]]
    assert (await meeting.state("amina"))["recording"] == {"id": rid, "paused": True}

    await ok(await meeting.c["chen"].post(api(meeting.id, "/me/consent"), json={"consent": True}))
    assert (await meeting.state())["recording"] == {"id": rid, "paused": False}
    assert janus.videoroom.recording[room_id] is True and janus.videoroom.rec_dirs[room_id] == rec_dir

    # The interpreter joins later (straight in, without agreeing): paused until she leaves.
    await meeting.join("ines", language="fr")
    assert (await meeting.state())["recording"]["paused"] is True and janus.videoroom.recording[room_id] is False
    await ok(await meeting.c["ines"].post(api(meeting.id, "/me/leave")))
    assert (await meeting.state())["recording"] == {"id": rid, "paused": False}
    assert janus.videoroom.recording[room_id] is True

    await ok(await meeting.host.post(api(meeting.id, "/recording"), json={"on": False}))
    listed = await ok(await meeting.host.get(api(meeting.id, "/recordings")))
    assert [r["id"] for r in listed["recordings"]] == [rid]  # one recording, paused twice


async def test_recordings_are_named_after_people_with_the_meeting_mixed(
    meeting: Meeting, janus: MeetingJanus, server: Server
) -> None:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    await meeting.join("amina", consent=True, display_name="أمينة ديالو")
    await meeting.admit("أمينة ديالو")
    await meeting.join("bruno", consent=True)
    await meeting.admit("Bruno Silva")
    started = await ok(await meeting.host.post(api(meeting.id, "/recording"), json={"on": True}))
    room_id = next(iter(janus.videoroom.rooms))
    folder = Path(janus.videoroom.rec_dirs[room_id])
    state = await meeting.state()
    start_us = int(datetime.fromisoformat(
        (await ok(await meeting.host.get(api(meeting.id, "/recordings"))))["recordings"][0]["started_at"]
    ).timestamp() * 1_000_000)
    # What Janus writes: Amina from the start, Bruno from 1 s in (silence frames: the files'
    # names and the mix are under test here; tests/media checks real voices).
    for name, at_us in (("أمينة ديالو", 0), ("Bruno Silva", 1_000_000)):
        feed = feed_for(person(state, name)["id"])
        write_mjr(folder / f"videoroom-{room_id}-user-{feed}-1-audio-0.mjr",
                  [rtp(i, i * 960) for i in range(50)], first_us=start_us + at_us)
    await ok(await meeting.host.post(api(meeting.id, "/recording"), json={"on": False}))

    async def finished() -> bool:
        listed = await ok(await meeting.host.get(api(meeting.id, "/recordings")))
        return bool(listed["recordings"][0]["status"] in ("ready", "failed"))

    await eventually(finished, "recording converted")
    [recording] = (await ok(await meeting.host.get(api(meeting.id, "/recordings"))))["recordings"]
    assert recording["id"] == started["recording"]["id"] and recording["status"] == "ready"
    files = recording["files"]
    assert [(f["kind"], f["file"], f["display_name"]) for f in files] == [
        ("mix", "00-meeting.opus", ""),
        ("speaker", "01-speaker.opus", "أمينة ديالو"),
        ("speaker", "02-bruno-silva.opus", "Bruno Silva"),
    ]
    assert [f["starts_at"] for f in files] == [0.0, 0.0, 1.0]
    assert files[0]["seconds"] == pytest.approx(2.0, abs=0.05)  # Bruno's 1 s from 1 s in

    def download(name: str) -> Awaitable[httpx.Response]:
        return meeting.host.get(api(meeting.id, f"/recordings/{recording['id']}/files/{name}"))

    amina = await download("01-speaker.opus")
    assert amina.status_code == 200 and amina.headers["content-type"] == "audio/ogg"
    assert amina.headers["content-disposition"] == (
        "attachment; filename=\"01-speaker.opus\"; filename*=UTF-8''" + quote("01 أمينة ديالو.opus"))
    assert amina.content == (folder / "01-speaker.opus").read_bytes()
    mix = await download("00-meeting.opus")
    assert mix.headers["content-disposition"] == 'attachment; filename="00-meeting.opus"'
    assert mix.content[:4] == b"OggS"
    assert (await download("03-nobody.opus")).status_code == 404
    assert (await download("..%2Fsecret.opus")).status_code in (404, 422)
    assert (await meeting.c["amina"].get(api(meeting.id, f"/recordings/{recording['id']}/files/00-meeting.opus"))
            ).status_code == 403

    # A recording made before files were named after people still lists and downloads.
    async with server.db.session() as s:
        rec = await s.get(MeetingRecording, recording["id"])
        assert rec is not None
        rec.files = [{"participant_id": 3, "display_name": "Bruno Silva", "file": "speaker-3.opus",
                      "bytes": 4, "seconds": 1.0}]
    (folder / "speaker-3.opus").write_bytes(b"OggS")
    [old] = (await ok(await meeting.host.get(api(meeting.id, "/recordings"))))["recordings"]
    assert old["files"][0]["file"] == "speaker-3.opus" and old["files"][0]["kind"] == "speaker"
    response = await download("speaker-3.opus")
    assert (response.status_code, response.content) == (200, b"OggS")
    assert response.headers["content-disposition"] == 'attachment; filename="speaker-3.opus"'


async def test_meeting_chat_is_for_people_inside(meeting: Meeting) -> None:
    await meeting.join("amina")
    waiting = await meeting.c["amina"].post(api(meeting.id, "/chat"), json={"body": "hello"})
    assert (waiting.status_code, waiting.json()["error"]["code"]) == (403, "not_admitted")
    await meeting.admit("Amina Diallo")
    sent = await ok(await meeting.c["amina"].post(api(meeting.id, "/chat"), json={"body": "  Bonjour à tous  "}),
                    201)
    assert sent["body"] == "Bonjour à tous" and sent["author_name"] == "Amina Diallo"
    empty = await meeting.c["amina"].post(api(meeting.id, "/chat"), json={"body": "   "})
    assert empty.status_code == 422
    history = await ok(await meeting.host.get(api(meeting.id, "/chat")))
    assert [m["body"] for m in history["messages"]] == ["Bonjour à tous"]


async def test_ending_the_meeting_ends_the_dialogue_and_cleans_janus(
    meeting: Meeting, server: Server, janus: MeetingJanus
) -> None:
    await meeting.join("amina")
    await meeting.admit("Amina Diallo")
    info = await meeting.connect("amina")

    summary = await ok(await meeting.host.post(api(meeting.id, "/end")))

    assert {s["display_name"] for s in summary["speakers"]} == {"Fatou Facilitator", "Amina Diallo"}
    assert janus.videoroom.rooms == {} and janus.textroom.rooms == {}
    assert janus.tokens is not None and info["token"] not in janus.tokens
    dialogue = await server.dialogues.get(meeting.setup.people.facilitator, meeting.id)
    assert dialogue.state.value == "ended"
    assert (await meeting.state())["status"] == "ended"
    late = await meeting.c["bruno"].post(api(meeting.id, "/join"), json={"mode": "audio"})
    assert (late.status_code, late.json()["error"]["code"]) == (409, "meeting_ended")
    # Its transcript is queued for translation into the dialogue's languages, once the last lines land.
    async with server.db.session() as s:
        jobs = await transcript_translations.jobs_of(s, meeting.id)
    assert sorted(jobs) == ["en", "fr"]
    assert all(job.state == "pending" and job.not_before is not None for job in jobs.values())


async def test_ending_the_dialogue_elsewhere_ends_its_meeting(
    meeting: Meeting, server: Server, janus: MeetingJanus
) -> None:
    await ok(await meeting.host.post(f"/api/v1/dialogues/{meeting.id}/end"))

    async def ended() -> bool:
        return bool((await meeting.state())["status"] == "ended")

    await eventually(ended, "meeting ended")

    async def cleaned() -> bool:
        # The state is committed first; Janus is cleaned up right after it.
        return not janus.videoroom.rooms and not janus.textroom.rooms

    await eventually(cleaned, "janus rooms closed")


async def test_rooms_and_tokens_come_back_after_a_janus_restart(
    meeting: Meeting, server: Server, janus: MeetingJanus
) -> None:
    await meeting.join("amina")
    await meeting.admit("Amina Diallo")
    info = await meeting.connect("amina")
    assert server.janus is not None
    before = server.janus.recoveries

    janus.restart()

    async def recovered() -> bool:
        # The text room is created after the video room: wait for both, not only the first.
        return server.janus is not None and server.janus.recoveries > before and info["room_id"] in \
            janus.videoroom.rooms and len(janus.textroom.rooms) == 1

    await eventually(recovered, "rooms recreated")
    room = janus.videoroom.rooms[info["room_id"]]
    assert janus.tokens is not None and info["token"] in janus.tokens
    assert room.allowed is not None and info["token"] in room.allowed
    assert len(janus.textroom.rooms) == 1
    janus.join(info["room_id"], info["token"], info["feed_id"], pin=info["pin"])  # the browser can come back


async def test_browsers_are_told_of_a_janus_restart_even_when_the_room_watch_reopened_the_rooms_first(
    meeting: Meeting, server: Server, janus: MeetingJanus, clock: FakeClock
) -> None:
    """The node's room watch can find the restarted Janus without the rooms before the recovery
    runs, and recreate them: the browsers must still be told to reconnect."""
    await meeting.join("amina")
    await meeting.admit("Amina Diallo")
    first = await meeting.connect("amina")
    assert server.janus is not None

    async def the_watch_goes_first() -> None:
        async def reopened() -> bool:
            return first["room_id"] in janus.videoroom.rooms

        clock.advance(MONITOR_SCAN_S)
        await eventually(reopened, "the watch reopened the rooms")

    # Runs before the recovery's own callback, as the watch's scan can.
    server.janus._recovered_callbacks.insert(0, the_watch_goes_first)
    sub = await server.bus.subscribe([f"meeting:{meeting.id}"])
    try:
        janus.restart()
        async with asyncio.timeout(20):
            while True:
                _, event = await sub.get()
                if event.get("type") == "meeting.media_restarted":
                    break
    finally:
        await sub.close()
    again = await meeting.connect("amina")
    assert again["room_id"] == first["room_id"] and again["token"] in (janus.tokens or {})


async def test_the_page_renders_for_a_participant(meeting: Meeting) -> None:
    page = await meeting.c["amina"].get(f"/dialogues/{meeting.id}/meeting", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert 'id="meeting"' in page.text and "/static/build/meeting.js" in page.text
    assert 'id="staff-chat"' not in page.text and 'id="host-panel"' not in page.text
    host_page = await meeting.host.get(f"/dialogues/{meeting.id}/meeting", headers={"accept": "text/html"})
    assert 'id="host-panel"' in host_page.text and 'id="staff-chat"' in host_page.text  # the dialogue's channel
    refused = await meeting.c["otto"].get(f"/dialogues/{meeting.id}/meeting", headers={"accept": "text/html"})
    assert refused.status_code == 403


async def test_the_lobby_sets_the_facilitator_to_the_language_she_reads_the_page_in(meeting: Meeting) -> None:
    async def preselected(client: httpx.AsyncClient, page_language: str) -> str:
        page = await client.get(f"/dialogues/{meeting.id}/meeting",
                                headers={"accept": "text/html", "accept-language": page_language})
        found = re.search(r'<option value="([\w-]+)" selected>', page.text)
        assert found, "no language preselected in the lobby"
        return found.group(1)

    # The dialogue is in English and French: a French facilitator speaks (and reads captions in)
    # French, not the dialogue's first language; on an Arabic page, its first language.
    assert await preselected(meeting.host, "fr") == "fr"
    assert await preselected(meeting.host, "en") == "en"
    assert await preselected(meeting.host, "ar") == "en"
    # A participant keeps the language she registered in, whatever the page's.
    assert await preselected(meeting.c["amina"], "en") == "fr"


async def test_after_the_meeting_the_overview_link_says_whose_dialogues_it_lists(meeting: Meeting,
                                                                                 as_user: AsUser) -> None:
    def overview_link(page: httpx.Response) -> str:
        found = re.search(r'<a href="/organise" id="next-overview">([^<]*)</a>', page.text)
        assert found, "no overview among the next steps"
        return found.group(1)

    path = f"/dialogues/{meeting.id}/meeting"
    html = {"accept": "text/html"}
    # The facilitator and the interpreter see only their own dialogues there; the organiser all.
    assert overview_link(await meeting.host.get(path, headers=html)) == "Overview of my dialogues"
    assert overview_link(await meeting.c["ines"].get(path, headers=html)) == "Overview of my dialogues"
    organiser = await as_user(meeting.setup.people.organiser)
    assert overview_link(await organiser.get(path, headers=html)) == "Overview of all dialogues"
