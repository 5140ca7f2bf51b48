"""The whole meeting in one file: every speaker's Ogg Opus file mixed by ffmpeg.

The converter writes each speaker's file from the recording start, placing every .mjr segment
at Janus's first-packet time (``u``) relative to it and filling the rest with silence, so the
files share one time line: the mix adds them sample for sample from their first sample and
every voice is heard when it was spoken. ffmpeg (Debian's, listed in
``scripts/apt-packages.txt``) decodes, mixes and encodes; Parley never decodes audio itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

MIX_FILE = "00-meeting.opus"
BITRATE = "48k"
# A conversion of the longest meeting is a few minutes of CPU; a stuck ffmpeg is not.
TIMEOUT_S = 3600


class MixError(RuntimeError):
    """ffmpeg is missing or failed: the meeting has per-speaker files but no mix."""


def mix_command(ffmpeg: str, tracks: Sequence[Path], target: Path) -> list[str]:
    """ffmpeg's arguments: the tracks (all starting at the recording start) as mono 48 kHz,
    summed without scaling (people rarely talk over each other, and dividing by the number of
    speakers would make a ten-person meeting ten times quieter), encoded as Opus for speech."""
    if not tracks:
        raise ValueError("nothing to mix")
    args = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    for track in tracks:
        args += ["-i", str(track)]
    chains = [f"[{i}:a]aformat=sample_rates=48000:channel_layouts=mono[a{i}]" for i in range(len(tracks))]
    inputs = "".join(f"[a{i}]" for i in range(len(tracks)))
    graph = ";".join(chains) + f";{inputs}amix=inputs={len(tracks)}:duration=longest:normalize=0[mix]"
    return args + ["-filter_complex", graph, "-map", "[mix]", "-ac", "1", "-c:a", "libopus",
                   "-b:a", BITRATE, "-application", "voip", "-f", "ogg", str(target)]


def ogg_seconds(path: Path) -> float:
    """The length of an Ogg Opus file, from its last page's granule position (48 kHz)."""
    data = path.read_bytes()
    last, head = data.rfind(b"OggS"), data.find(b"OpusHead", 0, 512)
    if last < 0 or head < 0 or last + 14 > len(data):
        return 0.0
    granule = int.from_bytes(data[last + 6:last + 14], "little", signed=True)
    pre_skip = int.from_bytes(data[head + 10:head + 12], "little")  # samples the decoder drops
    return max(0, granule - pre_skip) / 48_000


def mix_meeting(folder: Path, manifest: Sequence[dict[str, Any]], *,
                ffmpeg: str | None = None) -> dict[str, Any] | None:
    """Mix the speakers' files of ``manifest`` into ``folder / MIX_FILE``; its manifest entry,
    or None when nobody spoke."""
    speakers = [m for m in manifest if m.get("kind", "speaker") == "speaker"]
    if not speakers:
        return None
    tool = ffmpeg or shutil.which("ffmpeg")
    if tool is None:
        raise MixError("ffmpeg is not installed (scripts/setup installs it)")
    target = folder / MIX_FILE
    partial = folder / (MIX_FILE + ".part")
    command = mix_command(tool, [folder / m["file"] for m in speakers], partial)
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        partial.unlink(missing_ok=True)
        raise MixError(f"ffmpeg did not run: {exc}") from exc
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        # ffmpeg's message names the files, that is the people: only its status goes on.
        raise MixError(f"ffmpeg failed ({done.returncode})")
    os.replace(partial, target)
    return {"participant_id": None, "display_name": "", "kind": "mix", "file": target.name,
            "download": target.name, "bytes": target.stat().st_size,
            "seconds": round(ogg_seconds(target), 2), "starts_at": 0.0}
