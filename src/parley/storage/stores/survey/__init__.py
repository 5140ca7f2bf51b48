"""Survey storage: versions, responses, free text, receipts and rollups. Queries only, inside
the caller's transaction.

    surveys.py    surveys, versions, the codebook rows answers are counted by
    responses.py  submissions (responses, receipts, free text), withdrawal, pages of them
    cuboids.py    what the rollups count: pseudo-questions, dimensions, cuboids (no SQL)
    rollups.py    counting responses and their texts' themes into every cuboid
    counts.py     reading counts from a cuboid or straight from the responses
    tables.py     the Core tables the bulk statements use

The domain imports the package (``from parley.storage.stores import survey as store``);
every name it uses is re-exported here.
"""

from parley.storage.stores.survey.counts import (
    Slice,
    day_span,
    fact_counts,
    fact_theme_counts,
    receipt_count,
    rollup_counts,
)
from parley.storage.stores.survey.cuboids import (
    ALL_BITS,
    ANSWERED,
    CARDINALITY,
    CUBOIDS,
    DIM_COLUMNS,
    FILTER_DIMS,
    NO_DAY,
    NO_THEME,
    RESPONSES,
    SLOTS,
    THEMES,
    TIME_DIMS,
    VALUE_COLUMNS,
    WRITE_ORDER,
    best_cuboid,
    cuboid_columns,
)
from parley.storage.stores.survey.responses import (
    Existing,
    ReceiptInfo,
    ResponseInfo,
    TextInfo,
    add_receipt,
    delete_response,
    existing,
    insert_receipts,
    insert_responses,
    insert_texts,
    receipt_by_id,
    response_by_id,
    responses_page,
    texts_for,
    texts_page,
    withdraw_receipt,
)
from parley.storage.stores.survey.rollups import (
    BATCH_CELLS,
    add_to_rollups,
    prune_rollups,
    rebuild_rollups,
    recounting_themes,
)
from parley.storage.stores.survey.surveys import (
    SurveyInfo,
    VersionInfo,
    add_survey,
    add_version,
    latest_version_number,
    set_current_version,
    survey_by_id,
    survey_by_slug,
    survey_state,
    sync_codes,
    version_by_id,
    versions,
)
from parley.storage.stores.survey.tables import CODE_T, CODING_T, RECEIPT_T, RESPONSE_T, TEXT_T, THEME_T

__all__ = [
    "ALL_BITS", "ANSWERED", "BATCH_CELLS", "CARDINALITY", "CODE_T", "CODING_T", "CUBOIDS", "DIM_COLUMNS",
    "FILTER_DIMS", "NO_DAY", "NO_THEME", "RECEIPT_T", "RESPONSES", "RESPONSE_T", "SLOTS", "TEXT_T", "THEMES",
    "THEME_T", "TIME_DIMS", "VALUE_COLUMNS", "WRITE_ORDER", "Existing", "ReceiptInfo", "ResponseInfo", "Slice",
    "SurveyInfo", "TextInfo", "VersionInfo", "add_receipt", "add_survey",
    "add_to_rollups", "add_version", "best_cuboid", "cuboid_columns", "day_span", "delete_response", "existing",
    "fact_counts", "fact_theme_counts", "insert_receipts", "insert_responses", "insert_texts",
    "latest_version_number", "prune_rollups", "rebuild_rollups", "receipt_by_id", "receipt_count",
    "recounting_themes", "response_by_id", "responses_page", "rollup_counts", "set_current_version", "survey_by_id",
    "survey_by_slug", "survey_state", "sync_codes", "texts_for", "texts_page", "version_by_id", "versions",
    "withdraw_receipt",
]
