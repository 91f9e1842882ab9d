"""LLM annotators through litellm: one prompt, strict answers, retried, costed, budgeted, cached, resumable.

Why each piece exists:

* the original labels came from per-vendor batch scripts; here every vendor goes through ``litellm`` with the
  same versioned prompt (``prompts/ml_expert_v1.txt``) at temperature 0;
* answers are parsed strictly (``ACCEPT``/``REJECT`` only) so a chatty or manipulated answer becomes a
  missing label with its raw text kept, never a guessed one;
* every answer is cached in DuckDB keyed by (model, prompt version, sha256 of the text), written as results
  arrive, so a rerun never pays twice and an interrupted run resumes where it stopped;
* profile text is untrusted: each item is its own call and travels between ``<profile>`` markers that the
  text itself cannot forge, so an instruction inside one profile cannot touch any other item;
* vendors fail: ``Retry-After`` is honoured up to a cap (a longer wait fails the item at once), a circuit
  breaker stops calling an annotator after consecutive failures, a per-run deadline bounds a hanging
  endpoint, answers are capped in size (the excess is a flag, never stored), and error text is redacted of
  anything that looks like a key before it is logged or stored;
* concurrent runs share the cache through leases on cache keys, so a text is sent once (``_Leases``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import email.utils
import hashlib
import json
import logging
import random
import re
import os
import time
import uuid
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import polars as pl

import workforce_assets  # noqa: F401  (sets LITELLM_LOCAL_MODEL_COST_MAP before litellm is imported)
from workforce_assets import settings
from workforce_assets.annotation.names import canonical_annotator_name
from workforce_assets.progress import Progress
from workforce_assets.warehouse import connect

logger = logging.getLogger(__name__)

LLM_SOURCE = "llm"
PROMPT_NAME = "ml_expert_v1"
CACHE_TABLE = "llm_response_cache"
PROFILE_OPEN, PROFILE_CLOSE = "<profile>", "</profile>"

SYSTEM_PROMPT = resources.files("workforce_assets.annotation").joinpath(f"prompts/{PROMPT_NAME}.txt").read_text(
    encoding="utf-8"
)
USER_TEMPLATE = PROFILE_OPEN + "\n{text}\n" + PROFILE_CLOSE
#: Prompt name plus a digest of the exact prompt, so that editing the prompt can never reuse stale answers.
PROMPT_VERSION = f"{PROMPT_NAME}+{hashlib.sha256((SYSTEM_PROMPT + USER_TEMPLATE).encode()).hexdigest()[:10]}"

_MARKER = re.compile(r"<\s*/?\s*profile\s*>", re.IGNORECASE)
_STRICT_ANSWER = re.compile(r"^\s*(ACCEPT|REJECT)\s*\.?\s*$", re.IGNORECASE)

CALLS_SCHEMA = {
    "annotator": pl.Utf8, "model": pl.Utf8, "text_sha256": pl.Utf8, "status": pl.Utf8, "attempts": pl.Int64,
    "prompt_tokens": pl.Int64, "completion_tokens": pl.Int64, "cost_usd": pl.Float64, "cost_known": pl.Boolean,
    "latency_s": pl.Float64, "raw_response": pl.Utf8, "answer_chars": pl.Int64, "answer_truncated": pl.Boolean,
    "error": pl.Utf8,
}
#: Call statuses. ``ok``/``malformed``/``oversized`` got an answer (cached); the others got none.
ANSWERED = ("ok", "malformed", "oversized")
NOT_ANSWERED = ("failed", "circuit_open", "deadline", "budget_stopped")

# Anything that looks like a credential in provider error text or an echoed request, redacted before it is
# logged or stored; a pattern's group 1 (when it has one) is a label that is kept. Hand-written: no
# maintained library redacts free text of arbitrary vendors.
_SECRET_PATTERNS = (
    re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(?:bearer\s+|basic\s+)?[^\s\"',;}]+"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{6,}"),
    re.compile(r"(?i)((?:x-)?(?:goog-)?api[_-]?key[\"']?\s*[:=]\s*[\"']?)[^\s\"',;}&]+"),
    re.compile(r"\b(?:sk|pk|rk)-[A-Za-z0-9_-]{6,}"),
    re.compile(r"\bAIza[0-9A-Za-z_-]{20,}"),
    re.compile(r"(?i)([?&](?:key|api_key|token)=)[^&\s\"']+"),
)
REDACTED = "[REDACTED]"


def redact(text: str | None, secrets: tuple[str | None, ...] = ()) -> str | None:
    """``text`` with the given secret values and key-like substrings replaced by ``[REDACTED]``."""
    if not text:
        return text
    for value in secrets:
        if value and len(value) >= 4:
            text = text.replace(value, REDACTED)
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.re.groups else "") + REDACTED, text)
    return text


ROWS_SCHEMA = {"item_id": pl.Utf8, "annotator": pl.Utf8, "label": pl.Int8, "raw_label": pl.Utf8, "source": pl.Utf8}


@dataclass
class LLMAnnotator:
    """One annotator: canonical name -> litellm model string, where its key lives, optional endpoint.

    ``completion_kwargs`` go to ``litellm.acompletion`` unchanged (e.g. ``reasoning_effort``, or
    ``mock_response`` in tests); they are part of the cache key because they change the answer.
    """

    name: str
    model: str
    api_key_env: str | None
    api_base: str | None = None
    completion_kwargs: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.name = canonical_annotator_name(self.name)
        if not self.model:
            raise ValueError(f"annotator {self.name!r} has no model string")

    @property
    def cache_model(self) -> str:
        """The 'model' part of the cache key: the model string, plus endpoint and options when they are set."""
        key = self.model
        if self.api_base:
            key += f"@{self.api_base}"
        if self.completion_kwargs:
            key += "#" + json.dumps(self.completion_kwargs, sort_keys=True, default=str)
        return key

    def api_key(self) -> str | None:
        return settings.secret(self.api_key_env) if self.api_key_env else None

    def has_credentials(self) -> bool:
        return self.api_key_env is None or bool(self.api_key())


#: The three annotators of the original study (names match the imported labels of the real data).
DEFAULT_LLM_ANNOTATORS = (
    LLMAnnotator("llm_gemini_2_5_flash", "gemini/gemini-2.5-flash", "GEMINI_API_KEY"),
    LLMAnnotator("llm_sonnet_4", "anthropic/claude-sonnet-4-20250514", "ANTHROPIC_API_KEY"),
    LLMAnnotator("llm_gpt_5_mini", "openai/gpt-5-mini", "OPENAI_API_KEY"),
)


@dataclass
class LLMAnnotationResult:
    rows: pl.DataFrame  # long form: item_id, annotator, label, raw_label, source='llm'
    calls: pl.DataFrame  # one row per API call made in this run (CALLS_SCHEMA)
    stats: dict


def parse_llm_answer(raw: str | None) -> int | None:
    """ACCEPT -> 1, REJECT -> 0 (case-insensitive, optional final full stop); anything else -> None."""
    if raw is None:
        return None
    match = _STRICT_ANSWER.match(raw)
    if not match:
        return None
    return 1 if match.group(1).upper() == "ACCEPT" else 0


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def build_messages(text: str) -> list[dict]:
    """System rubric + the profile as delimited data; markers inside the text are defused so it cannot close them."""
    safe = _MARKER.sub("[marker removed]", text)
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": USER_TEMPLATE.format(text=safe)},
    ]


# ----------------------------------------------------------------------------------------------- cache


LEASE_TABLE = "llm_cache_leases"


def _ensure_cache(cache_path: Path) -> None:
    with connect(cache_path) as conn:
        conn.execute(
            f"""create table if not exists {CACHE_TABLE} (
                model varchar, prompt_version varchar, text_sha256 varchar, raw_response varchar, label tinyint,
                prompt_tokens bigint, completion_tokens bigint, cost_usd double, latency_s double,
                created_at timestamp default current_timestamp,
                primary key (model, prompt_version, text_sha256))"""
        )
        conn.execute(f"alter table {CACHE_TABLE} add column if not exists answer_truncated boolean")
        conn.execute(
            f"""create table if not exists {LEASE_TABLE} (
                model varchar, prompt_version varchar, text_sha256 varchar, owner varchar, expires_at double,
                primary key (model, prompt_version, text_sha256))"""
        )


class _Leases:
    """Claims on cache keys, shared by every process that uses one cache file, so a text is sent once.

    A process calls only the keys it holds a live lease on; keys leased by another live process are awaited
    (their answers appear in the cache); a lease expires ``lease_s`` after its last renewal, so the keys of
    a killed process are taken over. Hand-written: the cache is a DuckDB file and no library leases its rows.
    """

    def __init__(self, cache_path: Path, lease_s: float = 30.0):
        self.cache_path, self.lease_s = cache_path, lease_s
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.renewed_at = time.monotonic()

    def claim(self, cache_model: str, shas: list[str]) -> set[str]:
        """The subset of ``shas`` this process now holds (free, expired or already its own) and still unanswered.

        Checking the cache and taking the lease is one statement: a run that read the cache before another run
        flushed its answers and released its leases must not call those texts again (measured: 11 of 60 texts
        sent twice when the two steps were separate).
        """
        if not shas:
            return set()
        now = time.time()
        payload = json.dumps([{"text_sha256": sha} for sha in shas])
        with connect(self.cache_path) as conn:
            conn.execute(
                f"""insert into {LEASE_TABLE} (model, prompt_version, text_sha256, owner, expires_at)
                    select ?, ?, text_sha256, ?, ?
                    from (select unnest(from_json(?::json, '[{{"text_sha256": "VARCHAR"}}]'), recursive := true))
                    where text_sha256 not in (select text_sha256 from {CACHE_TABLE}
                                              where model = ? and prompt_version = ?)
                    on conflict (model, prompt_version, text_sha256) do update
                    set owner = excluded.owner, expires_at = excluded.expires_at
                    where {LEASE_TABLE}.expires_at < ? or {LEASE_TABLE}.owner = excluded.owner""",
                [cache_model, PROMPT_VERSION, self.owner, now + self.lease_s, payload, cache_model, PROMPT_VERSION,
                 now],
            )
            rows = conn.execute(
                f"""select text_sha256 from {LEASE_TABLE} where owner = ? and model = ? and prompt_version = ?
                    and text_sha256 in (select unnest(from_json(?::json, '["VARCHAR"]')))""",
                [self.owner, cache_model, PROMPT_VERSION, json.dumps(shas)],
            ).fetchall()
        return {row[0] for row in rows}

    def renew_if_due(self) -> None:
        """Extend this process's leases once a third of their term has passed (called as answers arrive)."""
        if time.monotonic() - self.renewed_at >= self.lease_s / 3:
            self.renew()

    def renew(self) -> None:
        self.renewed_at = time.monotonic()
        with connect(self.cache_path) as conn:
            conn.execute(f"update {LEASE_TABLE} set expires_at = ? where owner = ?",
                         [time.time() + self.lease_s, self.owner])

    def release(self) -> None:
        with connect(self.cache_path) as conn:
            conn.execute(f"delete from {LEASE_TABLE} where owner = ?", [self.owner])


