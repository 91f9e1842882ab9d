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

import warnings
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import optimize, special
from sklearn.exceptions import ConvergenceWarning

from workforce_assets.labor.roles import clean_title

LEVELS = ("detailed", "broad", "major")
CLASSIFIERS = ("linear_svm", "naive_bayes")

#: The SOC major groups (identical in SOC 2010 and 2018): the standard's own titles, used to name a role that
#: falls back to its major group. Broad-group titles are not in the DOL files, so broad fallbacks are named
#: after the detailed occupations the data holds under them (:meth:`OccupationCatalog.group_name`).
SOC_MAJOR_GROUPS: dict[str, str] = {
    "11": "Management Occupations", "13": "Business and Financial Operations Occupations",
    "15": "Computer and Mathematical Occupations", "17": "Architecture and Engineering Occupations",
    "19": "Life, Physical, and Social Science Occupations", "21": "Community and Social Service Occupations",
    "23": "Legal Occupations", "25": "Educational Instruction and Library Occupations",
    "27": "Arts, Design, Entertainment, Sports, and Media Occupations",
    "29": "Healthcare Practitioners and Technical Occupations", "31": "Healthcare Support Occupations",
    "33": "Protective Service Occupations", "35": "Food Preparation and Serving Related Occupations",
    "37": "Building and Grounds Cleaning and Maintenance Occupations", "39": "Personal Care and Service Occupations",
    "41": "Sales and Related Occupations", "43": "Office and Administrative Support Occupations",
    "45": "Farming, Fishing, and Forestry Occupations", "47": "Construction and Extraction Occupations",
    "49": "Installation, Maintenance, and Repair Occupations", "51": "Production Occupations",
    "53": "Transportation and Material Moving Occupations", "55": "Military Specific Occupations",
}


def broad_group(code: str) -> str:
    """``15-1252`` -> ``15-1250`` (SOC broad groups end in 0)."""
    return code[:6] + "0"


def major_group(code: str) -> str:
    """``15-1252`` -> ``15-0000``."""
    return code[:2] + "-0000"


def level_of(code: str) -> str:
    """``detailed`` (``15-1252``), ``broad`` (``15-1250``) or ``major`` (``15-0000``)."""
    return "major" if code[3:] == "0000" else "broad" if code.endswith("0") and not code.endswith("00") else "detailed"


class OccupationCatalog:
    """The SOC occupations the data holds, reconciled from the data's own (code, title) pairs.

    ``OccupationCatalog().fit(codes, titles, fiscal_years)`` with codes already normalised (``15-1132``);
    fitted attributes:

    * ``occupations_``: one row per canonical code: ``role_code``, ``role`` (the SOC title as the files give
      it), ``n_records``, ``n_title_variants``, ``merged_codes`` (other codes folded into it), ``last_year``;
    * ``code_map_``: every code seen -> its canonical code;
    * ``reconciliation_``: one row per (code, title variant) that is not simply the code's own title, with
      ``outcome``: ``truncated`` (a cut-off spelling of the code's title), ``merged`` (the code's usual title
      is another code's usual title: the same occupation under two SOC versions, folded into the code used
      most recently), ``title_of_other_code`` (the title belongs to another code; the record keeps its filed
      code: a misfiling or a version change the data cannot settle) or ``other_title`` (a title seen with no
      other code).

    Why by title: SOC 2010 -> 2018 renumbered some occupations (``25-2041`` -> ``25-2051``) and split or merged
    others (``15-1132`` + ``15-1133`` -> ``15-1252``). The files give the title next to the code, so a code pair
    with the same usual title is the same occupation; a split or merge changes the title and is reported, not
    guessed.
    """

    def fit(self, codes, titles, fiscal_years=None):
        n = len(codes)
        years = fiscal_years if fiscal_years is not None else [None] * n
        pairs = (
            pl.DataFrame({"code": list(codes), "title": list(titles), "year": list(years)},
                         schema={"code": pl.Utf8, "title": pl.Utf8, "year": pl.Int64}, strict=False)
            .filter(pl.col("code").is_not_null())
            .with_columns(title=pl.col("title").str.strip_chars(), clean=clean_title(pl.col("title")).fill_null(""))
        )
        variants = (pairs.group_by("code", "clean").agg(pl.len().alias("n"), pl.col("year").max().alias("last_year"),
                                                         pl.col("title").drop_nulls().mode().sort().first().alias("title"))
                    .sort("code", "n", "clean", descending=[False, True, False]))
        usual: dict[str, tuple[str, str | None]] = {}  # code -> (clean title, raw title) of its usual title
        outcome: dict[tuple[str, str], str] = {}
        for code, group in variants.group_by("code", maintain_order=True):
            rows = group.rows(named=True)
            top = rows[0]["clean"]
            # the most frequent spelling, extended to the longest variant it is a cut-off of (fixed-width files)
            full = max((r for r in rows if r["clean"] and r["clean"].startswith(top)), key=lambda r: len(r["clean"]),
                       default=rows[0])
            usual[code[0]] = (full["clean"], full["title"])
            for r in rows:
                if r["clean"] != full["clean"] and full["clean"].startswith(r["clean"]):
                    outcome[(code[0], r["clean"])] = "truncated"
        by_title: dict[str, list[str]] = {}
        for code, (clean, _) in usual.items():
            if clean:
                by_title.setdefault(clean, []).append(code)
        stats = variants.group_by("code").agg(pl.col("n").sum(), pl.col("last_year").max(), pl.len().alias("n_variants"))
        stats_map = {r["code"]: r for r in stats.iter_rows(named=True)}
        self.code_map_ = {code: code for code in usual}
        for clean, group in by_title.items():
            if len(group) > 1:  # one occupation under several codes: keep the most recently used (then commonest)
                keep = max(group, key=lambda c: (stats_map[c]["last_year"] or 0, stats_map[c]["n"], c))
                for code in group:
                    self.code_map_[code] = keep
                    if code != keep:
                        outcome[(code, clean)] = "merged"
        for r in variants.iter_rows(named=True):
            key = (r["code"], r["clean"])
            if key in outcome or r["clean"] == usual[r["code"]][0]:
                continue
            owners = [c for c in by_title.get(r["clean"], []) if self.code_map_[c] != self.code_map_[r["code"]]]
            outcome[key] = "title_of_other_code" if owners else "other_title"
        self.reconciliation_ = (
            variants.with_columns(
                outcome=pl.struct("code", "clean").map_elements(lambda v: outcome.get((v["code"], v["clean"])),
                                                                return_dtype=pl.Utf8),
                canonical_code=pl.col("code").replace_strict(self.code_map_, return_dtype=pl.Utf8),
            )
            .filter(pl.col("outcome").is_not_null())
            .select("code", "canonical_code", "title", "n", "outcome").rename({"n": "n_records"})
            .sort("outcome", "code", "n_records", descending=[False, False, True])
        )
        rows = []
        for code in sorted(set(self.code_map_.values())):
            members = [c for c, k in self.code_map_.items() if k == code]
            rows.append({
                "role_code": code, "role": usual[code][1] or f"SOC {code}",
                "n_records": int(sum(stats_map[c]["n"] for c in members)),
                "n_title_variants": int(sum(stats_map[c]["n_variants"] for c in members)),
                "merged_codes": ", ".join(sorted(c for c in members if c != code)),
                "last_year": stats_map[code]["last_year"],
            })
        self.occupations_ = pl.DataFrame(rows, schema={"role_code": pl.Utf8, "role": pl.Utf8, "n_records": pl.Int64,
                                                        "n_title_variants": pl.Int64, "merged_codes": pl.Utf8,
                                                        "last_year": pl.Int64})
        names = dict(zip(self.occupations_["role_code"], self.occupations_["role"]))
        # two codes whose usual titles differ only after a merge cannot share a name; make it unique by code
        seen: dict[str, int] = {}
        for name in names.values():
            seen[name] = seen.get(name, 0) + 1
        self.names_ = {code: (name if seen[name] == 1 else f"{name} ({code})") for code, name in names.items()}
        self.occupations_ = self.occupations_.with_columns(role=pl.col("role_code").replace_strict(self.names_))
        return self

    def canonical(self, code: pl.Expr) -> pl.Expr:
        """Normalised code -> canonical code (codes the fit never saw stay as they are)."""
        return code.replace(self.code_map_)

    def name(self, code: str) -> str:
        """The role name of a canonical code at any level (detailed title, broad or major group)."""
        if code in self.names_:
            return self.names_[code]
        return self.group_name(code)

    def group_name(self, code: str) -> str:
        level = level_of(code)
        if level == "major":
            return f"{SOC_MAJOR_GROUPS.get(code[:2], 'SOC major group ' + code[:2])} (SOC {code})"
        members = self.occupations_.filter(pl.col("role_code").str.slice(0, 6) == code[:6]).sort(
            "n_records", descending=True)["role"].to_list()
        shown = "; ".join(members[:3]) + ("; ..." if len(members) > 3 else "")
        return f"SOC broad group {code}" + (f" ({shown})" if shown else "")


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


