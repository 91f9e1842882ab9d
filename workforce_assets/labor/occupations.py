"""Job title -> SOC occupation: a classifier learned from the records that carry both, for those that do not.

The DOL files give a SOC code for most records (the filer's and the DOL's own classification); some sources
(the H-1B extract, a normalised csv) give a title only. :class:`TitleOccupationClassifier` learns the
(title, SOC) pairs of the records that have both: character 2-4-grams and word 1-2-grams of the cleaned title
(TF-IDF), a linear model (scikit-learn), trained on distinct (title, SOC) pairs weighted by the square root of
their record count (a title filed 5,000 times by one employer should not drown the rest). Its confidence is
a softmax of the decision scores with a temperature fitted on employers held out of the fit, so a stated
0.8 means about 80% correct on new employers. Below ``min_confidence`` a prediction falls back to the SOC
broad group, then the major group, and says so (``level``).

SOC levels as codes: detailed ``15-1252``, broad ``15-1250``, major ``15-0000``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import optimize, special

LEVELS = ("detailed", "broad", "major")
CLASSIFIERS = ("linear_svm", "naive_bayes")


def broad_group(code: str) -> str:
    """``15-1252`` -> ``15-1250`` (SOC broad groups end in 0)."""
    return code[:6] + "0"


def major_group(code: str) -> str:
    """``15-1252`` -> ``15-0000``."""
    return code[:2] + "-0000"


def at_level(codes, level: str) -> np.ndarray:
    convert = {"detailed": lambda c: c, "broad": broad_group, "major": major_group}[level]
    return np.array([convert(c) for c in codes], dtype=object)


def _features():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_union

    return make_union(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=2),
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True),
    )


def _estimator(kind: str):
    if kind == "linear_svm":
        from sklearn.svm import LinearSVC

        return LinearSVC(C=1.0, max_iter=3000)
    if kind == "naive_bayes":
        from sklearn.naive_bayes import ComplementNB

        return ComplementNB(alpha=0.1)
    raise ValueError(f"classifier must be one of {CLASSIFIERS}, not {kind!r}")


def _scores(estimator, features) -> np.ndarray:
    if hasattr(estimator, "decision_function"):
        return np.asarray(estimator.decision_function(features), dtype=float)
    return np.asarray(estimator.predict_log_proba(features), dtype=float)


def _distinct_pairs(titles: list[str], codes: list[str]) -> pl.DataFrame:
    return (pl.DataFrame({"title": titles, "soc": codes}).filter(pl.col("title").str.len_chars() > 0)
            .group_by("title", "soc").len().sort("title", "soc"))


@dataclass
class OccupationPrediction:
    """Per title: the code at the level its confidence allows, that level, and the confidence at it."""

    code: np.ndarray
    level: np.ndarray
    confidence: np.ndarray
    detailed_code: np.ndarray
    detailed_confidence: np.ndarray


class TitleOccupationClassifier:
    """``TitleOccupationClassifier().fit(titles, soc_codes, employers)``; fitted attributes ``classes_``,
    ``temperature_``, ``n_pairs_``; ``predict(titles)`` -> :class:`OccupationPrediction`.

    ``employers`` (one per record) define the held-out split the temperature is fitted on (a fifth of the
    employers, never all of them); without them the split is by title.
    """

    def __init__(self, classifier: str = "linear_svm", min_confidence: float = 0.5, seed: int = 0):
        if classifier not in CLASSIFIERS:
            raise ValueError(f"classifier must be one of {CLASSIFIERS}, not {classifier!r}")
        self.classifier, self.min_confidence, self.seed = classifier, min_confidence, seed

    def _fit_model(self, pairs: pl.DataFrame):
        features = _features()
        matrix = features.fit_transform(pairs["title"].to_list())
        estimator = _estimator(self.classifier)
        estimator.fit(matrix, pairs["soc"].to_numpy(), sample_weight=np.sqrt(pairs["len"].to_numpy()))
        return features, estimator

    def fit(self, titles: list[str], soc_codes: list[str], employers: list[str] | None = None):
        titles, soc_codes = list(titles), list(soc_codes)
        if len(titles) != len(soc_codes) or not titles:
            raise ValueError("titles and soc_codes must be non-empty and of equal length")
        groups = np.asarray(employers if employers is not None else titles, dtype=object)
        rng = np.random.default_rng(self.seed)
        distinct_groups = np.unique(groups)
        held = set(rng.choice(distinct_groups, size=max(1, distinct_groups.size // 5), replace=False).tolist())
        in_held = np.array([g in held for g in groups])
        fit_pairs = _distinct_pairs([t for t, h in zip(titles, in_held) if not h],
                                    [c for c, h in zip(soc_codes, in_held) if not h])
        self.temperature_ = 1.0
        if in_held.any() and fit_pairs["soc"].n_unique() > 1:
            features, estimator = self._fit_model(fit_pairs)
            held_titles = [t for t, h in zip(titles, in_held) if h]
            held_codes = np.array([c for c, h in zip(soc_codes, in_held) if h], dtype=object)
            known = np.isin(held_codes, estimator.classes_)
            scores = _scores(estimator, features.transform(held_titles))[known]
            target = np.searchsorted(estimator.classes_, held_codes[known])

            def nll(log_t: float) -> float:
                logp = special.log_softmax(scores / np.exp(log_t), axis=1)
                return -float(np.mean(logp[np.arange(target.size), target]))

            if target.size:
                self.temperature_ = float(np.exp(optimize.minimize_scalar(nll, bounds=(-6, 4), method="bounded").x))
        pairs = _distinct_pairs(titles, soc_codes)
        if pairs["soc"].n_unique() < 2:
            raise ValueError("a title classifier needs at least two occupations")
        self.features_, self.estimator_ = self._fit_model(pairs)
        self.classes_ = np.asarray(self.estimator_.classes_, dtype=object)
        self.n_pairs_ = pairs.height
        return self

    def predict_proba(self, titles: list[str]) -> np.ndarray:
        """(n_titles, n_classes) calibrated probabilities over ``classes_`` (detailed occupations)."""
        scores = _scores(self.estimator_, self.features_.transform(list(titles)))
        return special.softmax(scores / self.temperature_, axis=1)

    def predict(self, titles: list[str]) -> OccupationPrediction:
        titles = list(titles)
        proba = self.predict_proba(titles)
        best = proba.argmax(axis=1)
        detailed, detailed_conf = self.classes_[best], proba[np.arange(len(titles)), best]
        code, level, confidence = detailed.copy(), np.full(len(titles), "detailed", dtype=object), detailed_conf.copy()
        low = detailed_conf < self.min_confidence
        for name in ("broad", "major"):
            if not low.any():
                break
            grouped = at_level(self.classes_, name)
            names, index = np.unique(grouped, return_inverse=True)
            summed = np.zeros((int(low.sum()), names.size))
            np.add.at(summed.T, index, proba[low].T)
            pick = summed.argmax(axis=1)
            rows = np.flatnonzero(low)
            code[rows], level[rows], confidence[rows] = names[pick], name, summed[np.arange(rows.size), pick]
            low = np.zeros(len(titles), dtype=bool)
            low[rows] = confidence[rows] < self.min_confidence
        return OccupationPrediction(code=code, level=level, confidence=confidence, detailed_code=detailed,
                                    detailed_confidence=detailed_conf)


def evaluate_title_classifier(titles, soc_codes, employers, classifier: str = "linear_svm", n_folds: int = 5,
                              seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Employer-grouped cross-validation: every record is predicted by a model that saw none of its employer.

    Returns (accuracy per level for the classifier and the exact-title baseline - the training records'
    most common SOC of the same title, else the most common SOC overall -, reliability table of the
    detailed confidence in ten bins with the expected calibration error as ``ece``).
    """
    from sklearn.model_selection import GroupKFold

    titles, codes, employers = (np.asarray(v, dtype=object) for v in (titles, soc_codes, employers))
    predicted = np.empty(titles.size, dtype=object)
    baseline = np.empty(titles.size, dtype=object)
    confidence = np.empty(titles.size)
    for train, test in GroupKFold(n_splits=n_folds).split(titles, groups=employers):
        model = TitleOccupationClassifier(classifier=classifier, seed=seed).fit(
            titles[train].tolist(), codes[train].tolist(), employers[train].tolist())
        result = model.predict(titles[test].tolist())
        predicted[test], confidence[test] = result.detailed_code, result.detailed_confidence
        pairs = _distinct_pairs(titles[train].tolist(), codes[train].tolist())
        top = pairs.sort("len", descending=True).unique("title", keep="first")
        lookup = dict(zip(top["title"].to_list(), top["soc"].to_list()))
        common = pairs.group_by("soc").agg(pl.col("len").sum()).sort("len", "soc")[-1, "soc"]
        baseline[test] = [lookup.get(t, common) for t in titles[test].tolist()]
    rows = []
    for name, guess in ((f"classifier ({classifier})", predicted), ("exact-title baseline", baseline)):
        rows.append({"method": name, **{f"accuracy_{level}": float((at_level(guess, level) == at_level(codes, level)).mean())
                                        for level in LEVELS}, "n_records": int(titles.size)})
    correct = predicted == codes
    bins = np.minimum((confidence * 10).astype(int), 9)
    reliability = pl.DataFrame({"bin": bins, "confidence": confidence, "correct": correct}).group_by("bin").agg(
        pl.len().alias("n"), pl.col("confidence").mean().alias("mean_confidence"),
        pl.col("correct").mean().alias("accuracy")).sort("bin")
    ece = float((reliability["n"] * (reliability["mean_confidence"] - reliability["accuracy"]).abs()).sum() / titles.size)
    return pl.DataFrame(rows), reliability.with_columns(ece=pl.lit(ece))
