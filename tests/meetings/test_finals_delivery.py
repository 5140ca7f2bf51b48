"""No final caption line is lost or doubled on its way to the transcript (issue 11): a final the
worker sends again because its acknowledgement was late is acknowledged again and kept and
shown once; a final of a meeting that ended (or ends while it is in flight) is kept at once, if
its speaker consented, by whichever process it reaches; one of an unknown meeting is
acknowledged and dropped, said in the log without its text; one that comes while the meeting's
owner lease moves (no owner for a few seconds) reaches the next owner, which neither shows nor
writes again a final its predecessor showed. A worker too old to acknowledge (it never sends a
final again) has its finals of a meeting that just ended kept too.

Two hubs on one database and bus stand for two web processes (see test_interpretation_owner).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from parley.handlers.interpretation import Interpretation, late_finals
from parley.handlers.interpretation import relay as relay_module
from parley.handlers.interpretation.relay import hub_topic
from parley.interpretation.protocol import Event
from parley.media.janus.service import MediaEvent
from parley.server import Server
from parley.storage.analysis_models import TranscriptSegment
from parley.storage.meeting_models import CaptionFinal
from parley.storage.meeting_models import Meeting as MeetingRow
from parley.storage.models import Registration
from parley.storage.stores import caption_finals
from parley.storage.stores import meetings as meeting_store
from tests.fakes.clock import FakeClock
from tests.meetings import test_api
from tests.meetings.fakes import MeetingJanus
from tests.meetings.test_api import Meeting, eventually
from tests.meetings.test_interpretation_lines import (
    ScriptedWorker,
    amina_speaking,
    caption,
    finals_on_the_bus,
    transcript,
)
from tests.meetings.test_interpretation_owner import (  # noqa: F401 - fixtures
    RENEW,
    TTL,
    AckingWorker,
    Dropping,
    Room,
    config,
    kill,
    meeting,
    other_process,
    room,
    server,
    until,
)

pytestmark = pytest.mark.integration

SECRET = "Mon numéro de téléphone est le 06 12 34 56 78."


def hubs(server: Server, other_process: Interpretation, where: str) -> Interpretation:  # noqa: F811
    """The hub whose process the worker's socket reaches: the owner's (A) or the other one (B)."""
    return server.interpretation if where == "owner" else other_process


async def relayed_with_a_loss(meeting: Meeting, server: Server, janus: MeetingJanus,  # noqa: F811
                              clock: FakeClock, b: Interpretation,
                              lost: Callable[[str, dict[str, Any]], bool]) -> tuple[AckingWorker, Dropping]:
    """Amina speaks, her worker's socket on B (A owns the meeting); her first final "u1" goes,
    and the bus message ``lost`` names is dropped."""
    worker = AckingWorker(b, "worker-b", clock)
    speaker, _ = await amina_speaking(meeting, server, janus, worker)
    bus = Dropping(server.bus)
    bus.next(lost)
    await worker.final(meeting.id, speaker, "u1", "Premier point.")
    return worker, bus


async def acked(worker: AckingWorker) -> bool:
    return len(worker.unacked) == 0


async def kept(server: Server, lines: list[str]) -> bool:  # noqa: F811
    return sorted(await transcript(server)) == sorted(lines)


@pytest.mark.parametrize("where", ["owner", "other"])
async def test_a_final_sent_again_because_its_acknowledgement_was_late_is_acknowledged_again_and_kept_once(
    meeting: Meeting, server: Server, janus: MeetingJanus, clock: FakeClock,  # noqa: F811
    other_process: Interpretation, where: str,  # noqa: F811
) -> None:
    worker = AckingWorker(hubs(server, other_process, where), "worker-x", clock)
    speaker, _ = await amina_speaking(meeting, server, janus, worker)
    assert server.interpretation.sessions() == [meeting.id]
    close, finals = await finals_on_the_bus(server, meeting.id)
    try:
        worker.deaf = True  # the acknowledgement is lost on its way to the worker
        await worker.final(meeting.id, speaker, "u1", "Premier point.")
        await eventually(lambda: kept(server, ["Premier point."]), "u1 kept")
        assert len(worker.unacked) == 1
        worker.deaf = False
        clock.advance(worker.unacked.resend_s)
        [again] = worker.unacked.due()  # what the worker's link sends again on its timer
        await worker.frame(again)
        await eventually(lambda: acked(worker), "u1 acknowledged again")
        assert await kept(server, ["Premier point."])
        assert [f["text"] for f in finals] == ["Premier point."]  # shown once
    finally:
        await close()


async def test_a_final_sent_again_while_the_relay_still_waits_for_the_owner_is_relayed_as_one(
    meeting: Meeting, server: Server, janus: MeetingJanus, clock: FakeClock,  # noqa: F811
    other_process: Interpretation,  # noqa: F811
) -> None:
    a, b = server.interpretation, other_process
    # A's acknowledgement to B is lost
    worker, bus = await relayed_with_a_loss(meeting, server, janus, clock, b, lambda topic, event: (
        topic == hub_topic(b.relay.process) and "acked" in event))
    await eventually(lambda: kept(server, ["Premier point."]), "A kept u1")
    await eventually(lambda: _dropped(bus), "A's acknowledgement (sent once u1 is shown) was lost")
    assert len(b.relay.unacked) == 1
    clock.advance(worker.unacked.resend_s)
    [again] = worker.unacked.due()
    await worker.frame(again)
    await eventually(lambda: acked(worker), "the copy was acknowledged through B")
    assert not b.relay.unacked and a.sessions() == [meeting.id]
    assert await kept(server, ["Premier point."])


@pytest.mark.parametrize("where", ["owner", "other"])
async def test_a_final_sent_after_the_meeting_ended_is_kept_and_acknowledged_at_once(
    meeting: Meeting, server: Server, janus: MeetingJanus, clock: FakeClock,  # noqa: F811
    other_process: Interpretation, where: str,  # noqa: F811
) -> None:
    hub = hubs(server, other_process, where)
    worker = AckingWorker(hub, "worker-x", clock)
    speaker, _ = await amina_speaking(meeting, server, janus, worker)
    await test_api.ok(await meeting.host.post(test_api.api(meeting.id, "/end")))
    await eventually(lambda: _no_sessions(server.interpretation), "A ended the meeting's interpretation")
    # the worker's drain of Amina's last words, after the meeting ended (no clock moves: at once)
    await worker.final(meeting.id, speaker, "u9", "Dernier mot.")
    await worker.frame(worker.unacked.keep(Event(meeting.id, caption(speaker, "u9", "Last word.", final=True,
                                                                     revision=2, role="translation",
                                                                     language="en"))))
    await eventually(lambda: acked(worker), "both acknowledged")
    assert await kept(server, ["Dernier mot."]) and not hub.relay.unacked
    assert await _translations(server) == [{"en": "Last word."}]


async def test_a_final_in_flight_when_the_meeting_ends_is_kept_within_the_relay_s_wait(
    meeting: Meeting, server: Server, janus: MeetingJanus, clock: FakeClock,  # noqa: F811
    other_process: Interpretation,  # noqa: F811
) -> None:
    a, b = server.interpretation, other_process
    # the final is lost on its way from B to A
    worker, bus = await relayed_with_a_loss(meeting, server, janus, clock, b, lambda topic, event: (
        topic == hub_topic(a.relay.process) and "ack" in event))
    assert bus.dropped and len(b.relay.unacked) == 1
    await test_api.ok(await meeting.host.post(test_api.api(meeting.id, "/end")))
    await eventually(lambda: _no_sessions(a), "A ended the meeting's interpretation")
    # within the relay's wait for an acknowledgement, not its give-up time (GIVE_UP_S)
    await until(clock, lambda: not b.relay.unacked, within=relay_module.ACK_WAIT_S + 2)
    await eventually(lambda: acked(worker), "the worker got the acknowledgement")
    assert await kept(server, ["Premier point."])


async def test_a_late_final_of_someone_who_did_not_consent_is_acknowledged_and_not_kept(
    meeting: Meeting, server: Server, clock: FakeClock,  # noqa: F811
) -> None:
    worker = AckingWorker(server.interpretation, "worker-a", clock)
    await worker.connect()
    await meeting.join("bruno", language="en")
    await meeting.admit("Bruno Silva")
    bruno = test_api.person(await meeting.state(), "Bruno Silva")["id"]
    async with server.db.session() as s:  # Bruno withdrew his consent to transcripts
        await s.execute(update(Registration).where(Registration.user_id == meeting.setup.people.bruno.id)
                        .values(consent_transcript=False))
        await s.commit()
    await test_api.ok(await meeting.host.post(test_api.api(meeting.id, "/end")))
    await worker.final(meeting.id, f"p{bruno}", "u1", SECRET)
    await eventually(lambda: acked(worker), "acknowledged")
    assert await transcript(server) == []


async def test_a_final_of_an_unknown_meeting_is_acknowledged_and_dropped_with_a_log_line_without_its_text(
    server: Server, clock: FakeClock, caplog: pytest.LogCaptureFixture,  # noqa: F811
) -> None:
    caplog.set_level(logging.INFO)
    worker = AckingWorker(server.interpretation, "worker-a", clock)
    await worker.connect()
    await worker.final(987654, "p1", "u1", SECRET)
    await eventually(lambda: acked(worker), "acknowledged")
    assert await transcript(server) == [] and not server.interpretation.relay.unacked
    [line] = [r.getMessage() for r in caplog.records if "987654" in r.getMessage()]
    assert "no such meeting" in line
    assert all(SECRET not in r.getMessage() and "06 12" not in r.getMessage() for r in caplog.records)


async def test_a_final_that_comes_while_the_owner_lease_moves_reaches_the_next_owner(
    meeting: Meeting, server: Server, janus: MeetingJanus, clock: FakeClock,  # noqa: F811
    other_process: Interpretation,  # noqa: F811
) -> None:
    a, b = server.interpretation, other_process
    worker = AckingWorker(b, "worker-b", clock)  # its socket reaches B; A owns the meeting
    speaker, _ = await amina_speaking(meeting, server, janus, worker)
    await worker.final(meeting.id, speaker, "u1", "Premier point.")
    await eventually(lambda: acked(worker), "u1 acknowledged")
    await a.stop()  # A is stopped (a deploy): it hands the meeting over; nobody owns it yet
    assert not a.sessions() and not b.sessions()
    await worker.final(meeting.id, speaker, "u2", "Deuxième point.")
    assert len(b.relay.unacked) == 1 and not b.sessions()
    await until(clock, lambda: bool(b.sessions()) and not b.relay.unacked,
                within=TTL + RENEW + relay_module.ACK_WAIT_S + 2)
    await eventually(lambda: acked(worker), "u2 acknowledged by the new owner")
    assert await kept(server, ["Premier point.", "Deuxième point."])


async def test_a_final_the_old_owner_showed_is_neither_shown_nor_written_again_by_the_next_owner(
    meeting: Meeting, server: Server, janus: MeetingJanus, clock: FakeClock,  # noqa: F811
    other_process: Interpretation, room: Room,  # noqa: F811
) -> None:
    a, b = server.interpretation, other_process
    worker = AckingWorker(a, "worker-x", clock)  # its socket reaches A, the meeting's owner
    speaker, amina = await amina_speaking(meeting, server, janus, worker)
    close, finals = await finals_on_the_bus(server, meeting.id)  # what every meeting socket forwards
    try:
        worker.deaf = True  # A writes and shows u1, and dies before its acknowledgement leaves
        await worker.final(meeting.id, speaker, "u1", "Premier point.")
        await eventually(lambda: _shown(finals, ["Premier point."]), "A showed u1")
        assert await kept(server, ["Premier point."])
        await kill(a)
        # The worker's next --server is B: u1 again with its hello; B takes the meeting over.
        await worker.reconnect(b)
        await room.heard(MediaEvent(amina["room_id"], "published", amina["feed_id"], ("0",)))
        await until(clock, lambda: bool(b.sessions()) and not b.relay.unacked,
                    within=TTL + RENEW + relay_module.ACK_WAIT_S + 2)
        await eventually(lambda: acked(worker), "the new owner acknowledged u1")
        await worker.final(meeting.id, speaker, "u1", "Premier point.")  # another copy comes
        await eventually(lambda: acked(worker), "acknowledged again")
        await worker.final(meeting.id, speaker, "u2", "Deuxième point.")
        await eventually(lambda: _shown(finals, ["Premier point.", "Deuxième point."]), "B showed u2")
        assert [f["text"] for f in finals] == ["Premier point.", "Deuxième point."]  # u1 once
        assert await kept(server, ["Premier point.", "Deuxième point."])
    finally:
        await close()
    await test_api.ok(await meeting.host.post(test_api.api(meeting.id, "/end")))
    await eventually(lambda: _no_sessions(b), "B ended the meeting's interpretation")
    assert await _finals_recorded(server) == 0  # forgotten with the meeting's interpretation


async def test_two_copies_of_a_final_that_reach_the_owner_at_once_are_shown_once(
    meeting: Meeting, server: Server, janus: MeetingJanus, clock: FakeClock,  # noqa: F811
) -> None:
    worker = AckingWorker(server.interpretation, "worker-a", clock)
    speaker, _ = await amina_speaking(meeting, server, janus, worker)
    close, finals = await finals_on_the_bus(server, meeting.id)
    try:
        # u1 and its copy (sent again by the worker's link, and by a relay) handled at once
        u1 = worker.unacked.keep(Event(meeting.id, caption(speaker, "u1", "Premier point.", final=True, revision=2)))
        await asyncio.gather(worker.frame(u1), worker.frame(u1))
        await worker.final(meeting.id, speaker, "u2", "Deuxième point.")
        await eventually(lambda: _shown(finals, ["Premier point.", "Deuxième point."]), "u1 once, then u2")
        assert await acked(worker) and await kept(server, ["Premier point.", "Deuxième point."])
    finally:
        await close()


async def test_a_final_replaces_the_one_shown_only_when_it_is_newer_or_real_after_forced(
    meeting: Meeting, server: Server,  # noqa: F811
) -> None:
    row = await _meeting_row(server, meeting.id)

    async def show(revision: int, forced: bool, language: str = "fr") -> bool:
        final = _line(row, revision, forced=forced, language=language)
        async with server.db.session() as s:
            first = await caption_finals.claim(s, final)
            if first:
                await caption_finals.published(s, final)
            await s.commit()
        return first

    # closed with its partial (forced), then the real final, copies, older, forced after real
    assert await show(3, forced=True) and not await show(3, forced=True)
    assert await show(3, forced=False) and not await show(3, forced=False)
    assert not await show(2, forced=False) and not await show(5, forced=True)
    assert await show(4, forced=False)  # a later revision
    assert await show(2, forced=False, language="en")  # another language is another line


async def test_a_final_claimed_and_never_published_is_claimed_again_and_a_later_owner_s_claim_is_kept(
    meeting: Meeting, server: Server,  # noqa: F811
) -> None:
    row = await _meeting_row(server, meeting.id)

    async def claim(revision: int, tenure: int) -> bool:
        async with server.db.session() as s:
            claimed = await caption_finals.claim(s, _line(row, revision, tenure=tenure))
            await s.commit()
        return claimed

    async def published(revision: int, tenure: int) -> None:
        async with server.db.session() as s:
            await caption_finals.published(s, _line(row, revision, tenure=tenure))
            await s.commit()

    assert await claim(2, tenure=1)  # owner 1 claims u1 and dies before publishing it
    assert await claim(2, tenure=1)  # its own copy (a publish that failed) is claimed again
    assert await claim(2, tenure=2)  # so is the next owner's
    assert not await claim(2, tenure=1)  # owner 1, alive but past its lease, cannot take it back
    assert not await claim(3, tenure=1)  # not even with a later revision
    await published(2, tenure=1)  # nor mark it published: the line is owner 2's
    assert await claim(2, tenure=3)  # so still unshown for a third
    await published(2, tenure=3)
    assert not await claim(2, tenure=3) and not await claim(2, tenure=4)  # shown: never again


@pytest.mark.parametrize("where", ["owner", "other"])
async def test_a_final_of_a_worker_too_old_to_acknowledge_is_kept_when_its_meeting_just_ended(
    meeting: Meeting, server: Server, janus: MeetingJanus, clock: FakeClock,  # noqa: F811
    other_process: Interpretation, where: str, caplog: pytest.LogCaptureFixture,  # noqa: F811
) -> None:
    caplog.set_level(logging.INFO)
    hub = hubs(server, other_process, where)
    worker = ScriptedWorker(hub, "worker-old")  # no acks in its hello: it never sends a final again
    speaker, _ = await amina_speaking(meeting, server, janus, worker)
    assert worker.peer is not None and not worker.peer.hello.acks
    await test_api.ok(await meeting.host.post(test_api.api(meeting.id, "/end")))
    await eventually(lambda: _no_sessions(server.interpretation), "A ended the meeting's interpretation")
    await worker.caption(meeting.id, speaker, "u9", "Dernier mot.", final=True, revision=2)
    await eventually(lambda: kept(server, ["Dernier mot."]), "the drain's final kept")
    assert not hub.relay.unacked
    # One long after the meeting ended is no drain: dropped, said without its text.
    async with server.db.session() as s:
        await s.execute(update(MeetingRow).where(MeetingRow.dialogue_id == meeting.id)
                        .values(ended_at=clock.now() - timedelta(seconds=late_finals.RECENT_S + 1)))
        await s.commit()
    await worker.caption(meeting.id, speaker, "u10", SECRET, final=True, revision=2)
    await eventually(lambda: _said(caplog, "ended long ago"), "dropped")
    assert await kept(server, ["Dernier mot."]) and not hub.relay.unacked
    assert all(SECRET not in r.getMessage() for r in caplog.records)


async def _meeting_row(server: Server, dialogue_id: int) -> int:  # noqa: F811
    async with server.db.session() as s:
        row = await meeting_store.meeting_for(s, dialogue_id)
    assert row is not None
    return row.id


def _line(meeting_row: int, revision: int, *, forced: bool = False, language: str = "fr",
          tenure: int = 1) -> caption_finals.FinalLine:
    return caption_finals.FinalLine(meeting_row, "p1", "u1", "original", language, revision, forced, tenure)


async def _shown(finals: list[dict[str, Any]], texts: list[str]) -> bool:
    return [f["text"] for f in finals] == texts


async def _dropped(bus: Dropping) -> bool:
    return bool(bus.dropped)


async def _said(caplog: pytest.LogCaptureFixture, words: str) -> bool:
    return any(words in r.getMessage() for r in caplog.records)


async def _finals_recorded(server: Server) -> int:  # noqa: F811
    async with server.db.session() as s:
        return len((await s.execute(CaptionFinal.__table__.select())).all())


async def _no_sessions(hub: Interpretation) -> bool:
    return not hub.sessions()


async def _translations(server: Server) -> list[object]:  # noqa: F811
    async with server.db.session() as s:
        return [row.translations for row in (await s.execute(TranscriptSegment.__table__.select())).all()]
