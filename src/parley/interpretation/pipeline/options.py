"""The pipelines' settings: streaming recognition, whether partials are translated, how
long a speaker's pipeline drains, the event queue, and when an open line is closed with its
newest partial.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from parley.interpretation.adapters import StreamingOptions


@dataclass(frozen=True)
class PipelineOptions:
    streaming: StreamingOptions = field(default_factory=StreamingOptions)
    translate_partials: bool = True
    drain_timeout_s: float = 30.0
    event_queue: int = 1000
    # a line whose final has not come this long after its newest partial is closed with that
    # partial (a final pass lost or stuck); None: only when the pipeline stops
    final_timeout_s: float | None = 20.0
