"""LLM annotation through vendor batch jobs (the OpenAI batch API via litellm): about half the online price.

What it does, per annotator whose provider litellm can batch (:data:`BATCH_PROVIDERS`):

1. texts whose answer is already in the cache, or already in an open batch job, are not sent again;
2. the rest go out as JSONL files of chat-completion requests (one per text, the same versioned prompt and
   ``<profile>`` markers as the online calls, ``custom_id`` = the text's sha256): upload (``create_file``),
   then ``create_batch``; each job's id is written to the cache database (``llm_batch_jobs``) as soon as it
   exists, so a run that is killed while the vendor works picks the same jobs up again instead of paying twice;
3. open jobs are polled (``retrieve_batch``) until they end or the deadline passes (then they stay open for
   the next run); a finished job's output (``file_content``) is parsed strictly and written to the same cache
   as online answers (``llm_response_cache``), with its cost at batch prices (litellm's
   ``*_cost_per_token_batches`` where its price map has them, else half the online price, the vendors'
   published batch discount); per-request errors are counted and left unanswered.

The normal online path then reads these answers from the cache, so tables, checks and the cost report are
the same whichever way the answers came. Providers at the pinned litellm (1.100.0): ``create_batch`` supports
``openai`` (and OpenAI-compatible endpoints given by ``api_base``), ``azure``, ``vertex_ai``, ``bedrock``,
``hosted_vllm``; the last three need object-storage uploads that this module does not configure, so here
``openai`` and ``azure`` are batched and every other annotator (Anthropic, Gemini AI Studio) stays online.
Hand-written orchestration: litellm gives the calls, no library keeps resumable job state across runs.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl

import workforce_assets  # noqa: F401  (sets LITELLM_LOCAL_MODEL_COST_MAP before litellm is imported)
from workforce_assets.annotation.llm import (
    PROMPT_VERSION,
    LLMAnnotator,
    _ensure_cache,
    _write_cache,
    build_messages,
    parse_llm_answer,
    read_cache,
    redact,
    text_sha256,
)
from workforce_assets.progress import Progress
from workforce_assets.warehouse import connect

logger = logging.getLogger(__name__)

BATCH_TABLE = "llm_batch_jobs"
BATCH_PROVIDERS = ("openai", "azure")
FINAL_STATUSES = ("completed", "failed", "expired", "cancelled")
#: OpenAI's published batch discount, used where litellm's price map has no batch price for the model
BATCH_DISCOUNT = 0.5


@dataclass
class BatchOptions:
    poll_s: float = 30.0  # between two status checks of the open jobs
    deadline_s: float = 24 * 3600.0  # stop polling after this long; open jobs are resumed by the next run
    max_requests_per_job: int = 50_000  # the OpenAI batch API's limit per input file
    completion_window: str = "24h"


def provider_of(annotator: LLMAnnotator) -> tuple[str, str]:
    """('openai', 'gpt-5-mini') from 'openai/gpt-5-mini'; a bare model name is an OpenAI model."""
    provider, _, name = annotator.model.partition("/")
    return (provider, name) if name else ("openai", provider)


def batchable(annotator: LLMAnnotator) -> bool:
    return provider_of(annotator)[0] in BATCH_PROVIDERS


def _ensure_jobs_table(cache_path: Path) -> None:
    _ensure_cache(cache_path)
    with connect(cache_path) as conn:
        conn.execute(
            f"""create table if not exists {BATCH_TABLE} (
                batch_id varchar primary key, model varchar, prompt_version varchar, input_file_id varchar,
                text_sha256s varchar, n_requests bigint, status varchar, output_file_id varchar,
                error_file_id varchar, n_answered bigint, n_errors bigint, cost_usd double,
                submitted_at double, finished_at double)"""
        )


def open_jobs(cache_path: Path, cache_model: str) -> pl.DataFrame:
    """This annotator's jobs (current prompt) that have not been collected yet."""
    with connect(cache_path) as conn:
        return conn.execute(
            f"select batch_id, text_sha256s, status from {BATCH_TABLE} where model = ? and prompt_version = ? "
            f"and status not in ({', '.join('?' * len(FINAL_STATUSES))}) order by submitted_at",
            [cache_model, PROMPT_VERSION, *FINAL_STATUSES]).pl()


