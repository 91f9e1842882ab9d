"""Vendor faults over real HTTP (fake_llm_server.py): every way a vendor fails ends bounded, flagged and
redacted, and two processes sharing one cache pay once per text."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
import time

import duckdb
import polars as pl
import pytest

from workforce_assets.annotation.llm import CACHE_TABLE, LLMAnnotator, annotate_with_llms, failed_annotators, redact
from workforce_assets_tests.annotation.fake_llm_server import FakeLLMServer

KEY_ENV = "WORKFORCE_TEST_FAKE_LLM_KEY"
SECRET = "sk-live-0123456789abcdefSECRET"
FAST = dict(backoff_base_s=0.01, backoff_max_s=0.05)


@pytest.fixture()
def secret_key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)


def _items(n: int) -> pl.DataFrame:
    return pl.DataFrame({"item_id": [f"p{i}" for i in range(n)], "text": [f"profile number {i}" for i in range(n)]})


def _annotator(server: FakeLLMServer) -> LLMAnnotator:
    return LLMAnnotator("llm_fake", "openai/gpt-4o-mini", KEY_ENV, api_base=server.api_base)


@pytest.mark.parametrize("fault", ["unauthorized", "always_429", "retry_after_long", "always_500", "bad_json",
                                   "html", "hang"])
def test_an_annotator_that_fails_every_item_is_reported_failed_with_its_cause(fault, tmp_path, secret_key, caplog):
    with FakeLLMServer(fault=fault, slow_s=5.0) as server:
        started = time.monotonic()
        with caplog.at_level(logging.DEBUG):
            result = annotate_with_llms(_items(30), [_annotator(server)], tmp_path / "c.duckdb", concurrency=4,
                                        timeout_s=1.0, max_retries=3, breaker_failures=8, deadline_s=20, **FAST)
        elapsed = time.monotonic() - started
        n_requests = server.n_requests()
    assert result.rows["label"].null_count() == 30
    failed = failed_annotators(result.stats)
    assert list(failed) == ["llm_fake"], result.stats["annotators"]
    assert failed["llm_fake"], "the cause is reported"
    # bounded: the circuit opens after 8 consecutive failures, so 30 items never cost 30 x 4 attempts
    assert n_requests <= 8 + 4 * 2, n_requests
    assert result.stats["n_circuit_open"] > 0 or fault == "retry_after_long"
    assert elapsed < 15, elapsed
    # nothing that looks like the key reaches the calls table, the warnings or the log
    stored = json.dumps(result.calls.to_dicts()) + json.dumps(result.stats["warnings"]) + caplog.text
    assert SECRET not in stored and "Bearer sk-" not in stored


def test_echoed_authorization_header_is_redacted(tmp_path, secret_key):
    with FakeLLMServer(fault="unauthorized") as server:
        result = annotate_with_llms(_items(2), [_annotator(server)], tmp_path / "c.duckdb", breaker_failures=50,
                                    max_retries=0, **FAST)
    errors = result.calls["error"].to_list()
    assert all("Incorrect API key" in e and "[REDACTED]" in e and SECRET not in e for e in errors), errors


def test_retry_after_above_the_cap_is_not_retried_early(tmp_path, secret_key):
    with FakeLLMServer(fault="retry_after_long") as server:
        result = annotate_with_llms(_items(3), [_annotator(server)], tmp_path / "c.duckdb", concurrency=1,
                                    retry_after_cap_s=60, breaker_failures=50, **FAST)
        assert server.n_requests() == 3  # one request per item: never retried after 1, 2, 4 s
    assert all("retry after 3600 s, above the cap of 60 s" in e for e in result.calls["error"].to_list())


def test_retry_after_below_the_cap_is_waited_for(tmp_path, secret_key, monkeypatch):
    from workforce_assets.annotation import llm

    monkeypatch.setattr(llm, "_retry_after_seconds", lambda exc: 0.6)
    with FakeLLMServer() as server:
        started = time.monotonic()
        result = annotate_with_llms(pl.DataFrame({"item_id": ["a"], "text": ["x #rate-limit-once"]}),
                                    [_annotator(server)], tmp_path / "c.duckdb", **FAST)
        assert time.monotonic() - started >= 0.6  # backoff alone would be 0.05 s
    assert result.rows["label"].to_list() == [0]


def test_a_hanging_endpoint_is_bounded_by_the_run_deadline(tmp_path, secret_key):
    with FakeLLMServer(fault="hang", slow_s=30) as server:
        started = time.monotonic()
        result = annotate_with_llms(_items(3), [_annotator(server)], tmp_path / "c.duckdb", timeout_s=60,
                                    deadline_s=2.0, **FAST)
        elapsed = time.monotonic() - started
    assert elapsed < 8, elapsed
    assert set(result.calls["status"].to_list()) == {"deadline"}
    assert failed_annotators(result.stats) == {"llm_fake": result.stats["annotators"]["llm_fake"]["cause"]}


def test_huge_answers_are_capped_and_flagged(tmp_path, secret_key):
    cache = tmp_path / "c.duckdb"
    with FakeLLMServer(fault="huge_answer", huge_chars=2_000_000) as server:
        result = annotate_with_llms(_items(2), [_annotator(server)], cache, max_answer_chars=500, **FAST)
    assert result.calls["status"].to_list() == ["oversized"] * 2
    assert result.calls["answer_truncated"].to_list() == [True, True]
    assert max(result.calls["answer_chars"].to_list()) > 2_000_000
    assert result.rows["label"].null_count() == 2
    with duckdb.connect(str(cache), read_only=True) as conn:
        lengths = conn.execute(f"select max(length(raw_response)), bool_and(answer_truncated) from {CACHE_TABLE}").fetchone()
    assert lengths == (500, True)
    assert failed_annotators(result.stats) == {}  # it answered: oversized answers are flagged, not a vendor outage


def test_redact_patterns():
    text = "Authorization: Bearer abc.def-123456 key=AIzaSyA12345678901234567890123 x-api-key: q1w2e3r4 sk-proj-abcdef123"
    clean = redact(text, ("q1w2e3r4",))
    for secret in ("abc.def-123456", "AIzaSy", "q1w2e3r4", "sk-proj"):
        assert secret not in clean
    assert redact("nothing secret here") == "nothing secret here"


_WORKER = textwrap.dedent("""
    import json, sys
    import polars as pl
    from workforce_assets.annotation.llm import LLMAnnotator, annotate_with_llms
    api_base, cache, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    items = pl.DataFrame({"item_id": [f"p{i}" for i in range(n)], "text": [f"shared text {i}" for i in range(n)]})
    result = annotate_with_llms(items, [LLMAnnotator("llm_fake", "openai/gpt-4o-mini", "%s", api_base=api_base)],
                                cache, concurrency=4, poll_s=0.2)
    print(json.dumps({"labels": result.rows["label"].null_count(), "now": result.stats["n_answered_now"],
                      "other": result.stats["n_answered_by_other_run"], "cached": result.stats["n_cached"]}))
