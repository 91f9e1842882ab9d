"""Archetype existence: which archetypes a company probably has but that its filings do not show.

Why this protocol (issue 5, section 3): unobserved cells are unlabelled, not negatives. We hide a random 20%
of each company's observed archetypes (companies with at least 2), compute every count and co-occurrence
feature from the *unmasked* cells only, and rank all of the company's unobserved candidates; a hidden cell
can therefore never leak into a feature. The learned model is trained the same way one level down: a
second mask inside the training matrix gives positives, sampled unobserved cells give negatives (weighted by
the inverse of their sampling rate so probabilities refer to all unobserved cells).

Cells are *linked* when the company shows a related archetype (co-occurring, same role or same state);
only those go through the full LightGBM, unlinked cells get a background model of (popularity, company
size) evaluated once per distinct pair. Scores are computed in chunks of companies; no company x archetype
dense matrix is ever built whole.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import polars as pl
import scipy.sparse as sp
from scipy.stats import rankdata
from sklearn.ensemble import HistGradientBoostingClassifier

from workforce_assets.labor.boosting import REPRODUCIBLE, progress_callback, threads_for
from workforce_assets.labor.matrix import (
    SparseArchetypeMatrix,
    archetype_popularity,
    company_size,
    cosine_similarity,
    group_indicator,
    to_sparse,
)
from workforce_assets.progress import Progress

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
#: Cells per chunk when none is given: ~2M cells x a few dense float arrays (~100 MB) at a time.
DEFAULT_CHUNK_CELLS = 2_000_000
MIN_EVAL_COMPANIES = 5

logger = logging.getLogger(__name__)


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

    def link_block(self, rows: np.ndarray) -> "LinkBlock":
        """Dense link features of every archetype for a chunk of companies (the only dense arrays we build)."""
        labels = self.labels
        size = np.maximum(self.size[rows], 1.0)[:, None].astype(np.float32)
        return LinkBlock(
            rows=rows,
            observed=self.observed[rows].toarray() > 0,
            knn=(self.observed[rows] @ self.item_similarity).toarray(),
            role_share=self.role_counts[rows][:, labels.archetype_role] / size,
            state_share=self.state_counts[rows][:, labels.archetype_state] / size,
        )

    def cell_features(self, rows: np.ndarray, cols: np.ndarray, knn: np.ndarray | None = None) -> np.ndarray:
        """Features of (company, archetype) cells: float32 (n_cells, n_features), in :data:`FEATURE_NAMES` order.

        ``knn`` may be passed when already known from a :class:`LinkBlock` (saves the sparse row products).
        """
        labels = self.labels
        rows = np.asarray(rows, dtype=np.int64)
        cols = np.asarray(cols, dtype=np.int64)
        if len(rows) == 0:
            return np.empty((0, len(FEATURE_NAMES)), dtype=np.float32)
        size = np.maximum(self.size[rows], 1.0)
        role, state = labels.archetype_role[cols], labels.archetype_state[cols]
        if knn is None:
            knn = np.asarray(self.observed[rows].multiply(self.item_similarity[cols]).sum(axis=1)).ravel()
        role_state = sparse_lookup(self.role_state_counts, rows, self.archetype_role_state[cols])
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


@dataclass
class LinkBlock:
    """For a chunk of companies x all archetypes: what is observed and the three link features.

    A cell is *linked* when the company already shows a related archetype: a co-occurring one (knn > 0),
    one with the same role, or one in the same state. Only linked cells go through the full model.
    """

    rows: np.ndarray
    observed: np.ndarray  # bool
    knn: np.ndarray
    role_share: np.ndarray
    state_share: np.ndarray

    @property
    def linked(self) -> np.ndarray:
        return (self.knn > 0) | (self.role_share > 0) | (self.state_share > 0)


def sparse_lookup(matrix: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Values of a sparse matrix at (row, col) pairs, 0 where not stored; vectorised via sorted cell keys."""
    coo = matrix.tocoo()
    keys = coo.row.astype(np.int64) * matrix.shape[1] + coo.col
    order = np.argsort(keys)
    keys, values = keys[order], coo.data[order]
    wanted = np.asarray(rows, dtype=np.int64) * matrix.shape[1] + np.asarray(cols, dtype=np.int64)
    pos = np.clip(np.searchsorted(keys, wanted), 0, max(len(keys) - 1, 0))
    found = (len(keys) > 0) & (keys[pos] == wanted) if len(keys) else np.zeros(len(wanted), dtype=bool)
    return np.where(found, values[pos] if len(keys) else 0.0, 0.0)


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
def _chunk_rows(rows: np.ndarray, n_archetypes: int, chunk_companies: int | None) -> list[np.ndarray]:
    size = chunk_companies or max(1, DEFAULT_CHUNK_CELLS // max(n_archetypes, 1))
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def _sample_cells(candidates: np.ndarray, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Up to ``k`` cells per row drawn uniformly without replacement from a boolean block.

    Returns (row, col, weight) with weight = candidates in the row / cells drawn from it, so weighted
    counts stand for every candidate cell.
    """
    n_rows, n_cols = candidates.shape
    if k <= 0 or n_rows == 0 or n_cols == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    keys = rng.random(candidates.shape, dtype=np.float32)
    keys[~candidates] = 2.0
    k = min(k, n_cols)
    picked = np.argpartition(keys, k - 1, axis=1)[:, :k] if k < n_cols else np.tile(np.arange(n_cols), (n_rows, 1))
    valid = np.take_along_axis(keys, picked, axis=1) < 2.0
    rows = np.repeat(np.arange(n_rows), k).reshape(n_rows, k)[valid]
    cols = picked[valid]
    drawn = valid.sum(axis=1)
    weight_by_row = np.divide(candidates.sum(axis=1), drawn, out=np.zeros(n_rows), where=drawn > 0)
    return rows, cols, weight_by_row[rows]


@dataclass
class TrainingPairs:
    features: np.ndarray
    label: np.ndarray
    weight: np.ndarray
    linked: np.ndarray

    @classmethod
    def concat(cls, parts: list["TrainingPairs"]) -> "TrainingPairs":
        if not parts:
            return cls(np.empty((0, len(FEATURE_NAMES)), np.float32), np.empty(0, np.int8), np.empty(0), np.empty(0, bool))
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("features", "label", "weight", "linked")))


def _training_pairs(
    labels: SparseArchetypeMatrix,
    observed: sp.csr_matrix,
    rng: np.random.Generator,
    mask_fraction: float,
    negatives_per_company: int,
    chunk_companies: int | None = None,
) -> TrainingPairs:
    """One inner mask of ``observed``: hidden cells are positives, sampled unobserved cells negatives.

    Features come from the kept cells only. Negatives are drawn separately among linked and unlinked
    candidates (``negatives_per_company`` each) so the linked model sees enough hard negatives.
    """
    kept, hidden = mask_observed(observed, mask_fraction, rng)
    context = FeatureContext.from_observed(labels, kept)
    companies = np.flatnonzero(company_size(hidden) > 0)
    parts = []
    for rows in _chunk_rows(companies, labels.shape[1], chunk_companies):
        block = context.link_block(rows)
        positive = hidden[rows].toarray() > 0
        unobserved = ~(block.observed | positive)
        linked = block.linked
        pos_r, pos_c = np.nonzero(positive)
        sampled = [(pos_r, pos_c, np.ones(len(pos_r)), np.ones(len(pos_r), np.int8))]
        for region in (linked & unobserved, ~linked & unobserved):
            r, c, w = _sample_cells(region, negatives_per_company, rng)
            sampled.append((r, c, w, np.zeros(len(r), np.int8)))
        r = np.concatenate([s[0] for s in sampled])
        c = np.concatenate([s[1] for s in sampled])
        parts.append(
            TrainingPairs(
                features=context.cell_features(rows[r], c, knn=block.knn[r, c]),
                label=np.concatenate([s[3] for s in sampled]),
                weight=np.concatenate([s[2] for s in sampled]),
                linked=linked[r, c],
            )
        )
    return TrainingPairs.concat(parts)


# ---------------------------------------------------------------------------------------------- model
BACKGROUND_FEATURES = ("log_popularity", "log_company_size")


@dataclass
class ExistenceModel:
    """Probability that an unobserved cell is an archetype the company has but did not file.

    Two parts (``kind='lightgbm'``): a LightGBM over all features for *linked* cells, and a background
    LightGBM over (popularity, company size) for unlinked cells, evaluated once per distinct value pair
    (that is why 200 million cells stay cheap). ``kind='popularity'`` when the data were too small to learn:
    every cell gets its archetype's base rate (share of companies listing it).
    """

    kind: str
    linked_booster: lgb.Booster | None
    background_booster: lgb.Booster | None = None
    n_companies: int = 1
    n_train_pairs: int = 0
    n_train_positives: int = 0
    n_train_positives_linked: int = 0
    note: str = ""
    feature_names: tuple[str, ...] = FEATURE_NAMES
    feature_importance: dict[str, float] = field(default_factory=dict)

    def background(self, popularity: np.ndarray, size: np.ndarray) -> np.ndarray:
        """(len(size), len(popularity)) probabilities of unlinked cells, one prediction per distinct value pair."""
        if self.kind != "lightgbm" or self.background_booster is None:
            return np.broadcast_to(popularity[None, :] / max(self.n_companies, 1), (len(size), len(popularity))).copy()
        pop_values, pop_index = np.unique(popularity, return_inverse=True)
        size_values, size_index = np.unique(size, return_inverse=True)
        grid = np.column_stack(
            [np.tile(np.log1p(pop_values), len(size_values)), np.repeat(np.log1p(size_values), len(pop_values))]
        ).astype(np.float32)
        table = self.background_booster.predict(grid, num_threads=threads_for(len(grid), 2)).reshape(len(size_values), len(pop_values))
        return table[size_index][:, pop_index]

    def score_block(self, context: FeatureContext, block: LinkBlock) -> np.ndarray:
        """Probabilities for a chunk: background everywhere, the full model on linked unobserved cells."""
        prob = self.background(context.popularity, context.size[block.rows])
        if self.kind == "lightgbm" and self.linked_booster is not None:
            r, c = np.nonzero(block.linked & ~block.observed)
            if len(r):
                features = context.cell_features(block.rows[r], c, knn=block.knn[r, c])
                prob[r, c] = self.linked_booster.predict(features, num_threads=threads_for(len(r), 2))
        return prob

    def score_cells(self, context: FeatureContext, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Probabilities of individual cells (same values as :meth:`score_block`)."""
        rows = np.asarray(rows, dtype=np.int64)
        cols = np.asarray(cols, dtype=np.int64)
        features = context.cell_features(rows, cols)
        if self.kind != "lightgbm" or self.linked_booster is None:
            return context.popularity[cols] / max(self.n_companies, 1)
        linked = (features[:, FEATURE_NAMES.index("knn_score")] > 0) | (
            features[:, FEATURE_NAMES.index("role_share")] > 0) | (features[:, FEATURE_NAMES.index("state_share")] > 0)
        out = np.empty(len(rows))
        if self.background_booster is not None and (~linked).any():
            cols_bg = [FEATURE_NAMES.index(f) for f in BACKGROUND_FEATURES]
            out[~linked] = self.background_booster.predict(features[~linked][:, cols_bg], num_threads=threads_for(len(rows), 2))
        elif (~linked).any():
            out[~linked] = context.popularity[cols[~linked]] / max(self.n_companies, 1)
        if linked.any():
            out[linked] = self.linked_booster.predict(features[linked], num_threads=threads_for(len(rows), 2))
        return out


def _booster(features, label, weight, seed, n_estimators, num_threads, names, num_leaves=15, learning_rate=0.1) -> lgb.Booster:
    params = {
        "objective": "binary",
        "learning_rate": learning_rate,
        "num_leaves": num_leaves,
        "min_data_in_leaf": 20,
        "min_sum_hessian_in_leaf": 1e-3,
        "feature_fraction": 0.9 if len(names) > 2 else 1.0,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "num_threads": threads_for(len(label), num_threads),
        "seed": seed,
        "deterministic": True, **REPRODUCIBLE,
        "verbose": -1,
    }
    dataset = lgb.Dataset(features, label=label, weight=weight, feature_name=list(names), free_raw_data=True)
    return lgb.train(params, dataset, num_boost_round=n_estimators,
                     callbacks=[progress_callback("LightGBM archetype existence", n_estimators)])


def _fit_on(
    labels: SparseArchetypeMatrix,
    observed: sp.csr_matrix,
    seed: int,
    mask_fraction: float,
    n_estimators: int,
    num_threads: int,
    negatives_per_company: int,
    n_rounds: int,
    chunk_companies: int | None = None,
) -> tuple[ExistenceModel, TrainingPairs]:
    rng = np.random.default_rng(seed)
    pairs = TrainingPairs.concat(
        [_training_pairs(labels, observed, rng, mask_fraction, negatives_per_company, chunk_companies)
         for _ in range(n_rounds)]
    )
    n_pos = int(pairs.label.sum())
    n_pos_linked = int(pairs.label[pairs.linked].sum())
    common = {"n_companies": observed.shape[0], "n_train_pairs": len(pairs.label), "n_train_positives": n_pos,
              "n_train_positives_linked": n_pos_linked}
    if n_pos_linked < 10 or n_pos_linked == int(pairs.linked.sum()):
        note = f"only {n_pos_linked} hidden linked positives to learn from (need >= 10); scoring by popularity"
        return ExistenceModel(kind="popularity", linked_booster=None, note=note, **common), pairs
    linked = pairs.linked
    linked_booster = _booster(pairs.features[linked], pairs.label[linked], pairs.weight[linked], seed,
                              n_estimators, num_threads, FEATURE_NAMES)
    unlinked = ~linked
    n_pos_unlinked = int(pairs.label[unlinked].sum())
    background_booster, note = None, ""
    if n_pos_unlinked >= 10 and n_pos_unlinked < int(unlinked.sum()):
        cols = [FEATURE_NAMES.index(f) for f in BACKGROUND_FEATURES]
        background_booster = _booster(pairs.features[unlinked][:, cols], pairs.label[unlinked],
                                      pairs.weight[unlinked], seed, max(20, n_estimators // 4), num_threads,
                                      BACKGROUND_FEATURES, num_leaves=7)
    else:
        note = f"{n_pos_unlinked} unlinked positives: unlinked cells get the archetype base rate"
    gain = linked_booster.feature_importance(importance_type="gain")
    total = float(gain.sum()) or 1.0
    model = ExistenceModel(
        kind="lightgbm", linked_booster=linked_booster, background_booster=background_booster, note=note,
        feature_importance={name: float(g) / total for name, g in zip(FEATURE_NAMES, gain)}, **common,
    )
    return model, pairs


def fit_existence_model(
    matrix: pl.DataFrame,
    seed: int = 0,
    *,
    mask_fraction: float = 0.2,
    n_estimators: int = 100,
    num_threads: int = 2,
    negatives_per_company: int = 50,
    n_rounds: int = 2,
    chunk_companies: int | None = None,
) -> ExistenceModel:
    """Fit the existence model on the whole archetype matrix (inner-mask protocol, see module doc)."""
    labels = to_sparse(matrix)
    model, _ = _fit_on(labels, labels.observed, seed, mask_fraction, n_estimators, num_threads,
                       negatives_per_company, n_rounds, chunk_companies)
    return model


# ------------------------------------------------------------------------------------------- evaluation
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


def _grid_predict(predict_proba, popularity: np.ndarray, size: np.ndarray) -> np.ndarray:
    """A model of (popularity, company size) only, evaluated once per distinct pair and broadcast."""
    pop_values, pop_index = np.unique(popularity, return_inverse=True)
    size_values, size_index = np.unique(size, return_inverse=True)
    grid = np.column_stack([np.tile(np.log1p(pop_values), len(size_values)),
                            np.repeat(np.log1p(size_values), len(pop_values))])
    table = predict_proba(grid).reshape(len(size_values), len(pop_values))
    return table[size_index][:, pop_index]


def _method_scores(method: str, context: FeatureContext, block: LinkBlock, models: dict) -> np.ndarray:
    if method == "popularity":
        return np.broadcast_to(context.popularity[None, :], block.knn.shape)
    if method == "item_knn":
        return block.knn
    if method == "affinity_heuristic":
        # popularity percentile in [0, 1) boosted by +1 for a shared role and +1 for a shared state
        pop = context.popularity / (context.popularity.max() + 1.0)
        return pop[None, :] + (block.role_share > 0) + (block.state_share > 0)
    if method == "original_gbm":
        gbm = models["original_gbm"]
        return _grid_predict(lambda x: gbm.predict_proba(x)[:, 1], context.popularity, context.size[block.rows])
    if method == "lightgbm":
        return models["lightgbm"].score_block(context, block)
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
    n_estimators: int = 100,
    num_threads: int = 2,
    negatives_per_company: int = 50,
    n_rounds: int = 2,
    chunk_companies: int | None = None,
    return_per_company: bool = False,
):
    """Held-out ranking metrics of every method (long frame: method, metric, value + context columns).

    Metrics: recall@{1,5,10,20,50}, ndcg@10, auc (means over evaluated companies), and for lightgbm the
    share of gain importance per feature (metric ``importance:<feature>``). With too few companies having
    >= 2 archetypes, one documented skip row (method 'none'). ``return_per_company`` also returns the
    per-company values (for recall@k curves).
    """
    if matrix.height == 0:
        frame = _skip_frame("empty archetype matrix", 0, 0, seed)
        return (frame, pl.DataFrame()) if return_per_company else frame
    labels = to_sparse(matrix)
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
    model, pairs = _fit_on(labels, kept, seed + 1, mask_fraction, n_estimators, num_threads,
                           negatives_per_company, n_rounds, chunk_companies)
    models: dict = {"lightgbm": model}
    if "original_gbm" in methods:
        cols = [FEATURE_NAMES.index(f) for f in ORIGINAL_FEATURES]
        models["original_gbm"] = HistGradientBoostingClassifier(max_iter=100, random_state=seed).fit(
            pairs.features[:, cols], pairs.label, sample_weight=pairs.weight
        )
    tiebreak_order = np.lexsort((rng.permutation(labels.shape[1]), context.popularity))
    tiebreak = np.empty(labels.shape[1])
    tiebreak[tiebreak_order] = np.arange(labels.shape[1])

    per_company: dict[str, list] = {"method": [], "company_id": [], "metric": [], "value": []}
    for rows in _chunk_rows(eval_rows, labels.shape[1], chunk_companies):
        block = context.link_block(rows)
        positive = hidden[rows].toarray() > 0
        for method in methods:
            scores = _method_scores(method, context, block, models)
            for metric, values in _rank_metrics(scores, block.observed, positive, tiebreak).items():
                per_company["method"].extend([method] * len(rows))
                per_company["company_id"].extend(labels.companies[rows].tolist())
                per_company["metric"].extend([metric] * len(rows))
                per_company["value"].extend(values.tolist())
    per_company_frame = pl.DataFrame(
        per_company, schema={"method": pl.Utf8, "company_id": pl.Utf8, "metric": pl.Utf8, "value": pl.Float64}
    )
    summary = per_company_frame.group_by("method", "metric").agg(pl.col("value").drop_nans().mean())
    importance = [{"method": "lightgbm", "metric": f"importance:{name}", "value": share}
                  for name, share in model.feature_importance.items()]
    frame = pl.concat([summary, pl.DataFrame(importance, schema=summary.schema)]) if importance else summary
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
def schema_top_k() -> dict:
    return {"company_id": pl.Utf8, "archetype": pl.Utf8, "rank": pl.Int32, "probability": pl.Float64}


def schema_above_threshold() -> dict:
    return {"company_id": pl.Utf8, "archetype": pl.Utf8, "probability": pl.Float64}


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
    if matrix.height == 0:
        return pl.DataFrame(schema=schema_top_k()), pl.DataFrame(schema=schema_above_threshold())
    labels = to_sparse(matrix)
    context = FeatureContext.from_observed(labels, labels.observed)
    return score_context(model, context, top_k=top_k, threshold=threshold, chunk_companies=chunk_companies)


def iter_scored_chunks(model: ExistenceModel, context: FeatureContext, chunk_companies: int | None = None):
    """Yield (company rows, probability block) chunk by chunk; observed cells are -inf."""
    n_companies, n_arch = context.observed.shape
    progress = Progress("archetype scoring", n_companies, logger, unit="companies")
    for rows in _chunk_rows(np.arange(n_companies), n_arch, chunk_companies):
        block = context.link_block(rows)
        prob = model.score_block(context, block)
        prob[block.observed] = -np.inf
        yield rows, prob
        progress.advance(len(rows))


def score_context(
    model: ExistenceModel,
    context: FeatureContext,
    top_k: int = 20,
    threshold: float = 0.5,
    chunk_companies: int | None = None,
    on_chunk=None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The chunked scorer behind :func:`score_full_matrix`, on an already built context. ``on_chunk(rows,
    prob)``, if given, sees every scored block too (observed cells -inf), so another summary of the same
    scores (the market sizes of ``questions.score_and_size``) needs no second pass over the grid."""
    labels = context.labels
    n_arch = context.observed.shape[1]
    k = min(top_k, n_arch)
    top_parts, above_parts = [], []
    for rows, prob in iter_scored_chunks(model, context, chunk_companies):
        if on_chunk is not None:
            on_chunk(rows, prob)
        top = np.argpartition(-prob, k - 1, axis=1)[:, :k] if k < n_arch else np.tile(np.arange(n_arch), (len(rows), 1))
        top_prob = np.take_along_axis(prob, top, axis=1)
        order = np.lexsort((top, -top_prob), axis=1)  # probability, then archetype index: deterministic
        top = np.take_along_axis(top, order, axis=1)
        top_prob = np.take_along_axis(top_prob, order, axis=1)
        valid = np.isfinite(top_prob)
        company_index = np.broadcast_to(rows[:, None], top.shape)
        top_parts.append(pl.DataFrame(
            {
                "company_id": labels.companies[company_index[valid]],
                "archetype": labels.archetypes[top[valid]],
                "rank": np.broadcast_to(np.arange(1, k + 1, dtype=np.int32)[None, :], top.shape)[valid],
                "probability": top_prob[valid].astype(np.float64),
            },
            schema=schema_top_k(),
        ))
        hit_r, hit_c = np.nonzero(prob >= threshold)
        above_parts.append(pl.DataFrame(
            {
                "company_id": labels.companies[rows[hit_r]],
                "archetype": labels.archetypes[hit_c],
                "probability": prob[hit_r, hit_c].astype(np.float64),
            },
            schema=schema_above_threshold(),
        ))
    top_frame = pl.concat(top_parts) if top_parts else pl.DataFrame(schema=schema_top_k())
    above_frame = pl.concat(above_parts) if above_parts else pl.DataFrame(schema=schema_above_threshold())
    return top_frame, above_frame
