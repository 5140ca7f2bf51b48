"""The themes answers are coded into: seed themes, analysts' and discovered ones."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from parley.consultation.analysis.seeds import SEED_THEMES
from parley.errors import InvalidInput

Origin = Literal["seed", "discovered", "analyst"]
THEME_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Theme:
    id: str
    name: str
    examples: tuple[str, ...]  # texts whose embeddings make the prototype
    names: Mapping[str, str] = field(default_factory=dict)  # language code -> name
    origin: Origin = "seed"
    # Its own cut, calibrated on the cluster it was adopted from (None: the coder's cut).
    threshold: float | None = None

    def __post_init__(self) -> None:
        if not THEME_ID.match(self.id):
            raise InvalidInput(f"theme id {self.id!r} must be 1-64 of a-z, 0-9, '_' and '-'", fields={"id": "invalid"})
        if not self.name.strip():
            raise InvalidInput("a theme needs a name", fields={"name": "empty"})
        if not any(e.strip() for e in self.examples):
            raise InvalidInput(f"theme {self.id!r} needs at least one example", fields={"examples": "empty"})


def seed_themes() -> list[Theme]:
    """The twelve seed themes, each with its names and examples in nine languages."""
    themes = []
    for theme_id, by_language in SEED_THEMES.items():
        names = {lang: texts[0] for lang, texts in by_language.items()}
        examples = tuple(text for texts in by_language.values() for text in texts)
        themes.append(Theme(id=theme_id, name=names["en"], names=names, examples=examples))
    return themes