def _call_kwargs(annotator: LLMAnnotator) -> dict:
    kwargs = {"custom_llm_provider": provider_of(annotator)[0]}
    if annotator.api_base:
        kwargs["api_base"] = annotator.api_base
    key = annotator.api_key()
    if key:
        kwargs["api_key"] = key
    return kwargs


def _batch_prices(annotator: LLMAnnotator) -> tuple[float, float] | None:
    """(input, output) cost per token at batch prices; None when litellm does not know the model."""
    import litellm

    provider, name = provider_of(annotator)
    info = litellm.model_cost.get(name) or litellm.model_cost.get(annotator.model)
    if not info or info.get("input_cost_per_token") is None:
        return None
    price_in = info.get("input_cost_per_token_batches", info["input_cost_per_token"] * BATCH_DISCOUNT)
    price_out = info.get("output_cost_per_token_batches", (info.get("output_cost_per_token") or 0.0) * BATCH_DISCOUNT)
    return float(price_in), float(price_out)


def _submit(annotator: LLMAnnotator, texts: dict[str, str], cache_path: Path, options: BatchOptions) -> list[str]:
    """Upload and create jobs for ``texts`` (sha -> text); each job recorded as soon as it exists."""
    import litellm

    provider, name = provider_of(annotator)
    shas = sorted(texts)
    batch_ids = []
    for start in range(0, len(shas), options.max_requests_per_job):
        chunk = shas[start:start + options.max_requests_per_job]
        lines = [json.dumps({"custom_id": sha, "method": "POST", "url": "/v1/chat/completions",
                             "body": {"model": name, "messages": build_messages(texts[sha]), "temperature": 0,
                                      **annotator.completion_kwargs}}) for sha in chunk]
        uploaded = litellm.create_file(file=("requests.jsonl", ("\n".join(lines) + "\n").encode()), purpose="batch",
                                       **_call_kwargs(annotator))
        job = litellm.create_batch(completion_window=options.completion_window, endpoint="/v1/chat/completions",
                                   input_file_id=uploaded.id, metadata={"prompt_version": PROMPT_VERSION},
                                   **_call_kwargs(annotator))
        with connect(cache_path) as conn:
            conn.execute(f"insert into {BATCH_TABLE} (batch_id, model, prompt_version, input_file_id, text_sha256s, "
                         "n_requests, status, submitted_at) values (?, ?, ?, ?, ?, ?, ?, ?)",
                         [job.id, annotator.cache_model, PROMPT_VERSION, uploaded.id, json.dumps(chunk), len(chunk),
                          job.status or "validating", time.time()])
        logger.info(f"{annotator.name}: batch job {job.id} submitted ({len(chunk):,} requests)")
        batch_ids.append(job.id)
    return batch_ids


