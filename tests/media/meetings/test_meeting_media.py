"""Meetings with real media: Parley's supervised Janus, a Chromium participant with a fake
microphone playing speech, and aiortc bot participants, in one private network namespace.

Audio is checked by cross-correlating what arrives with what was sent (both directions),
not by timing. Skips without root/namespaces, janus, Chromium, espeak-ng or sox.
"""

from __future__ import annotations

import asyncio
import base64
import os
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from parley.media.janus.client import JanusClient, JanusError, JanusPluginError
from parley.media.janus.videoroom import VideoRoom
from parley.server import Server
from parley.storage.models import User
from parley.storage.stores import meetings as meeting_store
from tests.media.meetings.bots import RATE, Bot, best_correlation, hear_each_other, read_wav, rms, wait_for_audio
from tests.media.meetings.room import Room, api, ok
from tests.meetings.scenario import Setup

pytestmark = [pytest.mark.media, pytest.mark.slow]

AsUser = Callable[[User], Awaitable[httpx.AsyncClient]]
# Speech through Opus and back, compared at 8 kHz: the same words score 0.5-0.9, other audio < 0.2.
SAME_AUDIO = 0.45


async def wait_js(page: Any, function: str, arg: Any = None) -> Any:
    """Poll ``function`` in the page until it returns something truthy, at most 120 s (the
    page's CSP forbids the eval that Playwright's own wait_for_function needs; the bound is
    for a page that is stuck, generous for a busy machine)."""
    async with asyncio.timeout(120):
        while True:
            value = await page.evaluate(function, arg)
            if value:
                return value
            await asyncio.sleep(0.1)


async def finished_recording(room: Room) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The meeting's one recording once converted (at most 30 s), and its files by speaker name."""
    async with asyncio.timeout(30):
        while True:
            listed = await ok(await room.host.get(api(room.id, "/recordings")))
            if listed["recordings"][0]["status"] in ("ready", "failed"):
                break
            await asyncio.sleep(0.2)
    [recording] = listed["recordings"]
    assert recording["status"] == "ready", recording
    return recording, {f["display_name"]: f for f in recording["files"]}


async def browser_joins(room: Room, page: Any, live_url: str, *, mode: str = "audio") -> dict[str, Any]:
    """Amina goes through the lobby in Chromium; the facilitator lets her in; she publishes."""
    await page.goto(f"{live_url}/dialogues/{room.id}/meeting")
    await page.locator("#lobby").wait_for(state="visible")
    await page.check(f'input[name="mode"][value="{mode}"]')
    await page.locator("#device-status").filter(has_text="bar").wait_for()
    await page.click("#join-button")
    await page.locator("#waiting").wait_for(state="visible")
    await room.admit("Amina Diallo")
    await page.locator("#room").wait_for(state="visible")
    try:
        await wait_js(page, "() => window.parleyMeeting.published()")
    except TimeoutError:
        print("status line:", await page.text_content("#status-line"))
        print("state:", await page.evaluate("() => JSON.stringify(window.parleyMeeting.state())"))
        raise
    return await room.participant("Amina Diallo")


CAPTURE_JS = """async ([feed, seconds]) => {
  const entry = window.parleyMeeting.remoteStreams().find(r => r.feed === feed);
  if (!entry) return null;
  const ctx = new AudioContext({sampleRate: 48000});
  const source = ctx.createMediaStreamSource(entry.stream);
  const node = ctx.createScriptProcessor(4096, 1, 1);
  const chunks = [];
  node.onaudioprocess = e => chunks.push(new Float32Array(e.inputBuffer.getChannelData(0)));
  source.connect(node); node.connect(ctx.destination);
  await new Promise(r => setTimeout(r, seconds * 1000));
  node.disconnect(); source.disconnect(); await ctx.close();
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const all = new Float32Array(total); let at = 0;
  for (const c of chunks) { all.set(c, at); at += c.length; }
  const bytes = new Uint8Array(all.buffer); let bin = "";
  for (let i = 0; i < bytes.length; i += 8192) bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
  return btoa(bin);
}"""


async def browser_hears(page: Any, feed: int, seconds: float) -> np.ndarray[Any, np.dtype[np.float32]]:
    await wait_js(page, "(feed) => window.parleyMeeting.remoteStreams().some("
                        "r => r.feed === feed && r.stream.getAudioTracks().length > 0)", feed)
    encoded = await page.evaluate(CAPTURE_JS, [feed, seconds])
    assert encoded is not None
    return np.frombuffer(base64.b64decode(encoded), dtype=np.float32)


