"""Logging setup. Log lines carry identifiers, never transcript, chat or answer text."""

from __future__ import annotations

import logging


def setup(level: str = "info") -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
