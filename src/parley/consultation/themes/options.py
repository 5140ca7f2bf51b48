"""How the analysis runs (the ``[analysis]`` config section, mapped once)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from parley.consultation.analysis import CoderOptions


@dataclass(frozen=True)
class AnalysisOptions:
    """How the analysis runs. The lead maps an ``[analysis]`` config section onto this."""

    # Run the background worker (prepare the coder at start, code new sources as they come).
    background: bool = True
    prepare_at_start: bool = True
    interval_s: float = 300.0
    batch_size: int = 200
    embedder_threads: int = 1
    discovery_limit: int = 3000
    # Adopting a theme that would take more than this share of the answers discovery looked
    # at needs the analyst's explicit confirmation (after seeing the preview).
    adopt_max_share: float = 0.25
    # Language translations are shown in when the reviewer's own is not covered.
    fallback_language: str = "en"
    coder: CoderOptions | None = None  # None: the coder's defaults

    @classmethod
    def from_config(cls, config: Any) -> AnalysisOptions:
        """From ``config.analysis`` when that section exists; without it the background
        worker stays off (analysts start passes from the analysis page)."""
        section = getattr(config, "analysis", None)
        if section is None:
            return cls(background=False, prepare_at_start=False)
        known = {f.name for f in dataclasses.fields(cls)} - {"coder"}
        values = {name: getattr(section, name) for name in known if hasattr(section, name)}
        if hasattr(section, "enabled"):
            values["background"] = bool(section.enabled)
        return cls(**values)