async def test_bots_hear_each_other_and_janus_refuses_strangers(
    room: Room, setup: Setup, other_speech: Path, speech: Path
) -> None:
    bruno = await room.bot(setup.people.bruno, "Bruno Silva")
    chen = await room.bot(setup.people.chen, "Chen Wei")
    try:
        heard_by_chen, heard_by_bruno = await hear_each_other(bruno, other_speech, chen, speech)

        assert best_correlation(read_wav(other_speech), heard_by_chen.audio(6)) > SAME_AUDIO
        assert best_correlation(read_wav(speech), heard_by_bruno.audio(6)) > SAME_AUDIO
        assert best_correlation(read_wav(speech), heard_by_chen.audio(6)) < 0.3  # not its own voice
    finally:
        await bruno.close()
        await chen.close()

    # No token, a made-up token: Janus refuses the session itself.
    for token in ("", "made-up-token"):
        async with JanusClient.over_websocket(room.janus_url, token=token) as stranger:
            with pytest.raises(JanusError) as refused:
                await stranger.create_session()
            assert refused.value.code == 403
    # A token Janus knows but that was never admitted to this meeting: without the room's pin
    # nothing opens; even with a leaked pin the room's allowed list refuses it as a publisher.
    assert room.server.janus is not None
    outsider_token = await room.server.janus.issue_token()
    async with JanusClient.over_websocket(room.janus_url, token=outsider_token) as outsider:
        handle = await (await outsider.create_session()).attach("janus.plugin.videoroom")
        join = {"request": "join", "ptype": "publisher", "room": bruno.info["room_id"], "token": outsider_token}
        with pytest.raises(JanusPluginError) as no_pin:
            await handle.send(join)
        assert no_pin.value.code == 429  # missing pin
        with pytest.raises(JanusPluginError) as not_allowed:
            await handle.send({**join, "pin": bruno.info["pin"]})
        assert not_allowed.value.code == 433


@pytest.mark.browser
async def test_browser_and_bot_hear_each_other_mute_and_removal(
    room: Room, setup: Setup, server: Server, chromium: Callable[..., Awaitable[Any]], live_url: str,
    speech: Path, other_speech: Path,
) -> None:
    page = await chromium(setup.people.amina, speech)
    amina = await browser_joins(room, page, live_url)
    bruno = await room.bot(setup.people.bruno, "Bruno Silva")
    try:
        joined = await bruno.join()
        assert amina["feed_id"] in [p["id"] for p in joined.get("publishers", [])]
        await bruno.publish(other_speech)
        from_browser = await bruno.subscribe(amina["feed_id"])
        await wait_for_audio(from_browser, 6)
        # Browser -> Janus -> bot: the bot decodes what Chromium's microphone played.
        assert best_correlation(read_wav(speech), from_browser.audio(6)) > SAME_AUDIO

        # Bot -> Janus -> browser: Chromium decodes the bot's speech.
        heard = await browser_hears(page, bruno.info["feed_id"], 6)
        assert len(heard) > 4 * RATE
        assert best_correlation(read_wav(other_speech), heard) > SAME_AUDIO

        # The facilitator mutes Amina: Janus stops forwarding her audio.
        await ok(await room.host.post(api(room.id, f"/participants/{amina['id']}/mute"), json={"muted": True}))
        await page.locator("#mute-btn[disabled]").wait_for()
        await asyncio.sleep(1.0)
        from_browser.clear()
        await asyncio.sleep(3.0)
        assert rms(from_browser.audio()) < 0.005
        await ok(await room.host.post(api(room.id, f"/participants/{amina['id']}/mute"), json={"muted": False}))
        await wait_for_audio(from_browser, 4)
        assert best_correlation(read_wav(speech), from_browser.audio(4)) > SAME_AUDIO

        # Removal: her page says so, Janus drops her feed and refuses her token from now on.
        async with server.db.session() as s:
            meeting = await meeting_store.meeting_for(s, room.id)
            assert meeting is not None
            token = next(p.janus_token for p in await meeting_store.participants(s, meeting.id)
                         if p.id == amina["id"])
        assert token is not None
        await ok(await room.host.post(api(room.id, f"/participants/{amina['id']}/remove")))
        await page.locator("#left").wait_for(state="visible")
        assert "removed" in (await page.text_content("#left-text") or "")
        assert server.janus is not None
        creds = server.janus.credentials
        async with JanusClient.over_websocket(room.janus_url, api_secret=creds.api_secret) as parley:
            videoroom = await VideoRoom.attach(await parley.create_session(), admin_key=creds.admin_key)
            async with asyncio.timeout(10):
                while amina["feed_id"] in [p.id for p in await videoroom.list_participants(bruno.info["room_id"])]:  # noqa: ASYNC110 - polls Janus
                    await asyncio.sleep(0.2)
        async with JanusClient.over_websocket(room.janus_url, token=token) as gone:
            with pytest.raises(JanusError) as refused:
                await gone.create_session()
            assert refused.value.code == 403
    finally:
        await bruno.close()


