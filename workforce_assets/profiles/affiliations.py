"""Organisations a person was affiliated with, read from a profile text, and their category.

Profile texts (the study's scrape, the rated CVs, the demo world) share one layout::

    Experiences: Org (Title): description | Org (Title): ... || Certifications: Issuer: Course | ...
    || Education: Field – Degree @ School | ... || Summary: free text

An *affiliation* is an organisation the person worked at (an experience entry) or studied at (an education
entry). Certification issuers (Coursera, a university's online course) are not affiliations, and neither
are organisations only named in free text (a description or the summary): the evaluation fixture
(``workforce_assets_tests/profiles/fixtures/affiliations_gold.csv``) was labelled by that definition.

Hand-written: no maintained library parses this LinkedIn-export layout, and a general named-entity model
(spaCy, a transformer NER) would have to be downloaded and still would not know which organisation in a
sentence is the person's employer. Categories come from ordered name rules below (category words in many
languages plus a short list of well-known AI labs and non-profits); the measured precision and recall are in
docs/validation.md (section 8).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

CATEGORIES = ("academic", "industry_lab", "company", "government_nonprofit")

#: Entries that name no organisation ("Stealth Startup", "self employed").
PLACEHOLDERS = re.compile(
    r"^(?:stealth(?: mode)?(?: startup| start-up| company)?|startups?|self[- ]employed|independent|freelance[r]?|"
    r"confidential|various|n/?a|none|private|own business|sabbatical|career break)$", re.IGNORECASE)

# ---- category rules, checked in this order (first match wins) ---------------------------------------
#: Research labs of companies and for-profit AI labs.
INDUSTRY_LAB_NAMES = re.compile(
    r"\b(?:deepmind|openai|anthropic|google research|google brain|google labs|microsoft research|meta ai|"
    r"facebook ai|fair|ibm research|nvidia research|adobe research|amazon science|apple machine learning research|"
    r"borealis ai|mistral ai|cohere|xai|ai21(?: labs)?|character\.ai|character ai|inflection ai|"
    r"hugging ?face|stability ai|baidu research|samsung research|sony ai|bell labs|xerox parc|parc|"
    r"salesforce research|naver labs|huawei noah'?s ark lab|alibaba damo|tencent ai lab|bytedance research)\b",
    re.IGNORECASE)
INDUSTRY_LAB_PATTERN = re.compile(r"\b(?:research lab|ai lab|research center|research centre)\b", re.IGNORECASE)
#: Academic: universities, colleges, schools, academic institutes and their centres.
ACADEMIC_PATTERN = re.compile(
    r"universit|\bcollege\b|\bschool\b|polytechnic|politecnico|polytechnique|\binstitute of technology\b|"
    r"\binstitute of science\b|\bécole\b|\becole\b|\blycée\b|\blycee\b|gymnasium|\bhochschule\b|\bacademy of sciences\b|"
    r"\bfaculty\b|\bdepartment of (?:computer|electrical|mathemat|physics|statistic)|\bphd\b|"
    r"\b(?:mit|eth|epfl|ucl|ucla|nyu|cmu|kaist|iit|iisc|inria|cnrs|mila|caltech|stanford|harvard|berkeley|oxford|"
    r"cambridge|princeton|yale|columbia|cornell|sorbonne|suny|centrale|sciences po|hec paris|insead)\b|"
    r"\bmax planck\b|\bfraunhofer\b|\bhigher school\b|\binstituto superior\b|"
    r"\buniversidad\b|\buniversidade\b|\buniversità\b|\bhigh school\b|大学|大學|学院|學院|대학교",
    re.IGNORECASE)
#: Government bodies, non-profits, foundations, associations, AI-safety organisations.
GOVERNMENT_NONPROFIT_NAMES = re.compile(
    r"\b(?:wikimedia|mozilla foundation|red cross|unicef|united nations|world bank|world health organization|oecd|"
    r"nasa|nih|nsf|darpa|national laborator(?:y|ies)|alan turing institute|allen institute)\b",
    re.IGNORECASE)
GOVERNMENT_NONPROFIT_PATTERN = re.compile(
    r"\b(?:government|ministry|ministère|ministerio|department of (?!computer|electrical|mathemat|physics|statistic)|"
    r"federal|agency|council|commission|parliament|senate|embassy|army|navy|air force|marine corps|"
    r"police|city of|county|municipal|public health|nhs|foundation|non-?profit|charity|association|société|"
    r"society|ngo|trust for|fund for)\b", re.IGNORECASE)


def categorise(organisation: str) -> str:
    """The category of one organisation name (one of :data:`CATEGORIES`)."""
    name = organisation.strip()
    if INDUSTRY_LAB_NAMES.search(name):
        return "industry_lab"
    if GOVERNMENT_NONPROFIT_NAMES.search(name):
        return "government_nonprofit"
    if ACADEMIC_PATTERN.search(name):
        return "academic"
    if GOVERNMENT_NONPROFIT_PATTERN.search(name):
        return "government_nonprofit"
    if INDUSTRY_LAB_PATTERN.search(name):
        return "industry_lab"
    return "company"


PHD_PATTERN = re.compile(r"\b(?:ph\.?\s?d\.?|doctor of philosophy|dphil|doctorate|doctoral|d\.?phil)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Affiliation:
    organisation: str
    section: str  # experience | education
    detail: str  # the title of an experience, the degree of an education entry
    position: int  # order of the entry within its section


def _sections(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in text.split(" || "):
        match = re.match(r"\s*(Experiences|Certifications|Education|Skills|Summary)\s*:\s?(.*)$", part, re.DOTALL)
        if match:
            out[match.group(1).lower()] = match.group(2)
    return out


def _split_experience(entry: str) -> tuple[str, str] | None:
    """``Org (Title): description`` -> (org, title). The title is the balanced parenthesised group that ends
    right before the first ``):``; the organisation is everything before it (it may hold parentheses itself:
    ``Wave (Mobile Remittance) (Software Engineer):``)."""
    end = entry.find("):")
    if end < 0:
        end = len(entry.rstrip()) - 1 if entry.rstrip().endswith(")") else -1
        if end < 0:
            return None
    depth = 0
    for i in range(end, -1, -1):
        if entry[i] == ")":
            depth += 1
        elif entry[i] == "(":
            depth -= 1
            if depth == 0:
                org = entry[:i].strip()
                return (org, entry[i + 1:end].strip()) if org else None
    return None


def _clean(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip(" -–—,;:.\t") if name else ""


def extract_affiliations(text: str | None) -> list[Affiliation]:
    """The affiliations of one profile text, first mention of each organisation kept, in text order."""
    if not text:
        return []
    sections = _sections(text)
    found: list[Affiliation] = []
    for position, entry in enumerate(sections.get("experiences", "").split(" | ")):
        split = _split_experience(entry.strip())
        if split:
            found.append(Affiliation(_clean(split[0]), "experience", split[1], position))
    for position, entry in enumerate(sections.get("education", "").split(" | ")):
        if "@" not in entry:
            continue
        degree, _, school = entry.rpartition("@")
        found.append(Affiliation(_clean(school), "education", _clean(degree), position))
    seen: set[str] = set()
    unique = []
    for affiliation in found:
        key = affiliation.organisation.casefold()
        if not affiliation.organisation or PLACEHOLDERS.match(affiliation.organisation) or key in seen:
            continue
        seen.add(key)
        unique.append(affiliation)
    return unique


def has_phd(text: str | None) -> bool:
    """A PhD, completed or in progress: a doctoral degree in Education or a PhD / doctoral title in Experiences."""
    if not text:
        return False
    sections = _sections(text)
    if any(PHD_PATTERN.search(entry.rpartition("@")[0]) for entry in sections.get("education", "").split(" | ") if "@" in entry):
        return True
    for entry in sections.get("experiences", "").split(" | "):
        split = _split_experience(entry.strip())
        if split and PHD_PATTERN.search(split[1]):
            return True
    return False


AFFILIATION_SCHEMA = {"profile_id": pl.Utf8, "company_id": pl.Utf8, "organisation": pl.Utf8, "category": pl.Utf8,
                      "category_source": pl.Utf8, "section": pl.Utf8, "detail": pl.Utf8, "position": pl.Int64}


def affiliation_table(profiles: pl.DataFrame, text_column: str = "profile_text", id_column: str = "profile_id",
                      overrides: dict[str, str] | None = None) -> pl.DataFrame:
    """One row per profile and organisation (schema :data:`AFFILIATION_SCHEMA`). ``overrides`` (organisation
    -> category, matched on the lower-cased alphanumeric name) take precedence over the name rules;
    ``category_source`` says which decided (``user`` or ``rule``)."""
    by_key = {_key(name): category for name, category in (overrides or {}).items()}
    bad = sorted(set(by_key.values()) - set(CATEGORIES))
    if bad:
        raise ValueError(f"override categories {bad} are not among {CATEGORIES}")
    rows = []
    company = profiles.get_column("company_id").to_list() if "company_id" in profiles.columns else [None] * profiles.height
    for profile_id, company_id, text in zip(profiles.get_column(id_column).to_list(), company,
                                            profiles.get_column(text_column).to_list()):
        for a in extract_affiliations(text):
            user = by_key.get(_key(a.organisation))
            rows.append((profile_id, company_id, a.organisation, user or categorise(a.organisation),
                         "user" if user else "rule", a.section, a.detail, a.position))
    return pl.DataFrame(rows, schema=AFFILIATION_SCHEMA, orient="row")


SUMMARY_SCHEMA = {"company_id": pl.Utf8, "n_profiles": pl.Int64, "n_profiles_with_text": pl.Int64,
                  "n_affiliations": pl.Int64, "share_academic": pl.Float64, "share_phd": pl.Float64,
                  "share_industry_lab": pl.Float64, "share_government_nonprofit": pl.Float64}


def company_summary(profiles: pl.DataFrame, affiliations: pl.DataFrame, text_column: str = "profile_text",
                    id_column: str = "profile_id") -> pl.DataFrame:
    """Per company: shares of its sampled employees (with a non-empty text) with an academic affiliation, with
    a PhD, with an industry-lab affiliation. Profiles without text are counted apart, never as a 'no'."""
    if profiles.height == 0:
        return pl.DataFrame(schema=SUMMARY_SCHEMA)
    base = profiles.select(
        pl.col(id_column).alias("profile_id"), "company_id",
        has_text=pl.col(text_column).fill_null("").str.strip_chars().str.len_chars() > 0,
        phd=pl.col(text_column).map_elements(has_phd, return_dtype=pl.Boolean),
    )
    flags = affiliations.group_by("profile_id").agg(
        n_affiliations=pl.len(),
        academic=(pl.col("category") == "academic").any(),
        industry_lab=(pl.col("category") == "industry_lab").any(),
        government_nonprofit=(pl.col("category") == "government_nonprofit").any(),
    )
    joined = base.join(flags, on="profile_id", how="left").with_columns(
        pl.col("n_affiliations").fill_null(0), pl.col("academic", "industry_lab", "government_nonprofit").fill_null(False))
    with_text = pl.col("has_text")

    def share(flag: str) -> pl.Expr:
        return pl.when(with_text.sum() > 0).then((pl.col(flag) & with_text).sum() / with_text.sum()).otherwise(None)

    return joined.group_by("company_id").agg(
        n_profiles=pl.len(), n_profiles_with_text=with_text.sum().cast(pl.Int64),
        n_affiliations=pl.col("n_affiliations").sum().cast(pl.Int64),
        share_academic=share("academic"), share_phd=share("phd"), share_industry_lab=share("industry_lab"),
        share_government_nonprofit=share("government_nonprofit"),
    ).sort("company_id").cast(SUMMARY_SCHEMA)


def _key(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", " ", name.casefold()).strip()


def evaluate(texts: dict[str, str], gold: pl.DataFrame) -> dict:
    """Extraction precision / recall and categorisation accuracy against hand labels.

    ``texts``: id -> profile text; ``gold``: ``cv_id``, ``organisation``, ``category`` (every affiliation of
    every listed text; a text with none is simply absent from ``gold``). Organisations match on their
    lower-cased alphanumeric form.
    """
    gold_pairs = {(r["cv_id"], _key(r["organisation"])): r["category"] for r in gold.iter_rows(named=True)}
    predicted = {}
    for cv_id, text in texts.items():
        for a in extract_affiliations(text):
            predicted[(cv_id, _key(a.organisation))] = categorise(a.organisation)
    matched = set(gold_pairs) & set(predicted)
    correct = sum(gold_pairs[k] == predicted[k] for k in matched)
    per_category = {}
    for category in CATEGORIES:
        tp = sum(1 for k in matched if gold_pairs[k] == category and predicted[k] == category)
        n_pred = sum(1 for k in matched if predicted[k] == category)
        n_gold = sum(1 for k in matched if gold_pairs[k] == category)
        per_category[category] = {"gold": n_gold, "predicted": n_pred,
                                  "precision": tp / n_pred if n_pred else None, "recall": tp / n_gold if n_gold else None}
    return {
        "n_texts": len(texts), "n_gold": len(gold_pairs), "n_extracted": len(predicted), "n_matched": len(matched),
        "extraction_precision": len(matched) / len(predicted) if predicted else None,
        "extraction_recall": len(matched) / len(gold_pairs) if gold_pairs else None,
        "category_accuracy": correct / len(matched) if matched else None,
        "per_category": per_category,
        "missed": sorted(k for k in gold_pairs if k not in predicted),
        "spurious": sorted(k for k in predicted if k not in gold_pairs),
        "miscategorised": sorted((k, gold_pairs[k], predicted[k]) for k in matched if gold_pairs[k] != predicted[k]),
    }
