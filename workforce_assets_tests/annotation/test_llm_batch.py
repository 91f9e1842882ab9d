"""LLM batch jobs (OpenAI batch API through litellm) against a real local HTTP server with the files and
batches endpoints: answers land in the same cache as online calls, at batch prices, and a run that stops
while a job runs picks it up again instead of paying twice."""

from __future__ import annotations

import polars as pl
import pytest

from workforce_assets.annotation.llm import LLMAnnotator, annotate_with_llms, text_sha256
from workforce_assets.annotation.llm_batch import BatchOptions, annotate_with_batches, job_table
from workforce_assets_tests.annotation.fake_llm_server import FakeLLMServer

KEY_ENV = "WORKFORCE_TEST_BATCH_KEY"
TEXTS = [f"Profile {i}: " + ("PyTorch research #expert" if i % 3 == 0 else "sales manager") for i in range(12)]


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-test-batch")
    with FakeLLMServer(prompt_tokens=400, completion_tokens=2, batch_polls_until_done=2) as fake:
        yield fake


def _annotator(server) -> LLMAnnotator:
    return LLMAnnotator("llm_gpt_4o_mini", "openai/gpt-4o-mini", KEY_ENV, api_base=server.api_base)


def test_batch_answers_fill_the_cache_at_batch_prices_and_the_online_path_sends_nothing(server, tmp_path):
    cache = tmp_path / "llm_cache.duckdb"
    stats = annotate_with_batches(TEXTS, [_annotator(server)], cache, BatchOptions(poll_s=0.01))
    outcome = stats["llm_gpt_4o_mini"]
    assert outcome["batched"] and outcome["n_answered"] == 12 and outcome["n_errors"] == 0
    assert len(outcome["jobs_submitted"]) == 1 and not outcome["jobs_open"]
    # litellm's batch prices for gpt-4o-mini: 7.5e-08 / 3e-07 per token
    assert outcome["cost_usd"] == pytest.approx(12 * (400 * 7.5e-08 + 2 * 3e-07))
    assert server.batch_calls.count("create_batch") == 1 and server.batch_calls.count("retrieve_batch") == 3
    sent = server.n_requests()
    items = pl.DataFrame({"item_id": [f"i{i}" for i in range(12)], "text": TEXTS})
    result = annotate_with_llms(items, [_annotator(server)], cache)
    assert server.n_requests() == sent  # every answer came from the cache the batch filled
    assert result.stats["n_cached"] == 12 and result.stats["n_calls"] == 0
    labels = dict(zip(result.rows["item_id"], result.rows["label"]))
    assert [labels[f"i{i}"] for i in range(12)] == [1 if i % 3 == 0 else 0 for i in range(12)]
    jobs = job_table(cache)
    assert jobs.select("status", "n_requests", "n_answered").rows() == [("completed", 12, 12)]


def test_a_stopped_run_resumes_its_open_job_instead_of_submitting_again(server, tmp_path):
    cache = tmp_path / "llm_cache.duckdb"
    first = annotate_with_batches(TEXTS, [_annotator(server)], cache, BatchOptions(poll_s=0.01, deadline_s=0))
    job_id = first["llm_gpt_4o_mini"]["jobs_submitted"][0]
    assert first["llm_gpt_4o_mini"]["jobs_open"] == [job_id] and first["llm_gpt_4o_mini"]["n_answered"] == 0
    assert job_table(cache)["status"].to_list() == ["in_progress"]
    # a new run (another process after a kill) finds the job id in the cache database and polls it
    second = annotate_with_batches(TEXTS + ["a new profile"], [_annotator(server)], cache, BatchOptions(poll_s=0.01))
    outcome = second["llm_gpt_4o_mini"]
    assert outcome["jobs_resumed"] == [job_id] and outcome["n_answered"] == 13
    assert outcome["n_submitted"] == 1  # only the text no job held
    assert server.batch_calls.count("create_batch") == 2 and server.batch_calls.count("create_file") == 2
    # a third run has nothing to send
    third = annotate_with_batches(TEXTS, [_annotator(server)], cache, BatchOptions(poll_s=0.01))
    assert third["llm_gpt_4o_mini"]["n_submitted"] == 0 and third["llm_gpt_4o_mini"]["n_cached_before"] == 12
    assert server.batch_calls.count("create_batch") == 2


def test_request_errors_stay_unanswered_and_other_vendors_stay_online(server, tmp_path):
    cache = tmp_path / "llm_cache.duckdb"
    texts = ["fine profile", "broken one #server-error-always"]
    anthropic = LLMAnnotator("llm_sonnet_4", "anthropic/claude-sonnet-4-20250514", KEY_ENV, api_base=server.api_base)
    stats = annotate_with_batches(texts, [_annotator(server), anthropic], cache, BatchOptions(poll_s=0.01))
    assert stats["llm_gpt_4o_mini"]["n_answered"] == 1 and stats["llm_gpt_4o_mini"]["n_errors"] == 1
    assert not stats["llm_sonnet_4"]["batched"] and "online" in stats["llm_sonnet_4"]["reason"]
    from workforce_assets.annotation.llm import read_cache

    cached = read_cache(cache, _annotator(server).cache_model, [text_sha256(t) for t in texts])
    assert set(cached) == {text_sha256("fine profile")}
