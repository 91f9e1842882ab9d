"""Learn keyword filters from rated CVs, and measure them on CVs they were not learned from.

The original lists were learned from 421 of the very CVs later used to measure them, so their accuracy was
in-sample. Here:

1. KeyBERT proposes candidate phrases per CV (1-4-grams, MMR diversity, configurable stop words). This step
   is unsupervised and per document, so it runs once for all CVs; its embeddings come from the embeddings
   resource (a loaded model, never a download).
2. Phrases are scored on *training* CVs only: document frequency per class among CVs that mention an ML
   term (the filters only act on those), class specificity (share of one class among CVs with the phrase)
   and a TF-IDF discriminative score (mean TF-IDF in experts minus in non-experts).
3. Frequency and specificity thresholds pick ``broad_yes`` (expert-specific) and ``strict_no``
   (non-expert-specific) terms; the ML base terms stay those of the configured set.
4. :func:`cross_validate_keywords` repeats 2-3 inside k folds (grouped so that duplicate texts never straddle
   a fold) and reports each filter's held-out sensitivity/specificity next to the in-sample figures.

Phrases are literal: n-grams never span punctuation and never start or end with a stop word, so every
learned phrase can be matched back in text by :mod:`keywords` (word boundaries, hyphen/space runs).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
from scipy import sparse
from scipy.stats import binomtest
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer, TfidfTransformer
from sklearn.model_selection import StratifiedGroupKFold

from workforce_assets.annotation.keywords import (
    FILTER_NAMES,
    REFERENCE_KEYWORDS,
    KeywordSet,
    apply_keyword_filters,
    keyword_hits,
)
from workforce_assets.progress import Progress

_SEGMENT_BREAK = re.compile(r"[^\w\s\-]+")  # punctuation ends a phrase
_TOKEN_SPLIT = re.compile(r"[\s\-_]+")  # the same separators the filters accept between words

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class KeywordLearningConfig:
    """Every knob of keyword learning; stored with the results so that a run can be reproduced."""

    name: str = "learned"
    ml_terms: tuple[str, ...] = REFERENCE_KEYWORDS.ml_terms
    # KeyBERT candidates
    ngram_range: tuple[int, int] = (1, 4)
    top_n: int = 20
    use_mmr: bool = True
    diversity: float = 0.5
    stop_words: str | tuple[str, ...] | None = "english"
    # selection on training CVs (counts are among training CVs that mention an ML term)
    min_doc_freq: int = 5
    min_keybert_docs: int = 2
    broad_yes_min_specificity: float = 0.75
    strict_no_min_specificity: float = 0.95
    max_broad_yes: int = 14
    max_strict_no: int = 41

    def stop_word_set(self) -> frozenset[str]:
        if self.stop_words is None:
            return frozenset()
        if self.stop_words == "english":
            return frozenset(ENGLISH_STOP_WORDS)
        if isinstance(self.stop_words, str):
            raise ValueError(f"stop_words must be 'english', a tuple of words or None, got {self.stop_words!r}")
        return frozenset(w.lower() for w in self.stop_words)


class PhraseAnalyzer:
    """Text -> literal lower-case n-grams, for CountVectorizer(analyzer=...) (picklable, deterministic).

    Keyword learning analyses each CV about eight times (the candidate vocabulary, KeyBERT, each fold's
    scoring); the last ``memo_size`` texts' phrases are kept, so each text is analysed once (measured on the
    585 real CVs: 4,680 calls took 32 s under a profiler). Each token's edge test is computed once per text.
    """

    def __init__(self, ngram_range: tuple[int, int] = (1, 4), stop_words: frozenset[str] = frozenset(),
                 memo_size: int = 4096):
        low, high = ngram_range
        if not 1 <= low <= high:
            raise ValueError(f"bad ngram_range {ngram_range}")
        self.low, self.high, self.stop_words, self.memo_size = low, high, stop_words, memo_size
        self._memo: dict[str, list[str]] = {}

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_memo": {}}

    def _edge_ok(self, token: str) -> bool:
        return len(token) > 1 and not token.isdigit() and token not in self.stop_words

    def __call__(self, text: str) -> list[str]:
        memo = self._memo.get(text)
        if memo is not None:
            return list(memo)
        phrases: list[str] = []
        for segment in _SEGMENT_BREAK.split(text.lower()):
            tokens = [t for t in _TOKEN_SPLIT.split(segment) if t]
            edge = [self._edge_ok(t) for t in tokens]
            for n in range(self.low, self.high + 1):
                for start in range(len(tokens) - n + 1):
                    if edge[start] and edge[start + n - 1]:
                        phrases.append(" ".join(tokens[start:start + n]))
        if len(self._memo) >= self.memo_size:
            self._memo.pop(next(iter(self._memo)))  # the oldest entry
        self._memo[text] = phrases
        return list(phrases)


_ANALYZERS: dict[tuple, PhraseAnalyzer] = {}


def _analyzer(config: KeywordLearningConfig) -> PhraseAnalyzer:
    """One analyzer per (n-gram range, stop words), so its memo serves every step of a learning run."""
    key = (tuple(config.ngram_range), config.stop_word_set())
    if key not in _ANALYZERS:
        _ANALYZERS.clear()  # at most one configuration's memo is held
        _ANALYZERS[key] = PhraseAnalyzer(config.ngram_range, config.stop_word_set())
    return _ANALYZERS[key]


def _check_rated(rated: pl.DataFrame, need_label: bool = True) -> pl.DataFrame:
    need = ["item_id", "text"] + (["is_ml_expert"] if need_label else [])
    missing = [c for c in need if c not in rated.columns]
    if missing:
        raise ValueError(f"rated CVs lack column(s) {missing}; have {rated.columns}")
    if rated.height != rated["item_id"].n_unique():
        raise ValueError("rated CVs have duplicate item_id values")
    if need_label:
        bad = rated.filter(~pl.col("is_ml_expert").is_in([0, 1]) | pl.col("is_ml_expert").is_null()).height
        if bad:
            raise ValueError(f"{bad} rated CV(s) have an is_ml_expert that is not 0/1")
    return rated.with_columns(pl.col("item_id").cast(pl.Utf8), pl.col("text").cast(pl.Utf8).fill_null(""))


# --------------------------------------------------------------------------------------------- KeyBERT


def _candidates_key(items: pl.DataFrame, config: KeywordLearningConfig, min_df: int | None, model_name: str) -> str:
    """Content key of a candidate extraction: every (item_id, text), every setting, the embedding model."""
    digest = hashlib.sha256()
    digest.update(json.dumps([model_name, min_df, repr(config)], default=str).encode())
    for item_id, text in items.select("item_id", "text").sort("item_id").iter_rows():
        digest.update(f"{len(str(item_id))}:{item_id}{len(text or '')}:{text or ''}".encode())
    return digest.hexdigest()


def extract_keybert_candidates(items: pl.DataFrame, keybert_model, config: KeywordLearningConfig = KeywordLearningConfig(),
                               candidate_min_df: int | None = None, cache_dir: str | Path | None = None,
                               model_name: str | None = None) -> pl.DataFrame:
    """Top-n KeyBERT phrases per item: item_id, phrase, keybert_score, rank (1 = best).

    ``keybert_model`` is what the embeddings resource hands out (a loaded SentenceTransformer or a KeyBERT
    embedder wrapping Modal). The candidate vocabulary keeps phrases found in at least ``candidate_min_df``
    items (default ``config.min_doc_freq``): a rarer phrase could never pass the frequency threshold, so
    embedding it would be wasted work. Items with empty text get no candidates.

    With ``cache_dir`` (and the embedding ``model_name``) the result is kept by content: the same items,
    settings and model give the stored table back without running KeyBERT (its MMR over 585 CVs took ~4 s of
    a 6.4 s rerun). The vocabulary depends on every item (``min_df``), so the key is the whole item set; a
    changed or added CV reruns KeyBERT, with unchanged texts' vectors still read from the embedding cache.
    """
    items = _check_rated(items, need_label=False)
    stored = None
    if cache_dir is not None:
        stored = Path(cache_dir) / "keybert_candidates" / f"{_candidates_key(items, config, candidate_min_df, model_name or '')}.parquet"
        if stored.exists():
            return pl.read_parquet(stored)
    result = _extract_keybert_candidates(items, keybert_model, config, candidate_min_df)
    if stored is not None:
        stored.parent.mkdir(parents=True, exist_ok=True)
        partial = stored.with_suffix(f".{os.getpid()}.tmp")
        result.write_parquet(partial)
        os.replace(partial, stored)  # whole file or none
    return result


def _extract_keybert_candidates(items: pl.DataFrame, keybert_model, config: KeywordLearningConfig,
                                candidate_min_df: int | None) -> pl.DataFrame:
    from keybert import KeyBERT

    texted = items.filter(pl.col("text").str.strip_chars().str.len_chars() > 0)
    schema = {"item_id": pl.Utf8, "phrase": pl.Utf8, "keybert_score": pl.Float64, "rank": pl.Int32}
    if texted.height == 0:
        return pl.DataFrame(schema=schema)
    min_df = config.min_doc_freq if candidate_min_df is None else candidate_min_df
    min_df = max(1, min(min_df, texted.height))
    vectorizer = CountVectorizer(analyzer=_analyzer(config), min_df=min_df, binary=True)
    docs = texted["text"].to_list()
    try:
        vectorizer.fit(docs)
    except ValueError as exc:  # "After pruning, no terms remain"
        raise ValueError(f"no candidate phrase occurs in {min_df}+ items ({texted.height} items): {exc}") from exc
    keybert = KeyBERT(model=keybert_model)
    # the embeddings KeyBERT would compute, computed here in chunks so that progress is logged
    doc_embeddings = _embed_with_progress(keybert.model, docs, "KeyBERT: embedding documents")
    words = vectorizer.get_feature_names_out().tolist()
    word_embeddings = _embed_with_progress(keybert.model, words, "KeyBERT: embedding candidate phrases")
    keywords = keybert.extract_keywords(
        docs, vectorizer=vectorizer, top_n=config.top_n, use_mmr=config.use_mmr, diversity=config.diversity,
        doc_embeddings=doc_embeddings, word_embeddings=word_embeddings)
    if len(docs) == 1:
        keywords = [keywords]
    rows = [(item_id, phrase, float(score), rank)
            for item_id, found in zip(texted["item_id"].to_list(), keywords)
            for rank, (phrase, score) in enumerate(found, start=1)]
    return pl.DataFrame(rows, schema=schema, orient="row")


# --------------------------------------------------------------------------------------------- scoring


@dataclass
class LearnedKeywords:
    keyword_set: KeywordSet
    scores: pl.DataFrame  # one row per candidate phrase, with its statistics and the group it was chosen for
    config: KeywordLearningConfig
    n_training_items: int

    def metadata(self) -> dict:
        return {"keyword_set": self.keyword_set.to_dict(), "config": asdict(self.config),
                "n_training_items": self.n_training_items,
                "n_candidates": self.scores.height}


def score_phrases(rated: pl.DataFrame, candidates: pl.DataFrame,
                  config: KeywordLearningConfig = KeywordLearningConfig()) -> pl.DataFrame:
    """Per candidate phrase, on the given (training) CVs only: frequencies, specificity and TF-IDF score.

    Columns: phrase, keybert_docs_pos/neg (CVs of each class where KeyBERT picked it), df_pos/df_neg
    (CVs of each class among those mentioning an ML term that contain it), specificity_pos/neg
    (share of each class among those CVs), tfidf_pos/neg (mean TF-IDF weight in each class, all training
    CVs) and tfidf_discriminative = tfidf_pos - tfidf_neg.
    """
    rated = _check_rated(rated)
    ids = rated["item_id"]
    candidates = candidates.filter(pl.col("item_id").is_in(ids.implode()))
    labels = rated.select("item_id", "is_ml_expert")
    keybert_counts = (
        candidates.unique(["item_id", "phrase"]).join(labels, on="item_id")
        .group_by("phrase").agg(
            (pl.col("is_ml_expert") == 1).sum().cast(pl.Int64).alias("keybert_docs_pos"),
            (pl.col("is_ml_expert") == 0).sum().cast(pl.Int64).alias("keybert_docs_neg"))
        .sort("phrase")
    )
    phrases = keybert_counts["phrase"].to_list()
    empty = keybert_counts.with_columns(
        *[pl.lit(None, dtype=pl.Int64).alias(c) for c in ("df_pos", "df_neg")],
        *[pl.lit(None, dtype=pl.Float64).alias(c) for c in ("specificity_pos", "specificity_neg", "tfidf_pos",
                                                             "tfidf_neg", "tfidf_discriminative")])
    if not phrases:
        return empty
    counts = CountVectorizer(analyzer=_analyzer(config), vocabulary=phrases).transform(rated["text"].to_list())
    present = (counts > 0).astype(np.int64)
    is_pos = rated["is_ml_expert"].to_numpy() == 1
    ml_set = KeywordSet("ml", config.ml_terms, (), ())
    has_ml = keyword_hits(rated, ml_set)["has_ml"].fill_null(False).to_numpy()
    df_pos = np.asarray(present[has_ml & is_pos].sum(axis=0)).ravel()
    df_neg = np.asarray(present[has_ml & ~is_pos].sum(axis=0)).ravel()
    with np.errstate(invalid="ignore", divide="ignore"):
        spec_pos = np.where(df_pos + df_neg > 0, df_pos / (df_pos + df_neg), np.nan)
    tfidf = TfidfTransformer().fit_transform(counts)
    tfidf_pos = _column_mean(tfidf, is_pos)
    tfidf_neg = _column_mean(tfidf, ~is_pos)
    return keybert_counts.with_columns(
        pl.Series("df_pos", df_pos, dtype=pl.Int64),
        pl.Series("df_neg", df_neg, dtype=pl.Int64),
        pl.Series("specificity_pos", spec_pos, dtype=pl.Float64).fill_nan(None),
        pl.Series("specificity_neg", 1 - spec_pos, dtype=pl.Float64).fill_nan(None),
        pl.Series("tfidf_pos", tfidf_pos, dtype=pl.Float64),
        pl.Series("tfidf_neg", tfidf_neg, dtype=pl.Float64),
        pl.Series("tfidf_discriminative", tfidf_pos - tfidf_neg, dtype=pl.Float64),
    )


def _column_mean(matrix: sparse.spmatrix, rows: np.ndarray) -> np.ndarray:
    if not rows.any():
        return np.zeros(matrix.shape[1])
    return np.asarray(matrix[rows].mean(axis=0)).ravel()


def select_keywords(scores: pl.DataFrame, config: KeywordLearningConfig = KeywordLearningConfig()) -> pl.DataFrame:
    """Add ``group`` (broad_yes / strict_no / null) and ``group_rank`` to a score table by the thresholds."""
    ml_terms = {t.lower() for t in config.ml_terms}
    eligible = ~pl.col("phrase").is_in(list(ml_terms))
    broad = (eligible & (pl.col("keybert_docs_pos") >= config.min_keybert_docs)
             & (pl.col("df_pos") >= config.min_doc_freq)
             & (pl.col("specificity_pos") >= config.broad_yes_min_specificity)
             & (pl.col("tfidf_discriminative") > 0))
    strict = (eligible & (pl.col("keybert_docs_neg") >= config.min_keybert_docs)
              & (pl.col("df_neg") >= config.min_doc_freq)
              & (pl.col("specificity_neg") >= config.strict_no_min_specificity)
              & (pl.col("tfidf_discriminative") < 0))
    ranked = scores.with_columns(
        pl.when(broad).then(pl.lit("broad_yes")).when(strict).then(pl.lit("strict_no")).otherwise(None).alias(
            "candidate_group"),
        pl.col("tfidf_discriminative").abs().alias("_strength"),
    ).with_columns(
        pl.col("_strength").rank("ordinal", descending=True).over("candidate_group").alias("group_rank"))
    limit = pl.when(pl.col("candidate_group") == "broad_yes").then(config.max_broad_yes).otherwise(
        config.max_strict_no)
    return ranked.with_columns(
        pl.when(pl.col("candidate_group").is_not_null() & (pl.col("group_rank") <= limit))
        .then(pl.col("candidate_group")).otherwise(None).alias("group"),
    ).with_columns(
        pl.when(pl.col("group").is_not_null()).then(pl.col("group_rank")).otherwise(None).cast(pl.Int32)
        .alias("group_rank")
    ).drop("_strength", "candidate_group").sort("group", "group_rank", "phrase", nulls_last=True)


def _embed_with_progress(backend, texts: list[str], what: str, chunk: int = 512) -> np.ndarray:
    """``backend.embed`` (a KeyBERT backend) over ``texts`` in chunks, logging done / total, rate, time left."""
    progress = Progress(what, len(texts), logger, unit="texts")
    parts = []
    for start in range(0, len(texts), chunk):
        parts.append(np.asarray(backend.embed(texts[start:start + chunk])))
        progress.update(min(start + chunk, len(texts)))
    return np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)


def learn_keywords(rated: pl.DataFrame, candidates: pl.DataFrame,
                   config: KeywordLearningConfig = KeywordLearningConfig()) -> LearnedKeywords:
    """A keyword set learned from ``rated`` (item_id, text, is_ml_expert) and their KeyBERT candidates."""
    scores = select_keywords(score_phrases(rated, candidates, config), config)

    def group(name: str) -> tuple[str, ...]:
        return tuple(scores.filter(pl.col("group") == name).sort("group_rank")["phrase"].to_list())

    keyword_set = KeywordSet(config.name, ml_terms=tuple(config.ml_terms), broad_yes=group("broad_yes"),
                             strict_no=group("strict_no"))
    return LearnedKeywords(keyword_set=keyword_set, scores=scores, config=config, n_training_items=rated.height)


# --------------------------------------------------------------------------------------------- accuracy


def filter_accuracy(rated: pl.DataFrame, predictions: pl.DataFrame) -> pl.DataFrame:
    """Sensitivity and specificity (Wilson 95% intervals) of each filter against ``is_ml_expert``.

    ``predictions`` is long form (item_id, annotator, label); items with a missing prediction are counted in
    ``n_missing`` and left out of the rates.
    """
    joined = predictions.select("item_id", "annotator", "label").join(
        rated.select(pl.col("item_id").cast(pl.Utf8), "is_ml_expert"), on="item_id", how="inner")
    counts = joined.group_by("annotator").agg(
        ((pl.col("label") == 1) & (pl.col("is_ml_expert") == 1)).sum().alias("tp"),
        ((pl.col("label") == 0) & (pl.col("is_ml_expert") == 1)).sum().alias("fn"),
        ((pl.col("label") == 0) & (pl.col("is_ml_expert") == 0)).sum().alias("tn"),
        ((pl.col("label") == 1) & (pl.col("is_ml_expert") == 0)).sum().alias("fp"),
        pl.col("label").is_null().sum().alias("n_missing"),
    ).sort("annotator")
    rows = []
    for r in counts.iter_rows(named=True):
        sens, sens_lo, sens_hi = _rate(r["tp"], r["tp"] + r["fn"])
        spec, spec_lo, spec_hi = _rate(r["tn"], r["tn"] + r["fp"])
        rows.append({**r, "sensitivity": sens, "sensitivity_lo": sens_lo, "sensitivity_hi": sens_hi,
                     "specificity": spec, "specificity_lo": spec_lo, "specificity_hi": spec_hi})
    return pl.DataFrame(rows).rename({"annotator": "filter"}).cast(
        {c: pl.Int64 for c in ("tp", "fn", "tn", "fp", "n_missing")})


def _rate(successes: int, trials: int) -> tuple[float | None, float | None, float | None]:
    if trials == 0:
        return None, None, None
    ci = binomtest(int(successes), int(trials)).proportion_ci(confidence_level=0.95, method="wilson")
    return successes / trials, float(ci.low), float(ci.high)


@dataclass
class CrossValidationResult:
    summary: pl.DataFrame  # per filter: in-sample and held-out sensitivity/specificity (+ intervals)
    folds: pl.DataFrame  # per fold x filter: sensitivity/specificity and number of learned terms
    held_out: pl.DataFrame  # long-form held-out predictions (item_id, annotator, label, fold)
    term_stability: pl.DataFrame  # per phrase: in how many folds it was learned, and for which group
    final: LearnedKeywords  # learned on all rated CVs (what the pipeline ships)
    n_folds: int
    seed: int
    metadata: dict = field(default_factory=dict)


def text_groups(texts: pl.Series) -> np.ndarray:
    """Same text -> same group, so that duplicated CVs never sit on both sides of a fold."""
    digests = [hashlib.sha256((t or "").encode()).hexdigest() for t in texts.to_list()]
    _, groups = np.unique(np.asarray(digests), return_inverse=True)
    return groups


def cross_validate_keywords(rated: pl.DataFrame, candidates: pl.DataFrame,
                            config: KeywordLearningConfig = KeywordLearningConfig(), n_folds: int = 5,
                            seed: int = 0) -> CrossValidationResult:
    """Learn on k-1 folds, apply the filters to the held-out fold; pool held-out predictions.

    Folds are stratified by label and grouped by identical text. In-sample figures come from the set learned
    on all CVs and applied to the same CVs, reported beside the held-out ones to show the optimism.
    """
    rated = _check_rated(rated)
    labels = rated["is_ml_expert"].to_numpy()
    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    held_out, fold_rows, learned_terms = [], [], []
    for fold, (train_idx, test_idx) in enumerate(splitter.split(np.zeros(len(labels)), labels,
                                                                text_groups(rated["text"]))):
        train, test = rated[train_idx], rated[test_idx]
        learned = learn_keywords(train, candidates, config)
        predictions = apply_keyword_filters(test, learned.keyword_set).with_columns(pl.lit(fold).alias("fold"))
        held_out.append(predictions)
        accuracy = filter_accuracy(test, predictions)
        fold_rows.append(accuracy.with_columns(
            pl.lit(fold).alias("fold"), pl.lit(len(learned.keyword_set.broad_yes)).alias("n_broad_yes"),
            pl.lit(len(learned.keyword_set.strict_no)).alias("n_strict_no")))
        learned_terms.append(learned.scores.filter(pl.col("group").is_not_null()).select(
            "phrase", "group", pl.lit(fold).alias("fold")))
    held = pl.concat(held_out)
    final = learn_keywords(rated, candidates, config)
    in_sample = filter_accuracy(rated, apply_keyword_filters(rated, final.keyword_set))
    out_sample = filter_accuracy(rated, held)
    keep = ["filter", "sensitivity", "sensitivity_lo", "sensitivity_hi", "specificity", "specificity_lo",
            "specificity_hi"]
    summary = in_sample.select(keep).rename({c: f"in_sample_{c}" for c in keep[1:]}).join(
        out_sample.select(keep).rename({c: f"held_out_{c}" for c in keep[1:]}), on="filter").sort("filter")
    folds = pl.concat(fold_rows).select("fold", "filter", "sensitivity", "specificity", "n_broad_yes",
                                        "n_strict_no", "tp", "fn", "tn", "fp")
    stability = (pl.concat(learned_terms).group_by("phrase", "group").agg(pl.len().alias("n_folds"))
                 .sort("group", "n_folds", "phrase", descending=[False, True, False]))
    return CrossValidationResult(summary=summary, folds=folds, held_out=held, term_stability=stability,
                                 final=final, n_folds=n_folds, seed=seed,
                                 metadata={"n_items": rated.height, "n_folds": n_folds, "seed": seed,
                                           "config": asdict(config)})


# --------------------------------------------------------------------------------------------- reference


def reference_agreement(rated: pl.DataFrame, keyword_set: KeywordSet = REFERENCE_KEYWORDS,
                        published_long: pl.DataFrame | None = None) -> pl.DataFrame:
    """Our filters vs the published filter labels of the rated CVs: agreement per filter.

    The published labels are either columns of ``rated`` named like the filters, or ``published_long``
    (long-form annotations, e.g. the imported ones; only the three filter annotators are used).
    """
    if published_long is not None:
        wide = (published_long.filter(pl.col("annotator").is_in(list(FILTER_NAMES)))
                .pivot(on="annotator", index="item_id", values="label", aggregate_function=None))
        rated = rated.select(pl.col("item_id").cast(pl.Utf8), "text").join(wide, on="item_id", how="left")
    missing = [f for f in FILTER_NAMES if f not in rated.columns]
    if missing:
        raise ValueError(f"rated CVs lack published filter column(s) {missing}")
    ours = apply_keyword_filters(rated, keyword_set).pivot(on="annotator", index="item_id", values="label")
    both = ours.join(rated.select(pl.col("item_id").cast(pl.Utf8),
                                  *[pl.col(f).cast(pl.Int8).alias(f"{f}__published") for f in FILTER_NAMES]),
                     on="item_id")
    rows = []
    for name in FILTER_NAMES:
        ours_col, pub = both[name], both[f"{name}__published"]
        rows.append({"filter": name, "n_items": both.height, "n_agree": int((ours_col == pub).sum()),
                     "n_only_ours": int(((ours_col == 1) & (pub == 0)).sum()),
                     "n_only_published": int(((ours_col == 0) & (pub == 1)).sum()),
                     "n_missing": int((ours_col.is_null() | pub.is_null()).sum())})
    return pl.DataFrame(rows).with_columns((pl.col("n_agree") / pl.col("n_items")).alias("agreement"))
