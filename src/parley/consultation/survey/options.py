"""The survey's settings: which survey, how long a process trusts the version it read,
and the per-address submission limits.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SurveyOptions:
    slug: str = "global"
    # How long a process may keep answering with the version it last read (edits made by
    # another process show up after at most this long; edits here show up at once).
    version_check_seconds: float = 5.0
    # Per client address, for anonymous submissions (API tokens are not limited).
    submissions_per_hour: int = 120
    withdrawals_per_hour: int = 30
