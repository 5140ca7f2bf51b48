"""Consultation tables (survey, responses, aggregates). Being written."""

from __future__ import annotations
