"""Leases: which process runs a job that must run once across every Parley process.

One row per job name. ``holder`` is the process holding it (host, pid and a random part),
``generation`` goes up by one each time the lease changes hands (a fencing token: work
stamped with an older generation comes from a holder that lost it), and ``expires_at`` is
when others may take it unless the holder renews it first.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from parley.storage.models import Base


class Lease(Base):
    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    generation: Mapped[int] = mapped_column(default=1)
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]
