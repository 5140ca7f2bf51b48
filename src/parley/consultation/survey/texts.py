"""Free text for analysis: the consented open and "other" answers theme coding reads.
Every stored text has consent to analysis; some may also be quoted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from parley.consultation.survey.loading import Loader
from parley.consultation.survey.views import TextAnswer
from parley.storage.database import Database
from parley.storage.stores import survey as store


class Texts:
    """Consented free-text answers, paged in id order."""

    def __init__(self, db: Database, loader: Loader) -> None:
        self.db = db
        self.loader = loader

    async def texts(self, *, after_id: int = 0, limit: int = 1000, since: datetime | None = None,
                    quotable_only: bool = False) -> list[TextAnswer]:
        """Consented free-text answers in id order (page with ``after_id``). Every stored text
        has consent to analysis; ``quotable_only`` keeps those that may also be quoted."""
        survey = await self.loader.current()
        async with self.db.session() as s:
            return await store.texts_page(s, survey.id, after_id, min(max(limit, 1), 10_000), since=since,
                                          quotable_only=quotable_only)

    async def iter_texts(self, *, batch: int = 1000, since: datetime | None = None) -> AsyncIterator[TextAnswer]:
        after = 0
        while True:
            page = await self.texts(after_id=after, limit=batch, since=since)
            for item in page:
                yield item
            if len(page) < batch:
                return
            after = page[-1].id
