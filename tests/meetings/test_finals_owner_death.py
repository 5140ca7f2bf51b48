"""A final caption line is shown live at least once and, as the page sees it, once, wherever the
meeting's interpretation owner dies while showing it (issue 11, `handlers.interpretation.shown`).

Owner A dies at one point of handling Amina's final "u1" (the step there fails, then nothing of
A runs any more); her worker, which has no acknowledgement of "u1", reconnects to B with it; B
takes the meeting over and shows what A had not. A browser-like client on the real meeting
socket (`/ws/meetings/<id>`, served beside A's hub as another web process's socket would be)
reads the lines, and the page's own rules (`frontend/src/meeting/caption_finals.js`, run under
node) say what it shows.

Two hubs on one database and bus stand for two web processes (see test_interpretation_owner).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from parley.handlers.interpretation import Interpretation
from parley.handlers.interpretation import relay as relay_module
from parley.handlers.interpretation.shown import ShownFinals
from parley.handlers.interpretation.state import MeetingSession
from parley.handlers.interpretation.transcript import TranscriptWriter
from parley.interpretation.frames import Caption
from parley.media.janus.service import MediaEvent
from parley.server import Server
from parley.storage.meeting_models import CaptionFinal
from tests.fakes.clock import FakeClock
from tests.meetings.fakes import MeetingJanus
from tests.meetings.test_api import Meeting, eventually
from tests.meetings.test_interpretation_lines import amina_speaking, finals_on_the_bus, transcript
from tests.meetings.test_interpretation_owner import (  # noqa: F401 - fixtures
    RENEW,
    TTL,
    AckingWorker,
    Room,
    config,
    kill,
    meeting,
    other_process,
    room,
    server,
    until,
)
from tests.meetings.test_socket import Socket, open_socket  # noqa: F401 - fixture
from tests.unit.test_caption_finals_js import needs_node
from tests.unit.test_caption_finals_js import shown as page_shows

pytestmark = pytest.mark.integration


class Died(Exception):
    """The owner's process ends here: what comes after this step never runs."""


def dies(server: Server, point: str) -> None:  # noqa: F811
    """Owner A (``server.interpretation``) dies at ``point`` of handling the next final:

    before       nothing recorded (its transcript row not written either)
    claimed      claimed to be shown (pending), not published
    published    on the bus, not marked published
    marked       marked published, not acknowledged to the worker
    """
    captions = server.interpretation.captions
    transcript: TranscriptWriter = captions.transcript
    shown: ShownFinals = captions.shown
    claim, published = shown.claim, shown.published

    async def keep_then_die(*args: Any) -> None:
        raise Died(point)

    async def claim_then_die(session: MeetingSession, caption: Caption) -> bool:
        await claim(session, caption)
        raise Died(point)

    async def mark(session: MeetingSession, caption: Caption) -> None:
        if point == "marked":
            await published(session, caption)
        raise Died(point)

    if point == "before":
        transcript.keep = keep_then_die  # type: ignore[method-assign]
    elif point == "claimed":
        shown.claim = claim_then_die  # type: ignore[method-assign]
    else:
        shown.published = mark  # type: ignore[method-assign]


@contextlib.asynccontextmanager
async def reading(socket: Socket) -> AsyncIterator[list[dict[str, Any]]]:
    """The final captions the meeting socket sends, in order, as they come."""
    await socket.expect("state")  # subscribed to the meeting's topic by then
    seen: list[dict[str, Any]] = []

    async def read() -> None:
        async for raw in socket.ws:
            frame = json.loads(raw)
            if frame["type"] == "caption" and frame["caption"]["is_final"]:
                seen.append(frame["caption"])

    task = asyncio.create_task(read(), name="meeting-socket-reader")
    try:
        yield seen
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.mark.parametrize("point", ["before", "claimed", pytest.param("published", marks=needs_node), "marked"])
async def test_a_final_is_shown_once_on_the_meeting_socket_wherever_its_owner_dies(
    meeting: Meeting, server: Server, janus: MeetingJanus, clock: FakeClock,  # noqa: F811
    other_process: Interpretation, room: Room, open_socket: Callable[..., Any], point: str,  # noqa: F811
) -> None:
    a, b = server.interpretation, other_process
    worker = AckingWorker(a, "worker-x", clock)  # its socket reaches A, the meeting's owner
    speaker, amina = await amina_speaking(meeting, server, janus, worker)
    close, on_bus = await finals_on_the_bus(server, meeting.id)
    try:
        async with open_socket(meeting.setup.people.amina, f"/ws/meetings/{meeting.id}") as socket, \
                reading(socket) as page:
            await worker.final(meeting.id, speaker, "u0", "Bonjour.")
            await eventually(lambda: _texts(page, ["Bonjour."]), "A showed u0")
            dies(server, point)
            with pytest.raises(Died):
                await worker.final(meeting.id, speaker, "u1", "Premier point.")
            await kill(a)
            assert len(worker.unacked) == 1  # u1: never acknowledged
            # The worker's next --server is B: u1 again with its hello; B takes the meeting over.
            await worker.reconnect(b)
            await room.heard(MediaEvent(amina["room_id"], "published", amina["feed_id"], ("0",)))
            await until(clock, lambda: bool(b.sessions()) and not b.relay.unacked,
                        within=TTL + RENEW + relay_module.ACK_WAIT_S + 2)
            await eventually(lambda: _acked(worker), "the new owner acknowledged u1")
            await worker.final(meeting.id, speaker, "u2", "Deuxième point.")
            await eventually(lambda: _has(page, "Deuxième point."), "B showed u2")
            texts = ["Bonjour.", "Premier point.", "Deuxième point."]
            if point == "published":  # A's copy and B's: the same line, the page drops the second
                assert [c["text"] for c in page] == ["Bonjour.", "Premier point.", "Premier point.",
                                                     "Deuxième point."]
                assert page_shows(page) == [True, True, False, True]
            else:  # sent once
                assert [c["text"] for c in page] == texts
        assert [c["text"] for c in on_bus] == [c["text"] for c in page]  # the socket passed all on
    finally:
        await close()
    assert sorted(await transcript(server)) == sorted(texts)  # each line kept once
    assert await _all_published(server)


async def _texts(page: list[dict[str, Any]], texts: list[str]) -> bool:
    return [c["text"] for c in page] == texts


async def _has(page: list[dict[str, Any]], text: str) -> bool:
    return any(c["text"] == text for c in page)


async def _acked(worker: AckingWorker) -> bool:
    return len(worker.unacked) == 0


async def _all_published(server: Server) -> bool:  # noqa: F811
    async with server.db.session() as s:
        rows = (await s.execute(CaptionFinal.__table__.select())).all()
    return len(rows) == 3 and all(row.published for row in rows)
