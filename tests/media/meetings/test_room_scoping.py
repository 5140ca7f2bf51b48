"""Room scoping with a real Janus: a participant of one meeting cannot list, probe or listen to
another meeting's room, neither through Parley's /ws/janus proxy nor with their token straight
at Janus; and a participant the facilitator removes stops receiving at once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from parley.media.janus.admin import JanusAdmin
from parley.media.janus.client import JanusClient, JanusPluginError
from parley.server import Server
from parley.storage.models import User
from parley.web.auth import SESSION_COOKIE
from tests.media.meetings.bots import Bot, wait_for_audio
from tests.media.meetings.room import Room, api, ok
from tests.meetings.scenario import Setup, register

pytestmark = [pytest.mark.media, pytest.mark.slow]

AsUser = Callable[[User], Awaitable[httpx.AsyncClient]]


async def second_meeting(server: Server, setup: Setup, as_user: AsUser) -> tuple[Room, User]:
    """Another live dialogue with its own meeting, run by the same facilitator."""
    from datetime import timedelta

    from parley.handlers.dialogues import Action, DialogueInput

    people = setup.people
    starts = (server.clock.now() + timedelta(days=3)).strftime("%Y-%m-%dT16:00")
    view = await server.dialogues.create(people.organiser, DialogueInput(
        title="Water and schools", starts_at=starts, time_zone="Europe/Paris", languages=["en", "fr"],
        country="FR", capacity=12, facilitator_id=people.facilitator.id, interpreters=[],
    ))
    view = await server.dialogues.transition(people.organiser, view.id, Action.PUBLISH)
    dara = await register(server, view.id, "Dara Okafor", "dara@example.org", language="en")
    view = await server.dialogues.transition(people.facilitator, view.id, Action.START)
    other = await Room.start(server, Setup(view, people), as_user)
    return other, dara


def proxy_headers(server: Server, token: str) -> dict[str, str]:
    return {"Cookie": f"{SESSION_COOKIE}={token}"}


async def test_another_meetings_room_is_out_of_reach_and_removal_ends_listening(
    room: Room, setup: Setup, server: Server, as_user: AsUser, live_url: str,
    speech: Path, other_speech: Path,
) -> None:
    other, dara_user = await second_meeting(server, setup, as_user)
    dara = await other.bot(dara_user, "Dara Okafor")
    bruno = await room.bot(setup.people.bruno, "Bruno Silva")
    proxy_url = live_url.replace("http://", "ws://") + f"/ws/janus?dialogue={room.id}"
    chen_login = await server.accounts.start_session(setup.people.chen)
    chen: Bot | None = None
    try:
        await dara.join()
        await dara.publish(speech)
        await bruno.join()
        await bruno.publish(other_speech)
        secret_feed, secret_room = dara.info["feed_id"], dara.info["room_id"]

        # 1. Straight at Janus with Bruno's valid token: no pin of that room, no way in.
        async with JanusClient.over_websocket(room.janus_url, token=bruno.info["token"]) as direct:
            handle = await (await direct.create_session()).attach("janus.plugin.videoroom")
            for pin in (None, bruno.info["pin"]):
                body: dict[str, Any] = {"request": "join", "ptype": "subscriber", "room": secret_room,
                                        "streams": [{"feed": secret_feed}], "token": bruno.info["token"]}
                if pin is not None:
                    body["pin"] = pin
                with pytest.raises(JanusPluginError) as refused:
                    await handle.send(body)
                assert refused.value.code in (429, 433), refused.value  # missing / wrong pin

        # 2. Through Parley's proxy, bound to Bruno's meeting: refused before Janus sees it.
        bruno_login = await server.accounts.start_session(setup.people.bruno)
        async with connect(proxy_url, subprotocols=[Subprotocol("janus-protocol")],
                           additional_headers=proxy_headers(server, bruno_login.token)) as sock:
            await sock.send(json.dumps({"janus": "create", "transaction": "c", "token": bruno.info["token"]}))
            session_id = json.loads(await sock.recv())["data"]["id"]
            await sock.send(json.dumps({"janus": "attach", "session_id": session_id, "transaction": "a",
                                        "plugin": "janus.plugin.videoroom", "token": bruno.info["token"]}))
            handle_id = json.loads(await sock.recv())["data"]["id"]
            for tx, body in [
                ("sub", {"request": "join", "ptype": "subscriber", "room": secret_room, "pin": dara.info["pin"],
                         "streams": [{"feed": secret_feed}]}),
                ("list", {"request": "listparticipants", "room": secret_room}),
                ("exists", {"request": "exists", "room": secret_room}),
            ]:
                await sock.send(json.dumps({"janus": "message", "session_id": session_id, "handle_id": handle_id,
                                            "transaction": tx, "token": bruno.info["token"], "body": body}))
                reply = json.loads(await sock.recv())
                assert (reply["janus"], reply["transaction"], reply["error"]["code"]) == ("error", tx, 403)
            await sock.send(json.dumps({"janus": "info", "transaction": "i"}))
            assert json.loads(await sock.recv())["error"]["code"] == 403

        # 3. Chen listens to Bruno through the proxy, as a browser does; removed, she stops hearing.
        chen_client = await as_user(setup.people.chen)
        await ok(await chen_client.post(api(room.id, "/join"), json={"mode": "audio"}))
        await room.admit("Chen Wei")
        chen_info = await ok(await chen_client.post(api(room.id, "/me/connect")))
        chen = Bot(proxy_url, chen_info, name="Chen Wei", headers=proxy_headers(server, chen_login.token))
        await chen.join()
        heard = await chen.subscribe(bruno.info["feed_id"])
        await wait_for_audio(heard, 2)
        session_id = next(iter(chen.client.sessions))
        gone = asyncio.Event()
        chen.client.on_disconnect(gone.set)

        await ok(await room.host.post(api(room.id, f"/participants/{chen_info['participant_id']}/remove")))

        async with asyncio.timeout(15):
            await gone.wait()  # the proxy closed her socket
        assert server.janus is not None
        async with JanusAdmin(server.janus.process.generated.admin_url,  # type: ignore[union-attr]
                              server.janus.credentials.admin_secret) as admin:
            async with asyncio.timeout(15):
                while session_id in await admin.list_sessions():  # noqa: ASYNC110 - polling Janus's admin API
                    await asyncio.sleep(0.2)  # Janus destroys the sessions of a closed transport
        frames = heard.frames
        await asyncio.sleep(2)
        assert heard.frames - frames <= 5, "audio kept arriving after the removal"
    finally:
        for bot in (dara, bruno, chen):
            if bot is not None:
                await bot.close()
