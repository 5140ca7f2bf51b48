"""Fixtures for the transcript tests: the people, an ended dialogue with lines in three
languages, and the transcript handler on a fake translation engine (fr<->en only)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import timedelta

import pytest

from parley.consultation.themes import RegistryTranslator
from parley.handlers.transcript_translations import TextTranslator, TranscriptTranslations, TranslationOptions
from parley.handlers.transcripts import Transcripts
from parley.interpretation.mt.registry import Translator
from parley.server import Server
from parley.storage.models import Dialogue, User
from parley.storage.stores import transcripts as store
from tests.analysis.helpers import Cast, ended_dialogue, make_cast, register
from tests.fakes.engines import FakeMt


@pytest.fixture
async def cast(server: Server) -> Cast:
    return await make_cast(server)


def install(server: Server, translator: TextTranslator | None, *,
            options: TranslationOptions | None = None) -> Transcripts:
    """Replace the server's transcripts with one translating through ``translator`` (no worker:
    tests run the jobs with `run_pending`, or start one)."""

    async def source() -> TextTranslator | None:
        return translator

    translations = TranscriptTranslations(server.db, server.clock, server.bus, translator=source,
                                          options=options or TranslationOptions(background=False, export_wait_s=0))
    handler = Transcripts(server.db, server.clock, translations)
    server.__dict__["transcript_translations"] = translations
    server.__dict__["transcripts"] = handler
    return handler


async def prepare(server: Server, dialogue_id: int, *languages: str) -> int:
    """Translate the dialogue's transcript into ``languages`` now; how many lines were made."""
    await server.transcript_translations.queue(dialogue_id, languages)
    return await server.transcript_translations.run_pending()


@pytest.fixture
async def mt(server: Server) -> AsyncIterator[FakeMt]:
    """A fake engine for fr<->en, behind the real registry (routes, pivots), installed."""
    engine = FakeMt(clock=server.clock, pairs=[("fr", "en"), ("en", "fr")])
    registry = Translator([engine])
    await registry.start()
    install(server, RegistryTranslator(registry))
    yield engine
    await registry.aclose()


async def line(server: Server, dialogue_id: int, user: User | None, text: str, *, minute: float, language: str,
               translations: Mapping[str, str] | None = None, name: str | None = None) -> int:
    async with server.db.session() as s:
        d = await s.get(Dialogue, dialogue_id)
        assert d is not None and d.started_at is not None
        begin = d.started_at + timedelta(minutes=minute)
        seg = await store.add(
            s, dialogue_id=dialogue_id, speaker_user_id=user.id if user else None,
            speaker_name=name if name is not None else (user.display_name if user else ""), language=language,
            started_at=begin, ended_at=begin + timedelta(seconds=4.5), text=text, created_at=begin,
            translations=translations)
        return seg.id


@dataclass
class Scene:
    dialogue: int
    fr: int  # line ids
    en: int
    withheld: int
    ru: int
    facilitator: int


@pytest.fixture
async def scene(server: Server, cast: Cast) -> Scene:
    """The future we want (en, fr, ru): four participants, one of whom withheld consent to a
    transcript, and the facilitator closing."""
    d = await ended_dialogue(server, cast, languages=("en", "fr", "ru"))
    fr, en, withheld, ru = cast.participants
    await register(server, d, fr, language="fr")
    await register(server, d, en, language="en")
    await register(server, d, withheld, transcript=False, language="en")
    await register(server, d, ru, language="ru")
    return Scene(
        dialogue=d,
        fr=await line(server, d, fr, "Je rêve d'un monde juste.", minute=3, language="fr",
                      translations={"en": "I dream of a fair world."}),
        en=await line(server, d, en, "Water for every village.", minute=5, language="en"),
        withheld=await line(server, d, withheld, "Something nobody may keep.", minute=8, language="en"),
        ru=await line(server, d, ru, "Привет всем.", minute=12, language="ru"),
        facilitator=await line(server, d, cast.facilitator, "Thank you all.", minute=88, language="en"),
    )
