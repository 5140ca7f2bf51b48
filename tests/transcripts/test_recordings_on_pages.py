"""The meeting's recordings on the pages a facilitator comes back to (transcript, report), in
plain HTML: names, lengths, download links that work, recordings still being prepared said so;
nothing for those the recordings API would refuse."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest

from parley.server import Server
from parley.storage.meeting_models import Meeting, MeetingRecording, MeetingStatus, RecordingStatus
from parley.storage.stores import meetings as meeting_store
from tests.analysis.helpers import Cast, client_for
from tests.transcripts.conftest import Scene

HTML = {"Accept": "text/html"}
AUDIO = b"OggS fake opus bytes"


async def recorded(server: Server, cast: Cast, dialogue_id: int) -> tuple[int, int]:
    """An ended meeting with one converted recording (the mix and two voices, files on disk) and
    one stopped a moment ago, still being converted. Returns (ready id, processing id)."""
    now = server.clock.now()
    async with server.db.session() as s:
        meeting = Meeting(dialogue_id=dialogue_id, status=MeetingStatus.ENDED, room_id=71, text_room_id=72,
                          created_at=now, updated_at=now, ended_at=now)
        await meeting_store.add(s, meeting)
        ids = []
        for status in (RecordingStatus.READY, RecordingStatus.PROCESSING):
            rec = MeetingRecording(meeting_id=meeting.id, dialogue_id=dialogue_id, status=status, directory="",
                                   files=[], started_by_id=cast.facilitator.id,
                                   started_at=now - timedelta(minutes=30), stopped_at=now, error=None)
            await meeting_store.add(s, rec)
            rec.directory = f"recordings/{dialogue_id}/{rec.id}"
            ids.append(rec.id)
        ready = await s.get(MeetingRecording, ids[0])
        assert ready is not None
        ready.files = [
            {"participant_id": 5, "display_name": "أمينة ديالو", "kind": "speaker", "file": "01-speaker.opus",
             "download": "01 أمينة ديالو.opus", "bytes": 10, "seconds": 62.4},
            {"participant_id": None, "display_name": "", "kind": "mix", "file": "meeting.opus",
             "download": "meeting.opus", "bytes": 20, "seconds": 1805.0},
            {"participant_id": 6, "display_name": "Bruno Silva", "kind": "speaker", "file": "02-speaker.opus",
             "download": "02 Bruno Silva.opus", "bytes": 10, "seconds": 3.0},
        ]
    folder = server.config.data_path / "recordings" / str(dialogue_id) / str(ids[0])
    folder.mkdir(parents=True)
    for name in ("01-speaker.opus", "meeting.opus", "02-speaker.opus"):
        (folder / name).write_bytes(AUDIO)
    return ids[0], ids[1]


@pytest.mark.parametrize("page", ["transcript", "report"])
async def test_those_who_run_the_dialogue_find_and_download_the_recordings(
        server: Server, cast: Cast, scene: Scene, make_client: Callable[[], httpx.AsyncClient], page: str) -> None:
    ready, processing = await recorded(server, cast, scene.dialogue)
    client = await client_for(server, make_client, cast.facilitator)
    html = (await client.get(f"/dialogues/{scene.dialogue}/{page}", headers=HTML)).text
    assert 'href="#recordings-title"' in html and 'id="recordings-title"' in html
    section = html[html.index('id="recordings-title"'):]
    section = section[:section.index("</section>")]
    base = f"/api/v1/meetings/{scene.dialogue}/recordings/{ready}/files"
    # The whole meeting first, then each voice, by name, with its length.
    assert section.index(f'{base}/meeting.opus"') < section.index(f'{base}/01-speaker.opus"') \
        < section.index(f'{base}/02-speaker.opus"')
    assert "The whole meeting, every voice together" in section and "(30 min 5 s)" in section
    assert "أمينة ديالو alone" in section and "(1 min 2 s)" in section and 'download="01 أمينة ديالو.opus"' in section
    assert "Bruno Silva alone" in section and "(0 min 3 s)" in section
    assert f'data-recording="{processing}" data-status="processing"' in section
    assert "Preparing the files…" in section and "Reload this page" in section

    got = await client.get(f"{base}/01-speaker.opus")
    assert got.status_code == 200 and got.content == AUDIO
    assert "attachment" in got.headers["content-disposition"]


async def test_a_recording_still_running_says_so(
        server: Server, cast: Cast, scene: Scene, make_client: Callable[[], httpx.AsyncClient]) -> None:
    ready, _ = await recorded(server, cast, scene.dialogue)
    async with server.db.session() as s:
        rec = await s.get(MeetingRecording, ready)
        assert rec is not None
        rec.status, rec.files = RecordingStatus.RECORDING, []
    client = await client_for(server, make_client, cast.organiser)
    html = (await client.get(f"/dialogues/{scene.dialogue}/transcript", headers=HTML)).text
    assert "The meeting is still being recorded." in html
    assert f"/recordings/{ready}/files/" not in html


async def test_no_recordings_section_for_those_the_downloads_refuse(
        server: Server, cast: Cast, scene: Scene, make_client: Callable[[], httpx.AsyncClient]) -> None:
    ready, _ = await recorded(server, cast, scene.dialogue)
    await server.observers.grant(cast.admin, scene.dialogue, cast.other_organiser.id)
    url = f"/api/v1/meetings/{scene.dialogue}/recordings/{ready}/files/meeting.opus"
    for who in (cast.other_organiser, cast.participants[0]):  # an observer with a grant, a participant
        client = await client_for(server, make_client, who)
        page = await client.get(f"/dialogues/{scene.dialogue}/transcript", headers=HTML)
        assert page.status_code == 200
        assert "recordings-title" not in page.text and "/recordings/" not in page.text
        assert (await client.get(url)).status_code == 403


async def test_without_recordings_the_pages_show_no_section(
        server: Server, cast: Cast, scene: Scene, make_client: Callable[[], httpx.AsyncClient]) -> None:
    client = await client_for(server, make_client, cast.facilitator)
    for page in ("transcript", "report"):
        html = (await client.get(f"/dialogues/{scene.dialogue}/{page}", headers=HTML)).text
        assert "recordings-title" not in html
