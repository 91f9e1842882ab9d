"""Keyword-filter annotators: one matching rule, used for rated CVs and for employee profiles alike.

The original study ran "the same" filters three ways (word-boundary regex, awk without boundaries, manual
website search), so accuracy measured on one population did not carry to the other. Here a single
vectorised implementation serves every item.

Matching rule (documented in docs/validation.md):

* case-insensitive;
* a term matches only as whole words: it must not be preceded or followed by a letter, digit or ``_``
  (Unicode-aware, so ``ML`` matches ``ML-based``, ``(ML)``, ``ML/AI`` and ``инженер ML`` but not ``HTML``,
  ``MLOps`` or ``XML``; ``RL`` does not match ``URL``);
* the words of a multi-word term may be separated by any run of spaces, hyphens or underscores
  (``machine-learning``, ``machine_learning``, ``machine\\nlearning``) or joined in CamelCase
  (``#MachineLearning``, ``DeepLearning.AI``), but not run together in lower case (``crossfunctional`` is not
  ``cross functional``). With this rule the reference set reproduces all three published filter columns
  of the 585 rated CVs exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

FILTER_BROAD_YES = "filter_broad_yes"
FILTER_STRICT_NO = "filter_strict_no"
FILTER_BROAD_YES_STRICT_NO = "filter_broad_yes_strict_no"
FILTER_NAMES = (FILTER_BROAD_YES, FILTER_STRICT_NO, FILTER_BROAD_YES_STRICT_NO)
KEYWORD_SOURCE = "keyword_filter"

# A term is words made of letters/digits/underscore, separated by spaces, hyphens or underscores. Anything
# else ("c++", "node.js") cannot be matched honestly with word boundaries, so it is refused, not mangled.
_VALID_TERM = re.compile(r"^\w+(?:[\s\-_]+\w+)*$")
_WORD_SPLIT = re.compile(r"[\s\-_]+")
_WORD_SEPARATOR = r"[\s\-_]+"


def normalise_term(term: str) -> str:
    """Lower-case and single-space a term; raise when it cannot be matched as whole words."""
    text = str(term).strip()
    if not _VALID_TERM.match(text):
        raise ValueError(
            f"keyword {term!r} must be words of letters/digits separated by spaces, hyphens or underscores"
        )
    return " ".join(w.lower() for w in _WORD_SPLIT.split(text))


def term_pattern(term: str) -> str:
    """Regex body (no boundaries) for one normalised term; see the module docstring for the rule."""
    words = normalise_term(term).split(" ")
    parts = [re.escape(words[0])]
    for word in words[1:]:
        first = word[0]
        if first.upper() == first.lower():
            parts.append(_WORD_SEPARATOR + re.escape(word))
        else:
            rest = re.escape(word[1:])
            # either "<sep>word" (case-insensitive) or CamelCase "Word" glued to the previous word
            parts.append(rf"(?:{_WORD_SEPARATOR}{re.escape(word)}|(?-i:{re.escape(first.upper())}){rest})")
    return "".join(parts)


def terms_pattern(terms: tuple[str, ...] | list[str]) -> str:
    """One case-insensitive, word-bounded alternation for a group of terms (polars / Rust regex syntax).

    Rust's ``\\b`` is Unicode-aware, so boundaries hold in non-English text too.
    """
    if not terms:
        raise ValueError("a term group needs at least one term")
    # longest first so that the alternation prefers "staff research scientist" over "research scientist"
    bodies = sorted({term_pattern(t) for t in terms}, key=len, reverse=True)
    return r"(?i)\b(?:" + "|".join(bodies) + r")\b"


@dataclass(frozen=True)
class KeywordSet:
    """The three term groups behind the filters: ML base terms, broad "yes" evidence, strict "no" evidence."""

    name: str
    ml_terms: tuple[str, ...]
    broad_yes: tuple[str, ...]
    strict_no: tuple[str, ...]

    def __post_init__(self) -> None:
        for group in ("ml_terms", "broad_yes", "strict_no"):
            terms = tuple(getattr(self, group))
            if group == "ml_terms" and not terms:
                raise ValueError(f"keyword set {self.name!r}: ml_terms is empty")
            for term in terms:
                normalise_term(term)  # raises on a term that cannot be matched as words
            object.__setattr__(self, group, terms)

    def to_dict(self) -> dict:
        return {"name": self.name, "ml_terms": list(self.ml_terms), "broad_yes": list(self.broad_yes),
                "strict_no": list(self.strict_no)}

    @classmethod
    def from_dict(cls, data: dict) -> "KeywordSet":
        return cls(name=data["name"], ml_terms=tuple(data["ml_terms"]), broad_yes=tuple(data["broad_yes"]),
                   strict_no=tuple(data["strict_no"]))


#: The lists of the original study, kept as facts so that learned sets can be compared with them.
REFERENCE_KEYWORDS = KeywordSet(
    name="reference",
    ml_terms=("machine learning", "ML", "deep learning", "reinforcement learning", "RL"),
    broad_yes=(
        "augmented generation", "agent reinforcement", "mats scholar", "mats", "research scientist", "evals",
        "interpretability", "feature engineering", "research intern", "candidate",
        "graduate research assistant", "science institute", "staff research scientist", "doctor",
    ),
    strict_no=(
        "certificate", "programmer", "council", "companies", "capital", "proven track record", "pilot", "money",
        "specialist", "chief", "udemy", "track record", "customer", "management", "today", "cross functional",
        "administrator", "excellence", "commerce", "linkedin", "leader", "incident", "tier", "brand",
        "investment", "hr", "sites", "offerings", "prior", "centers", "advising", "certified information",
        "key responsibilities", "master data", "anti", "deadlines", "physiology", "carbon", "impacts",
        "certified machine", "qualification",
    ),
)


def _check_items(items: pl.DataFrame, id_column: str, text_column: str) -> None:
    missing = [c for c in (id_column, text_column) if c not in items.columns]
    if missing:
        raise ValueError(f"items lack column(s) {missing}; have {items.columns}")
    if items[id_column].null_count():
        raise ValueError(f"{items[id_column].null_count()} item(s) have a null {id_column}")
    n_dup = items.height - items[id_column].n_unique()
    if n_dup:
        raise ValueError(f"{n_dup} duplicate {id_column} value(s): each item must appear once")


def keyword_hits(items: pl.DataFrame, keyword_set: KeywordSet, id_column: str = "item_id",
                 text_column: str = "text") -> pl.DataFrame:
    """Per item: whether its text contains an ML term, a broad_yes term, a strict_no term (null if no text)."""
    _check_items(items, id_column, text_column)
    text = pl.col(text_column).cast(pl.Utf8)
    has_text = text.is_not_null() & (text.str.strip_chars().str.len_chars() > 0)

    def hit(terms: tuple[str, ...]) -> pl.Expr:
        # an empty group (a learned set may find no strict_no term) never matches
        found = text.str.contains(terms_pattern(terms)) if terms else pl.lit(False)
        return pl.when(has_text).then(found).otherwise(None)

    return items.select(
        pl.col(id_column).cast(pl.Utf8).alias("item_id"),
        hit(keyword_set.ml_terms).alias("has_ml"),
        hit(keyword_set.broad_yes).alias("has_broad_yes"),
        hit(keyword_set.strict_no).alias("has_strict_no"),
    )


def filters_from_hits(hits: pl.DataFrame) -> pl.DataFrame:
    """Wide filter labels (Int8, null when the item has no text) from the three hit columns."""
    ml, yes, no = pl.col("has_ml"), pl.col("has_broad_yes"), pl.col("has_strict_no")
    return hits.select(
        "item_id",
        (ml & yes).cast(pl.Int8).alias(FILTER_BROAD_YES),
        (ml & ~no).cast(pl.Int8).alias(FILTER_STRICT_NO),
        (ml & yes & ~no).cast(pl.Int8).alias(FILTER_BROAD_YES_STRICT_NO),
    )


def apply_keyword_filters(items: pl.DataFrame, keyword_set: KeywordSet, id_column: str = "item_id",
                          text_column: str = "text") -> pl.DataFrame:
    """The three filters as long-form annotations (one row per item x filter).

    filter_broad_yes = ML and any broad_yes term; filter_strict_no = ML and no strict_no term;
    filter_broad_yes_strict_no = both. An item with empty or null text gets a null (missing) label, never 0.
    """
    wide = filters_from_hits(keyword_hits(items, keyword_set, id_column, text_column))
    long = wide.unpivot(index="item_id", on=list(FILTER_NAMES), variable_name="annotator", value_name="label")
    return long.select(
        "item_id",
        "annotator",
        pl.col("label").cast(pl.Int8),
        pl.lit(None, dtype=pl.Utf8).alias("raw_label"),
        pl.lit(KEYWORD_SOURCE).alias("source"),
    )
