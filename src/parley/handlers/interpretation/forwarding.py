"""Janus's side of interpretation: a forwarder per speaker (``rtp_forward`` to where the
worker listens) and a remote publisher per synthesized voice (which the worker speaks into).

Everything added to Janus here is removed here, because Janus keeps both after the session
that made them is gone; when Janus restarts, both are gone and are made again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

from parley.errors import EngineError
from parley.handlers.interpretation.health import Health
from parley.handlers.interpretation.state import MeetingSession, Speaker, Voice
from parley.interpretation.protocol import AddSpeaker, AddVoice

if TYPE_CHECKING:
    from parley.media.janus.service import JanusService, MediaEvent

log = logging.getLogger(__name__)

VOICE_DISPLAY = "parley:voice:"


class RoomMedia(Protocol):
    """Reaches the Janus hosting a room (the meeting's media node), and hears every node."""

    async def live_room(self, room_id: int) -> JanusService | None: ...

    def on_room_events(self, callback: Callable[[MediaEvent], Awaitable[None]]) -> None: ...


class Forwarding:
    def __init__(self, media: RoomMedia | None, health: Health) -> None:
        self.media = media
        self.health = health

    async def _janus(self, session: MeetingSession) -> JanusService | None:
        return await self.media.live_room(session.room_id) if self.media is not None else None

    async def forward(self, session: MeetingSession, speaker_id: str, speaker: Speaker) -> None:
        """Ask the worker where to send this speaker, then have Janus forward there."""
        janus = await self._janus(session) if session.worker is not None else None
        if session.worker is None or janus is None:
            return
        try:
            where = await session.worker.request(AddSpeaker(session.dialogue_id, speaker_id, speaker.language))
            speaker.stream_id = await janus.forward_audio(session.room_id, speaker.feed_id, speaker.mid,
                                                               str(where["host"]), int(where["port"]),
                                                               int(where["ssrc"]))
        except (EngineError, KeyError, ValueError) as exc:
            log.error("forwarding speaker %s of meeting %s failed: %s", speaker_id, session.dialogue_id, exc)
            await self.health.report(session, {
                "kind": "engine_health", "stage": "rtp", "engine": "janus", "status": "failing",
                "message": "a speaker's audio could not reach interpretation", "retryable": True,
                "speaker_id": speaker_id,
            })

    async def stop_forward(self, session: MeetingSession, speaker: Speaker) -> None:
        stream_id, speaker.stream_id = speaker.stream_id, None
        janus = await self._janus(session) if stream_id is not None else None
        if stream_id is None or janus is None:
            return
        try:
            await janus.stop_forward(session.room_id, speaker.feed_id, stream_id)
        except EngineError as exc:
            log.warning("stopping a forwarder of meeting %s failed: %s", session.dialogue_id, exc)

    async def stop_forwards(self, session: MeetingSession) -> None:
        for speaker in list(session.speakers.values()):  # speakers may come and go meanwhile
            await self.stop_forward(session, speaker)

    async def add_voice(self, session: MeetingSession, language: str) -> None:
        janus = await self._janus(session)
        if janus is None:
            return
        try:
            remote = await janus.add_voice(session.room_id, f"{VOICE_DISPLAY}{language}")
        except EngineError as exc:
            log.error("adding the %s voice to meeting %s failed: %s", language, session.dialogue_id, exc)
            return
        session.voices[language] = Voice(remote.id, remote.ip, remote.port)
        await self.voice_on_worker(session, language)

    async def voice_on_worker(self, session: MeetingSession, language: str) -> None:
        voice = session.voices[language]
        if session.worker is None or voice.on_worker:
            return
        try:
            result = await session.worker.request(AddVoice(session.dialogue_id, language, voice.host, voice.port))
        except EngineError as exc:
            log.error("starting the %s voice of meeting %s failed: %s", language, session.dialogue_id, exc)
            return
        voice.on_worker = bool(result.get("voice"))

    async def remove_voices(self, session: MeetingSession) -> None:
        voices, session.voices = session.voices, {}
        janus = await self._janus(session) if voices else None
        if janus is None:
            return
        for language, voice in voices.items():
            try:
                await janus.remove_voice(session.room_id, voice.publisher_id)
            except EngineError as exc:
                log.warning("removing the %s voice of meeting %s failed: %s", language, session.dialogue_id, exc)

    async def clear_left_behind(self, session: MeetingSession) -> None:
        """Taking a meeting over from another owner: remove the forwarders and voices it left
        in the room (Janus keeps them after it died); this owner makes its own."""
        janus = await self._janus(session)
        if janus is None:
            return
        try:
            removed = await janus.clear_interpretation(session.room_id, VOICE_DISPLAY)
        except EngineError as exc:
            log.warning("clearing the interpretation left in meeting %s failed: %s", session.dialogue_id, exc)
            return
        if removed:
            log.info("meeting %s: removed %d forwarders and voices of its previous owner", session.dialogue_id,
                     removed)

    async def media_restarted(self, session: MeetingSession) -> None:
        """The meeting's Janus restarted, or the meeting moved to another node: its forwarders
        and remote publishers are gone, so re-make them."""
        async with session.lock:
            for speaker in session.speakers.values():
                speaker.stream_id = None
            languages = list(session.voices)
            session.voices = {}
        for language in languages:
            await self.add_voice(session, language)
        # speakers come back through their new "published" events when browsers reconnect
