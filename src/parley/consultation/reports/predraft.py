"""The pre-draft: a report's sections and quote candidates drafted from the transcript.

Reads only lines whose speaker allows a transcript, picks each phase's most representative
ones (`selection`), proposes quotes from speakers who also allow quotes, and translates what
it picked into the report's language where an engine covers the pair.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from parley.clock import Clock
from parley.consultation.drafting import Step
from parley.consultation.reports.selection import PHASES, _central, _phases
from parley.errors import EngineError
from parley.storage.database import Database
from parley.storage.stores import reports as store
from parley.storage.stores import transcripts as transcript_store
from parley.storage.stores.dialogues import DialogueInfo
from parley.storage.stores.reports import NewQuote
from parley.storage.stores.transcripts import ConsentedLine

if TYPE_CHECKING:
    from parley.consultation.analysis.embeddings import FloatArray
    from parley.consultation.themes import Analysis, TextTranslator

log = logging.getLogger(__name__)

PER_PHASE = 3
CANDIDATES = 6
CANDIDATES_PER_SPEAKER = 2
QUOTE_LENGTH = (30, 400)
EMBED_CHUNK = 64  # lines embedded between two progress steps
LINES_MAX = 3_000  # a 90-minute dialogue has a few hundred


@dataclass
class Draft:
    sections: dict[str, str]
    candidates: list[NewQuote]
    participant_count: int
    languages: list[str]
    notices: list[str]


def _mt_code(code: str) -> str:
    return code.split("-")[0].lower()


class PreDrafter:
    """Drafts from the transcript with the analysis's embedder and translator (either may be missing)."""

    def __init__(self, db: Database, clock: Clock, analysis: Analysis | None) -> None:
        self.db = db
        self.clock = clock
        self.analysis = analysis

    async def draft(self, d: DialogueInfo, language: str, step: Step) -> Draft:
        step("reading", 0, 0)
        async with self.db.session() as s:
            lines = [line for line in await transcript_store.consented(s, d.id) if line.text.strip()]
            regs = await store.registrations(s, d.id)
        lines = lines[:LINES_MAX]
        languages = sorted({r.preferred_language for r in regs} | {line.language for line in lines})
        draft = Draft(sections={}, candidates=[], participant_count=len(regs), languages=languages, notices=[])
        if not lines:
            draft.notices.append("no_transcript")
            return draft
        texts = [line.text for line in lines]
        vectors = await self._embed(texts, step)
        if vectors is None:
            draft.notices.append("engine_missing")
        phases = _phases(lines, d.started_at, d.ended_at)
        picked: dict[str, list[int]] = {}
        for phase, members in zip(PHASES, phases, strict=True):
            picked[phase] = sorted(_central(members, texts, vectors, PER_PHASE))
        quotable = [i for i, line in enumerate(lines)
                    if line.quotable and QUOTE_LENGTH[0] <= len(line.text.strip()) <= QUOTE_LENGTH[1]]
        per_speaker: dict[int, int] = {}
        candidates: list[int] = []
        for i in _central(quotable, texts, vectors, len(quotable)):
            uid = lines[i].speaker_user_id
            if per_speaker.get(uid, 0) < CANDIDATES_PER_SPEAKER:
                per_speaker[uid] = per_speaker.get(uid, 0) + 1
                candidates.append(i)
            if len(candidates) >= CANDIDATES:
                break
        wanted = sorted({i for ids in picked.values() for i in ids} | set(candidates))
        translated, engines = await self._translate([lines[i] for i in wanted], language, draft.notices, step)
        by_index = dict(zip(wanted, zip(translated, engines, strict=True), strict=True))
        for phase, ids in picked.items():
            bullets = []
            for i in ids:
                line = lines[i]
                text, _engine = by_index[i]
                bullets.append(f"• {text}" if text is not None else f"• {line.text.strip()} [{line.language}]")
            if bullets:
                draft.sections[phase] = "\n".join(bullets)
        now = self.clock.now()
        for position, i in enumerate(sorted(candidates, key=lambda j: (lines[j].started_at, j))):
            line = lines[i]
            text, engine = by_index[i]
            draft.candidates.append(NewQuote(
                position=position, included=False, segment_id=line.segment_id, speaker_user_id=line.speaker_user_id,
                speaker_name=(line.speaker_name or line.account_name)[:120], text=line.text.strip(),
                language=line.language, translation=text if engine else None,
                translation_language=language if engine else None, translation_engine=engine, created_at=now,
            ))
        return draft

    async def _embed(self, texts: Sequence[str], step: Step) -> FloatArray | None:
        """The lines' embeddings, ``EMBED_CHUNK`` at a time so the page can count them; None
        without an analysis engine."""
        if self.analysis is None:
            return None
        import numpy as np

        parts = []
        step("choosing", 0, len(texts))
        for at in range(0, len(texts), EMBED_CHUNK):
            part = await self.analysis.embed(texts[at:at + EMBED_CHUNK])
            if part is None:
                return None
            parts.append(part)
            step("choosing", min(len(texts), at + EMBED_CHUNK), len(texts))
        return np.concatenate(parts) if parts else None

    async def _translate(self, segments: Sequence[ConsentedLine], target: str, notices: list[str],
                         step: Step) -> tuple[list[str | None], list[str | None]]:
        """Each segment in ``target``: (text, engine); (None, None) where no engine covers the
        pair; (original, None) when it is in ``target`` already."""
        texts: list[str | None] = [None] * len(segments)
        engines: list[str | None] = [None] * len(segments)
        groups: dict[str, list[int]] = {}
        for i, seg in enumerate(segments):
            if _mt_code(seg.language) == _mt_code(target):
                texts[i] = seg.text.strip()
            else:
                groups.setdefault(_mt_code(seg.language), []).append(i)
        if not groups:
            return texts, engines
        total, done = sum(len(ids) for ids in groups.values()), 0
        step("translating", 0, total)
        translator: TextTranslator | None = await self.analysis.translator() if self.analysis is not None else None
        for source, ids in groups.items():
            done += len(ids)
            engine = translator.engine_for(source, _mt_code(target)) if translator is not None else None
            if translator is None or engine is None:
                notices.append(f"translation_unavailable:{source}-{_mt_code(target)}")
                continue
            try:
                out = await translator.translate([segments[i].text.strip() for i in ids], source, _mt_code(target))
            except EngineError as exc:
                log.warning("report translation %s->%s failed (%s)", source, target, exc.engine)
                notices.append(f"translation_unavailable:{source}-{_mt_code(target)}")
                continue
            for i, text in zip(ids, out, strict=True):
                texts[i], engines[i] = text, engine
            step("translating", done, total)
        return texts, engines