@pytest.mark.browser
async def test_a_janus_restart_is_recovered_and_media_flows_again(
    room: Room, setup: Setup, server: Server, chromium: Callable[..., Awaitable[Any]], live_url: str,
    speech: Path,
) -> None:
    page = await chromium(setup.people.amina, speech)
    before = await browser_joins(room, page, live_url)
    janus = server.janus
    assert janus is not None and janus.process is not None
    old_pid = janus.process.health.pid
    assert old_pid is not None
    recoveries = janus.recoveries

    os.kill(old_pid, signal.SIGKILL)

    async with asyncio.timeout(60):
        while janus.recoveries == recoveries or not janus.ready:  # noqa: ASYNC110 - another task's progress
            await asyncio.sleep(0.1)
    assert janus.process.health.pid not in (None, old_pid)
    # The browser notices, reconnects by itself with a new feed, and publishes again (seconds on
    # a quiet machine; the bound is for a loaded 2-core one, where it once took longer than 45 s).
    async with asyncio.timeout(120):
        while True:
            after = await room.participant("Amina Diallo")
            if after["feed_id"] != before["feed_id"] and after["presence"] == "online":
                break
            await asyncio.sleep(0.2)
    await wait_js(page, "() => window.parleyMeeting.published()")
    bruno = await room.bot(setup.people.bruno, "Bruno Silva")
    try:
        await bruno.join()
        heard = await bruno.subscribe(after["feed_id"])
        await wait_for_audio(heard, 5)
        assert best_correlation(read_wav(speech), heard.audio(5)) > SAME_AUDIO
    finally:
        await bruno.close()


async def test_recording_keeps_one_opus_file_per_speaker(
    room: Room, setup: Setup, server: Server, speech: Path, other_speech: Path
) -> None:
    av = pytest.importorskip("av")
    # Everyone in the room agrees in the meeting itself, the host included.
    await ok(await room.host.post(api(room.id, "/join"), json={"mode": "listen", "consent": True}))
    bruno = await room.bot(setup.people.bruno, "Bruno Silva", consent=True)
    chen = await room.bot(setup.people.chen, "Chen Wei", consent=True)
    try:
        await bruno.join()
        await bruno.publish(other_speech)
        await chen.join()
        await chen.publish(speech)
        await asyncio.sleep(1)
        state = await ok(await room.host.post(api(room.id, "/recording"), json={"on": True}))
        assert state["recording"] is not None
        await asyncio.sleep(6)
        await ok(await room.host.post(api(room.id, "/recording"), json={"on": False}))
    finally:
        await bruno.close()
        await chen.close()

    recording, files = await finished_recording(room)
    assert set(files) == {"", "Bruno Silva", "Chen Wei"}  # "": the whole meeting
    assert [files[name]["file"] for name in ("Bruno Silva", "Chen Wei")] == ["01-bruno-silva.opus",
                                                                            "02-chen-wei.opus"]
    for name, source in (("Bruno Silva", other_speech), ("Chen Wei", speech)):
        response = await room.host.get(api(room.id, f"/recordings/{recording['id']}/files/{files[name]['file']}"))
        assert response.status_code == 200 and response.headers["content-type"] == "audio/ogg"
        path = server.config.data_path / "recordings" / str(room.id) / str(recording["id"]) / files[name]["file"]
        decoded = decode_opus(av, path)
        assert len(decoded) > 4 * RATE
        assert best_correlation(read_wav(source), decoded) > SAME_AUDIO
    folder = path.parent
    assert not list(folder.glob("*.mjr"))  # Janus's raw files (video included) are gone
    await ok(await room.host.delete(api(room.id, f"/recordings/{recording['id']}")), 204)
    assert not folder.exists()


