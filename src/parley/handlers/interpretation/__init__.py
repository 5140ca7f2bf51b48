"""Live interpretation of meetings, Parley's side (see `service` for the data flow)."""

from __future__ import annotations

from parley.handlers.interpretation.service import (
    FINAL_TIMEOUT_S,
    LEAVE_GRACE_S,
    PROBE_S,
    Interpretation,
    WorkerPeer,
)

__all__ = ["FINAL_TIMEOUT_S", "LEAVE_GRACE_S", "PROBE_S", "Interpretation", "WorkerPeer"]
