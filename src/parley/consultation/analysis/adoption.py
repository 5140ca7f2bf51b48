"""What adopting a discovered theme would change, worked out before it is adopted.

A new theme's prototype is the mean of its examples. Judged by the coder's one global cut, a
prototype drawn from a corpus that shares one topic (every answer is about AI, or climate)
scores above the cut for most of the corpus: adopting "AI makes tasks easier" once re-labelled
85 % of 1,733 answers. So a new theme gets its own threshold, calibrated on the cluster it
came from: the score its own members reach (a low quantile of their scores), so it takes the
answers that look like its members and leaves the rest where they were. The preview compares
every answer's themes with and without the candidate, and the guard refuses an adoption that
would still take more than a stated share unless the analyst confirms it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from parley.errors import Conflict

MEMBER_QUANTILE = 0.25  # the new theme's cut: what three quarters of its own members reach
MAX_SHARE = 0.25  # adopting a theme that takes more than this share of the answers needs a confirmation


def calibrated_threshold(member_scores: npt.ArrayLike, *, floor: float, quantile: float = MEMBER_QUANTILE) -> float:
    """The candidate's cut from its members' scores, never below the coder's global cut."""
    scores = np.asarray(member_scores, dtype=np.float64)
    if not 0.0 <= quantile < 1.0:
        raise ValueError("quantile must be in [0, 1)")
    cut = float(floor) if scores.size == 0 else max(float(floor), float(np.quantile(scores, quantile)))
    return math.floor(cut * 10_000) / 10_000  # rounded down: members at the cut stay in


@dataclass(frozen=True)
class AdoptionPreview:
    """Every answer's themes without (``before``) and with (``after``) the candidate theme.

    ``taken``: answers the candidate would get; of those, ``from_other`` had no theme,
    ``alongside`` keep every theme they had, ``moved`` lose at least one (``from_themes``
    counts which). ``members`` are the cluster the candidate came from.
    """

    theme: str
    threshold: float
    before: tuple[tuple[str, ...], ...]
    after: tuple[tuple[str, ...], ...]
    members: tuple[int, ...] = ()
    taken: tuple[int, ...] = field(init=False)
    from_other: tuple[int, ...] = field(init=False)
    alongside: tuple[int, ...] = field(init=False)
    moved: tuple[int, ...] = field(init=False)
    from_themes: Mapping[str, int] = field(init=False)

    def __post_init__(self) -> None:
        if len(self.before) != len(self.after):
            raise ValueError("before and after must describe the same answers")
        taken, other, alongside, moved = [], [], [], []
        lost: Counter[str] = Counter()
        for i, (old, new) in enumerate(zip(self.before, self.after, strict=True)):
            if self.theme not in new:
                continue
            taken.append(i)
            gone = [t for t in old if t not in new]
            if not old:
                other.append(i)
            elif gone:
                moved.append(i)
                lost.update(gone)
            else:
                alongside.append(i)
        object.__setattr__(self, "taken", tuple(taken))
        object.__setattr__(self, "from_other", tuple(other))
        object.__setattr__(self, "alongside", tuple(alongside))
        object.__setattr__(self, "moved", tuple(moved))
        object.__setattr__(self, "from_themes", dict(lost.most_common()))

    @property
    def total(self) -> int:
        return len(self.before)

    @property
    def share(self) -> float:
        return len(self.taken) / self.total if self.total else 0.0

    @property
    def members_taken(self) -> int:
        """How many of the cluster's own answers the theme would take."""
        chosen = set(self.taken)
        return sum(1 for m in self.members if m in chosen)

    @property
    def outside(self) -> int:
        """Answers taken that were not in the cluster."""
        return len(set(self.taken) - set(self.members))

    @property
    def other_changes(self) -> tuple[int, ...]:
        """Answers whose themes change although the candidate is not among them (adding a
        prototype moves every relative score a little)."""
        return tuple(i for i, (old, new) in enumerate(zip(self.before, self.after, strict=True))
                     if self.theme not in new and set(old) != set(new))

    def counts(self) -> dict[str, tuple[int, int]]:
        """Per theme (and "" for no theme): answers before and after."""
        before: Counter[str] = Counter(t for themes in self.before for t in (themes or ("",)))
        after: Counter[str] = Counter(t for themes in self.after for t in (themes or ("",)))
        return {t: (before.get(t, 0), after.get(t, 0)) for t in dict.fromkeys([*before, *after])}


def check_share(preview: AdoptionPreview, *, max_share: float = MAX_SHARE, confirmed: bool = False) -> None:
    """Refuse an adoption that would take more than ``max_share`` of the answers, unless the
    analyst confirmed it after seeing the preview."""
    if preview.share > max_share and not confirmed:
        raise Conflict(
            "This theme would take more answers than a new theme may without a confirmation.",
            code="adoption_too_broad",
            fields={"confirm": "required"},
        )


def examples_of(indices: Sequence[int], limit: int) -> tuple[int, ...]:
    """The first ``limit`` of ``indices`` (kept in corpus order, which is deterministic)."""
    return tuple(indices[:limit])
