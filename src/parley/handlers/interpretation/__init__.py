"""Live interpretation of meetings: Parley's side of the interpretation workers.

    Janus "published" ─▶ AddSpeaker ─▶ worker answers host:port:ssrc ─▶ Janus rtp_forward
    worker Event(Caption) ─▶ bus meeting:<id> {"type": "caption", CaptionLine} ─▶ each listener's socket
                          └▶ transcript_segments (final lines of speakers who consented)
    listener picks "voice:es" ─▶ Janus remote publisher ─▶ AddVoice ─▶ worker speaks into it

One module per part, composed by `service.Interpretation` (the hub, one per process):

    peer         one connected worker: commands out, replies matched
    state        what is known of each interpreted meeting
    pool         the workers, and which meeting runs on which (placed, moved on disconnect;
                 pinged, a silent one taken as gone)
    relay        workers shared by web processes: commands, replies and captions over the bus
    speakers     whose audio is forwarded (Janus events: published, left)
    forwarding   Janus forwarders per speaker and remote publishers per voice
    captions     caption lines: published, closed when their final cannot come; who sees which
    shown        each final shown at least once and, as pages see it, once, across owners
    transcript   final lines into the dialogue's transcript
    late_finals  finals of a meeting that ended: into its transcript all the same
    listeners    caption language and channel choices, the targets they ask of the worker, the view
    health       engine health per stage, and what the page shows of it
    service      the hub: sessions opened and ended, meeting events, periodic reconcile

Every line listeners saw as a partial ends final, and its original in the transcript (see
`captions`). Everything added to Janus is removed here (see `forwarding`). Caption text is
personal data: it goes to the bus and to consenting speakers' transcript rows, never to logs.
"""

from __future__ import annotations

from parley.handlers.interpretation.caption_line import CaptionLine
from parley.handlers.interpretation.captions import FINAL_TIMEOUT_S
from parley.handlers.interpretation.peer import WorkerPeer
from parley.handlers.interpretation.pool import PROBE_S
from parley.handlers.interpretation.service import Interpretation
from parley.handlers.interpretation.speakers import LEAVE_GRACE_S

__all__ = ["CaptionLine", "FINAL_TIMEOUT_S", "LEAVE_GRACE_S", "PROBE_S", "Interpretation", "WorkerPeer"]