def _parse_output(annotator: LLMAnnotator, content: bytes, prices) -> tuple[list[tuple], int, float]:
    """Cache rows from a job's output file, the number of per-request errors, and the cost."""
    rows, n_errors, cost = [], 0, 0.0
    for line in content.decode("utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        response = record.get("response") or {}
        body = response.get("body") or {}
        if record.get("error") or response.get("status_code") != 200 or not body.get("choices"):
            n_errors += 1
            continue
        raw = (body["choices"][0].get("message") or {}).get("content")
        usage = body.get("usage") or {}
        tokens_in, tokens_out = usage.get("prompt_tokens"), usage.get("completion_tokens")
        row_cost = None
        if prices is not None and tokens_in is not None:
            row_cost = tokens_in * prices[0] + (tokens_out or 0) * prices[1]
            cost += row_cost
        rows.append((annotator.cache_model, PROMPT_VERSION, record["custom_id"], raw, parse_llm_answer(raw),
                     tokens_in, tokens_out, row_cost, None, False))
    return rows, n_errors, cost


def _collect(annotator: LLMAnnotator, batch_id: str, cache_path: Path, prices) -> dict:
    """Poll one job once; when it has ended, store its answers. Returns its status and counts."""
    import litellm

    job = litellm.retrieve_batch(batch_id=batch_id, **_call_kwargs(annotator))
    outcome = {"status": job.status, "n_answered": 0, "n_errors": 0, "cost_usd": 0.0}
    if job.status not in FINAL_STATUSES:
        with connect(cache_path) as conn:
            conn.execute(f"update {BATCH_TABLE} set status = ? where batch_id = ?", [job.status, batch_id])
        return outcome
    if job.status == "completed" and job.output_file_id:
        content = litellm.file_content(file_id=job.output_file_id, **_call_kwargs(annotator)).content
        rows, n_errors, cost = _parse_output(annotator, content, prices)
        _write_cache(cache_path, rows)
        outcome |= {"n_answered": len(rows), "n_errors": n_errors, "cost_usd": cost}
    with connect(cache_path) as conn:
        conn.execute(f"update {BATCH_TABLE} set status = ?, output_file_id = ?, error_file_id = ?, n_answered = ?, "
                     "n_errors = ?, cost_usd = ?, finished_at = ? where batch_id = ?",
                     [job.status, job.output_file_id, getattr(job, "error_file_id", None), outcome["n_answered"],
                      outcome["n_errors"], outcome["cost_usd"], time.time(), batch_id])
    return outcome


def annotate_with_batches(texts: list[str], annotators: list[LLMAnnotator], cache_path: Path,
                          options: BatchOptions | None = None) -> dict:
    """Get every text's answer from each batchable annotator into the cache through batch jobs.

    Returns stats per annotator: ``batched`` (False with the reason for the others), ``n_cached_before``,
    ``n_submitted``, ``jobs_submitted``, ``jobs_resumed``, ``n_answered``, ``n_errors``, ``cost_usd`` (batch
    prices), ``jobs_open`` (still running at the deadline: the next run resumes them).
    """
    options = options or BatchOptions()
    cache_path = Path(cache_path)
    _ensure_jobs_table(cache_path)
    by_sha = {text_sha256(t): t for t in texts if t is not None and t.strip()}
    stats: dict[str, dict] = {}
    deadline = time.monotonic() + options.deadline_s
    for annotator in annotators:
        if not batchable(annotator):
            stats[annotator.name] = {"batched": False, "reason": f"provider {provider_of(annotator)[0]!r} is "
                                     f"answered online (batch providers here: {', '.join(BATCH_PROVIDERS)})"}
            continue
        if not annotator.has_credentials():
            stats[annotator.name] = {"batched": False, "reason": f"{annotator.api_key_env} is not set"}
            continue
        cached = read_cache(cache_path, annotator.cache_model, list(by_sha))
        pending = open_jobs(cache_path, annotator.cache_model)
        in_flight = {sha for shas in pending["text_sha256s"].to_list() for sha in json.loads(shas)}
        todo = {sha: text for sha, text in by_sha.items() if sha not in cached and sha not in in_flight}
        outcome = {"batched": True, "n_cached_before": len(cached), "n_submitted": len(todo),
                   "jobs_resumed": pending["batch_id"].to_list(), "jobs_submitted": [], "n_answered": 0,
                   "n_errors": 0, "cost_usd": 0.0, "jobs_open": [], "jobs_failed": []}
        stats[annotator.name] = outcome
        try:
            if todo:
                outcome["jobs_submitted"] = _submit(annotator, todo, cache_path, options)
            waiting = outcome["jobs_resumed"] + outcome["jobs_submitted"]
            prices = _batch_prices(annotator)
            progress = Progress(f"{annotator.name} batch jobs", len(waiting), logger, unit="jobs")
            while waiting:
                still = []
                for batch_id in waiting:
                    result = _collect(annotator, batch_id, cache_path, prices)
                    if result["status"] in FINAL_STATUSES:
                        progress.update(progress.done + 1)
                        for key in ("n_answered", "n_errors", "cost_usd"):
                            outcome[key] += result[key]
                        if result["status"] != "completed":
                            outcome["jobs_failed"].append(f"{batch_id}: {result['status']}")
                    else:
                        still.append(batch_id)
                waiting = still
                if waiting and time.monotonic() + options.poll_s > deadline:
                    outcome["jobs_open"] = waiting
                    logger.warning(f"{annotator.name}: {len(waiting)} batch job(s) still running at the deadline; "
                                   "the next run collects them")
                    break
                if waiting:
                    time.sleep(options.poll_s)
        except Exception as exc:  # a failing vendor: reported, the online path or a later run takes over
            outcome["error"] = redact(f"{type(exc).__name__}: {exc}", (annotator.api_key(),))
            logger.warning(f"{annotator.name}: batch jobs failed: {outcome['error']}")
    return stats


def job_table(cache_path: Path) -> pl.DataFrame:
    """Every batch job recorded in the cache database (for reports and asset metadata)."""
    _ensure_jobs_table(Path(cache_path))
    with connect(cache_path) as conn:
        return conn.execute(f"select * from {BATCH_TABLE} order by submitted_at").pl()


