"""The meeting's recordings, listed server-side on the pages a facilitator or organiser comes
back to days later (the transcript, the report), not only on the meeting page's script.

Who sees them is `Recordings.listed`: the rule of the recordings API and its downloads, so every
link shown is one the reader may follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request

from parley.handlers.accounts import Account
from parley.handlers.meetings.views import RecordingView
from parley.vocabulary import RecordingStatus
from parley.web.auth import server_of

PREPARING = frozenset({RecordingStatus.RECORDING, RecordingStatus.PROCESSING})


@dataclass(frozen=True)
class RecordingFileRow:
    kind: str  # "mix" (the whole meeting) or "speaker"
    name: str  # the person's name ("" for the mix)
    minutes: int
    seconds: int
    url: str
    download: str


@dataclass(frozen=True)
class RecordingRow:
    id: int
    status: str
    started_at: datetime
    stopped_at: datetime | None
    preparing: bool
    files: list[RecordingFileRow]


def _file(dialogue_id: int, recording_id: int, f: dict[str, Any]) -> RecordingFileRow:
    total = round(float(f.get("seconds") or 0))
    name = str(f.get("file") or "")
    return RecordingFileRow(
        kind="mix" if f.get("kind") == "mix" else "speaker", name=str(f.get("display_name") or name),
        minutes=total // 60, seconds=total % 60,
        url=f"/api/v1/meetings/{dialogue_id}/recordings/{recording_id}/files/{name}",
        download=str(f.get("download") or name))


def rows(dialogue_id: int, views: list[RecordingView]) -> list[RecordingRow]:
    """The whole meeting first (the file most people want), then each person's own voice."""
    out = []
    for r in views:
        files = sorted((_file(dialogue_id, r.id, f) for f in r.files if f.get("file")),
                       key=lambda f: f.kind != "mix")
        out.append(RecordingRow(id=r.id, status=r.status.value, started_at=r.started_at, stopped_at=r.stopped_at,
                                preparing=r.status in PREPARING, files=files))
    return out


async def recordings_for(request: Request, user: Account, dialogue_id: int) -> list[RecordingRow] | None:
    """The rows to list, or None when the reader may not have them (the page shows nothing)."""
    views = await server_of(request).meetings.recordings.listed(user, dialogue_id)
    return None if views is None else rows(dialogue_id, views)
