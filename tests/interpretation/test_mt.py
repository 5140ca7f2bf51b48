"""Translation: glossary, batching, routing with pivots and missing pairs, Apertium for real,
and the CTranslate2 engine on tiny models the test builds itself (no downloads).
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from parley.errors import ModelMissing
from parley.interpretation.mt.apertium import ApertiumEngine, NullFlushPipe, escape, parse_modes, unescape
from parley.interpretation.mt.base import Glossary, PairUnavailable
from parley.interpretation.mt.registry import Translator
from parley.interpretation.scheduler import InferenceScheduler
from tests.fakes.clock import FakeClock
from tests.fakes.engines import FakeMt

pytestmark = pytest.mark.unit


def test_glossary_protects_and_restores_terms() -> None:
    g = Glossary({("en", "es"): {"UN75": "ONU75", "Secretary-General": "Secretario General"}})
    text, mapping = g.protect("The secretary-general opened UN75 today.", "en", "es")
    assert "UN75" not in text and "secretary" not in text.lower()
    assert Glossary.restore(text, mapping) == "The Secretario General opened ONU75 today."
    assert g.protect("UN75", "en", "fr") == ("UN75", {})  # other pairs untouched
    assert g.protect("UN750 is different", "en", "es")[1] == {}  # whole words only


async def test_concurrent_requests_for_a_pair_are_batched(clock: FakeClock) -> None:
    mt = FakeMt(clock=clock, pairs=[("en", "es")])
    release = asyncio.Event()
    mt.gate = release.wait
    first = asyncio.create_task(mt.translate(["one"], "en", "es"))
    await asyncio.sleep(0.01)  # first call is now running (held by the gate)
    rest = [asyncio.create_task(mt.translate([f"s{i}"], "en", "es")) for i in range(3)]
    await asyncio.sleep(0.01)
    release.set()
    assert await first == ["[es] one"]
    assert [await r for r in rest] == [["[es] s0"], ["[es] s1"], ["[es] s2"]]
    # the three that waited went out together, in order
    assert [batch for _, _, batch in mt.batch_log] == [["one"], ["s0", "s1", "s2"]]
    await mt.aclose()


async def test_empty_texts_keep_their_place(clock: FakeClock) -> None:
    mt = FakeMt(clock=clock, pairs=[("en", "es")])
    assert await mt.translate(["a", "", "b\nc"], "en", "es") == ["[es] a", "", "[es] b c"]
    assert mt.batch_log == [("en", "es", ["a", "b c"])]
    await mt.aclose()


async def test_routes_direct_pivot_and_missing(clock: FakeClock) -> None:
    neural = FakeMt(clock=clock, pairs=[("en", "fr")], name="neural")
    rules = FakeMt(clock=clock, pairs=[("en", "es"), ("es", "en"), ("fr", "es"), ("es", "fr")], name="rules")
    t = Translator([neural, rules], pivots=("en", "es"))
    await t.start()
    assert t.route("en", "fr").engine == "neural"  # type: ignore[union-attr]
    pivot = t.route("fr", "en")
    assert pivot is not None and pivot.pivot == "es" and pivot.engine == "rules via es"
    assert t.route("ar", "en") is None
    assert ("ar", "zh") in t.missing(["en", "ar", "zh"])
    table = t.coverage(["en", "es", "ar"])
    assert table["en"]["es"] == "rules" and table["en"]["ar"] is None
    assert t.languages() == {"en", "fr", "es"}

    result = await t.translate(["bonjour"], "fr", "en")
    assert result.texts == ["[en] [es] bonjour"] and result.engine == "rules via es"
    with pytest.raises(PairUnavailable) as err:
        await t.translate(["x"], "ar", "en")
    assert not err.value.retryable
    assert (await t.translate(["same"], "en", "en")).texts == ["same"]
    await t.aclose()


async def test_glossary_survives_a_pivot(clock: FakeClock) -> None:
    rules = FakeMt(clock=clock, pairs=[("fr", "es"), ("es", "en")])
    t = Translator([rules], pivots=("es",), glossary=Glossary({("fr", "en"): {"ONU": "UN"}}))
    assert (await t.translate(["L'ONU parle"], "fr", "en")).texts == ["[en] [es] L'UN parle"]
    await t.aclose()


async def test_an_engine_that_cannot_start_is_listed_not_used(clock: FakeClock) -> None:
    missing = ApertiumEngine(clock=clock, binary="no-such-apertium-binary")
    t = Translator([missing])
    await t.start()
    assert "apertium" in t.unavailable and t.engines == []
    assert t.route("en", "es") is None


def test_apertium_mode_listing_is_mapped_to_iso_639_1() -> None:
    modes = parse_modes("  eco-es-fr\n  eng-spa\n  es-fr\n  fr-es\n  spa-eng\n  spa-eng_US\n")
    assert modes == {("en", "es"): "eng-spa", ("es", "en"): "spa-eng", ("es", "fr"): "es-fr", ("fr", "es"): "fr-es"}


# --- Apertium for real -----------------------------------------------------------------------

needs_apertium = pytest.mark.skipif(shutil.which("apertium") is None,
                                    reason="apertium not installed (apt-get install apertium apertium-eng-spa "
                                           "apertium-fr-es)")


@needs_apertium
async def test_apertium_translates_english_to_spanish_in_batches(clock: FakeClock) -> None:
    engine = ApertiumEngine(clock=clock)
    try:
        await engine.start()
    except ModelMissing as exc:
        pytest.skip(str(exc))
    if not engine.supports("en", "es"):
        pytest.skip("apertium-eng-spa not installed")
    out = await engine.translate(["The house is red.", "", "Hello world."], "en", "es")
    assert out[0].lower().startswith("la casa es roja") and out[1] == ""
    assert "hola" in out[2].lower()
    await engine.aclose()


@needs_apertium
async def test_apertium_pivots_french_to_english_and_keeps_glossary_terms(clock: FakeClock) -> None:
    engine = ApertiumEngine(clock=clock)
    t = Translator([engine], pivots=("es",), glossary=Glossary({("fr", "en"): {"Parley": "Parley Platform"}}))
    await t.start()
    if t.route("fr", "en") is None:
        pytest.skip("apertium fr-es / spa-eng pairs not installed")
    result = await t.translate(["La maison est rouge.", "Bienvenue sur Parley."], "fr", "en")
    assert result.engine == "apertium via es"
    assert result.texts[0].lower().startswith("the house is red")
    assert "Parley Platform" in result.texts[1]
    await t.aclose()


@needs_apertium
async def test_portuguese_speakers_are_translated_through_spanish(clock: FakeClock) -> None:
    t = Translator([ApertiumEngine(clock=clock)])
    await t.start()
    if t.route("pt", "en") is None:
        pytest.skip("apertium-es-pt / apertium-eng-spa not installed")
    result = await t.translate(["Os alunos podem definir suas posturas."], "pt", "en")
    assert result.engine == "apertium via es"
    assert "students" in result.texts[0].lower()
    direct = await t.translate(["Los alumnos pueden definir sus posturas."], "es", "pt")
    assert direct.texts[0].lower().startswith("os alunos podem definir")
    await t.aclose()


@needs_apertium
async def test_apertium_keeps_one_pipeline_per_pair_and_matches_a_one_shot_call(clock: FakeClock) -> None:
    kept, one_shot = ApertiumEngine(clock=clock), ApertiumEngine(clock=clock, persistent=False)
    try:
        await kept.start()
        await one_shot.start()
    except ModelMissing as exc:
        pytest.skip(str(exc))
    if not kept.supports("en", "es"):
        pytest.skip("apertium-eng-spa not installed")
    texts = ["What future do we want?", "The UN [United Nations] costs $5 / day \\ {ok} <b> @home ^x.",
             "Are we on track to get there?"]
    try:
        first = await kept.translate(texts, "en", "es")
        pipe = kept._pipes["eng-spa"]
        assert pipe is not None and pipe._proc is not None
        pid = pipe._proc.pid
        assert await kept.translate(texts[:1], "en", "es") == first[:1]
        assert pipe._proc is not None and pipe._proc.pid == pid  # the same processes answered
        assert first == await one_shot.translate(texts, "en", "es")
        assert "[" in first[1] and "$5" in first[1] and "\\" in first[1]

        pipe.kill()  # a pipeline that died is started again and loses nothing
        assert await kept.translate(texts, "en", "es") == first
    finally:
        await kept.aclose()
        await one_shot.aclose()


async def test_a_pipeline_that_hangs_is_killed_and_reported_failed() -> None:
    pipe = NullFlushPipe("cat > /dev/null", name="test", timeout_s=0.3)
    assert await pipe.translate(["hello"]) is None
    assert pipe.failures == 1 and pipe._proc is None and pipe.usable
    echo = NullFlushPipe("cat", name="echo", timeout_s=5)  # the stream format, unchanged
    assert await echo.translate(["a [b] $c", "d"]) == ["a [b] $c", "d"]
    await echo.aclose()


def test_apertium_stream_escaping_round_trips() -> None:
    text = "a [b] {c} $d ^e /f \\g <h> @i"
    assert unescape(escape(text)) == text
    assert unescape("x[]  y\\[z\\]") == "x y[z]"


# --- CTranslate2 on tiny self-built models -----------------------------------------------------

def build_tiny_transformer(path: Path, source_vocab: list[str], target_vocab: list[str], seed: int = 0) -> None:
    """A 1-layer random Transformer written with ctranslate2's spec API (nothing downloaded)."""
    ctranslate2 = pytest.importorskip("ctranslate2", reason="ctranslate2 not installed")
    from ctranslate2.specs import TransformerSpec

    rng = np.random.default_rng(seed)
    d, ff = 16, 32
    spec = TransformerSpec.from_config(num_layers=1, num_heads=2)

    def lin(layer: object, rows: int, cols: int) -> None:
        layer.weight = rng.normal(0, 0.5, (rows, cols)).astype(np.float32)  # type: ignore[attr-defined]
        layer.bias = np.zeros(rows, np.float32)  # type: ignore[attr-defined]

    def norm(layer: object) -> None:
        layer.gamma = np.ones(d, np.float32)  # type: ignore[attr-defined]
        layer.beta = np.zeros(d, np.float32)  # type: ignore[attr-defined]

    enc, dec = spec.encoder, spec.decoder
    enc.embeddings[0].weight = rng.normal(0, 1, (len(source_vocab), d)).astype(np.float32)
    dec.embeddings.weight = rng.normal(0, 1, (len(target_vocab), d)).astype(np.float32)
    norm(enc.layer_norm)
    norm(dec.layer_norm)
    lin(dec.projection, len(target_vocab), d)
    for layer in enc.layer:
        norm(layer.self_attention.layer_norm)
        lin(layer.self_attention.linear[0], 3 * d, d)
        lin(layer.self_attention.linear[1], d, d)
        norm(layer.ffn.layer_norm)
        lin(layer.ffn.linear_0, ff, d)
        lin(layer.ffn.linear_1, d, ff)
    for layer in dec.layer:
        norm(layer.self_attention.layer_norm)
        lin(layer.self_attention.linear[0], 3 * d, d)
        lin(layer.self_attention.linear[1], d, d)
        norm(layer.attention.layer_norm)
        lin(layer.attention.linear[0], d, d)
        lin(layer.attention.linear[1], 2 * d, d)
        lin(layer.attention.linear[2], d, d)
        norm(layer.ffn.layer_norm)
        lin(layer.ffn.linear_0, ff, d)
        lin(layer.ffn.linear_1, d, ff)
    spec.register_source_vocabulary(source_vocab)
    spec.register_target_vocabulary(target_vocab)
    spec.validate()
    spec.optimize(quantization=None)
    path.mkdir(parents=True, exist_ok=True)
    spec.save(str(path))
    assert ctranslate2.contains_model(str(path))