""" % KEY_ENV)


def test_two_processes_on_one_cache_send_each_text_once(tmp_path, secret_key):
    n = 60
    cache = tmp_path / "shared_cache.duckdb"
    with FakeLLMServer(latency_s=0.4) as server:  # 60 texts / 4 concurrent x 0.4 s: the two runs overlap
        workers = [subprocess.Popen([sys.executable, "-c", _WORKER, server.api_base, str(cache), str(n)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outputs = [w.communicate(timeout=240) for w in workers]
        n_requests = server.n_requests()
    reports = []
    for worker, (out, err) in zip(workers, outputs):
        assert worker.returncode == 0, err[-3000:]
        reports.append(json.loads(out.strip().splitlines()[-1]))
    assert all(r["labels"] == 0 for r in reports), reports  # both runs have every label
    assert n_requests == n, (n_requests, reports)  # and each text was sent once
    assert sum(r["now"] for r in reports) == n
    assert sorted(r["other"] + r["cached"] for r in reports) == [0, n], reports  # the other run waited for them


def test_a_lease_of_a_dead_run_lapses_and_is_taken_over(tmp_path):
    from workforce_assets.annotation.llm import _ensure_cache, _Leases

    cache = tmp_path / "c.duckdb"
    _ensure_cache(cache)
    # a term well above one claim's duration (the first connection of a process loads DuckDB's JSON
    # extension: 0.55 s measured, so a 0.5 s lease could lapse before its claim returned)
    first, second = _Leases(cache, lease_s=3.0), _Leases(cache, lease_s=3.0)
    assert first.claim("m", ["a", "b"]) == {"a", "b"}
    assert second.claim("m", ["a", "b", "c"]) == {"c"}  # a and b are held by a live run
    time.sleep(3.1)  # the first run died: no renewal
    assert second.claim("m", ["a", "b"]) == {"a", "b"}
    second.release()
    assert first.claim("m", ["c"]) == {"c"}


def test_a_text_answered_and_released_by_another_run_is_not_claimed_again(tmp_path):
    """The race CI hit (71 requests for 60 texts): run B read the cache, run A then flushed its answers and
    released its leases, and B claimed and re-sent those texts. Claiming skips answered keys in one statement."""
    from workforce_assets.annotation.llm import PROMPT_VERSION, _ensure_cache, _Leases, _write_cache

    cache = tmp_path / "c.duckdb"
    _ensure_cache(cache)
    first, second = _Leases(cache), _Leases(cache)
    assert first.claim("m", ["a", "b"]) == {"a", "b"}
    _write_cache(cache, [("m", PROMPT_VERSION, "a", "ACCEPT", 1, 10, 1, 0.0, 0.1, False)])
    first.release()  # "b" stayed unanswered (the first run failed on it)
    assert second.claim("m", ["a", "b"]) == {"b"}
    assert second.claim("other-model", ["a"]) == {"a"}  # an answer of another model does not count
