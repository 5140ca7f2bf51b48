"""Per-speaker interpretation pipelines and the meeting-level `Interpreter` that owns them.

    AudioChunk source ─▶ AsrStream ─▶ original Caption ─▶ translation worker ─▶ translated Caption
                                                                  └─▶ VoiceChannel (per language) ─▶ RTP

Events (`Caption`, `SpeechStart`/`SpeechEnd`, `EngineHealth`) go to an ``on_event`` callback
and to `events()`; the meeting layer forwards them to the bus. A missing engine or language
pair is announced once as `EngineHealth`, never papered over with fake output. Every stage
records its latency in `StageMetrics`.

Every line shown ends final. A pipeline keeps the newest partial of each line still open:
when no final came ``final_timeout_s`` after it, the partial becomes the final (``forced``) and
is translated as finals are; when the pipeline stops (speaker dropped after draining, meeting
closed, worker stopping) every open line is closed the same way; a final whose translation
fails closes that translation with an empty final.

    interpreter.py  Interpreter, InterpreterEngines
    speaker.py      SpeakerPipeline: recognition, open lines, translation
    voice.py        VoiceChannel
    events.py       the event fan-out; options.py: PipelineOptions
"""

from parley.interpretation.pipeline.events import EventFanout, EventSink, with_speaker
from parley.interpretation.pipeline.interpreter import Interpreter, InterpreterEngines
from parley.interpretation.pipeline.options import PipelineOptions
from parley.interpretation.pipeline.speaker import SpeakerPipeline
from parley.interpretation.pipeline.voice import AudioSink, VoiceChannel

__all__ = [
    "AudioSink",
    "EventFanout",
    "EventSink",
    "Interpreter",
    "InterpreterEngines",
    "PipelineOptions",
    "SpeakerPipeline",
    "VoiceChannel",
    "with_speaker",
]
