"""registrations ask age and education in the survey's groups; theme counts; survey rollups by language

Revision ID: 934418842b7f
Revises: cf45884d6510
Create Date: 2026-11-29 07:29:46.217826

Registrations: ``education`` is added and ``age_group`` may be null. Existing age bands are
moved to the survey's groups where the band lies wholly inside one group, and set to null
(asked again when the registration is next saved) where it straddles two:

    0-15        -> under-18     (exact: everyone 15 or younger is under 18)
    76+         -> 65-plus      (exact: everyone 76 or older is 65 or over)
    undisclosed -> unstated     (prefer not to say)
    16-30, 31-45, 46-60, 61-75, anything else -> null
                                (16-30 spans under-18, 18-24 and 25-34; 31-45 spans 25-34
                                to 45-54; 46-60 spans 45-54 and 55-64; 61-75 spans 55-64
                                and 65-plus)

Education was not asked, so it is null for every existing registration. Downgrading puts
every age group back as "undisclosed" (no survey group fits one old band exactly).

Counts, from the rows already there (the application keeps them from then on):

* ``analysis_speaker_themes``: coded transcript lines per dialogue, speaker and theme.
* ``survey_rollups``: the new language cuboids (26 to 28) for every question, and the
  ``_themes`` pseudo-question (coded free-text answers per theme) in every cuboid. The
  cuboids are copied below as they are at this revision. One pass over the responses per
  language cuboid and one over the coded texts per cuboid: minutes at a million responses.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import parley.storage.models

# parley.storage.stores.survey at this revision: cuboid id -> dimensions, and their columns.
CUBOIDS: dict[int, tuple[str, ...]] = {
    0: (), 1: ("day",), 3: ("country",), 7: ("day", "region"), 8: ("day", "country"), 9: ("day", "age"),
    10: ("day", "gender"), 11: ("day", "education"), 15: ("country", "age"), 16: ("country", "gender"),
    17: ("country", "education"), 21: ("region", "age", "gender", "education"),
    22: ("country", "age", "gender", "education"), 23: ("month", "country"), 24: ("week", "age", "gender", "education"),
    25: ("week", "region", "age", "gender", "education"), 26: ("language", "age", "gender", "education"),
    27: ("language", "country"), 28: ("day", "language"),
}
NEW_CUBOIDS = (26, 27, 28)
DIM_COLUMNS = {"day": "day", "week": "week", "month": "month", "region": "region", "country": "country",
               "age": "age_group", "gender": "gender", "education": "education", "language": "language"}
TIME_DIMS = ("day", "week", "month")
SLOTS = 8
SURVEY_AGE_GROUPS = ("under-18", "18-24", "25-34", "35-44", "45-54", "55-64", "65-plus", "unstated")
AGE_MAP = {"0-15": "under-18", "76+": "65-plus", "undisclosed": "unstated"}


def _cuboid_key(cid: int) -> tuple[list[str], str]:
    """(the SQL of v1..v4, the SQL of day) for one cuboid, over responses ``r``."""
    values = [f"r.{DIM_COLUMNS[d]}" for d in CUBOIDS[cid] if d not in TIME_DIMS]
    values += ["''"] * (4 - len(values))
    time = next((f"r.{DIM_COLUMNS[d]}" for d in CUBOIDS[cid] if d in TIME_DIMS), "-1")
    return values, time


def _count_into_rollups(bind: sa.engine.Connection, cid: int, question: str, option: str, source: str,
                        where: str = "", group: tuple[str, ...] = ()) -> None:
    """Count ``source`` rows into one cuboid; ``group`` lists the columns that ``question`` and
    ``option`` are made of (a constant is not grouped by: SQL would read a number as a position)."""
    values, day = _cuboid_key(cid)
    keys = ", ".join(k for k in ["r.survey_id", *group, *values, day] if k.startswith(("r.", "k.", "t.")))
    bind.execute(sa.text(
        "INSERT INTO survey_rollups (survey_id, cuboid, question, v1, v2, v3, v4, day, option, n) "
        f"SELECT r.survey_id, {cid}, {question}, {', '.join(values)}, {day}, {option}, count(*) "
        f"FROM {source} {('WHERE ' + where) if where else ''} GROUP BY {keys}"))


def _backfill_counts() -> None:
    bind = op.get_bind()
    # Registrations: the survey's age groups where an old band fits one exactly.
    cases = " ".join(f"WHEN '{old}' THEN '{new}'" for old, new in AGE_MAP.items())
    known = ", ".join(f"'{code}'" for code in SURVEY_AGE_GROUPS)
    bind.execute(sa.text(f"UPDATE registrations SET age_group = CASE age_group {cases} ELSE NULL END "
                         f"WHERE age_group IS NOT NULL AND age_group NOT IN ({known})"))
    # Coded transcript lines per speaker.
    lines = ("FROM transcript_segments s JOIN analysis_codings c ON c.segment_id = s.id "
             "WHERE s.speaker_user_id IS NOT NULL")
    bind.execute(sa.text(
        "INSERT INTO analysis_speaker_themes (dialogue_id, user_id, theme, n) "
        "SELECT s.dialogue_id, s.speaker_user_id, coalesce(t.theme, '_other'), count(*) "
        "FROM transcript_segments s JOIN analysis_codings c ON c.segment_id = s.id "
        "LEFT JOIN analysis_coding_themes t ON t.coding_id = c.id WHERE s.speaker_user_id IS NOT NULL "
        "GROUP BY s.dialogue_id, s.speaker_user_id, t.theme "
        f"UNION ALL SELECT s.dialogue_id, s.speaker_user_id, '', count(*) {lines} "
        "GROUP BY s.dialogue_id, s.speaker_user_id"))
    # Survey answers in the language cuboids.
    slot = "CASE k.slot WHEN 0 THEN 1 " + " ".join(f"WHEN {i} THEN r.c{i}" for i in range(1, SLOTS + 1)) + " ELSE 0 END"
    answers = "survey_responses r JOIN survey_codes k ON k.survey_id = r.survey_id"
    for cid in NEW_CUBOIDS:
        _count_into_rollups(bind, cid, "k.question", "k.option", answers, f"({slot}) & k.mask <> 0",
                            ("k.question", "k.option"))
    # Themes of the coded free-text answers in every cuboid.
    coded = ("survey_responses r JOIN survey_texts x ON x.response_id = r.id "
             "JOIN analysis_codings c ON c.survey_text_id = x.id")
    for cid in CUBOIDS:
        _count_into_rollups(bind, cid, "'_themes'", "coalesce(t.theme, '_other')",
                            coded + " LEFT JOIN analysis_coding_themes t ON t.coding_id = c.id", group=("t.theme",))
        _count_into_rollups(bind, cid, "'_themes'", "''", coded)


revision: str = '934418842b7f'
down_revision: str | None = 'cf45884d6510'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table('analysis_speaker_themes',
    sa.Column('dialogue_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('theme', sa.String(length=64), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['dialogue_id'], ['dialogues.id'], name=op.f('fk_analysis_speaker_themes_dialogue_id_dialogues'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_analysis_speaker_themes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('dialogue_id', 'user_id', 'theme', name=op.f('pk_analysis_speaker_themes'))
    )
    with op.batch_alter_table('analysis_speaker_themes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_analysis_speaker_themes_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('education', sa.String(length=16), nullable=True))
        batch_op.alter_column('age_group',
               existing_type=sa.VARCHAR(length=16),
               nullable=True)

    # ### end Alembic commands ###
    _backfill_counts()


def downgrade() -> None:
    op.execute("DELETE FROM survey_rollups WHERE cuboid IN (26, 27, 28) OR question = '_themes'")
    op.execute("UPDATE registrations SET age_group = 'undisclosed'")
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.alter_column('age_group',
               existing_type=sa.VARCHAR(length=16),
               nullable=False)
        batch_op.drop_column('education')

    with op.batch_alter_table('analysis_speaker_themes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_analysis_speaker_themes_user_id'))

    op.drop_table('analysis_speaker_themes')
    # ### end Alembic commands ###