SPECIALS = ["<unk>", "<s>", "</s>"]


async def test_ctranslate2_engine_runs_a_tiny_model(tmp_path: Path, clock: FakeClock,
                                                   scheduler: InferenceScheduler) -> None:
    from parley.interpretation.mt.ctranslate2 import CTranslate2Engine

    target_words = ["hola", "mundo", "casa", "roja"]
    folder = tmp_path / "mt" / "tiny-en-es"
    build_tiny_transformer(folder, [*SPECIALS, "hello", "world", "house", "red"], [*SPECIALS, *target_words])
    (folder / "parley-mt.json").write_text(json.dumps({"type": "marian", "pairs": [["en", "es"]],
                                                       "tokenizer": "whitespace"}))
    engine = CTranslate2Engine(tmp_path, scheduler=scheduler, clock=clock, max_decoding_length=6)
    t = Translator([engine])
    await t.start()
    assert t.route("en", "es") is not None and t.route("en", "es").engine == "ctranslate2"  # type: ignore[union-attr]
    assert t.route("es", "en") is None  # only what is on disk is covered
    first = (await t.translate(["hello world", "red house", ""], "en", "es")).texts
    again = (await t.translate(["hello world"], "en", "es")).texts
    assert first[0] == again[0]  # deterministic (beam search on fixed weights)
    assert first[2] == ""
    for text in first[:2]:
        assert text and all(tok in [*target_words, "<unk>"] for tok in text.split())
    assert len(first[0].split()) <= 6
    assert engine.metrics.snapshot()["stages"]["mt.translate"]["count"] == 2
    await t.aclose()