def read_cache(cache_path: Path, cache_model: str, shas: list[str]) -> dict[str, tuple[str | None, int | None]]:
    """Cached (raw_response, label) per text hash for one model and the current prompt version."""
    if not shas or not Path(cache_path).exists():
        return {}
    with connect(cache_path) as conn:
        rows = conn.execute(
            f"select text_sha256, raw_response, label from {CACHE_TABLE} "
            "where model = ? and prompt_version = ? "
            """and text_sha256 in (select unnest(from_json(?::json, '["VARCHAR"]')))""",
            [cache_model, PROMPT_VERSION, json.dumps(shas)],
        ).fetchall()
    return {sha: (raw, label) for sha, raw, label in rows}


_CACHE_COLUMNS = {"model": "VARCHAR", "prompt_version": "VARCHAR", "text_sha256": "VARCHAR",
                  "raw_response": "VARCHAR", "label": "TINYINT", "prompt_tokens": "BIGINT",
                  "completion_tokens": "BIGINT", "cost_usd": "DOUBLE", "latency_s": "DOUBLE",
                  "answer_truncated": "BOOLEAN"}


def _write_cache(cache_path: Path, rows: list[tuple]) -> None:
    """One short connection per flush; never held across an HTTP await.

    Rows travel as one JSON parameter: binding Python lists (or executemany) costs ~1 ms a row in DuckDB,
    the JSON path ~0.05 ms, and no pyarrow is needed.
    """
    if not rows:
        return
    payload = json.dumps([dict(zip(_CACHE_COLUMNS, row)) for row in rows])
    structure = json.dumps([_CACHE_COLUMNS])
    columns = ", ".join(_CACHE_COLUMNS)
    with connect(cache_path) as conn:
        conn.execute(
            f"insert or replace into {CACHE_TABLE} ({columns}) "
            f"select unnest(from_json(?::json, '{structure}'), recursive := true)",
            [payload],
        )


