"""Janus .mjr recordings to Ogg Opus: file formats round-trip, gaps become silence, every
speaker's file starts at the recording start and is named after them, the whole meeting is
mixed with each voice at its time, and the converter process prints a manifest."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from parley.media.janus.mixdown import MixError, mix_command, mix_meeting, ogg_seconds
from parley.media.janus.recording import (
    FILE_NAME,
    SILENCE,
    MjrError,
    OggOpusWriter,
    ascii_name,
    convert,
    ogg_crc,
    opus_samples,
    parse_rtp,
    read_mjr,
    speaker_file,
    write_mjr,
)

pytestmark = pytest.mark.unit

FEED_SHIFT = 20


def rtp(seq: int, ts: int, payload: bytes = SILENCE, ssrc: int = 1234) -> bytes:
    return struct.pack("!BBHII", 0x80, 111, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc) + payload


def ogg_pages(data: bytes) -> list[dict[str, int | bytes]]:
    pages = []
    at = 0
    while at < len(data):
        assert data[at:at + 4] == b"OggS"
        _, flags, granule, serial, seq, crc, count = struct.unpack_from("<BBqIIIB", data, at + 4)
        lacing = data[at + 27:at + 27 + count]
        size = 27 + count + sum(lacing)
        page = bytearray(data[at:at + size])
        struct.pack_into("<I", page, 22, 0)
        assert ogg_crc(bytes(page)) == crc
        pages.append({"flags": flags, "granule": granule, "seq": seq, "body": bytes(data[at + 27 + count:at + size])})
        at += size
    return pages


def test_mjr_round_trip_and_truncated_tail(tmp_path: Path) -> None:
    path = tmp_path / "a.mjr"
    packets = [rtp(i, i * 960) for i in range(5)]
    write_mjr(path, packets, created_us=10, first_us=20)
    mjr = read_mjr(path)
    assert (mjr.kind, mjr.codec, mjr.created_us, mjr.first_us, mjr.packets) == ("a", "opus", 10, 20, packets)

    path.write_bytes(path.read_bytes()[:-3])  # Janus killed mid-write
    assert read_mjr(path).packets == packets[:4]
    (tmp_path / "b.mjr").write_bytes(b"not a recording")
    with pytest.raises(MjrError):
        read_mjr(tmp_path / "b.mjr")


def test_rtp_parsing_skips_csrc_extension_and_padding() -> None:
    header = bytes([0xB1, 111]) + struct.pack("!HII", 7, 960, 99) + struct.pack("!I", 5)  # P, X, 1 CSRC
    extension = struct.pack("!HH", 0xBEDE, 1) + b"\x10\x01\x00\x00"
    packet = header + extension + SILENCE + b"\x00\x02"
    parsed = parse_rtp(packet)
    assert parsed is not None and (parsed.sequence, parsed.timestamp, parsed.ssrc, parsed.payload) == (
        7, 960, 99, SILENCE)
    assert parse_rtp(b"\x00" * 12) is None


def test_opus_toc_durations() -> None:
    assert opus_samples(SILENCE) == 960  # CELT 20 ms, one frame
    assert opus_samples(bytes([0x78 | 0x01])) == 2 * 960  # two 20 ms frames (SILK WB 20 ms, code 1)
    assert opus_samples(bytes([0x03 | (16 << 3), 0x05])) == 5 * 120  # code 3: frame count byte


def test_ogg_writer_pages_have_valid_crcs_and_granules() -> None:
    out = BytesIO()
    writer = OggOpusWriter(out)
    for _ in range(120):
        writer.write(SILENCE, 960)
    writer.close()
    pages = ogg_pages(out.getvalue())
    assert pages[0]["body"][:8] == b"OpusHead" and pages[0]["flags"] == 2  # type: ignore[index]
    assert pages[1]["body"][:8] == b"OpusTags"  # type: ignore[index]
    assert pages[-1]["flags"] == 4 and pages[-1]["granule"] == 120 * 960
    assert [p["seq"] for p in pages] == list(range(len(pages)))


def test_speakers_are_aligned_on_the_recording_start_with_silence_in_gaps(tmp_path: Path) -> None:
    start_us = 1_000_000_000
    amina, bruno = 7, 9
    feed_a1, feed_a2, feed_b = (amina << FEED_SHIFT) | 1, (amina << FEED_SHIFT) | 2, (bruno << FEED_SHIFT) | 3
    # Amina: 1 s of audio starting 0.5 s in, a 0.4 s hole (DTX), then a reconnect 3 s in.
    first = [rtp(i, 5000 + i * 960) for i in range(50)] + [rtp(50 + i, 5000 + (70 + i) * 960) for i in range(10)]
    write_mjr(tmp_path / f"videoroom-1-user-{feed_a1}-1-audio-0.mjr", first, first_us=start_us + 500_000)
    write_mjr(tmp_path / f"videoroom-1-user-{feed_a2}-2-audio-0.mjr", [rtp(i, i * 960) for i in range(25)],
              first_us=start_us + 3_000_000)
    write_mjr(tmp_path / f"videoroom-1-user-{feed_b}-3-audio-0.mjr", [rtp(i, i * 960) for i in range(10)],
              first_us=start_us)
    write_mjr(tmp_path / f"videoroom-1-user-{feed_b}-3-video-1.mjr", [rtp(0, 0, b"vp8")], kind="v", codec="vp8")

    manifest = convert(tmp_path, start_us, names={amina: "Amina Diallo", bruno: "Bruno Silva"})

    assert [(m["participant_id"], m["file"], m["starts_at"]) for m in manifest] == [
        (amina, "01-amina-diallo.opus", 0.5), (bruno, "02-bruno-silva.opus", 0.0)]
    assert manifest[0]["seconds"] == pytest.approx(3.5, abs=0.02)  # 3 s offset + 0.5 s second segment
    assert manifest[1]["seconds"] == pytest.approx(0.2, abs=0.02)
    av = pytest.importorskip("av")
    with av.open(str(tmp_path / "01-amina-diallo.opus")) as container:
        samples = sum(frame.samples for frame in container.decode(audio=0))
    assert samples == pytest.approx(3.5 * 48_000, abs=960)


def test_a_killed_node_s_files_and_the_new_node_s_join_in_time_order(tmp_path: Path) -> None:
    """A media node killed mid-recording leaves its .mjr files cut mid-packet (or empty, or cut in
    the header: publishers it had not heard from yet); the meeting's room on the next node writes
    new ones, under new feed ids that may sort first. One file per person, each part at its time."""
    start_us = 2_000_000_000
    amina = 7
    killed_feed, new_feed = (amina << FEED_SHIFT) | 9, (amina << FEED_SHIFT) | 2  # the new one sorts first
    killed = tmp_path / f"videoroom-1-user-{killed_feed}-1-audio-0.mjr"
    before, after = b"\xf8before", b"\xf8after"  # 20 ms CELT frames told apart by their bytes
    write_mjr(killed, [rtp(i, 7000 + i * 960, before) for i in range(100)], first_us=start_us + 1_000_000)
    killed.write_bytes(killed.read_bytes()[:-2])  # 2 s, its last packet cut by the kill
    write_mjr(tmp_path / f"videoroom-1-user-{new_feed}-5-audio-0.mjr", [rtp(i, 99 + i * 960, after) for i in range(50)],
              first_us=start_us + 7_500_000)  # 4.5 s after the kill, 1 s long
    (tmp_path / f"videoroom-1-user-{(amina << FEED_SHIFT) | 3}-1-audio-0.mjr").write_bytes(b"")
    header_cut = tmp_path / f"videoroom-1-user-{(amina << FEED_SHIFT) | 4}-1-audio-0.mjr"
    write_mjr(header_cut, [rtp(0, 0)], first_us=start_us)
    header_cut.write_bytes(header_cut.read_bytes()[:20])

    [entry] = convert(tmp_path, start_us, names={amina: "Amina Diallo"})

    assert (entry["file"], entry["starts_at"]) == ("01-amina-diallo.opus", 1.0)
    assert entry["seconds"] == pytest.approx(8.5, abs=0.02)  # to the end of the new node's second
    av = pytest.importorskip("av")
    with av.open(str(tmp_path / entry["file"])) as container:
        packets = [bytes(p) for p in container.demux(audio=0) if p.size]
    # 20 ms frames on the recording's time line: silence, the killed node's 99 whole packets,
    # silence through the failover, the new node's 50.
    assert packets == [SILENCE] * 50 + [before] * 99 + [SILENCE] * 226 + [after] * 50


def test_files_are_named_after_people_unique_and_safe() -> None:
    assert ascii_name("Amina Diallo") == "amina-diallo"
    assert ascii_name("Élodie  Lefèvre-Dubois") == "elodie-lefevre-dubois"
    assert ascii_name("أمينة ديالو") == ""  # no Latin letters: the place and "speaker" name it
    assert ascii_name("../../etc/passwd") == "etc-passwd"
    assert speaker_file(3, "Amina Diallo") == ("03-amina-diallo.opus", "03 Amina Diallo.opus")
    assert speaker_file(2, "أمينة ديالو") == ("02-speaker.opus", "02 أمينة ديالو.opus")
    assert speaker_file(1, 'a/b\\c:"d"\n') == ("01-a-b-c-d.opus", "01 a b c d.opus")
    assert speaker_file(4, "") == ("04-speaker.opus", "04 speaker.opus")
    long_name = speaker_file(12, "Maria " * 40)[0]
    assert FILE_NAME.match(long_name) and len(long_name) <= 64
    for name in ("03-amina-diallo.opus", "00-meeting.opus", "speaker-7.opus"):  # old names still valid
        assert FILE_NAME.match(name)
    for name in ("../x.opus", "a.opus.part", "Amina.opus", "-x.opus"):
        assert not FILE_NAME.match(name)


def test_two_people_with_one_name_get_two_files(tmp_path: Path) -> None:
    for pid in (4, 5):
        write_mjr(tmp_path / f"videoroom-1-user-{(pid << FEED_SHIFT) | 1}-1-audio-0.mjr",
                  [rtp(i, i * 960) for i in range(5)], first_us=1)
    manifest = convert(tmp_path, 1, names={4: "Chen Wei", 5: "Chen Wei"})
    assert [m["file"] for m in manifest] == ["01-chen-wei.opus", "02-chen-wei.opus"]


def test_the_mix_command_sums_every_speaker_unscaled_into_mono_opus(tmp_path: Path) -> None:
    a, b = tmp_path / "01-a.opus", tmp_path / "02-b.opus"
    command = mix_command("/usr/bin/ffmpeg", [a, b], tmp_path / "out.part")
    assert command[:2] == ["/usr/bin/ffmpeg", "-nostdin"]
    assert [command[i + 1] for i, arg in enumerate(command) if arg == "-i"] == [str(a), str(b)]
    graph = command[command.index("-filter_complex") + 1]
    assert "amix=inputs=2:duration=longest:normalize=0" in graph
    assert graph.count("aformat=sample_rates=48000:channel_layouts=mono") == 2
    assert command[-3:] == ["-f", "ogg", str(tmp_path / "out.part")] and "libopus" in command
    with pytest.raises(ValueError):
        mix_command("ffmpeg", [], tmp_path / "out.part")


def opus_tone(av: Any, hz: float, seconds: float) -> list[bytes]:
    """``seconds`` of a sine as 20 ms Opus packets (libopus through PyAV)."""
    codec = av.CodecContext.create("libopus", "w")
    codec.sample_rate, codec.layout, codec.format, codec.bit_rate = 48_000, "mono", "s16", 32_000
    codec.open()
    n = int(seconds * 48_000)
    wave = (0.3 * np.sin(2 * np.pi * hz * np.arange(n) / 48_000) * 32767).astype(np.int16)
    packets = []
    for at in range(0, n, 960):
        frame = av.AudioFrame.from_ndarray(wave[at:at + 960].reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts = 48_000, at
        packets += [bytes(p) for p in codec.encode(frame)]
    packets += [bytes(p) for p in codec.encode(None)]
    return packets


def decode(av: Any, path: Path) -> np.ndarray[Any, np.dtype[np.float32]]:
    chunks = []
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=48_000)
        for frame in container.decode(audio=0):
            chunks += [out.to_ndarray().reshape(-1) for out in resampler.resample(frame)]
    return np.concatenate(chunks).astype(np.float32)


def tone_level(audio: np.ndarray[Any, Any], hz: float, start: float, end: float) -> float:
    """How much of ``hz`` is in ``audio`` between two times (amplitude, from one FFT bin)."""
    window = audio[int(start * 48_000):int(end * 48_000)]
    spectrum = np.abs(np.fft.rfft(window * np.hanning(len(window))))
    freqs = np.fft.rfftfreq(len(window), 1 / 48_000)
    return float(spectrum[np.argmin(np.abs(freqs - hz))] / len(window))


def planted_meeting(av: Any, folder: Path, start_us: int) -> None:
    """Amina (440 Hz) speaks 0.5-1.5 s into the recording, Bruno (660 Hz) 2.5-3.5 s."""
    for pid, hz, at_us in ((7, 440.0, 500_000), (9, 660.0, 2_500_000)):
        packets = [rtp(i, i * 960, payload) for i, payload in enumerate(opus_tone(av, hz, 1.0))]
        write_mjr(folder / f"videoroom-1-user-{(pid << FEED_SHIFT) | 1}-1-audio-0.mjr", packets,
                  first_us=start_us + at_us)


def test_the_mix_has_each_voice_at_its_time(tmp_path: Path) -> None:
    av = pytest.importorskip("av")
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    start_us = 1_700_000_000_000_000
    planted_meeting(av, tmp_path, start_us)
    manifest = convert(tmp_path, start_us, names={7: "Amina Diallo", 9: "Bruno Silva"})

    mixed = mix_meeting(tmp_path, manifest)

    assert mixed is not None and mixed["file"] == "00-meeting.opus" and mixed["kind"] == "mix"
    assert mixed["seconds"] == pytest.approx(3.5, abs=0.05) == ogg_seconds(tmp_path / "00-meeting.opus")
    audio = decode(av, tmp_path / "00-meeting.opus")
    assert len(audio) == pytest.approx(3.5 * 48_000, abs=960)
    quiet = 0.002
    assert tone_level(audio, 440, 0.6, 1.4) > 20 * quiet and tone_level(audio, 660, 0.6, 1.4) < quiet
    assert tone_level(audio, 660, 2.6, 3.4) > 20 * quiet and tone_level(audio, 440, 2.6, 3.4) < quiet
    assert float(np.sqrt(np.mean(audio[int(1.7 * 48_000):int(2.3 * 48_000)] ** 2))) < quiet  # nobody spoke
    assert float(np.sqrt(np.mean(audio[:int(0.4 * 48_000)] ** 2))) < quiet
    # Unscaled: a voice in the mix is as loud as in its own file.
    alone = decode(av, tmp_path / "01-amina-diallo.opus")
    assert tone_level(audio, 440, 0.6, 1.4) == pytest.approx(tone_level(alone, 440, 0.6, 1.4), rel=0.15)


def test_no_ffmpeg_means_no_mix_but_the_speakers_files(tmp_path: Path) -> None:
    write_mjr(tmp_path / f"videoroom-1-user-{(3 << FEED_SHIFT) | 1}-1-audio-0.mjr",
              [rtp(i, i * 960) for i in range(5)], first_us=1)
    manifest = convert(tmp_path, 1)
    with pytest.raises(MixError):
        mix_meeting(tmp_path, manifest, ffmpeg=str(tmp_path / "no-ffmpeg"))
    assert not list(tmp_path.glob("00-*")) and mix_meeting(tmp_path, []) is None


def test_the_converter_runs_as_its_own_process(tmp_path: Path) -> None:
    av = pytest.importorskip("av")
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    planted_meeting(av, tmp_path, 5_000_000)
    done = subprocess.run([sys.executable, "-m", "parley.media.janus.recording", str(tmp_path), "5000000", "-"],
                          input=json.dumps({"7": "أمينة ديالو", "9": "Bruno Silva"}),
                          capture_output=True, text=True, check=True, timeout=120)
    manifest = json.loads(done.stdout)
    assert [(m["kind"], m["file"], m["download"], m["display_name"], m["participant_id"]) for m in manifest] == [
        ("mix", "00-meeting.opus", "00-meeting.opus", "", None),
        ("speaker", "01-speaker.opus", "01 أمينة ديالو.opus", "أمينة ديالو", 7),
        ("speaker", "02-bruno-silva.opus", "02 Bruno Silva.opus", "Bruno Silva", 9),
    ]
    assert [m["seconds"] for m in manifest] == pytest.approx([3.5, 1.5, 3.5], abs=0.05)
    assert all(m["bytes"] == (tmp_path / m["file"]).stat().st_size for m in manifest)
    assert not list(tmp_path.glob("*.mjr")) and not list(tmp_path.glob("*.part"))