@pytest.mark.parametrize(("kind", "tokens"), [("nllb", ["eng_Latn", "spa_Latn"]), ("m2m100", ["__en__", "__es__"])])
async def test_ctranslate2_nllb_style_model_with_sentencepiece(tmp_path: Path, clock: FakeClock,
                                                              scheduler: InferenceScheduler, kind: str,
                                                              tokens: list[str]) -> None:
    spm = pytest.importorskip("sentencepiece", reason="sentencepiece not installed")
    from parley.interpretation.mt.ctranslate2 import CTranslate2Engine

    folder = tmp_path / "mt" / "tiny-nllb"
    folder.mkdir(parents=True)
    corpus = folder / "corpus.txt"
    corpus.write_text("\n".join(["the house is red", "la casa es roja", "hello world", "hola mundo",
                                 "the world is big", "el mundo es grande"] * 20))
    spm.SentencePieceTrainer.train(input=str(corpus), model_prefix=str(folder / "spm"), vocab_size=40,
                                   model_type="bpe", character_coverage=1.0, bos_id=-1, eos_id=2, unk_id=0,
                                   pad_id=-1, user_defined_symbols=[], minloglevel=2)
    sp = spm.SentencePieceProcessor(model_file=str(folder / "spm.model"))
    pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    vocab = [*SPECIALS, *[p for p in pieces if p not in SPECIALS], *tokens]
    build_tiny_transformer(folder, vocab, vocab, seed=3)
    (folder / "parley-mt.json").write_text(json.dumps({"type": kind, "languages": ["en", "es"],
                                                       "tokenizer": "sentencepiece",
                                                       "source_spm": "spm.model"}))
    engine = CTranslate2Engine(tmp_path, scheduler=scheduler, clock=clock, max_decoding_length=8)
    await engine.start()
    assert engine.capabilities.pairs == {("en", "es"), ("es", "en")}
    [out] = await engine.translate(["the house is red"], "en", "es")
    assert not any(t in out for t in tokens)  # language tokens are stripped
    await engine.aclose()


async def test_ctranslate2_without_models_says_so(tmp_path: Path, clock: FakeClock,
                                                  scheduler: InferenceScheduler) -> None:
    from parley.interpretation.mt.ctranslate2 import CTranslate2Engine

    engine = CTranslate2Engine(tmp_path, scheduler=scheduler, clock=clock)
    with pytest.raises(ModelMissing, match="no CTranslate2 translation models"):
        await engine.start()
