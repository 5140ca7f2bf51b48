"""workspace routes (API under /api/v1 and pages). Being written."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
