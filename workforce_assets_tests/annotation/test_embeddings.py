"""Embedding backends: the Modal-or-local decision, chunking, strict failures, the packaged local model."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import numpy as np
import pytest

from workforce_assets.annotation.embeddings import (
    ENV_MODAL_APP,
    EmbeddingBackendError,
    LocalSentenceTransformerBackend,
    ModalEmbeddingBackend,
    choose_backend,
    chunk_texts,
)


class _FakeMethod:
    def __init__(self, log: list, fail: bool = False, drop_one: bool = False):
        self.log, self.fail, self.drop_one = log, fail, drop_one

    def map(self, chunks):
        chunks = list(chunks)
        self.log.append(chunks)
        if self.fail:
            raise RuntimeError("container crashed")
        for chunk in chunks:
            rows = chunk[:-1] if self.drop_one else chunk
            yield np.array([[len(t), i] for i, t in enumerate(rows)], dtype=np.float32)


class _FakeCls:
    """Stands in for modal.Cls.from_name(...): instantiated with parameters, exposes .embed.map."""

    def __init__(self, log: list, **behaviour):
        self.log, self.behaviour, self.params = log, behaviour, None

    def __call__(self, **params):
        self.params = params
        self.embed = _FakeMethod(self.log, **self.behaviour)
        return self


def test_chunking_keeps_order_and_sizes():
    texts = [f"t{i}" for i in range(10)]
    chunks = chunk_texts(texts, 4)
    assert [len(c) for c in chunks] == [4, 4, 2]
    assert sum(chunks, []) == texts
    assert chunk_texts([], 3) == []
    with pytest.raises(ValueError):
        chunk_texts(texts, 0)


@pytest.mark.parametrize("token, app, expect", [(False, "", "local"), (True, "", "local"),
                                                (False, "workforce-assets-embeddings", "local"),
                                                (True, "workforce-assets-embeddings", "modal")])
def test_backend_decision(token, app, expect):
    log: list = []
    choice = choose_backend(modal_app=app, token_present=lambda: token, lookup=lambda a, c: _FakeCls(log))
    assert choice.backend.name == expect
    assert choice.metadata["backend"] == expect and choice.metadata["reason"] == choice.reason
    if expect == "local":
        assert "Modal not configured" in choice.reason
        assert ("Modal token" in choice.reason) == (not token)
        assert (ENV_MODAL_APP in choice.reason) == (not app)
    else:
        assert "Modal configured" in choice.reason


def test_explicit_preferences_and_model_names():
    log: list = []

    class _Log:
        def info(self, message):
            log.append(message)

    local = choose_backend(preference="local", modal_app="app", token_present=lambda: True, log=_Log())
    assert local.backend.name == "local" and local.reason == "using the local model: requested"
    assert log == ["embedding backend: using the local model: requested"]
    with pytest.raises(EmbeddingBackendError, match="'modal' requested.*Modal token"):
        choose_backend(preference="modal", modal_app="app", token_present=lambda: False)
    with pytest.raises(ValueError, match="preference"):
        choose_backend(preference="gpu")
    modal = choose_backend(preference="modal", modal_app="app", model_name="bge-large-en-v1.5",
                           token_present=lambda: True, lookup=lambda a, c: _FakeCls([]))
    assert modal.backend.model_name == "BAAI/bge-large-en-v1.5"  # short names of baked models resolve


def test_decision_reads_environment(monkeypatch):
    monkeypatch.setenv(ENV_MODAL_APP, "my-app")
    monkeypatch.setenv("MODAL_TOKEN_ID", "ak-test")
    monkeypatch.setenv("MODAL_TOKEN_SECRET", "as-test")
    log: list = []
    choice = choose_backend(lookup=lambda app, cls: _FakeCls(log))
    assert choice.backend.name == "modal" and choice.metadata["app"] == "my-app"


def test_configured_but_failing_modal_raises_instead_of_falling_back():
    def broken_lookup(app, cls):
        raise ConnectionError("app not deployed")

    with pytest.raises(EmbeddingBackendError, match="configured.*app not deployed.*modal deploy"):
        choose_backend(modal_app="missing-app", token_present=lambda: True, lookup=broken_lookup)


def test_modal_backend_maps_over_chunks_in_order():
    log: list = []
    backend = ModalEmbeddingBackend("app", model_name="BAAI/bge-large-en-v1.5", chunk_size=3,
                                    lookup=lambda a, c: _FakeCls(log))
    texts = ["a", "bb", "ccc", "dddd", "eeeee", "ffffff", "g"]
    vectors = backend.embed(texts)
    assert log == [[["a", "bb", "ccc"], ["dddd", "eeeee", "ffffff"], ["g"]]]  # one .map call over 3 chunks
    assert vectors.shape == (7, 2) and vectors.dtype == np.float32
    assert vectors[:, 0].tolist() == [len(t) for t in texts]  # rows come back in the texts' order
    assert backend._remote.params == {"model_name": "BAAI/bge-large-en-v1.5"}
    # KeyBERT gets an embedder that delegates to the backend, never a model name to download
    assert backend.keybert_model().embed(["xy"]).tolist() == [[2.0, 0.0]]


def test_modal_backend_logs_progress_as_chunks_return(caplog):
    backend = ModalEmbeddingBackend("app", model_name="BAAI/bge-large-en-v1.5", chunk_size=3,
                                    lookup=lambda a, c: _FakeCls([]))
    with caplog.at_level(logging.INFO, logger="workforce_assets.annotation.embeddings"):
        backend.embed([f"text {i}" for i in range(7)])
    lines = [r.getMessage() for r in caplog.records if "embedding texts (Modal" in r.getMessage()]
    assert lines and "7 / 7 texts done" in lines[-1] and "per s" in lines[-1]


def test_modal_backend_errors_are_clear():
    failing = ModalEmbeddingBackend("app", chunk_size=2, lookup=lambda a, c: _FakeCls([], fail=True))
    with pytest.raises(EmbeddingBackendError, match="3 texts in 2 chunks failed"):
        failing.embed(["a", "b", "c"])
    short = ModalEmbeddingBackend("app", chunk_size=2, lookup=lambda a, c: _FakeCls([], drop_one=True))
    with pytest.raises(EmbeddingBackendError, match="different number"):
        short.embed(["a", "b", "c"])
    with pytest.raises(ValueError, match="not strings"):
        short.embed(["a", None])
    with pytest.raises(EmbeddingBackendError, match="not baked"):
        ModalEmbeddingBackend("app", model_name="some/unbaked-model", lookup=lambda a, c: _FakeCls([]))


def test_modal_app_imports_without_credentials(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODAL_")}
    env["HOME"] = str(tmp_path)  # no ~/.modal.toml either
    code = ("import workforce_assets.annotation.modal_app as m; "
            "print(m.APP_NAME, m.DEFAULT_MODEL in m.BAKED_MODELS, type(m.app).__name__)")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["workforce-assets-embeddings", "True", "App"]


@pytest.fixture(scope="module")
def local_backend():
    return LocalSentenceTransformerBackend()


def test_local_packaged_model_embeds_offline(local_backend):
    vectors = local_backend.embed(["deep learning researcher", "deep learning researcher", "pastry chef"])
    assert vectors.shape == (3, 384)
    np.testing.assert_allclose(vectors[0], vectors[1], rtol=1e-5)
    cosine = vectors @ vectors.T / np.outer(np.linalg.norm(vectors, axis=1), np.linalg.norm(vectors, axis=1))
    assert cosine[0, 1] > 0.99 > cosine[0, 2]
    assert local_backend.describe()["backend"] == "local"
    with pytest.raises(EmbeddingBackendError):
        LocalSentenceTransformerBackend("/nonexistent/model")


class _CountingBackend:
    name, model_name = "fake", "fake-model"

    def __init__(self):
        self.calls: list[list[str]] = []

    def embed(self, texts):
        self.calls.append(list(texts))
        return np.array([[len(t), sum(map(ord, t)) % 97, 1.0] for t in texts], dtype=np.float32)

    def describe(self):
        return {"backend": self.name, "model": self.model_name}


def test_cached_backend_embeds_each_text_once_across_runs(tmp_path):
    from workforce_assets.annotation.embeddings import CachedEmbeddingBackend

    inner = _CountingBackend()
    texts = ["alpha", "beta", "gamma", "beta"]
    with CachedEmbeddingBackend(inner, tmp_path) as cached:
        first = cached.embed(texts)
        assert cached.embed(["gamma"]).tolist() == first[2:3].tolist()  # the same run reads its own pending vectors
    assert inner.calls == [["alpha", "beta", "gamma"]]  # a text repeated in a call is embedded once
    assert first.tolist() == inner.embed(texts).tolist()
    inner.calls.clear()
    # a second run (a new instance reads the shards): only new texts reach the backend, order kept
    with CachedEmbeddingBackend(inner, tmp_path) as again:
        vectors = again.embed(["delta", "alpha", "gamma"])
        assert (again.n_cached, again.n_embedded) == (2, 1)
    assert inner.calls == [["delta"]]
    assert vectors.tolist() == inner.embed(["delta", "alpha", "gamma"]).tolist()
    assert len(list(tmp_path.rglob("*.parquet"))) == 2 and not list(tmp_path.rglob("*.tmp"))
    # another model never reads these vectors
    other = _CountingBackend()
    other.model_name = "other-model"
    with CachedEmbeddingBackend(other, tmp_path) as cached_other:
        cached_other.embed(["alpha"])
    assert other.calls == [["alpha"]]


def test_a_run_that_dies_before_flushing_leaves_no_partial_shard(tmp_path):
    from workforce_assets.annotation.embeddings import CachedEmbeddingBackend

    inner = _CountingBackend()
    with pytest.raises(RuntimeError):
        with CachedEmbeddingBackend(inner, tmp_path) as cached:
            cached.embed(["one", "two"])
            raise RuntimeError("killed")
    # what was embedded before the failure is kept (flushed on the way out), as a whole shard
    shards = list(tmp_path.rglob("*.parquet"))
    assert len(shards) == 1 and not list(tmp_path.rglob("*.tmp"))
    inner.calls.clear()
    with CachedEmbeddingBackend(inner, tmp_path) as cached:
        cached.embed(["one", "two", "three"])
    assert inner.calls == [["three"]]
