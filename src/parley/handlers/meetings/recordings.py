"""Meeting recordings: started by the host once everyone present agreed, paused while someone
has not, converted after they stop into one Ogg Opus file per speaker (named after them) and
one of the whole meeting.

Janus writes .mjr files into the recording's folder under the data directory; the converter
(`parley.media.janus.recording`) runs as its own process, so media never goes through the web
process. `MeetingChanges` tells `recording_changed` what a committed change did (paused,
resumed, stopped), and this class makes Janus follow.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from parley.errors import Conflict, EngineError, Forbidden, NotFound
from parley.handlers.leases import Leases
from parley.handlers.meetings.changes import MeetingChanges
from parley.handlers.meetings.room import Room
from parley.handlers.meetings.rooms import MediaRooms
from parley.handlers.meetings.views import RecordingView, meeting_topic
from parley.storage.stores import meetings as store
from parley.storage.stores.accounts import Account
from parley.tasks import TaskOwner
from parley.vocabulary import RecordingStatus

log = logging.getLogger(__name__)

RECORDINGS_FOLDER = "recordings"


class Recordings:
    def __init__(self, changes: MeetingChanges, rooms: MediaRooms, tasks: TaskOwner, leases: Leases, *,
                 recorder: Sequence[str] | None = None) -> None:
        self.changes = changes
        self.rooms = rooms
        self._tasks = tasks
        self._leases = leases
        self.recorder = list(recorder or (sys.executable, "-m", "parley.media.janus.recording"))
        changes.recording_hook = self

    async def resume_conversions(self) -> None:
        """Convert what a stopped process left half done (once: `_finalize` finds it done after)."""
        async with self.changes.db.session() as s:
            processing = await store.processing_recordings(s)
        for rid in processing:
            self._tasks.spawn(f"finalize:{rid}", self._leases.until_done(f"meetings.finalize:{rid}",
                                                                          functools.partial(self._finalize, rid)))

    async def set_recording(self, actor: Account, dialogue_id: int, on: bool) -> dict[str, Any]:
        """Start recording the audio (only if everyone present consented), or stop it."""
        await self.changes.host(actor, dialogue_id)
        if on:
            await self._start(actor, dialogue_id)
        else:
            async def stop(room: Room, s: AsyncSession) -> None:
                if await self.changes.stop_recording(room, s) is None:
                    raise Conflict("The meeting is not being recorded.", code="not_recording")

            await self.changes.change(dialogue_id, stop, actor=actor, host_only=True)
            log.info("meeting %s: recording stopped by user %s", dialogue_id, actor.id)
        return await self.changes.state(actor, dialogue_id)

    async def _start(self, actor: Account, dialogue_id: int) -> None:
        janus = await self.rooms.media_for_dialogue(dialogue_id)
        folder: list[str] = []

        async def start(room: Room, s: AsyncSession) -> tuple[int, int]:
            if room.meeting.recording_id is not None:
                raise Conflict("The meeting is already being recorded.", code="already_recording")
            # Everyone present, the host included, agrees in the meeting first: starting a
            # recording is not taken as anyone's consent.
            if not room.can_record():
                names = [p.id for p in room.recording_blockers()]
                raise Conflict("Everyone in the meeting must agree before it is recorded.",
                               code="consent_missing", fields={"blockers": ",".join(map(str, names))})
            rec = await store.add_recording(s, room.meeting.id, dialogue_id, actor.id, room.now,
                                            f"{RECORDINGS_FOLDER}/{dialogue_id}")
            folder.append(rec.directory)
            room.meeting.recording_id = rec.id
            return rec.id, room.meeting.room_id

        (rid, room_id), _ = await self.changes.change(dialogue_id, start, actor=actor, host_only=True)
        path = self.rooms.path(folder[0])
        await asyncio.to_thread(path.mkdir, parents=True, exist_ok=True)
        try:
            await janus.set_recording(room_id, path)
        except EngineError as exc:
            log.error("meeting %s: janus refused to record: %s", dialogue_id, exc)

            async def undo(room: Room, s: AsyncSession) -> None:
                await store.stop_recording(s, rid, room.now, error="janus refused to record")
                if room.meeting.recording_id == rid:
                    room.meeting.recording_id = None

            await self.changes.change(dialogue_id, undo)
            raise
        log.info("meeting %s: recording %s started by user %s", dialogue_id, rid, actor.id)

    async def recording_changed(self, dialogue_id: int, room_id: int, *, stopped: int | None,
                                live: bool | None, folder: str) -> None:
        """Janus follows a committed change: stop and convert, pause, or resume (same folder)."""
        if stopped is not None:
            await self._stop_janus(room_id)
            self._tasks.spawn(f"finalize:{stopped}", self._finalize(stopped))
        elif live is False:
            await self._stop_janus(room_id)
        elif live and folder:
            janus = await self.rooms.live_room(room_id)
            if janus is None:
                return
            try:
                await janus.set_recording(room_id, self.rooms.path(folder))
            except EngineError as exc:
                log.error("meeting %s: janus refused to resume recording: %s", dialogue_id, exc)

    async def _stop_janus(self, room_id: int) -> None:
        janus = await self.rooms.live_room(room_id)
        if janus is None:
            return
        try:
            await janus.set_recording(room_id, None)
        except EngineError as exc:
            log.error("janus could not stop recording room: %s", exc)

    async def _finalize(self, recording_id: int) -> None:
        """Convert Janus's .mjr files into one Ogg Opus file per speaker, named after them, and
        one of the whole meeting, in a separate process."""
        async with self.changes.db.session() as s:
            rec = await store.recording(s, recording_id)
            if rec is None or rec.status != RecordingStatus.PROCESSING:
                return
            folder, started = self.rooms.path(rec.directory), rec.started_at
            meeting = await store.meeting(s, rec.meeting_id)
            names = {p.id: p.display_name for p in await store.participants(s, meeting.id)} if meeting else {}
        manifest: list[dict[str, Any]] = []
        error: str | None = None
        if await asyncio.to_thread(folder.is_dir):
            proc = await asyncio.create_subprocess_exec(
                *self.recorder, str(folder), str(int(started.timestamp() * 1_000_000)), "-",
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )
            try:
                out, err = await proc.communicate(json.dumps(names).encode())
            except asyncio.CancelledError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
                raise
            if proc.returncode == 0:
                try:
                    loaded = json.loads(out.decode() or "[]")
                    manifest = [m for m in loaded if isinstance(m, dict)]
                except ValueError:
                    error = "converter output unreadable"
                if err:  # no mix (ffmpeg missing or failed): the speakers' files are there
                    log.warning("recording %s: %s", recording_id, err.decode(errors="replace")[-300:])
            else:
                error = f"converter failed ({proc.returncode})"
                log.error("recording %s: converter failed: %s", recording_id, err.decode(errors="replace")[-300:])
        async with self.changes.db.session() as s:
            rec = await store.recording(s, recording_id)
            if rec is None:
                return
            for item in manifest:
                if item.get("participant_id") is not None and not item.get("display_name"):
                    item["display_name"] = names.get(int(item["participant_id"]), "")
            await store.converted(s, recording_id, manifest, error)
            dialogue_id = rec.dialogue_id
        await self.changes.bus.publish(meeting_topic(dialogue_id), {"type": "meeting.recording",
                                                                    "dialogue_id": dialogue_id,
                                                                    "recording_id": recording_id})

    async def recordings(self, actor: Account, dialogue_id: int) -> list[RecordingView]:
        async with self.changes.db.session() as s:
            await self.changes.host_in(s, actor, dialogue_id)
            return [RecordingView.of(r) for r in await store.recordings(s, dialogue_id)]

    async def listed(self, actor: Account, dialogue_id: int) -> list[RecordingView] | None:
        """The recordings for pages that are not about the meeting (transcript, report): the same
        rule as `recordings` and the downloads (those who run the dialogue), but None for anyone
        else instead of an error, so the page shows no section rather than links that refuse."""
        try:
            return await self.recordings(actor, dialogue_id)
        except (Forbidden, NotFound):
            return None

    async def recording_file(self, actor: Account, dialogue_id: int, recording_id: int,
                             name: str) -> tuple[Path, str]:
        """The file and the name to offer it under (the person's name as typed, any script;
        recordings made before files were named after people offer their file name)."""
        async with self.changes.db.session() as s:
            await self.changes.host_in(s, actor, dialogue_id)
            rec = await store.recording(s, recording_id)
            if rec is None or rec.dialogue_id != dialogue_id:
                raise NotFound("No such recording.", code="recording_not_found")
            entry = next((f for f in rec.files or [] if f.get("file") == name), None)
            if entry is None:
                raise NotFound("No such file in this recording.", code="file_not_found")
            return self.rooms.path(rec.directory) / name, str(entry.get("download") or name)

    async def delete_recording(self, actor: Account, dialogue_id: int, recording_id: int) -> None:
        async with self.changes.db.session() as s:
            await self.changes.host_in(s, actor, dialogue_id)
            rec = await store.recording(s, recording_id)
            if rec is None or rec.dialogue_id != dialogue_id:
                raise NotFound("No such recording.", code="recording_not_found")
            if rec.status in (RecordingStatus.RECORDING, RecordingStatus.PROCESSING):
                raise Conflict("Stop the recording (and let it finish) before deleting it.", code="recording_busy")
            folder = self.rooms.path(rec.directory)
            await store.delete_recording(s, rec.id)
        root = self.rooms.path(RECORDINGS_FOLDER)
        if folder.is_relative_to(root) and folder != root:
            await asyncio.to_thread(shutil.rmtree, folder, True)
        log.info("recording %s of dialogue %s deleted by user %s", recording_id, dialogue_id, actor.id)
        await self.changes.bus.publish(meeting_topic(dialogue_id), {"type": "meeting.recording",
                                                                    "dialogue_id": dialogue_id,
                                                                    "recording_id": recording_id})
