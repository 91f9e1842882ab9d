"""Archetype existence: which archetypes a company probably has but that its filings do not show.

Why this protocol (issue 5, section 3): unobserved cells are unlabelled, not negatives. We hide a random 20%
of each company's observed archetypes (companies with at least 2), compute every count and co-occurrence
feature from the *unmasked* cells only, and rank all of the company's unobserved candidates; a hidden cell
can therefore never leak into a feature. The learned model is trained the same way one level down: a
second mask inside the training matrix gives positives, sampled unobserved cells give negatives (weighted by
the inverse of their sampling rate so probabilities refer to all unobserved cells).

Scores are computed in chunks of companies; no company x archetype dense matrix is ever built whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import polars as pl
import scipy.sparse as sp
from scipy.stats import rankdata
from sklearn.ensemble import HistGradientBoostingClassifier

from workforce_assets.labor.matrix import (
    SparseArchetypeMatrix,
    archetype_popularity,
    company_size,
    cosine_similarity,
    group_indicator,
    to_sparse,
)

METHODS = ("popularity", "item_knn", "affinity_heuristic", "original_gbm", "lightgbm")
RECALL_CUTOFFS = (1, 5, 10, 20, 50)
FEATURE_NAMES = (
    "log_popularity",
    "log_role_popularity",
    "log_state_popularity",
    "log_company_size",
    "knn_score",
    "role_share",
    "state_share",
    "seniority_share",
    "role_state_share",
    "role_affinity",
    "state_affinity",
)
ORIGINAL_FEATURES = ("log_popularity", "log_company_size")
#: Cells per chunk when none is given: ~2M cells x 11 float32 features ~ 90 MB of features at a time.
DEFAULT_CHUNK_CELLS = 2_000_000
MIN_EVAL_COMPANIES = 5


# ----------------------------------------------------------------------------------------------- masking
def mask_observed(
    observed: sp.csr_matrix, fraction: float, rng: np.random.Generator, min_observed: int = 2
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Hide ``round(fraction * n)`` (at least 1, at most n - 1) random cells of each company with n >= 2.

    Returns (kept, hidden), both binary CSR of the same shape; kept + hidden == observed.
    """
    coo = observed.tocoo()
    n_cells = coo.nnz
    sizes = company_size(observed).astype(np.int64)
    n_hide = np.where(sizes >= min_observed, np.clip(np.rint(fraction * sizes), 1, sizes - 1), 0).astype(np.int64)
    priority = rng.random(n_cells)
    order = np.lexsort((priority, coo.row))
    rows_sorted = coo.row[order]
    row_start = np.searchsorted(rows_sorted, np.arange(observed.shape[0]))
    rank_in_row = np.arange(n_cells) - row_start[rows_sorted]
    hide_sorted = rank_in_row < n_hide[rows_sorted]
    hide = np.empty(n_cells, dtype=bool)
    hide[order] = hide_sorted

    def part(selector: np.ndarray) -> sp.csr_matrix:
        return sp.csr_matrix(
            (np.ones(selector.sum(), dtype=np.float32), (coo.row[selector], coo.col[selector])), shape=observed.shape
        )

    return part(~hide), part(hide)