class _CacheWriter:
    """Buffers answers and flushes them every ``max_rows`` answers or ``max_seconds`` (and at the end).

    A DuckDB connect + insert costs ~35 ms here, so one per answer would cap throughput near 30 calls/s;
    flushing at least every second bounds what an abrupt kill can lose to one second of answers.
    """

    def __init__(self, cache_path: Path, max_rows: int = 64, max_seconds: float = 1.0):
        self.cache_path, self.max_rows, self.max_seconds = cache_path, max_rows, max_seconds
        self.pending: list[tuple] = []
        self.last_flush = time.monotonic()

    def add(self, row: tuple) -> None:
        self.pending.append(row)
        if len(self.pending) >= self.max_rows or time.monotonic() - self.last_flush >= self.max_seconds:
            self.flush()

    def flush(self) -> None:
        rows, self.pending = self.pending, []
        self.last_flush = time.monotonic()
        _write_cache(self.cache_path, rows)


# ----------------------------------------------------------------------------------------------- calls


def _is_retryable(exc: BaseException) -> bool:
    import litellm

    if isinstance(exc, (asyncio.TimeoutError, litellm.Timeout, litellm.RateLimitError, litellm.APIConnectionError,
                        litellm.InternalServerError, litellm.ServiceUnavailableError, litellm.BadGatewayError)):
        return True
    status = getattr(exc, "status_code", None)
    return isinstance(status, int) and (status == 429 or status >= 500)