async def test_the_mixed_recording_has_each_voice_at_its_time(
    room: Room, setup: Setup, server: Server, speech: Path, other_speech: Path
) -> None:
    """Bruno speaks, leaves; Chen comes in and speaks: the whole-meeting file holds Bruno's
    voice first and Chen's after, where their own files (placed by Janus's timestamps) put them."""
    av = pytest.importorskip("av")
    await ok(await room.host.post(api(room.id, "/join"), json={"mode": "listen", "consent": True}))
    bruno = await room.bot(setup.people.bruno, "Bruno Silva", consent=True)
    chen: Bot | None = None
    try:
        await bruno.join()
        await bruno.publish(other_speech)
        await asyncio.sleep(1)
        await ok(await room.host.post(api(room.id, "/recording"), json={"on": True}))
        await asyncio.sleep(3)
        await bruno.close()
        await asyncio.sleep(1)
        chen = await room.bot(setup.people.chen, "Chen Wei", consent=True)
        await chen.join()
        await chen.publish(speech)
        await asyncio.sleep(4)
        await ok(await room.host.post(api(room.id, "/recording"), json={"on": False}))
    finally:
        await bruno.close()
        if chen is not None:
            await chen.close()

    recording, _ = await finished_recording(room)
    mix, bruno_file, chen_file = recording["files"]
    assert [(f["kind"], f["file"], f["display_name"]) for f in recording["files"]] == [
        ("mix", "00-meeting.opus", ""), ("speaker", "01-bruno-silva.opus", "Bruno Silva"),
        ("speaker", "02-chen-wei.opus", "Chen Wei")]
    folder = server.config.data_path / "recordings" / str(room.id) / str(recording["id"])
    audio = decode_opus(av, folder / mix["file"])
    chen_alone = decode_opus(av, folder / chen_file["file"])
    bruno_end, chen_start = bruno_file["seconds"], chen_file["starts_at"]
    assert 2.5 <= bruno_end <= chen_start  # Bruno had left before Chen's first packet
    assert len(audio) / RATE == pytest.approx(max(bruno_end, chen_file["seconds"]), abs=0.2)
    assert len(audio) / RATE == pytest.approx(mix["seconds"], abs=0.05)

    def part(x: np.ndarray[Any, Any], start: float, end: float) -> np.ndarray[Any, Any]:
        return x[int(start * RATE):int(end * RATE)]

    # Each voice where it was spoken, and only there.
    before, after = part(audio, 0, bruno_end), part(audio, chen_start, len(audio) / RATE)
    assert rms(before) > 0.01 and rms(after) > 0.01
    assert best_correlation(read_wav(other_speech), before) > SAME_AUDIO
    assert best_correlation(read_wav(speech), after) > SAME_AUDIO
    assert best_correlation(read_wav(speech), before) < 0.3
    if chen_start - bruno_end > 0.3:  # between the two nobody spoke
        assert rms(part(audio, bruno_end + 0.1, chen_start - 0.1)) < 0.002
    # Sample for sample where Chen's own file has him: the mix is that file, not shifted.
    n = min(len(audio), len(chen_alone))
    a, b = part(audio[:n], chen_start, n / RATE), part(chen_alone[:n], chen_start, n / RATE)
    assert float(np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b))) > 0.8
    response = await room.host.get(api(room.id, f"/recordings/{recording['id']}/files/{mix['file']}"))
    assert response.status_code == 200 and response.content == (folder / mix["file"]).read_bytes()


async def test_a_newcomer_pauses_the_recording_and_it_resumes_into_the_same_files(
    room: Room, setup: Setup, server: Server, other_speech: Path
) -> None:
    await ok(await room.host.post(api(room.id, "/join"), json={"mode": "listen", "consent": True}))
    bruno = await room.bot(setup.people.bruno, "Bruno Silva", consent=True)
    chen: Bot | None = None
    try:
        await bruno.join()
        await bruno.publish(other_speech)
        await asyncio.sleep(1)
        started = await ok(await room.host.post(api(room.id, "/recording"), json={"on": True}))
        await asyncio.sleep(2)
        chen = await room.bot(setup.people.chen, "Chen Wei")  # comes in without agreeing
        state = await ok(await room.host.get(api(room.id)))
        assert state["recording"] == {"id": started["recording"]["id"], "paused": True}
        await asyncio.sleep(2)
        chen_client = await room.as_user(setup.people.chen)
        await ok(await chen_client.post(api(room.id, "/me/consent"), json={"consent": True}))
        assert (await ok(await room.host.get(api(room.id))))["recording"]["paused"] is False
        await asyncio.sleep(3)
        await ok(await room.host.post(api(room.id, "/recording"), json={"on": False}))
    finally:
        await bruno.close()
        if chen is not None:
            await chen.close()

    recording, files = await finished_recording(room)
    # One file for Bruno: the part before the pause, silence for the pause, the part after.
    assert files["Bruno Silva"]["seconds"] >= 6, files


