"""Analysis storage: the sources to code, codings, corrections and analysts' themes.

Queries only, inside the caller's transaction. Consent is enforced here, in SQL, so that no
caller can forget it: `visible()` is part of every read of codings, and `purge()` deletes
what consent no longer covers. Survey texts are read directly from ``survey_texts``
(read-only; a text exists only with consent to analysis, and a withdrawal deletes it).

Every function that changes codings also keeps their counts, which the dashboard reads
instead of the codings: survey texts' themes in the survey's rollups
(`parley.storage.stores.survey.recounting_themes`), transcript lines' in
``analysis_speaker_themes`` (`recount_speakers`).

    visibility.py      consent in SQL (`visible()`)
    sources.py         the texts to code
    codings.py         codings written and read
    speaker_counts.py  theme counts kept beside the codings
    review.py          the review page's filtered pages and counts
    corrections.py     analysts' corrections and themes
"""

from parley.storage.stores.analysis.codings import (
    CodingInfo,
    coding,
    coding_for_source,
    count_stale,
    delete_for_report,
    export_page,
    insert_codings,
    purge,
    recent_codings,
    replace_coding,
    set_translation,
    stale,
    survey_response_ids,
    update_coding,
)
from parley.storage.stores.analysis.corrections import (
    AdoptedTheme,
    CorrectionInfo,
    add_theme,
    correction_for,
    corrections,
    save_correction,
    set_examples,
    themes,
)
from parley.storage.stores.analysis.review import CodingFilter, Order, codings_page, theme_counts
from parley.storage.stores.analysis.sources import (
    ID_MAX,
    REPORT_SECTIONS,
    SourceItem,
    count_pending,
    existing_refs,
    parse_ref,
    pending_reports,
    pending_survey,
    pending_transcripts,
    sources,
)
from parley.storage.stores.analysis.speaker_counts import (
    counts_kept,
    rebuild_speaker_counts,
    recount_speakers,
    source_of,
)
from parley.storage.stores.analysis.visibility import OTHER, insert_for, visible, visible_for

__all__ = [
    "AdoptedTheme",
    "CodingFilter",
    "CodingInfo",
    "CorrectionInfo",
    "ID_MAX",
    "OTHER",
    "Order",
    "REPORT_SECTIONS",
    "SourceItem",
    "add_theme",
    "coding",
    "coding_for_source",
    "codings_page",
    "correction_for",
    "corrections",
    "count_pending",
    "count_stale",
    "counts_kept",
    "delete_for_report",
    "existing_refs",
    "export_page",
    "insert_codings",
    "insert_for",
    "parse_ref",
    "pending_reports",
    "pending_survey",
    "pending_transcripts",
    "purge",
    "rebuild_speaker_counts",
    "recent_codings",
    "recount_speakers",
    "replace_coding",
    "save_correction",
    "set_examples",
    "set_translation",
    "source_of",
    "sources",
    "stale",
    "survey_response_ids",
    "theme_counts",
    "themes",
    "update_coding",
    "visible",
    "visible_for",
]