def _retry_after_seconds(exc: BaseException) -> float | None:
    """The ``Retry-After`` header of a failed call in seconds (delta-seconds or an HTTP date), None if absent."""
    # litellm keeps the provider's headers in `litellm_response_headers` (its `response` is a stand-in)
    value = None
    for headers in (getattr(exc, "litellm_response_headers", None), getattr(getattr(exc, "response", None), "headers", None),
                    getattr(exc, "headers", None)):
        if headers:
            try:
                value = headers.get("retry-after")
            except AttributeError:
                continue
            if value is not None:
                break
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        pass
    try:
        when = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclass(frozen=True)
class VendorPolicy:
    """How far one run goes with a failing vendor.

    ``retry_after_cap_s``: a ``Retry-After`` up to this is honoured (waited for); a longer one fails the item
    at once rather than retrying early. ``breaker_failures``: consecutive failed attempts of one annotator,
    with no answer in between, that open its circuit (no further calls this run). ``deadline_s``: wall time
    for the whole run's calls; what is not answered by then is recorded as ``deadline``.
    ``max_answer_chars``: longer answers keep only this prefix, flagged ``answer_truncated``.
    """

    timeout_s: float = 60.0
    max_retries: int = 5
    backoff_base_s: float = 1.0
    backoff_max_s: float = 30.0
    retry_after_cap_s: float = 120.0
    breaker_failures: int = 12
    deadline_s: float | None = 3600.0
    max_answer_chars: int = 2000


class _Breaker:
    """Per annotator: open after ``threshold`` consecutive failed attempts; an answer resets the count."""

    def __init__(self, threshold: int):
        self.threshold, self.consecutive, self.open, self.cause = threshold, 0, False, None

    def failure(self, cause: str) -> None:
        self.consecutive += 1
        if self.consecutive >= self.threshold and not self.open:
            self.open, self.cause = True, cause
            logger.warning("circuit open after %d consecutive failures; last: %s", self.consecutive, cause)

    def success(self) -> None:
        self.consecutive = 0


@dataclass
class _Budget:
    limit_usd: float
    spent_usd: float = 0.0
    stopped: bool = False

    def allows_new_call(self) -> bool:
        if self.spent_usd >= self.limit_usd:
            self.stopped = True
        return not self.stopped


async def _call_once(annotator: LLMAnnotator, text: str, timeout_s: float):
    import litellm

    litellm.suppress_debug_info = True  # errors are recorded per call; no banner per failed attempt

    kwargs = dict(
        model=annotator.model,
        messages=build_messages(text),
        temperature=0,
        drop_params=True,  # reasoning models (gpt-5 family) accept only their default temperature
        timeout=timeout_s,
        max_retries=0,  # retries are ours, so they are counted and backed off uniformly
        num_retries=0,
    )
    if annotator.api_base:
        kwargs["api_base"] = annotator.api_base
    if annotator.api_key_env:
        kwargs["api_key"] = annotator.api_key()
    kwargs.update(annotator.completion_kwargs)
    # the outer wait_for is a safety net in case a provider client ignores its own timeout
    return await asyncio.wait_for(litellm.acompletion(**kwargs), timeout=timeout_s + 5.0)