def decode_opus(av: Any, path: Path) -> np.ndarray[Any, np.dtype[np.float32]]:
    chunks = []
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
    return np.concatenate(chunks).astype(np.float32)


@pytest.mark.browser
async def test_the_facilitator_runs_the_meeting_from_the_page(
    room: Room, setup: Setup, chromium: Callable[..., Awaitable[Any]], live_url: str, speech: Path,
) -> None:
    host = await chromium(setup.people.facilitator, speech)
    await host.goto(f"{live_url}/dialogues/{room.id}/meeting")
    await host.check('input[name="mode"][value="listen"]')
    # Consent to a recording is an explicit act in the meeting: unticked until one ticks it.
    assert not await host.is_checked("#consent")
    await host.check("#consent")
    await host.click("#join-button")
    await host.locator("#host-panel").wait_for(state="visible")

    amina = await chromium(setup.people.amina, speech)
    await amina.goto(f"{live_url}/dialogues/{room.id}/meeting")
    await amina.check('input[name="mode"][value="audio"]')
    await amina.locator("#device-status").filter(has_text="bar").wait_for()
    # She agreed to a written transcript at registration: the recording box is still unticked.
    assert not await amina.is_checked("#consent")
    await amina.click("#join-button")
    await amina.locator("#waiting").wait_for(state="visible")

    # The waiting room: let her in.
    await host.locator("#waiting-list li", has_text="Amina Diallo").get_by_role("button", name="Let in").click()
    await amina.locator("#room").wait_for(state="visible")
    await wait_js(amina, "() => window.parleyMeeting.published()")

    # Who is speaking shows live: her fake microphone talks, Janus says so, her tile lights up.
    await host.locator(".tile.talking", has_text="Amina Diallo").wait_for(timeout=30_000)

    # The speaker queue with a timed turn and a visible countdown.
    await amina.click("#hand-btn")
    await host.locator("#queue li", has_text="Amina Diallo").wait_for()
    await host.select_option("#turn-length", "90")
    async with asyncio.timeout(10):
        while (await ok(await room.host.get(api(room.id))))["turn_seconds"] != 90:  # noqa: ASYNC110 - polls the API
            await asyncio.sleep(0.1)
    await host.click("#next-speaker")
    await amina.locator("#turn").wait_for(state="visible")
    countdown = await amina.text_content("#countdown") or ""
    assert countdown.startswith("1:") and int(countdown.split(":")[1]) <= 30

    # Recording waits for everyone: the facilitator sees who has not agreed, Amina that it waits.
    await host.locator("#consent-status").filter(has_text="Amina Diallo").wait_for()
    assert await host.is_disabled("#record-btn")
    await amina.locator("#recording-note").filter(has_text="once everyone").wait_for()
    await amina.click("#consent-btn")
    await host.locator("#consent-status").filter(has_text="Everyone in the meeting has agreed").wait_for()

    # Recording and lock show to everyone.
    await host.click("#record-btn")
    await amina.locator("#rec-indicator").wait_for(state="visible")
    await amina.locator("#recording-note").filter(has_text="being recorded").wait_for()
    # She withdraws: the recording stops at once, for everyone.
    await amina.click("#consent-btn")
    await amina.locator("#rec-indicator").wait_for(state="hidden")
    await host.locator("#rec-indicator").wait_for(state="hidden")
    assert (await ok(await room.host.get(api(room.id))))["recording"] is None
    await host.check("#lock-toggle")
    await amina.locator("#lock-indicator").wait_for(state="visible")

    # Ending: the facilitator sees speaking time per person; Amina's page says it ended.
    await host.click("#end-form button")
    await host.locator("#summary").wait_for(state="visible")
    rows = await host.locator("#summary-body tr").all_text_contents()
    assert any("Amina Diallo" in row for row in rows)
    await amina.locator("#status-line").filter(has_text="ended").wait_for()
    assert await amina.locator("#room").is_hidden()
