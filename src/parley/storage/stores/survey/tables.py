"""The survey tables as SQLAlchemy Core tables (bulk inserts and the rollup statements use
them without the ORM), and chunking for long ``IN`` lists."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from parley.storage.analysis_models import AnalysisCoding, AnalysisCodingTheme
from parley.storage.consultation_models import SurveyCode, SurveyReceipt, SurveyResponse, SurveyText, cast_table

RESPONSE_T = cast_table(SurveyResponse)
RECEIPT_T = cast_table(SurveyReceipt)
TEXT_T = cast_table(SurveyText)
CODE_T = cast_table(SurveyCode)
CODING_T = cast_table(AnalysisCoding)
THEME_T = cast_table(AnalysisCodingTheme)


def chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