def _cost_of(response) -> float | None:
    import litellm

    try:
        cost = litellm.completion_cost(completion_response=response)
    except Exception:  # unknown model or price: recorded as unknown, not guessed
        return None
    return float(cost) if cost is not None else None


def _empty_call_row(annotator: LLMAnnotator, sha: str, status: str, error: str | None = None) -> dict:
    return {"annotator": annotator.name, "model": annotator.model, "text_sha256": sha, "status": status,
            "attempts": 0, "prompt_tokens": None, "completion_tokens": None, "cost_usd": None,
            "cost_known": None, "latency_s": None, "raw_response": None, "answer_chars": None,
            "answer_truncated": None, "error": error}


async def _annotate_one(annotator: LLMAnnotator, sha: str, text: str, *, semaphore: asyncio.Semaphore,
                        budget: _Budget, writer: _CacheWriter, breaker: _Breaker, policy: VendorPolicy,
                        deadline: float) -> dict:
    """One text for one annotator: retried call, strict parse, cache write. Returns a calls-frame row."""
    row = _empty_call_row(annotator, sha, "budget_stopped")
    secrets = (annotator.api_key(),) if annotator.api_key_env else ()
    async with semaphore:
        if not budget.allows_new_call():
            return row
        for attempt in range(policy.max_retries + 1):
            if breaker.open:
                row.update(status="circuit_open", error=row["error"] or breaker.cause)
                return row
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                row.update(status="deadline", error=row["error"] or "run deadline reached before this call")
                return row
            row["attempts"] = attempt + 1
            started = time.perf_counter()
            try:
                response = await _call_once(annotator, text, min(policy.timeout_s, max(remaining, 0.1)))
            except Exception as exc:  # classified below: retry transient, record the rest
                row["error"] = redact(f"{type(exc).__name__}: {str(exc)[:300]}", secrets)
                breaker.failure(row["error"])
                hinted = _retry_after_seconds(exc)
                if hinted is not None and hinted > policy.retry_after_cap_s:
                    row.update(status="failed", error=f"vendor asked to retry after {hinted:.0f} s, above the cap "
                                                      f"of {policy.retry_after_cap_s:.0f} s; {row['error']}")
                    return row
                if attempt < policy.max_retries and _is_retryable(exc):
                    delay = min(policy.backoff_max_s, policy.backoff_base_s * 2**attempt) * (1 + 0.25 * random.random())
                    if hinted is not None:
                        delay = max(delay, hinted)
                    await asyncio.sleep(min(delay, max(deadline - time.monotonic(), 0.0)))
                    continue
                row["status"] = "failed"
                return row
            break
        breaker.success()
        latency = time.perf_counter() - started
        full = response.choices[0].message.content
        usage = getattr(response, "usage", None)
        cost = _cost_of(response)
        truncated = full is not None and len(full) > policy.max_answer_chars
        raw = redact(full[:policy.max_answer_chars] if truncated else full, secrets)
        label = None if truncated else parse_llm_answer(raw)
        status = "oversized" if truncated else ("ok" if label is not None else "malformed")
        row.update(status=status, raw_response=raw, error=None, answer_chars=len(full) if full is not None else None,
                   answer_truncated=truncated, prompt_tokens=getattr(usage, "prompt_tokens", None),
                   completion_tokens=getattr(usage, "completion_tokens", None),
                   cost_usd=cost if cost is not None else 0.0, cost_known=cost is not None, latency_s=latency)
        budget.spent_usd += row["cost_usd"]
        # malformed answers are cached too: at temperature 0 asking again buys the same answer
        writer.add((annotator.cache_model, PROMPT_VERSION, sha, raw, label, row["prompt_tokens"],
                    row["completion_tokens"], row["cost_usd"], latency, truncated))
        return row


# ----------------------------------------------------------------------------------------------- public


def _prepare_items(items: pl.DataFrame) -> pl.DataFrame:
    for column in ("item_id", "text"):
        if column not in items.columns:
            raise ValueError(f"items need columns item_id and text; have {items.columns}")
    if items["item_id"].null_count():
        raise ValueError(f"{items['item_id'].null_count()} item(s) have a null item_id")
    n_dup = items.height - items["item_id"].n_unique()
    if n_dup:
        raise ValueError(f"{n_dup} duplicate item_id value(s): each item must appear once")
    prepared = items.select(pl.col("item_id").cast(pl.Utf8), pl.col("text").cast(pl.Utf8))
    has_text = pl.col("text").is_not_null() & (pl.col("text").str.strip_chars().str.len_chars() > 0)
    shas = [text_sha256(t) if t is not None and t.strip() else None for t in prepared["text"].to_list()]
    return prepared.with_columns(pl.Series("text_sha256", shas, dtype=pl.Utf8), has_text.alias("has_text"))