def _estimator(kind: str, seed: int = 0):
    if kind == "linear_svm":
        from sklearn.svm import LinearSVC

        # 100 liblinear passes: on the real DOL titles (418 occupations, one employer-held-out fifth) accuracy
        # 0.898 against 0.899 at 3,000 passes, fit 10.9 s against 19.9 s (measured once, 2026-12-03, not by a
        # benchmark in the repository); the convergence warning is expected and silenced. The seed fixes
        # liblinear's coordinate order (without it each fit drew one from numpy's global generator)
        return LinearSVC(C=1.0, max_iter=100, random_state=seed)
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
    ``temperature_``, ``n_pairs_``, ``holdout_accuracy_`` (top-1 per level on the held-out employers) and
    ``n_holdout_``; ``predict(titles)`` -> :class:`OccupationPrediction`.

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
        estimator = _estimator(self.classifier, self.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
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
        self.holdout_accuracy_, self.n_holdout_ = {level: float("nan") for level in LEVELS}, 0
        if in_held.any() and fit_pairs["soc"].n_unique() > 1:
            # (the held-out and the final fit are independent, but not run in two threads: liblinear draws
            # from one process-wide generator, so concurrent fits are not reproducible)
            features, estimator = self._fit_model(fit_pairs)
            held_titles = [t for t, h in zip(titles, in_held) if h]
            held_codes = np.array([c for c, h in zip(soc_codes, in_held) if h], dtype=object)
            known = np.isin(held_codes, estimator.classes_)
            held_scores = _scores(estimator, features.transform(held_titles))
            scores = held_scores[known]
            target = np.searchsorted(estimator.classes_, held_codes[known])

            def nll(log_t: float) -> float:
                logp = special.log_softmax(scores / np.exp(log_t), axis=1)
                return -float(np.mean(logp[np.arange(target.size), target]))

            if target.size:
                self.temperature_ = float(np.exp(optimize.minimize_scalar(nll, bounds=(-6, 4), method="bounded").x))
            # accuracy on the held-out employers (codes the fit never saw count as misses)
            guess = np.asarray(estimator.classes_, dtype=object)[held_scores.argmax(axis=1)]
            self.holdout_accuracy_ = {level: float((at_level(guess, level) == at_level(held_codes, level)).mean())
                                      for level in LEVELS}
            self.n_holdout_ = int(held_codes.size)
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
