"""LinkedIn-style profile texts whose keyword-filter behaviour matches the real rated CVs.

Real profiles make the study's keyword filters informative but imperfect: about half of the experts and
a tenth of the non-experts trip `filter_broad_yes`. To reproduce that, each simulated person first draws a
*filter cell* -- which of three term groups its text contains (an ML term, a broad-yes term, a strict-no
term) -- from class-conditional probabilities chosen so the three reference filters land near the real
sensitivities/specificities. The text is then assembled from persona phrases whose term groups are
known (each phrase is tagged with the same case-insensitive word-boundary matching the filters use), so
the realised cell is exactly the drawn one while the wording still follows the persona.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

import numpy as np

from workforce_assets.demo import vocabulary as vocab

# --------------------------------------------------------------------------------------------------
# The reference keyword filters of the study (used here only to calibrate the simulated texts).
# --------------------------------------------------------------------------------------------------

ML_TERMS = ("machine learning", "ML", "deep learning", "reinforcement learning", "RL")
BROAD_YES_TERMS = (
    "augmented generation", "agent reinforcement", "mats scholar", "mats", "research scientist", "evals",
    "interpretability", "feature engineering", "research intern", "candidate", "graduate research assistant",
    "science institute", "staff research scientist", "doctor",
)
STRICT_NO_TERMS = (
    "certificate", "programmer", "council", "companies", "capital", "proven track record", "pilot", "money",
    "specialist", "chief", "udemy", "track record", "customer", "management", "today", "cross functional",
    "administrator", "excellence", "commerce", "linkedin", "leader", "incident", "tier", "brand", "investment",
    "hr", "sites", "offerings", "prior", "centers", "advising", "certified information", "key responsibilities",
    "master data", "anti", "deadlines", "physiology", "carbon", "impacts", "certified machine", "qualification",
)

ML_BIT, BROAD_YES_BIT, STRICT_NO_BIT = 1, 2, 4
N_CELLS = 8  # every combination of the three bits


def term_pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    """Case-insensitive, word-boundary alternation; longest terms first so multi-word terms win."""
    alternation = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternation})\b", re.IGNORECASE)


ML_PATTERN = term_pattern(ML_TERMS)
BROAD_YES_PATTERN = term_pattern(BROAD_YES_TERMS)
STRICT_NO_PATTERN = term_pattern(STRICT_NO_TERMS)


def filter_cell(text: str) -> int:
    """Bit mask of the term groups a text contains (ML=1, broad-yes=2, strict-no=4)."""
    return (
        (ML_BIT if ML_PATTERN.search(text) else 0)
        | (BROAD_YES_BIT if BROAD_YES_PATTERN.search(text) else 0)
        | (STRICT_NO_BIT if STRICT_NO_PATTERN.search(text) else 0)
    )


def reference_filter_labels(cell: np.ndarray) -> dict[str, np.ndarray]:
    """The three reference filters as functions of the cell: broad_yes = ML & B, strict_no = ML & not S."""
    cell = np.asarray(cell)
    has_ml = (cell & ML_BIT) > 0
    has_broad = (cell & BROAD_YES_BIT) > 0
    has_strict = (cell & STRICT_NO_BIT) > 0
    return {
        "filter_broad_yes": (has_ml & has_broad).astype(np.int8),
        "filter_strict_no": (has_ml & ~has_strict).astype(np.int8),
        "filter_broad_yes_strict_no": (has_ml & has_broad & ~has_strict).astype(np.int8),
    }


def _cell_probabilities(p_ml: float, given_ml: dict[tuple[bool, bool], float], p_broad: float, p_strict: float) -> np.ndarray:
    """8-cell distribution: given_ml[(broad, strict)] when an ML term is present, independent B/S otherwise."""
    probs = np.zeros(N_CELLS)
    for (broad, strict), p in given_ml.items():
        probs[ML_BIT | (BROAD_YES_BIT * broad) | (STRICT_NO_BIT * strict)] = p_ml * p
    for broad in (False, True):
        for strict in (False, True):
            p = (p_broad if broad else 1 - p_broad) * (p_strict if strict else 1 - p_strict)
            probs[(BROAD_YES_BIT * broad) | (STRICT_NO_BIT * strict)] = (1 - p_ml) * p
    return probs / probs.sum()


#: Experts: P(broad_yes)=0.80*0.70=0.56, P(strict_no)=0.80*0.5125=0.41, P(both)=0.80*0.375=0.30.
EXPERT_CELL_PROBABILITIES = _cell_probabilities(
    p_ml=0.80,
    given_ml={(True, False): 0.375, (True, True): 0.325, (False, False): 0.1375, (False, True): 0.1625},
    p_broad=0.5,
    p_strict=0.45,
)
#: Non-experts: P(broad_yes)=0.09, P(strict_no)=0.11, P(both)=0.02 -> specificities 0.91 / 0.89 / 0.98.
NON_EXPERT_CELL_PROBABILITIES = _cell_probabilities(
    p_ml=0.35,
    given_ml={(True, False): 0.02 / 0.35, (True, True): 0.07 / 0.35, (False, False): 0.09 / 0.35, (False, True): 0.17 / 0.35},
    p_broad=0.15,
    p_strict=0.6,
)

TERSE_EXPERT_RATE = 0.15
NON_ENGLISH_RATE = 0.025

SLOTS = ("title", "description", "skill", "education", "certification", "summary")


#: A persona's own phrases are drawn this many times more often than the shared, generic ones.
PERSONA_PHRASE_WEIGHT = 3.0


@dataclass(frozen=True)
class _Candidates:
    """Phrase indices usable for one target cell, with their cumulative draw weights."""

    indices: tuple[int, ...]
    cumulative: tuple[float, ...]

    @property
    def size(self) -> int:
        return len(self.indices)


@dataclass(frozen=True)
class _TaggedPool:
    """Phrases of one slot with their cell masks, and the indices usable for each target cell."""

    phrases: tuple[str, ...]
    masks: np.ndarray
    allowed: tuple[_Candidates, ...]  # allowed[target]: phrases whose mask is a subset of target
    carriers: tuple[tuple[_Candidates, ...], ...]  # carriers[target][bit_index]: allowed phrases carrying that bit


def _candidates(indices: np.ndarray, weights: np.ndarray) -> _Candidates:
    return _Candidates(tuple(indices.tolist()), tuple(np.cumsum(weights[indices]).tolist()))


def _tag_pool(phrases: list[str], weights: list[float] | None = None) -> _TaggedPool:
    weight_of: dict[str, float] = {}
    for phrase, weight in zip(phrases, weights or [1.0] * len(phrases)):
        weight_of[phrase] = max(weight_of.get(phrase, 0.0), weight)
    unique = tuple(weight_of)
    weight = np.array([weight_of[p] for p in unique])
    masks = np.array([filter_cell(p) for p in unique], dtype=np.int64)
    allowed_idx = [np.flatnonzero((masks & ~target) == 0) for target in range(N_CELLS)]
    allowed = tuple(_candidates(idx, weight) for idx in allowed_idx)
    carriers = tuple(
        tuple(_candidates(idx[(masks[idx] & bit) > 0], weight) for bit in (ML_BIT, BROAD_YES_BIT, STRICT_NO_BIT))
        for idx in allowed_idx
    )
    return _TaggedPool(unique, masks, allowed, carriers)


def neutral_words(words: list[str]) -> list[str]:
    """Names must not carry filter terms of their own (a 'Capital' firm would shift every employee's cell)."""
    return [w for w in words if filter_cell(w) == 0]


def _build_pools(persona: dict[str, list[str]]) -> dict[str, _TaggedPool]:
    pools = {}
    for slot in SLOTS:
        own, shared = list(persona.get(slot, [])), list(vocab.SHARED_SLOTS.get(slot, []))
        pools[slot] = _tag_pool(own + shared, [PERSONA_PHRASE_WEIGHT] * len(own) + [1.0] * len(shared))
        if slot in ("title", "description", "skill", "education") and pools[slot].allowed[0].size == 0:
            raise ValueError(f"slot {slot!r} of a persona has no neutral phrase: {own + shared}")
    return pools


PERSONA_POOLS: dict[str, dict[str, _TaggedPool]] = {
    name: _build_pools(slots) for name, slots in {**vocab.EXPERT_PERSONAS, **vocab.NON_EXPERT_PERSONAS}.items()
}
FOREIGN_POOLS: dict[str, _TaggedPool] = {lang: _tag_pool(p) for lang, p in vocab.FOREIGN_DESCRIPTIONS.items()}
INSTITUTIONS = tuple(neutral_words(vocab.INSTITUTIONS))
PAST_EMPLOYERS = tuple(
    neutral_words([f"{first} {word}" for first in vocab.NAME_FIRST_WORDS for word in vocab.PAST_EMPLOYER_WORDS])
)


def draw_filter_cells(is_expert: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Class-conditional draw of each person's filter cell (vectorised inverse-CDF)."""
    truth = np.asarray(is_expert).astype(bool)
    cdf = np.where(truth[:, None], np.cumsum(EXPERT_CELL_PROBABILITIES), np.cumsum(NON_EXPERT_CELL_PROBABILITIES))
    u = rng.random(truth.size)
    return np.minimum((u[:, None] > cdf).sum(axis=1), N_CELLS - 1)


def draw_personas(is_expert: np.ndarray, cells: np.ndarray, industries: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Persona names: experts by fixed weights; non-experts by industry, tech-adjacent when the text needs ML."""
    truth = np.asarray(is_expert).astype(bool)
    personas = np.empty(truth.size, dtype=object)
    u = rng.random(truth.size)
    expert_names = list(vocab.EXPERT_PERSONA_WEIGHTS)
    expert_cdf = np.cumsum(list(vocab.EXPERT_PERSONA_WEIGHTS.values()))
    expert_cdf /= expert_cdf[-1]
    non_expert_names = list(vocab.NON_EXPERT_PERSONAS)
    tech = np.isin(non_expert_names, vocab.TECH_ADJACENT_PERSONAS)
    for industry in np.unique(industries):
        weights = vocab.INDUSTRY_PERSONA_WEIGHTS[industry]
        base = np.array([weights.get(n, 0.05) for n in non_expert_names])
        with_ml = base * np.where(tech, 1.0, 0.05)
        for needs_ml, w in ((False, base), (True, with_ml)):
            cdf = np.cumsum(w) / w.sum()
            rows = np.flatnonzero(~truth & (industries == industry) & (((cells & ML_BIT) > 0) == needs_ml))
            personas[rows] = np.array(non_expert_names, dtype=object)[np.searchsorted(cdf, u[rows], side="right").clip(max=len(cdf) - 1)]
    expert_rows = np.flatnonzero(truth)
    personas[expert_rows] = np.array(expert_names, dtype=object)[
        np.searchsorted(expert_cdf, u[expert_rows], side="right").clip(max=len(expert_cdf) - 1)
    ]
    return personas


class _Uniforms:
    """Pre-drawn uniforms consumed in order: one vectorised draw instead of thousands of small rng calls."""

    def __init__(self, values: np.ndarray):
        self.values = values.tolist()
        self.position = 0

    def next(self) -> float:
        value = self.values[self.position % len(self.values)]
        self.position += 1
        return value

    def index(self, size: int) -> int:
        return min(int(self.next() * size), size - 1)

    def pick(self, candidates: _Candidates) -> int:
        position = bisect.bisect_right(candidates.cumulative, self.next() * candidates.cumulative[-1])
        return candidates.indices[min(position, candidates.size - 1)]


def compose_profile(
    persona: str,
    cell: int,
    current_employer: str,
    terse: bool,
    language: str | None,
    uniforms: _Uniforms,
) -> str:
    """One profile text whose filter cell is exactly `cell`."""
    pools = PERSONA_POOLS[persona]
    n_experiences = 1 + uniforms.index(2 if terse else 4)
    instances: list[tuple[str, int]] = []  # (slot, group) where group orders experiences
    for experience in range(n_experiences):
        instances.append(("title", experience))
        n_desc = 0 if terse else (0, 1, 1, 2, 2, 3)[uniforms.index(6)]
        instances += [("description", experience)] * n_desc
    instances += [("education", 0)] * ((0, 1)[uniforms.index(2)] if terse else (1, 1, 2)[uniforms.index(3)])
    instances += [("skill", 0)] * (uniforms.index(4) if terse else 3 + uniforms.index(7))
    if not terse and uniforms.next() < 0.3:
        instances += [("certification", 0)] * (1 + uniforms.index(2))
    if not terse and uniforms.next() < 0.35:
        instances.append(("summary", 0))

    def pool_of(slot: str) -> _TaggedPool:
        return FOREIGN_POOLS[language] if (language and slot == "description") else pools[slot]

    chosen: list[int | None] = [None] * len(instances)
    for bit_index, bit in enumerate((ML_BIT, BROAD_YES_BIT, STRICT_NO_BIT)):
        if not cell & bit:
            continue
        if any(c is not None and pool_of(instances[i][0]).masks[c] & bit for i, c in enumerate(chosen)):
            continue
        able = [i for i, (slot, _) in enumerate(instances) if chosen[i] is None and pool_of(slot).carriers[cell][bit_index].size]
        if not able:  # every persona's skill pool carries every group (shared skills)
            instances.append(("skill", 0))
            chosen.append(None)
            able = [len(instances) - 1]
        target = able[uniforms.index(len(able))]
        chosen[target] = uniforms.pick(pool_of(instances[target][0]).carriers[cell][bit_index])
    for i, (slot, _) in enumerate(instances):
        if chosen[i] is None:
            chosen[i] = uniforms.pick(pool_of(slot).allowed[cell])

    phrases = [pool_of(slot).phrases[c] for (slot, _), c in zip(instances, chosen)]
    experiences = []
    for experience in range(n_experiences):
        parts = [p for (slot, group), p in zip(instances, phrases) if group == experience and slot in ("title", "description")]
        title, descriptions = parts[0], list(dict.fromkeys(d for d in parts[1:] if d))
        employer = current_employer if experience == 0 else PAST_EMPLOYERS[uniforms.index(len(PAST_EMPLOYERS))]
        experiences.append(f"{employer} ({title}): {' '.join(descriptions)}".rstrip())
    sections = ["Experiences: " + " | ".join(experiences)]
    education = [f"{p} @ {INSTITUTIONS[uniforms.index(len(INSTITUTIONS))]}" for (s, _), p in zip(instances, phrases) if s == "education"]
    skills = list(dict.fromkeys(p for (s, _), p in zip(instances, phrases) if s == "skill"))
    certifications = list(dict.fromkeys(p for (s, _), p in zip(instances, phrases) if s == "certification"))
    summary = [p for (s, _), p in zip(instances, phrases) if s == "summary"]
    if certifications:
        sections.append("Certifications: " + " | ".join(certifications))
    if education:
        sections.append("Education: " + " | ".join(education))
    if skills:
        sections.append("Skills: " + ", ".join(skills))
    if summary:
        sections.append("Summary: " + summary[0])
    return " || ".join(sections)


def generate_profile_texts(
    is_expert: np.ndarray,
    industries: np.ndarray,
    current_employers: np.ndarray,
    rng: np.random.Generator,
    empty_text_rate: float = 0.0,
) -> tuple[list[str], np.ndarray]:
    """Texts (and their drawn filter cells) for people of known class, industry and current employer.

    `empty_text_rate` blanks a few texts, as real scrapes sometimes return nothing; their cell becomes 0.
    """
    truth = np.asarray(is_expert).astype(bool)
    cells = draw_filter_cells(truth, rng)
    personas = draw_personas(truth, cells, np.asarray(industries), rng)
    terse = truth & (rng.random(truth.size) < TERSE_EXPERT_RATE)
    languages = np.array(sorted(FOREIGN_POOLS), dtype=object)
    language_draw = rng.random(truth.size)
    language = np.where(
        language_draw < NON_ENGLISH_RATE,
        languages[(language_draw / NON_ENGLISH_RATE * len(languages)).astype(int).clip(max=len(languages) - 1)],
        None,
    )
    empty = rng.random(truth.size) < empty_text_rate
    uniforms = _Uniforms(rng.random(64 * max(truth.size, 1)))
    texts = []
    for i in range(truth.size):
        texts.append(compose_profile(personas[i], int(cells[i]), str(current_employers[i]), bool(terse[i]), language[i], uniforms))
    texts = ["" if empty[i] else t for i, t in enumerate(texts)]
    cells = np.where(empty, 0, cells)
    return texts, cells
