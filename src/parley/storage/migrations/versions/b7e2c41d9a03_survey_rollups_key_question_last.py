"""survey rollups: question after the cell in the primary key

Revision ID: b7e2c41d9a03
Revises: ba2e11a79e51
Create Date: 2026-12-07 08:05:00

One response adds 1 to about nine (question, option) rows in each of the 21 cuboids. With
``question`` third in the key those rows lay in a different B-tree region per question, so a
one-response transaction dirtied ~80 pages of ``survey_rollups`` (~330 KB of WAL, then the
checkpoint): the bulk of the bytes written per survey response. With the key
(survey, cuboid, v1..v4, day, question, option) a response's rows of one cuboid are neighbours.
The table is rebuilt on SQLite (WITHOUT ROWID: the key is the table) and re-keyed on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = 'b7e2c41d9a03'
down_revision: str | None = 'ba2e11a79e51'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = "survey_id, cuboid, question, v1, v2, v3, v4, day, option, n"
NEW_KEY = ("survey_id", "cuboid", "v1", "v2", "v3", "v4", "day", "question", "option")
OLD_KEY = ("survey_id", "cuboid", "question", "v1", "v2", "v3", "v4", "day", "option")


def _rekey(key: Sequence[str]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE survey_rollups DROP CONSTRAINT pk_survey_rollups")
        op.execute(f"ALTER TABLE survey_rollups ADD CONSTRAINT pk_survey_rollups PRIMARY KEY ({', '.join(key)})")
        return
    op.execute(
        "CREATE TABLE survey_rollups_rekeyed ("
        "survey_id INTEGER NOT NULL, cuboid SMALLINT NOT NULL, "
        "question VARCHAR(64) NOT NULL, v1 VARCHAR(16) NOT NULL, v2 VARCHAR(16) NOT NULL, "
        "v3 VARCHAR(16) NOT NULL, v4 VARCHAR(16) NOT NULL, day INTEGER NOT NULL, option VARCHAR(64) NOT NULL, "
        f"n INTEGER NOT NULL, CONSTRAINT pk_survey_rollups PRIMARY KEY ({', '.join(key)}), "
        "CONSTRAINT fk_survey_rollups_survey_id_surveys FOREIGN KEY (survey_id) REFERENCES surveys (id) "
        "ON DELETE CASCADE) WITHOUT ROWID")
    op.execute(f"INSERT INTO survey_rollups_rekeyed ({COLUMNS}) SELECT {COLUMNS} FROM survey_rollups "
               f"ORDER BY {', '.join(key)}")
    op.execute("DROP TABLE survey_rollups")
    op.execute("ALTER TABLE survey_rollups_rekeyed RENAME TO survey_rollups")


def upgrade() -> None:
    _rekey(NEW_KEY)


def downgrade() -> None:
    _rekey(OLD_KEY)