_OPTION_NAMES = ("timeout_s", "max_retries", "backoff_base_s", "backoff_max_s", "retry_after_cap_s",
                 "breaker_failures", "deadline_s", "max_answer_chars")


async def annotate_with_llms_async(
    items: pl.DataFrame,
    annotators: list[LLMAnnotator],
    cache_path: Path,
    skip: set[tuple[str, str]] | frozenset = frozenset(),
    budget_usd: float = 5.0,
    concurrency: int = 8,
    lease_s: float = 30.0,
    poll_s: float = 0.5,
    **options,
) -> LLMAnnotationResult:
    """Async core of :func:`annotate_with_llms` (same arguments), for callers already inside an event loop."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    unknown = set(options) - set(_OPTION_NAMES)
    if unknown:
        raise TypeError(f"unknown option(s) {sorted(unknown)}; known: {_OPTION_NAMES}")
    policy = VendorPolicy(**options)
    names = [a.name for a in annotators]
    if len(set(names)) != len(names):
        raise ValueError(f"annotator names must be unique, got {names}")
    cache_path = Path(cache_path)
    prepared = _prepare_items(items)
    skip = {(str(i), canonical_annotator_name(a)) for i, a in skip}
    _ensure_cache(cache_path)

    warnings: list[str] = []
    stats = {"n_items": prepared.height, "n_annotators": len(annotators), "n_requested": 0,
             "n_skipped_imported": 0, "n_empty_text": 0, "n_cached": 0, "n_answered_now": 0, "n_calls": 0,
             "n_attempts": 0, "n_failed": 0, "n_malformed": 0, "n_oversized": 0, "n_missing_no_key": 0,
             "n_budget_skipped": 0, "n_circuit_open": 0, "n_deadline": 0, "n_answered_by_other_run": 0,
             "cost_usd": 0.0, "budget_usd": float(budget_usd), "budget_stopped": False,
             "prompt_version": PROMPT_VERSION, "warnings": warnings, "annotators": {}}
    budget = _Budget(limit_usd=float(budget_usd))
    writer = _CacheWriter(cache_path)
    leases = _Leases(cache_path, lease_s=lease_s)
    answers: dict[tuple[str, str], tuple[str | None, int | None, str]] = {}  # (annotator, sha) -> raw, label, how
    call_rows: list[dict] = []
    plans: list[tuple[LLMAnnotator, pl.DataFrame]] = []
    breakers = {a.name: _Breaker(policy.breaker_failures) for a in annotators}
    started = time.monotonic()
    deadline = started + (policy.deadline_s if policy.deadline_s is not None else float("inf"))
    running: dict[asyncio.Future, tuple[LLMAnnotator, str] | None] = {}  # call task -> key; waiter -> None
    n_calls_planned = 0

    def start_call(annotator: LLMAnnotator, sha: str, text: str, semaphore: asyncio.Semaphore) -> None:
        task = asyncio.ensure_future(_annotate_one(
            annotator, sha, text, semaphore=semaphore, budget=budget, writer=writer,
            breaker=breakers[annotator.name], policy=policy, deadline=deadline))
        running[task] = (annotator, sha)

    async def await_other_run(annotator: LLMAnnotator, foreign: dict[str, str], semaphore) -> list[str]:
        """Keys leased by another live run: take their answers from the cache, or the key once its lease lapses."""
        waiting = dict(foreign)
        while waiting and time.monotonic() < deadline:
            await asyncio.sleep(poll_s)
            for sha, (raw, label) in read_cache(cache_path, annotator.cache_model, list(waiting)).items():
                answers[(annotator.name, sha)] = (raw, label, "other_run")
                waiting.pop(sha)
            for sha in leases.claim(annotator.cache_model, list(waiting)):
                start_call(annotator, sha, waiting.pop(sha), semaphore)
        return list(waiting)  # still unanswered at the deadline

    for annotator in annotators:
        imported_ids = [item_id for item_id, name in skip if name == annotator.name]
        wanted = prepared.filter(~pl.col("item_id").is_in(imported_ids))
        stats["n_skipped_imported"] += prepared.height - wanted.height
        stats["n_requested"] += wanted.height
        stats["n_empty_text"] += wanted.filter(~pl.col("has_text")).height
        plans.append((annotator, wanted))
        shas = wanted.filter(pl.col("has_text")).unique("text_sha256", keep="first", maintain_order=True)
        cached = read_cache(cache_path, annotator.cache_model, shas["text_sha256"].to_list())
        for sha, (raw, label) in cached.items():
            answers[(annotator.name, sha)] = (raw, label, "cached")
        to_call = shas.filter(~pl.col("text_sha256").is_in(list(cached)))
        stats["annotators"][annotator.name] = {"to_call": to_call.height}
        if to_call.height and not annotator.has_credentials():
            message = (f"{annotator.name}: environment variable {annotator.api_key_env} is not set; "
                       f"{to_call.height} uncached text(s) stay missing for this annotator")
            warnings.append(message)
            logger.warning(message)
            stats["annotators"][annotator.name]["no_key"] = True
            continue
        semaphore = asyncio.Semaphore(concurrency)  # per annotator: each vendor has its own rate limits
        texts = dict(to_call.select("text_sha256", "text").iter_rows())
        mine = leases.claim(annotator.cache_model, list(texts))
        n_calls_planned += len(texts)
        for sha in texts:
            if sha in mine:
                start_call(annotator, sha, texts[sha], semaphore)
        foreign = {sha: text for sha, text in texts.items() if sha not in mine}
        if foreign:
            logger.info("%s: %d text(s) are being asked by another run; waiting for its answers",
                        annotator.name, len(foreign))
            running[asyncio.ensure_future(await_other_run(annotator, foreign, semaphore))] = None

    progress = Progress("LLM annotation", n_calls_planned, logger, unit="calls")
    try:
        while running:
            # wake at least every third of a lease term to renew this run's leases while calls hang
            done, _ = await asyncio.wait(list(running), timeout=lease_s / 3, return_when=asyncio.FIRST_COMPLETED)
            if not done and time.monotonic() > deadline + 10.0:  # a provider client ignored every timeout
                break
            for task in done:
                key = running.pop(task)
                if key is None:
                    continue  # a waiter: the answers it found are in `answers`, calls it started in `running`
                row = task.result()
                call_rows.append(row)
                if row["status"] in ANSWERED:
                    answers[(row["annotator"], row["text_sha256"])] = (row["raw_response"], parse_llm_answer(
                        row["raw_response"]) if row["status"] != "oversized" else None, "called")
            progress.update(min(len(call_rows), n_calls_planned), f"${budget.spent_usd:.4f} spent")
            leases.renew_if_due()
    finally:
        for task, key in running.items():
            task.cancel()
            if key is not None:
                call_rows.append(_empty_call_row(key[0], key[1], "deadline", "run deadline reached during this call"))
        writer.flush()  # an interrupted run keeps every answer it already paid for
        leases.release()

    calls = pl.DataFrame(call_rows, schema=CALLS_SCHEMA)
    made = calls.filter(pl.col("attempts") > 0)
    count = lambda status: calls.filter(pl.col("status") == status).height  # noqa: E731
    stats["n_calls"] = calls.filter(pl.col("status").is_in(ANSWERED)).height
    stats["n_attempts"] = int(made["attempts"].sum() or 0)
    for status in ("failed", "malformed", "oversized", "circuit_open", "deadline"):
        stats[f"n_{status}"] = count(status)
    stats["n_budget_skipped"] = count("budget_stopped")
    stats["cost_usd"] = float(calls["cost_usd"].fill_null(0).sum())
    stats["budget_stopped"] = budget.stopped
    if stats["n_budget_skipped"]:
        warnings.append(f"budget of ${budget_usd:.2f} reached: {stats['n_budget_skipped']} call(s) not made; "
                        "rerun with a larger budget to fill them (answers so far are cached)")
    for error in calls.filter(pl.col("status") == "failed")["error"].unique(maintain_order=True).to_list()[:5]:
        warnings.append(f"failed after retries: {error}")
    if stats["n_deadline"]:
        warnings.append(f"run deadline of {policy.deadline_s:.0f} s reached: {stats['n_deadline']} call(s) unanswered")
    if stats["n_oversized"]:
        warnings.append(f"{stats['n_oversized']} answer(s) longer than {policy.max_answer_chars} characters: "
                        "stored truncated, flagged, label missing")
    unknown_cost = calls.filter(pl.col("cost_known") == False)["model"].unique(maintain_order=True).to_list()  # noqa: E712
    for model in unknown_cost:
        warnings.append(f"cost unknown to litellm for {model}: recorded as 0, so the budget cannot bound it")
    for name, breaker in breakers.items():
        if breaker.open:
            warnings.append(f"{name}: circuit opened after {breaker.threshold} consecutive failures "
                            f"({count_for(calls, name, 'circuit_open')} call(s) not made); last error: {breaker.cause}")

    frames = []
    for annotator, wanted in plans:
        keyed = [answers.get((annotator.name, sha)) if sha is not None else None
                 for sha in wanted["text_sha256"].to_list()]
        raw = [k[0] if k else None for k in keyed]
        label = [k[1] if k else None for k in keyed]
        stats["n_cached"] += sum(1 for k in keyed if k and k[2] == "cached")
        stats["n_answered_now"] += sum(1 for k in keyed if k and k[2] == "called")
        stats["n_answered_by_other_run"] += sum(1 for k in keyed if k and k[2] == "other_run")
        if not annotator.has_credentials():
            stats["n_missing_no_key"] += sum(1 for k, s in zip(keyed, wanted["text_sha256"].to_list())
                                             if k is None and s is not None)
        own = calls.filter(pl.col("annotator") == annotator.name)
        outcome = stats["annotators"][annotator.name]
        outcome["answered"] = own.filter(pl.col("status").is_in(ANSWERED)).height
        outcome["not_answered"] = own.filter(pl.col("status").is_in(NOT_ANSWERED)).height
        errors = own.filter(pl.col("error").is_not_null())["error"]
        outcome["cause"] = errors.mode().sort()[0] if errors.len() else None
        # failed: it was asked (calls made or stopped) and not one answer came back
        outcome["failed"] = bool(outcome["not_answered"] and not outcome["answered"]
                                 and own.filter(pl.col("status") != "budget_stopped").height)
        frames.append(pl.DataFrame({
            "item_id": wanted["item_id"], "annotator": [annotator.name] * wanted.height,
            "label": pl.Series(label, dtype=pl.Int8), "raw_label": pl.Series(raw, dtype=pl.Utf8),
            "source": [LLM_SOURCE] * wanted.height}, schema=ROWS_SCHEMA))
    rows = pl.concat(frames) if frames else pl.DataFrame(schema=ROWS_SCHEMA)
    return LLMAnnotationResult(rows=rows, calls=calls, stats=stats)


def count_for(calls: pl.DataFrame, annotator: str, status: str) -> int:
    return calls.filter((pl.col("annotator") == annotator) & (pl.col("status") == status)).height


def failed_annotators(stats: dict) -> dict[str, str]:
    """Annotator -> cause, for each annotator that was called and answered nothing in this run."""
    return {name: outcome.get("cause") or "no answer" for name, outcome in stats.get("annotators", {}).items()
            if outcome.get("failed")}


def annotate_with_llms(
    items: pl.DataFrame,
    annotators: list[LLMAnnotator],
    cache_path: Path,
    skip: set[tuple[str, str]] | frozenset = frozenset(),
    budget_usd: float = 5.0,
    concurrency: int = 8,
    **options,
) -> LLMAnnotationResult:
    """Label ``items`` (item_id, text) with each annotator; long-form rows plus per-call records and stats.

    ``skip`` holds (item_id, annotator) pairs already labelled by import: they are neither requested nor
    returned. Empty text and annotators without their API key give missing labels (with a warning), never a
    crash. ``concurrency`` is per annotator. ``budget_usd`` is for the whole run (all annotators): once the
    cost spent reaches it no new call starts; calls already in flight finish, so the overshoot is at most
    ``concurrency`` calls per annotator. Cached answers cost nothing and are always used. ``options`` are the
    fields of :class:`VendorPolicy` (timeouts, retries, Retry-After cap, circuit breaker, deadline, answer
    size cap); ``lease_s`` and ``poll_s`` tune the sharing of the cache with concurrent runs.
    """
    coroutine_args = dict(items=items, annotators=list(annotators), cache_path=cache_path, skip=skip,
                          budget_usd=budget_usd, concurrency=concurrency, **options)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(annotate_with_llms_async(**coroutine_args))
    # called from inside a running loop (a notebook): run on a private loop in a worker thread
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, annotate_with_llms_async(**coroutine_args)).result()
