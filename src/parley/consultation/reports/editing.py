"""Saving a draft: checking a save's fields and quotes, then applying them to the report."""

from __future__ import annotations

from typing import Any

from parley.clock import Clock
from parley.consultation.reports.rules import N_, quotable_speakers
from parley.consultation.reports.views import ReportInput
from parley.errors import Conflict, InvalidInput
from parley.reference import normalise_language
from parley.storage.stores import reports as store
from parley.storage.stores.accounts import Account
from parley.storage.stores.dialogues import DialogueInfo
from parley.storage.stores.reports import NewQuote, ReportInfo
from parley.vocabulary import OnTrack

TEXT_MAX = 20_000
QUOTE_MAX = 2_000
QUOTES_MAX = 40
PARTICIPANTS_MAX = 100_000


def _clean(value: str | None, limit: int, name: str, errors: dict[str, str]) -> str | None:
    if value is None:
        return None
    text = value.replace("\r\n", "\n").strip()
    if len(text) > limit:
        errors[name] = "length"
    return text


def _language(value: str | None, name: str, errors: dict[str, str]) -> str | None:
    if value is None:
        return None
    code = normalise_language(value)
    if code is None:
        errors[name] = "unknown_language"
    return code


async def apply_input(
    s: Any, clock: Clock, actor: Account, d: DialogueInfo, report: ReportInfo, data: ReportInput
) -> None:
    """Check ``data`` against the report's version and limits, then change the report."""
    if data.version is not None and data.version != report.version:
        raise Conflict(N_("The report was changed elsewhere meanwhile. Reload it; your text is kept below."),
                       code="report_changed")
    errors: dict[str, str] = {}
    language = _language(data.language, "language", errors)
    texts = {name: _clean(getattr(data, name), TEXT_MAX, name, errors)
             for name in ("future", "on_track_text", "actions", "notes")}
    on_track: OnTrack | None | bool = False  # False: unchanged
    if data.on_track is not None:
        try:
            on_track = OnTrack(data.on_track) if data.on_track else None
        except ValueError:
            errors["on_track"] = "invalid"
    count: int | None | bool = False
    if data.participant_count is not None:
        raw = str(data.participant_count).strip()
        if not raw:
            count = None
        elif raw.isascii() and raw.isdigit() and int(raw) <= PARTICIPANTS_MAX:
            count = int(raw)
        else:
            errors["participant_count"] = "range"
    languages: list[str] | None = None
    if data.languages is not None:
        codes = [normalise_language(c) for c in data.languages if c.strip()]
        if any(c is None for c in codes) or len(codes) > 50:
            errors["languages"] = "unknown_language"
        languages = sorted({c for c in codes if c})
    existing = {q.id: q for q in await store.quotes(s, report.id)}
    speakers = {sp.user_id: sp for sp in await quotable_speakers(s, d.id)}
    new_quotes: list[NewQuote] = []
    for i, q in enumerate(data.quotes[:QUOTES_MAX]):
        if q.id is not None:
            row = existing.get(q.id)
            if row is None:
                errors[f"quotes.{i}"] = "not_found"
                continue
            if q.remove:
                await store.delete_quote(s, row.id)
                continue
            changes: dict[str, Any] = {}
            if q.included is not None:
                changes["included"] = q.included
            if q.translation is not None:
                translation = q.translation.strip()[:QUOTE_MAX]
                if translation != (row.translation or ""):
                    changes["translation"] = translation or None
                    changes["translation_language"] = report.language if translation else None
                    changes["translation_engine"] = "" if translation else None
            if changes:
                await store.update_quote(s, row.id, **changes)
            continue
        if q.remove or not (q.text or "").strip():
            continue
        speaker = speakers.get(q.speaker_user_id or 0)
        if speaker is None:
            errors[f"quotes.{i}.speaker_user_id"] = "no_consent"
            continue
        text = (q.text or "").strip()
        quote_language = normalise_language(q.language or speaker.language)
        if len(text) > QUOTE_MAX:
            errors[f"quotes.{i}.text"] = "length"
        if quote_language is None:
            errors[f"quotes.{i}.language"] = "unknown_language"
            continue
        typed = (q.translation or "").strip()[:QUOTE_MAX] or None
        new_quotes.append(NewQuote(
            position=len(existing) + len(new_quotes), included=True, segment_id=None,
            speaker_user_id=speaker.user_id, speaker_name=speaker.name, text=text, language=quote_language,
            translation=typed, translation_language=report.language if typed else None,
            translation_engine="" if typed else None, created_at=clock.now(),
        ))
    if errors:
        raise InvalidInput(N_("Some fields need attention."), fields=errors)
    values: dict[str, Any] = {name: value for name, value in texts.items() if value is not None}
    if language is not None:
        values["language"] = language
    if on_track is not False:
        values["on_track"] = on_track if isinstance(on_track, OnTrack) else None
    if count is not False:
        values["participant_count"] = count if isinstance(count, int) and not isinstance(count, bool) else None
    if languages is not None:
        values["languages"] = languages
    store.add_quotes(s, report.id, new_quotes)
    await store.revise(s, report.id, clock.now(), by=actor.id, **values)