# ---------------------------------------------------------------------------------------------- features
@dataclass
class FeatureContext:
    """Sufficient statistics of one observed matrix; every feature of every cell derives from these."""

    labels: SparseArchetypeMatrix
    observed: sp.csr_matrix
    popularity: np.ndarray
    size: np.ndarray
    item_similarity: sp.csr_matrix
    role_counts: np.ndarray  # companies x roles (dense: roles are few)
    state_counts: np.ndarray
    seniority_counts: np.ndarray
    role_state_counts: sp.csr_matrix  # companies x (role, state) pairs
    archetype_role_state: np.ndarray
    role_affinity: np.ndarray  # companies x roles: cosine similarity of the company's roles to each role
    state_affinity: np.ndarray
    role_popularity: np.ndarray
    state_popularity: np.ndarray

    @classmethod
    def from_observed(cls, labels: SparseArchetypeMatrix, observed: sp.csr_matrix) -> "FeatureContext":
        observed = observed.tocsr().astype(np.float32)
        n_roles, n_states = len(labels.roles), len(labels.states)
        n_sen = len(labels.seniorities)
        role_counts = np.asarray((observed @ group_indicator(labels.archetype_role, n_roles)).todense())
        state_counts = np.asarray((observed @ group_indicator(labels.archetype_state, n_states)).todense())
        seniority_counts = np.asarray((observed @ group_indicator(labels.archetype_seniority, n_sen)).todense())
        role_state = labels.archetype_role.astype(np.int64) * n_states + labels.archetype_state
        role_state_counts = (observed @ group_indicator(role_state, n_roles * n_states)).tocsr()
        return cls(
            labels=labels,
            observed=observed,
            popularity=archetype_popularity(observed),
            size=company_size(observed),
            item_similarity=cosine_similarity(observed),
            role_counts=role_counts,
            state_counts=state_counts,
            seniority_counts=seniority_counts,
            role_state_counts=role_state_counts,
            archetype_role_state=role_state,
            role_affinity=_group_affinity(role_counts),
            state_affinity=_group_affinity(state_counts),
            role_popularity=(role_counts > 0).sum(axis=0).astype(np.float64),
            state_popularity=(state_counts > 0).sum(axis=0).astype(np.float64),
        )

    def block(self, rows: np.ndarray) -> np.ndarray:
        """Features of every archetype for the given company rows: float32 (len(rows), n_archetypes, n_features)."""
        labels = self.labels
        n_rows, n_arch = len(rows), self.observed.shape[1]
        size = np.maximum(self.size[rows], 1.0)[:, None]
        out = np.empty((n_rows, n_arch, len(FEATURE_NAMES)), dtype=np.float32)
        out[:, :, 0] = np.log1p(self.popularity)[None, :]
        out[:, :, 1] = np.log1p(self.role_popularity[labels.archetype_role])[None, :]
        out[:, :, 2] = np.log1p(self.state_popularity[labels.archetype_state])[None, :]
        out[:, :, 3] = np.log1p(self.size[rows])[:, None]
        out[:, :, 4] = (self.observed[rows] @ self.item_similarity).toarray()
        out[:, :, 5] = self.role_counts[rows][:, labels.archetype_role] / size
        out[:, :, 6] = self.state_counts[rows][:, labels.archetype_state] / size
        out[:, :, 7] = self.seniority_counts[rows][:, labels.archetype_seniority] / size
        out[:, :, 8] = self.role_state_counts[rows].toarray()[:, self.archetype_role_state] / size
        out[:, :, 9] = self.role_affinity[rows][:, labels.archetype_role]
        out[:, :, 10] = self.state_affinity[rows][:, labels.archetype_state]
        return out

    def pairs(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Features of individual (company, archetype) cells: float32 (n_pairs, n_features); equals ``block``."""
        labels = self.labels
        rows = np.asarray(rows, dtype=np.int64)
        cols = np.asarray(cols, dtype=np.int64)
        size = np.maximum(self.size[rows], 1.0)
        role, state = labels.archetype_role[cols], labels.archetype_state[cols]
        knn = np.asarray(self.observed[rows].multiply(self.item_similarity[cols]).sum(axis=1)).ravel()
        role_state = np.asarray(self.role_state_counts[rows, self.archetype_role_state[cols]]).ravel()
        return np.column_stack(
            [
                np.log1p(self.popularity[cols]),
                np.log1p(self.role_popularity[role]),
                np.log1p(self.state_popularity[state]),
                np.log1p(self.size[rows]),
                knn,
                self.role_counts[rows, role] / size,
                self.state_counts[rows, state] / size,
                self.seniority_counts[rows, labels.archetype_seniority[cols]] / size,
                role_state / size,
                self.role_affinity[rows, role],
                self.state_affinity[rows, state],
            ]
        ).astype(np.float32)


def _group_affinity(group_counts: np.ndarray) -> np.ndarray:
    """For each company and group g: mean cosine similarity (across companies) of its groups to g, self excluded.

    Why: a company with cooks probably has servers; role-level co-occurrence generalises where the
    archetype-level one (item-kNN) is too sparse.
    """
    present = (group_counts > 0).astype(np.float64)
    co = present.T @ present
    norm = np.sqrt(np.maximum(np.diag(co), 1.0))
    sim = co / norm[:, None] / norm[None, :]
    np.fill_diagonal(sim, 0.0)
    n_groups = np.maximum(present.sum(axis=1, keepdims=True), 1.0)
    return (present @ sim / n_groups).astype(np.float32)


# -------------------------------------------------------------------------------------- training pairs
def _training_pairs(
    labels: SparseArchetypeMatrix,
    observed: sp.csr_matrix,
    rng: np.random.Generator,
    mask_fraction: float,
    negatives_per_company: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, label, weight) from one inner mask of ``observed``; features from the kept cells only."""
    kept, hidden = mask_observed(observed, mask_fraction, rng)
    context = FeatureContext.from_observed(labels, kept)
    hidden = hidden.tocoo()
    companies = np.unique(hidden.row)
    n_arch = observed.shape[1]
    n_unobserved = n_arch - company_size(observed)[companies]
    n_draw = np.minimum(negatives_per_company, n_unobserved).astype(np.int64)
    # Draw with replacement, reject observed cells, deduplicate; the achieved count sets each weight.
    draw_rows = np.repeat(companies, 2 * n_draw)
    draw_cols = rng.integers(0, n_arch, size=len(draw_rows))
    is_observed = np.asarray(observed[draw_rows, draw_cols]).ravel() > 0
    keys = np.unique(draw_rows[~is_observed].astype(np.int64) * n_arch + draw_cols[~is_observed])
    neg_rows, neg_cols = keys // n_arch, keys % n_arch
    drawn = np.bincount(neg_rows, minlength=observed.shape[0])
    weight_by_company = np.divide(
        (n_arch - company_size(observed)), drawn, out=np.zeros(observed.shape[0]), where=drawn > 0
    )
    rows = np.concatenate([hidden.row, neg_rows])
    cols = np.concatenate([hidden.col, neg_cols])
    label = np.concatenate([np.ones(hidden.nnz), np.zeros(len(neg_rows))]).astype(np.int8)
    weight = np.concatenate([np.ones(hidden.nnz), weight_by_company[neg_rows]])
    return context.pairs(rows, cols), label, weight


@dataclass
class ExistenceModel:
    """A fitted existence scorer. ``kind`` is 'lightgbm', or 'popularity' when the data were too small to learn."""

    kind: str
    booster: lgb.Booster | None
    feature_names: tuple[str, ...] = FEATURE_NAMES
    n_train_pairs: int = 0
    n_train_positives: int = 0
    n_companies: int = 1
    note: str = ""
    feature_importance: dict[str, float] = field(default_factory=dict)

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Probability that a cell is an unlisted archetype of the company, for a (n, n_features) array."""
        if self.kind == "popularity" or self.booster is None:
            # base rate: share of companies that list the archetype (nothing learned)
            return np.expm1(features[:, 0].astype(np.float64)) / max(self.n_companies, 1)
        return self.booster.predict(features, num_threads=2)


def _fit_booster(features, label, weight, seed, n_estimators, num_threads) -> lgb.Booster:
    params = {
        "objective": "binary",
        "learning_rate": 0.05,
        "num_leaves": 31,
        "min_data_in_leaf": 20,
        "feature_fraction": 0.9,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "num_threads": num_threads,
        "seed": seed,
        "deterministic": True,
        "verbose": -1,
    }
    dataset = lgb.Dataset(features, label=label, weight=weight, feature_name=list(FEATURE_NAMES), free_raw_data=True)
    return lgb.train(params, dataset, num_boost_round=n_estimators)


def _fit_on(
    labels: SparseArchetypeMatrix,
    observed: sp.csr_matrix,
    seed: int,
    mask_fraction: float,
    n_estimators: int,
    num_threads: int,
    negatives_per_company: int,
    n_rounds: int,
) -> tuple[ExistenceModel, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    parts = [_training_pairs(labels, observed, rng, mask_fraction, negatives_per_company) for _ in range(n_rounds)]
    features = np.concatenate([p[0] for p in parts])
    label = np.concatenate([p[1] for p in parts])
    weight = np.concatenate([p[2] for p in parts])
    n_pos = int(label.sum())
    if n_pos < 10 or n_pos == len(label):
        model = ExistenceModel(
            kind="popularity", booster=None, n_train_pairs=len(label), n_train_positives=n_pos,
            n_companies=observed.shape[0],
            note=f"only {n_pos} hidden positives to learn from (need >= 10); scoring by popularity",
        )
        return model, (features, label, weight)
    booster = _fit_booster(features, label, weight, seed, n_estimators, num_threads)
    gain = booster.feature_importance(importance_type="gain")
    total = float(gain.sum()) or 1.0
    model = ExistenceModel(
        kind="lightgbm", booster=booster, n_train_pairs=len(label), n_train_positives=n_pos,
        n_companies=observed.shape[0],
        feature_importance={name: float(g) / total for name, g in zip(FEATURE_NAMES, gain)},
    )
    return model, (features, label, weight)


def fit_existence_model(
    matrix: pl.DataFrame,
    seed: int = 0,
    *,
    mask_fraction: float = 0.2,
    n_estimators: int = 200,
    num_threads: int = 2,
    negatives_per_company: int = 100,
    n_rounds: int = 2,
) -> ExistenceModel:
    """Fit the LightGBM existence model on the whole archetype matrix (inner-mask protocol, see module doc)."""
    labels = to_sparse(matrix)
    model, _ = _fit_on(
        labels, labels.observed, seed, mask_fraction, n_estimators, num_threads, negatives_per_company, n_rounds
    )
    return model


# ------------------------------------------------------------------------------------------- evaluation
def _chunk_rows(rows: np.ndarray, n_archetypes: int, chunk_companies: int | None) -> list[np.ndarray]:
    size = chunk_companies or max(1, DEFAULT_CHUNK_CELLS // max(n_archetypes, 1))
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def _rank_metrics(scores: np.ndarray, observed: np.ndarray, positive: np.ndarray, tiebreak: np.ndarray) -> dict:
    """Per-company recall@k, NDCG@10, AUC for one chunk. Observed cells are excluded from ranking.

    Ties in ``scores`` break by ``tiebreak`` (popularity, then a seeded random order) so no method gains
    from a lucky index order.
    """
    scores = np.where(observed, -np.inf, scores.astype(np.float64))
    n_pos = positive.sum(axis=1)
    n_obs = observed.sum(axis=1)
    n_neg = scores.shape[1] - n_obs - n_pos
    kmax = min(max(RECALL_CUTOFFS), scores.shape[1])
    tie = np.broadcast_to(tiebreak[None, :], scores.shape)
    order = np.lexsort((tie, scores), axis=-1)[:, ::-1][:, :kmax]
    hits = np.take_along_axis(positive, order, axis=1)
    out = {f"recall@{k}": hits[:, :k].sum(axis=1) / n_pos for k in RECALL_CUTOFFS if k <= kmax}
    discounts = 1.0 / np.log2(np.arange(2, 12))
    dcg = (hits[:, :10] * discounts[: hits[:, :10].shape[1]]).sum(axis=1)
    ideal = np.array([discounts[: min(int(p), 10)].sum() for p in n_pos])
    out["ndcg@10"] = dcg / ideal
    ranks = rankdata(scores, axis=1)
    pos_rank_sum = np.where(positive, ranks, 0.0).sum(axis=1) - n_pos * n_obs
    with np.errstate(invalid="ignore", divide="ignore"):
        out["auc"] = np.where(n_neg > 0, (pos_rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg), np.nan)
    return out


def _method_scores(
    method: str, context: FeatureContext, rows: np.ndarray, features: np.ndarray, models: dict
) -> np.ndarray:
    n_rows, n_arch = features.shape[0], features.shape[1]
    if method == "popularity":
        return np.broadcast_to(context.popularity[None, :], (n_rows, n_arch))
    if method == "item_knn":
        return features[:, :, FEATURE_NAMES.index("knn_score")]
    if method == "affinity_heuristic":
        # popularity percentile in [0, 1) boosted by +1 for a shared role and +1 for a shared state
        pop = context.popularity / (context.popularity.max() + 1.0)
        shares_role = features[:, :, FEATURE_NAMES.index("role_share")] > 0
        shares_state = features[:, :, FEATURE_NAMES.index("state_share")] > 0
        return pop[None, :] + shares_role + shares_state
    flat = features.reshape(n_rows * n_arch, -1)
    if method == "original_gbm":
        cols = [FEATURE_NAMES.index(f) for f in ORIGINAL_FEATURES]
        return models["original_gbm"].predict_proba(flat[:, cols])[:, 1].reshape(n_rows, n_arch)
    if method == "lightgbm":
        return models["lightgbm"].predict(flat).reshape(n_rows, n_arch)
    raise ValueError(f"unknown method {method!r}; known: {METHODS}")


def _skip_frame(reason: str, n_companies: int, n_eval: int, seed: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "method": ["none"], "metric": ["n_eval_companies"], "value": [float(n_eval)],
            "n_companies": [n_companies], "n_eval_companies": [n_eval], "n_archetypes": [0],
            "n_hidden": [0], "mask_fraction": [0.0], "seed": [seed], "note": [reason],
        }
    )


def evaluate_existence(
    matrix: pl.DataFrame,
    seed: int = 0,
    mask_fraction: float = 0.2,
    *,
    methods: tuple[str, ...] = METHODS,
    n_estimators: int = 200,
    num_threads: int = 2,
    negatives_per_company: int = 100,
    n_rounds: int = 2,
    chunk_companies: int | None = None,
    return_per_company: bool = False,
):
    """Held-out ranking metrics of every method (long frame: method, metric, value + context columns).

    Metrics: recall@{1,5,10,20,50}, ndcg@10, auc (mean over evaluated companies), and for the learned
    models the share of importance per feature (metric ``importance:<feature>``). With too few companies
    having >= 2 archetypes, returns one documented skip row (method 'none').
    With ``return_per_company`` also returns the per-company metrics (for recall@k plots).
    """
    labels = to_sparse(matrix) if matrix.height else None
    if labels is None:
        frame = _skip_frame("empty archetype matrix", 0, 0, seed)
        return (frame, pl.DataFrame()) if return_per_company else frame
    rng = np.random.default_rng(seed)
    kept, hidden = mask_observed(labels.observed, mask_fraction, rng)
    eval_rows = np.flatnonzero(company_size(hidden) > 0)
    if len(eval_rows) < MIN_EVAL_COMPANIES:
        frame = _skip_frame(
            f"{len(eval_rows)} companies with >= 2 archetypes (need {MIN_EVAL_COMPANIES})",
            labels.shape[0], len(eval_rows), seed,
        )
        return (frame, pl.DataFrame()) if return_per_company else frame
    context = FeatureContext.from_observed(labels, kept)
    models: dict = {}
    model, (train_x, train_y, train_w) = _fit_on(
        labels, kept, seed + 1, mask_fraction, n_estimators, num_threads, negatives_per_company, n_rounds
    )
    models["lightgbm"] = model
    if "original_gbm" in methods:
        cols = [FEATURE_NAMES.index(f) for f in ORIGINAL_FEATURES]
        models["original_gbm"] = HistGradientBoostingClassifier(max_iter=100, random_state=seed).fit(
            train_x[:, cols], train_y, sample_weight=train_w
        )
    tiebreak_order = np.lexsort((rng.permutation(labels.shape[1]), context.popularity))
    tiebreak = np.empty(labels.shape[1])
    tiebreak[tiebreak_order] = np.arange(labels.shape[1])

    per_company: dict[str, list] = {"method": [], "company_id": [], "metric": [], "value": []}
    for rows in _chunk_rows(eval_rows, labels.shape[1], chunk_companies):
        features = context.block(rows)
        observed_block = kept[rows].toarray() > 0
        positive_block = hidden[rows].toarray() > 0
        for method in methods:
            scores = _method_scores(method, context, rows, features, models)
            for metric, values in _rank_metrics(scores, observed_block, positive_block, tiebreak).items():
                per_company["method"].extend([method] * len(rows))
                per_company["company_id"].extend(labels.companies[rows].tolist())
                per_company["metric"].extend([metric] * len(rows))
                per_company["value"].extend(values.tolist())
    per_company_frame = pl.DataFrame(per_company, schema={"method": pl.Utf8, "company_id": pl.Utf8,
                                                          "metric": pl.Utf8, "value": pl.Float64})
    summary = per_company_frame.group_by("method", "metric").agg(pl.col("value").drop_nans().mean())
    importance_rows = [
        {"method": "lightgbm", "metric": f"importance:{name}", "value": share}
        for name, share in model.feature_importance.items()
    ]
    frame = pl.concat([summary, pl.DataFrame(importance_rows, schema=summary.schema)]) if importance_rows else summary
    frame = frame.with_columns(
        n_companies=pl.lit(labels.shape[0]),
        n_eval_companies=pl.lit(len(eval_rows)),
        n_archetypes=pl.lit(labels.shape[1]),
        n_hidden=pl.lit(int(hidden.nnz)),
        mask_fraction=pl.lit(mask_fraction),
        seed=pl.lit(seed),
        note=pl.lit(f"lightgbm model kind: {model.kind}" + (f" ({model.note})" if model.note else "")),
    )
    method_order = {m: i for i, m in enumerate(methods)}
    frame = frame.sort(pl.col("method").replace_strict(method_order, default=len(methods)), "metric")
    return (frame, per_company_frame) if return_per_company else frame


# ----------------------------------------------------------------------------------- full-matrix scores
def score_full_matrix(
    model: ExistenceModel,
    matrix: pl.DataFrame,
    top_k: int = 20,
    threshold: float = 0.5,
    chunk_companies: int | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Score every unobserved company x archetype cell, chunk by chunk.

    Returns (top_k, above_threshold): each company's ``top_k`` best unobserved archetypes with rank and
    probability, and every unobserved cell with probability >= ``threshold``. Memory is bounded by the chunk
    (``chunk_companies`` x n_archetypes cells), never the full grid.
    """
    labels = to_sparse(matrix) if matrix.height else None
    if labels is None:
        return pl.DataFrame(schema=schema_top_k()), pl.DataFrame(schema=schema_above_threshold())
    context = FeatureContext.from_observed(labels, labels.observed)
    return score_context(model, context, top_k=top_k, threshold=threshold, chunk_companies=chunk_companies)


def score_context(
    model: ExistenceModel,
    context: FeatureContext,
    top_k: int = 20,
    threshold: float = 0.5,
    chunk_companies: int | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The chunked scorer behind :func:`score_full_matrix`, on an already built context (benchmarks)."""
    labels = context.labels
    n_companies, n_arch = context.observed.shape
    k = min(top_k, n_arch)
    top_parts, above_parts = [], []
    for rows in _chunk_rows(np.arange(n_companies), n_arch, chunk_companies):
        features = context.block(rows)
        prob = model.predict(features.reshape(len(rows) * n_arch, -1)).reshape(len(rows), n_arch)
        del features
        observed = context.observed[rows].tocoo()
        prob[observed.row, observed.col] = -np.inf
        top = np.argpartition(-prob, k - 1, axis=1)[:, :k] if k < n_arch else np.tile(np.arange(n_arch), (len(rows), 1))
        top_prob = np.take_along_axis(prob, top, axis=1)
        order = np.argsort(-top_prob, axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        top_prob = np.take_along_axis(top_prob, order, axis=1)
        valid = np.isfinite(top_prob)
        r_idx = np.repeat(rows, k).reshape(len(rows), k)
        top_parts.append(
            pl.DataFrame(
                {
                    "company_id": labels.companies[r_idx[valid]],
                    "archetype": labels.archetypes[top[valid]],
                    "rank": (np.tile(np.arange(1, k + 1), (len(rows), 1))[valid]).astype(np.int32),
                    "probability": top_prob[valid].astype(np.float64),
                },
                schema=schema_top_k(),
            )
        )
        hit_r, hit_c = np.nonzero(prob >= threshold)
        above_parts.append(
            pl.DataFrame(
                {
                    "company_id": labels.companies[rows[hit_r]],
                    "archetype": labels.archetypes[hit_c],
                    "probability": prob[hit_r, hit_c].astype(np.float64),
                },
                schema=schema_above_threshold(),
            )
        )
    top_frame = pl.concat(top_parts) if top_parts else pl.DataFrame(schema=schema_top_k())
    above_frame = pl.concat(above_parts) if above_parts else pl.DataFrame(schema=schema_above_threshold())
    return top_frame, above_frame


def schema_top_k() -> dict:
    return {"company_id": pl.Utf8, "archetype": pl.Utf8, "rank": pl.Int32, "probability": pl.Float64}


def schema_above_threshold() -> dict:
    return {"company_id": pl.Utf8, "archetype": pl.Utf8, "probability": pl.Float64}
