"""DOL-style H-1B LCA job records with a learnable employer x archetype structure and real-world mess.

Each employer belongs to a sector with a role mix, a home state plus a few others, a size tier and a wage
premium; employer popularity is Zipf-like, so a few employers file most records. Wages follow
log(annual) = log(role base) + log(seniority) + log(state) + employer premium + noise, so a model that
uses seniority and employer beats a role x state median. The file then gets the mess real disclosure
files have: state names and codes mixed, hourly/weekly/monthly wages, '$' and thousands separators,
employer name variants, exact duplicate rows and a few broken rows the loader must quarantine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from workforce_assets.demo import vocabulary as vocab

LCA_COLUMNS = (
    "CASE_NUMBER", "CASE_STATUS", "VISA_CLASS", "EMPLOYER_NAME", "JOB_TITLE", "SOC_CODE", "SOC_TITLE",
    "WORKSITE_CITY", "WORKSITE_STATE", "WAGE_RATE_OF_PAY_FROM", "WAGE_RATE_OF_PAY_TO", "WAGE_UNIT_OF_PAY",
    "TOTAL_WORKER_POSITIONS",
)


@dataclass(frozen=True)
class Role:
    """An occupation archetype: SOC code, base annual wage, title variants, the family used in manager titles."""

    soc_code: str
    soc_title: str
    base_annual_wage: float
    titles: tuple[str, ...]
    family: str
    manager_soc: tuple[str, str]
    hourly_share: float = 0.03


_TECH_MANAGER = ("11-3021", "Computer and Information Systems Managers")
_FINANCE_MANAGER = ("11-3031", "Financial Managers")
_HEALTH_MANAGER = ("11-9111", "Medical and Health Services Managers")
_ENGINEERING_MANAGER = ("11-9041", "Architectural and Engineering Managers")
_AG_MANAGER = ("11-9013", "Farmers, Ranchers, and Other Agricultural Managers")

ROLES: dict[str, Role] = {
    "software_engineer": Role("15-1252", "Software Developers", 125_000,
                              ("Software Engineer", "Software Developer", "Software Development Engineer", "Backend Engineer",
                               "Full Stack Developer", "Application Developer"), "Software Engineering", _TECH_MANAGER),
    "data_scientist": Role("15-2051", "Data Scientists", 128_000,
                           ("Data Scientist", "Data Science Engineer", "Decision Scientist"), "Data Science", _TECH_MANAGER),
    "ml_engineer": Role("15-1221", "Computer and Information Research Scientists", 158_000,
                        ("Machine Learning Engineer", "ML Engineer", "AI Engineer", "Deep Learning Engineer",
                         "Research Scientist, Machine Learning"), "Machine Learning", _TECH_MANAGER),
    "data_analyst": Role("15-2041", "Statisticians", 84_000,
                         ("Data Analyst", "Business Intelligence Analyst", "Analytics Analyst", "Reporting Analyst"),
                         "Analytics", _TECH_MANAGER),
    "systems_analyst": Role("15-1211", "Computer Systems Analysts", 98_000,
                            ("Systems Analyst", "Programmer Analyst", "IT Analyst", "Technical Analyst"),
                            "Information Technology", _TECH_MANAGER),
    "database_administrator": Role("15-1242", "Database Administrators", 104_000,
                                   ("Database Administrator", "Database Engineer", "Oracle DBA"), "Database Engineering",
                                   _TECH_MANAGER),
    "financial_analyst": Role("13-2051", "Financial and Investment Analysts", 96_000,
                              ("Financial Analyst", "Investment Analyst", "Quantitative Analyst", "Risk Analyst"),
                              "Finance", _FINANCE_MANAGER),
    "accountant": Role("13-2011", "Accountants and Auditors", 74_000,
                       ("Accountant", "Staff Accountant", "Auditor", "Tax Associate"), "Accounting", _FINANCE_MANAGER),
    "business_analyst": Role("13-1111", "Management Analysts", 92_000,
                             ("Business Analyst", "Management Consultant", "Management Analyst"), "Business Analysis",
                             ("11-1021", "General and Operations Managers")),
    "registered_nurse": Role("29-1141", "Registered Nurses", 82_000,
                             ("Registered Nurse", "Staff Nurse", "RN", "ICU Nurse"), "Nursing", _HEALTH_MANAGER, 0.65),
    "physician": Role("29-1228", "Physicians, All Other", 235_000,
                      ("Physician", "Hospitalist", "Internal Medicine Physician", "Resident Physician"), "Medicine",
                      _HEALTH_MANAGER, 0.05),
    "physical_therapist": Role("29-1123", "Physical Therapists", 88_000,
                               ("Physical Therapist", "Physiotherapist", "Outpatient Physical Therapist"),
                               "Rehabilitation", _HEALTH_MANAGER, 0.5),
    "medical_scientist": Role("19-1042", "Medical Scientists, Except Epidemiologists", 92_000,
                              ("Research Associate", "Postdoctoral Fellow", "Clinical Scientist"), "Research",
                              _HEALTH_MANAGER, 0.05),
    "agricultural_engineer": Role("17-2021", "Agricultural Engineers", 80_000,
                                  ("Agricultural Engineer", "Irrigation Engineer", "Precision Agriculture Engineer"),
                                  "Agricultural Engineering", _ENGINEERING_MANAGER, 0.1),
    "soil_plant_scientist": Role("19-1013", "Soil and Plant Scientists", 70_000,
                                 ("Agronomist", "Plant Scientist", "Crop Scientist"), "Agronomy", _AG_MANAGER, 0.15),
    "farm_manager": Role("11-9013", "Farmers, Ranchers, and Other Agricultural Managers", 68_000,
                         ("Farm Manager", "Ranch Manager", "Crop Production Manager"), "Farm Operations", _AG_MANAGER, 0.3),
    "mechanical_engineer": Role("17-2141", "Mechanical Engineers", 94_000,
                                ("Mechanical Engineer", "Design Engineer", "Product Engineer"), "Mechanical Engineering",
                                _ENGINEERING_MANAGER),
    "market_research_analyst": Role("13-1161", "Market Research Analysts and Marketing Specialists", 74_000,
                                    ("Market Research Analyst", "Marketing Analyst", "Marketing Specialist"), "Marketing",
                                    ("11-2021", "Marketing Managers")),
}

#: Sector -> (share of employers, role mix).
SECTORS: dict[str, tuple[float, dict[str, float]]] = {
    "technology": (0.30, {"software_engineer": 0.45, "data_scientist": 0.1, "ml_engineer": 0.08, "data_analyst": 0.07,
                          "systems_analyst": 0.1, "database_administrator": 0.05, "business_analyst": 0.05,
                          "market_research_analyst": 0.05, "financial_analyst": 0.05}),
    "ai_research": (0.04, {"ml_engineer": 0.4, "data_scientist": 0.2, "software_engineer": 0.3, "data_analyst": 0.05,
                           "business_analyst": 0.05}),
    "it_services": (0.20, {"software_engineer": 0.35, "systems_analyst": 0.3, "database_administrator": 0.1,
                           "business_analyst": 0.12, "data_analyst": 0.08, "data_scientist": 0.05}),
    "finance": (0.12, {"financial_analyst": 0.3, "accountant": 0.15, "software_engineer": 0.2, "data_scientist": 0.1,
                       "data_analyst": 0.1, "business_analyst": 0.1, "ml_engineer": 0.05}),
    "healthcare": (0.10, {"registered_nurse": 0.35, "physician": 0.25, "physical_therapist": 0.15,
                          "medical_scientist": 0.1, "data_analyst": 0.05, "software_engineer": 0.05,
                          "business_analyst": 0.05}),
    "agriculture": (0.05, {"farm_manager": 0.3, "soil_plant_scientist": 0.3, "agricultural_engineer": 0.2,
                           "mechanical_engineer": 0.05, "data_analyst": 0.05, "accountant": 0.1}),
    "manufacturing": (0.08, {"mechanical_engineer": 0.45, "software_engineer": 0.15, "systems_analyst": 0.1,
                             "business_analyst": 0.1, "accountant": 0.1, "data_analyst": 0.1}),
    "university": (0.06, {"medical_scientist": 0.35, "data_scientist": 0.1, "ml_engineer": 0.1, "software_engineer": 0.1,
                          "physician": 0.15, "soil_plant_scientist": 0.1, "data_analyst": 0.1}),
    "retail": (0.05, {"software_engineer": 0.25, "data_analyst": 0.2, "market_research_analyst": 0.2,
                      "business_analyst": 0.15, "data_scientist": 0.1, "accountant": 0.1}),
}

SECTOR_NAME_WORDS: dict[str, tuple[str, ...]] = {
    "technology": ("Technologies", "Software", "Systems", "Data", "Cloud", "Digital", "Networks", "Labs"),
    "ai_research": ("AI", "Intelligence", "Robotics", "Machine Intelligence", "Research"),
    "it_services": ("Infotech", "IT Solutions", "Consulting", "Infosystems", "Tech Services", "Global Services"),
    "finance": ("Financial", "Bancorp", "Securities", "Insurance", "Asset Management", "Payments"),
    "healthcare": ("Health", "Medical Center", "Hospital", "Healthcare", "Clinic", "Rehab"),
    "agriculture": ("Farms", "Growers", "Agri", "Orchards", "Produce", "Seeds"),
    "manufacturing": ("Manufacturing", "Industries", "Automotive", "Machinery", "Components"),
    "university": ("University", "College", "Research Institute", "Medical School"),
    "retail": ("Retail", "Stores", "Brands", "Marketplace", "Outfitters"),
}

#: Legal-form suffix family -> spellings seen in disclosure files (first one is the canonical spelling).
SUFFIX_VARIANTS: dict[str, tuple[str, ...]] = {
    "INC": ("Inc", "Inc.", ", Inc.", "INCORPORATED", "Incorporated"),
    "LLC": ("LLC", "L.L.C.", ", LLC"),
    "CORP": ("Corporation", "Corp.", "CORP"),
    "LTD": ("Ltd", "Limited", "Ltd."),
    "LLP": ("LLP", "L.L.P."),
    "": ("",),
}
NO_SUFFIX_SECTORS = ("university", "healthcare")

SENIORITY: dict[str, tuple[float, float, tuple[str, ...]]] = {
    # level: (probability, wage multiplier, title patterns: {t}=base title, {f}=family)
    "intern": (0.03, 0.55, ("{t} Intern", "Intern - {t}")),
    "junior": (0.08, 0.80, ("Jr. {t}", "Junior {t}", "{t} I")),
    "mid": (0.45, 1.00, ("{t}", "{t}", "{t} II")),
    "senior": (0.25, 1.25, ("Senior {t}", "Sr. {t}", "Sr {t}", "{t} III")),
    "lead": (0.07, 1.38, ("Lead {t}", "{t} Lead")),
    "principal": (0.04, 1.60, ("Principal {t}", "Staff {t}")),
    "manager": (0.05, 1.45, ("{f} Manager", "Manager, {f}", "Manager - {f}")),
    "director": (0.025, 1.85, ("Director of {f}", "Director, {f}", "Senior Director, {f}")),
    "vp": (0.005, 2.40, ("VP, {f}", "Vice President, {f}", "VP of {f}")),
}
MANAGERIAL_LEVELS = ("manager", "director", "vp")

#: code -> (full name, wage multiplier, weight as a home state, cities)
STATES: dict[str, tuple[str, float, float, tuple[str, ...]]] = {
    "CA": ("California", 1.22, 16, ("San Francisco", "San Jose", "Los Angeles", "San Diego", "Sunnyvale", "Fresno")),
    "NY": ("New York", 1.18, 9, ("New York", "Brooklyn", "Albany", "Rochester")),
    "TX": ("Texas", 0.97, 10, ("Austin", "Dallas", "Houston", "Plano", "San Antonio")),
    "WA": ("Washington", 1.18, 6, ("Seattle", "Redmond", "Bellevue", "Yakima")),
    "NJ": ("New Jersey", 1.08, 7, ("Jersey City", "Newark", "Princeton", "Edison")),
    "MA": ("Massachusetts", 1.14, 5, ("Boston", "Cambridge", "Waltham")),
    "IL": ("Illinois", 1.00, 5, ("Chicago", "Naperville", "Champaign")),
    "GA": ("Georgia", 0.93, 3, ("Atlanta", "Alpharetta", "Savannah")),
    "NC": ("North Carolina", 0.94, 3, ("Charlotte", "Raleigh", "Durham")),
    "FL": ("Florida", 0.92, 4, ("Miami", "Tampa", "Orlando", "Jacksonville")),
    "PA": ("Pennsylvania", 0.98, 4, ("Philadelphia", "Pittsburgh")),
    "VA": ("Virginia", 1.04, 4, ("Arlington", "Reston", "Richmond", "McLean")),
    "MI": ("Michigan", 0.93, 3, ("Detroit", "Ann Arbor", "Troy")),
    "OH": ("Ohio", 0.91, 3, ("Columbus", "Cleveland", "Cincinnati")),
    "AZ": ("Arizona", 0.94, 2, ("Phoenix", "Tempe", "Scottsdale")),
    "CO": ("Colorado", 1.04, 2, ("Denver", "Boulder")),
    "MN": ("Minnesota", 0.98, 2, ("Minneapolis", "Saint Paul")),
    "OR": ("Oregon", 1.02, 1.5, ("Portland", "Hillsboro", "Salem")),
    "MD": ("Maryland", 1.03, 2, ("Baltimore", "Bethesda", "Rockville")),
    "DC": ("District of Columbia", 1.12, 1, ("Washington",)),
    "IA": ("Iowa", 0.88, 0.7, ("Des Moines", "Ames")),
    "ID": ("Idaho", 0.86, 0.5, ("Boise", "Twin Falls")),
    "TN": ("Tennessee", 0.90, 1.5, ("Nashville", "Memphis")),
    "MO": ("Missouri", 0.90, 1.5, ("St. Louis", "Kansas City")),
    "UT": ("Utah", 0.97, 1.2, ("Salt Lake City", "Lehi")),
}
AGRICULTURE_HOME_STATES = {"CA": 8, "WA": 5, "FL": 3, "ID": 3, "IA": 3, "NC": 2, "GA": 2, "TX": 3, "OR": 2, "MN": 1}

CASE_STATUSES = {"Certified": 0.88, "Certified - Withdrawn": 0.06, "Withdrawn": 0.03, "Denied": 0.03}
VISA_CLASSES = {"H-1B": 0.95, "E-3 Australian": 0.025, "H-1B1 Singapore": 0.015, "H-1B1 Chile": 0.01}

WAGE_NOISE_SD = 0.17
EMPLOYER_PREMIUM_SD = 0.10
SIZE_TIER_PREMIUM = {"small": -0.04, "medium": 0.0, "large": 0.05, "enterprise": 0.09}
ZIPF_EXPONENT = 0.85
HOURS_PER_YEAR, WEEKS_PER_YEAR, MONTHS_PER_YEAR = 2080, 52, 12

DUPLICATE_SHARE = 0.015
BROKEN_SHARE_EACH = 0.002  # empty employer, empty title, unknown state, unparseable wage
UNKNOWN_STATES = ("ZZ", "Unknown", "Ontario", "N/A")
UNPARSEABLE_WAGES = ("TBD", "Competitive", "see notice", "DOE")


@dataclass(frozen=True)
class JobsWorld:
    """The LCA file as written (strings) plus the generating truth."""

    records: pl.DataFrame
    employers: pl.DataFrame
    issue_counts: dict[str, int]


def _weighted_choice(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(weights, axis=-1)
    cdf = cdf / cdf[..., -1:]
    if cdf.ndim == 1:
        return np.searchsorted(cdf, u, side="right").clip(max=cdf.size - 1)
    return (u[:, None] > cdf).sum(axis=1).clip(max=cdf.shape[1] - 1)


def _employer_names(sectors: np.ndarray, rng: np.random.Generator) -> tuple[list[str], list[str]]:
    """Unique base names ('Bluefin Data') and their legal-form suffix family."""
    suffix_families = np.array(["INC", "LLC", "CORP", "LTD", "LLP"])
    suffix_weights = np.array([0.45, 0.3, 0.15, 0.05, 0.05])
    bases: list[str] = []
    suffixes: list[str] = []
    taken: set[str] = set()
    for sector in sectors:
        words = SECTOR_NAME_WORDS[sector]
        while True:
            first = vocab.NAME_FIRST_WORDS[rng.integers(len(vocab.NAME_FIRST_WORDS))]
            base = f"{first} {words[rng.integers(len(words))]}"
            if rng.random() < 0.15:
                base = f"{vocab.NAME_FIRST_WORDS[rng.integers(len(vocab.NAME_FIRST_WORDS))]} {base}"
            if base.upper() not in taken:
                break
        taken.add(base.upper())
        bases.append(base)
        suffixes.append("" if sector in NO_SUFFIX_SECTORS else str(suffix_families[_weighted_choice(suffix_weights, rng.random(1))[0]]))
    return bases, suffixes


def _name_variant(base: str, suffix_family: str, variant: int, upper: bool) -> str:
    spelling = SUFFIX_VARIANTS[suffix_family][variant % len(SUFFIX_VARIANTS[suffix_family])]
    name = base if not spelling else (f"{base}{spelling}" if spelling.startswith(",") else f"{base} {spelling}")
    return name.upper() if upper else name


def _simulate_employers(n_employers: int, rng: np.random.Generator) -> pl.DataFrame:
    sector_names = list(SECTORS)
    sectors = np.array(sector_names, dtype=object)[_weighted_choice(np.array([SECTORS[s][0] for s in sector_names]), rng.random(n_employers))]
    popularity_rank = rng.permutation(n_employers) + 1
    popularity = popularity_rank.astype(float) ** -ZIPF_EXPONENT
    popularity /= popularity.sum()
    size_tier = np.select(
        [popularity_rank <= 0.02 * n_employers, popularity_rank <= 0.15 * n_employers, popularity_rank <= 0.5 * n_employers],
        ["enterprise", "large", "medium"],
        "small",
    )
    state_codes = np.array(list(STATES), dtype=object)
    general_weights = np.array([STATES[s][2] for s in state_codes])
    ag_weights = np.array([AGRICULTURE_HOME_STATES.get(s, 0.1) for s in state_codes])
    home_u = rng.random(n_employers)
    home = np.where(
        sectors == "agriculture",
        state_codes[_weighted_choice(ag_weights, home_u)],
        state_codes[_weighted_choice(general_weights, home_u)],
    )
    n_other = np.minimum(rng.poisson(np.select([size_tier == "enterprise", size_tier == "large"], [5.0, 2.5], 0.8)), 8)
    other_states = []
    for i in range(n_employers):
        weights = (ag_weights if sectors[i] == "agriculture" else general_weights).astype(float).copy()
        weights[state_codes == home[i]] = 0
        picks = rng.choice(state_codes.size, size=int(n_other[i]), replace=False, p=weights / weights.sum())
        other_states.append(";".join(sorted(state_codes[picks])))
    premium = rng.normal(0.0, EMPLOYER_PREMIUM_SD, n_employers) + np.vectorize(SIZE_TIER_PREMIUM.get)(size_tier)
    bases, suffixes = _employer_names(sectors, rng)
    role_names = list(ROLES)
    mixes = []
    for sector in sectors:  # sparse per-employer role mix around the sector's mix
        alpha = np.array([SECTORS[sector][1].get(r, 0.0) for r in role_names]) * 4.0 + 1e-3
        mixes.append(rng.dirichlet(alpha))
    return pl.DataFrame(
        {
            "employer_id": [f"emp_{i + 1:05d}" for i in range(n_employers)],
            "employer_name": [_name_variant(b, s, 0, upper=True) for b, s in zip(bases, suffixes)],
            "base_name": bases,
            "suffix_family": suffixes,
            "sector": sectors.astype(str),
            "size_tier": size_tier.astype(str),
            "home_state": home.astype(str),
            "other_states": other_states,
            "popularity": popularity,
            "wage_premium_log": np.round(premium, 6),
            "role_mix": [np.round(m, 6).tolist() for m in mixes],
        }
    )


def _format_wages(amounts: np.ndarray, style: np.ndarray) -> np.ndarray:
    """Wage strings: plain, with cents, '$' with thousands separators, or separators only."""
    out = np.empty(amounts.size, dtype=object)
    for i, (amount, s) in enumerate(zip(amounts.tolist(), style.tolist())):
        if s == 0:
            out[i] = f"{amount:.2f}"
        elif s == 1:
            out[i] = f"{amount:.0f}" if amount >= 1000 else f"{amount:.2f}"
        elif s == 2:
            out[i] = f"${amount:,.2f}"
        else:
            out[i] = f"{amount:,.2f}"
    return out


def simulate_lca_records(n_records: int, n_employers: int, rng: np.random.Generator) -> JobsWorld:
    """`n_records` rows (duplicates and broken rows included) over `n_employers` employers."""
    if n_records < 1 or n_employers < 1:
        raise ValueError("n_records and n_employers must be >= 1")
    employers = _simulate_employers(n_employers, rng)
    n_duplicates = int(round(DUPLICATE_SHARE * n_records))
    n_base = n_records - n_duplicates

    # Every employer files at least once (when there are enough records); the rest follow Zipf popularity.
    n_guaranteed = min(n_employers, n_base)
    employer_idx = np.concatenate([
        rng.permutation(n_employers)[:n_guaranteed],
        rng.choice(n_employers, size=n_base - n_guaranteed, p=employers["popularity"].to_numpy()),
    ])
    role_names = list(ROLES)
    mix_matrix = np.array(employers["role_mix"].to_list())
    role_idx = _weighted_choice(mix_matrix[employer_idx], rng.random(n_base))
    levels = list(SENIORITY)
    level_idx = _weighted_choice(np.array([SENIORITY[lv][0] for lv in levels]), rng.random(n_base))

    # Worksite: the home state most of the time, else one of the employer's other states.
    home = employers["home_state"].to_numpy()[employer_idx]
    others = [employers["other_states"][int(e)].split(";") if employers["other_states"][int(e)] else [] for e in employer_idx]
    at_home = rng.random(n_base) < 0.7
    other_pick = rng.random(n_base)
    state = np.array([h if (stay or not o) else o[int(u * len(o))] for h, o, stay, u in zip(home, others, at_home, other_pick)], dtype=object)
    city_u = rng.random(n_base)
    city = np.array([STATES[s][3][int(u * len(STATES[s][3]))] for s, u in zip(state, city_u)], dtype=object)

    # Wages: log-additive role, seniority, state and employer effects with log-normal noise.
    base_wage = np.array([ROLES[r].base_annual_wage for r in role_names])[role_idx]
    seniority_mult = np.array([SENIORITY[lv][1] for lv in levels])[level_idx]
    state_mult = np.array([STATES[s][1] for s in state])
    premium = employers["wage_premium_log"].to_numpy()[employer_idx]
    annual = base_wage * seniority_mult * state_mult * np.exp(premium + rng.normal(0.0, WAGE_NOISE_SD, n_base))

    hourly_share = np.array([ROLES[r].hourly_share for r in role_names])[role_idx]
    hourly_share = np.where(np.array(levels, dtype=object)[level_idx] == "intern", 0.7, hourly_share)
    unit_u = rng.random(n_base)
    unit = np.where(unit_u < hourly_share, "Hour", np.where(unit_u > 0.97, "Week", np.where(unit_u > 0.945, "Month", "Year")))
    divisor = np.select([unit == "Hour", unit == "Week", unit == "Month"], [HOURS_PER_YEAR, WEEKS_PER_YEAR, MONTHS_PER_YEAR], 1)
    wage_from = np.where(unit == "Year", np.round(annual), np.round(annual / divisor, 2))
    has_to = rng.random(n_base) < 0.35
    wage_to = np.round(wage_from * rng.uniform(1.05, 1.35, n_base), 2)
    wage_style = _weighted_choice(np.array([0.55, 0.2, 0.15, 0.1]), rng.random(n_base))
    wage_from_text = _format_wages(wage_from, wage_style)
    wage_to_text = np.where(has_to, _format_wages(wage_to, wage_style), "")

    # Titles with seniority cues; managerial levels use the family's manager SOC code.
    title_u = rng.random(n_base)
    pattern_u = rng.random(n_base)
    titles = np.empty(n_base, dtype=object)
    soc_code = np.empty(n_base, dtype=object)
    soc_title = np.empty(n_base, dtype=object)
    for i, (r, lv) in enumerate(zip(role_idx.tolist(), level_idx.tolist())):
        role = ROLES[role_names[r]]
        patterns = SENIORITY[levels[lv]][2]
        base_title = role.titles[int(title_u[i] * len(role.titles))]
        titles[i] = patterns[int(pattern_u[i] * len(patterns))].format(t=base_title, f=role.family)
        code, name = role.manager_soc if levels[lv] in MANAGERIAL_LEVELS else (role.soc_code, role.soc_title)
        soc_code[i], soc_title[i] = code, name
    upper_title = rng.random(n_base) < 0.4
    titles = np.where(upper_title, np.char.upper(titles.astype(str)), titles.astype(str))
    soc_code = np.where(rng.random(n_base) < 0.85, np.char.add(soc_code.astype(str), ".00"), soc_code.astype(str))

    # Employer name variants (ACME INC / Acme, Inc. / ACME INCORPORATED).
    variant = np.where(rng.random(n_base) < 0.7, 0, rng.integers(1, 5, n_base))
    upper_name = rng.random(n_base) < 0.65
    bases = employers["base_name"].to_numpy()[employer_idx]
    suffixes = employers["suffix_family"].to_numpy()[employer_idx]
    employer_name = np.array([_name_variant(b, s, int(v), bool(u)) for b, s, v, u in zip(bases, suffixes, variant, upper_name)], dtype=object)

    # States as written: code, Title name, lower-case name, upper-case name.
    state_style = _weighted_choice(np.array([0.7, 0.15, 0.07, 0.08]), rng.random(n_base))
    state_text = np.array(
        [s if k == 0 else (STATES[s][0] if k == 1 else (STATES[s][0].lower() if k == 2 else STATES[s][0].upper()))
         for s, k in zip(state, state_style)],
        dtype=object,
    )

    statuses = list(CASE_STATUSES)
    visa = list(VISA_CLASSES)
    records = pl.DataFrame(
        {
            "CASE_NUMBER": [f"I-200-{24001 + d:05d}-{serial:06d}" for d, serial in zip(rng.integers(0, 365, n_base), rng.permutation(n_base) + 100_000)],
            "CASE_STATUS": np.array(statuses)[_weighted_choice(np.array(list(CASE_STATUSES.values())), rng.random(n_base))],
            "VISA_CLASS": np.array(visa)[_weighted_choice(np.array(list(VISA_CLASSES.values())), rng.random(n_base))],
            "EMPLOYER_NAME": employer_name.astype(str),
            "JOB_TITLE": titles,
            "SOC_CODE": soc_code,
            "SOC_TITLE": soc_title.astype(str),
            "WORKSITE_CITY": city.astype(str),
            "WORKSITE_STATE": state_text.astype(str),
            "WAGE_RATE_OF_PAY_FROM": wage_from_text.astype(str),
            "WAGE_RATE_OF_PAY_TO": wage_to_text.astype(str),
            "WAGE_UNIT_OF_PAY": unit.astype(str),
            "TOTAL_WORKER_POSITIONS": np.minimum(rng.geometric(0.75, n_base), 25).astype(str),
        }
    )

    # Broken rows (disjoint): the loader must quarantine each with a reason.
    n_broken = max(1, int(round(BROKEN_SHARE_EACH * n_base))) if n_base >= 40 else 0
    broken = rng.choice(n_base, size=4 * n_broken, replace=False).reshape(4, n_broken)
    records = records.with_row_index("_row").with_columns(
        pl.when(pl.col("_row").is_in(broken[0])).then(pl.lit("")).otherwise(pl.col("EMPLOYER_NAME")).alias("EMPLOYER_NAME"),
        pl.when(pl.col("_row").is_in(broken[1])).then(pl.lit("")).otherwise(pl.col("JOB_TITLE")).alias("JOB_TITLE"),
        pl.when(pl.col("_row").is_in(broken[2]))
        .then(pl.Series(np.array(UNKNOWN_STATES)[np.arange(n_base) % len(UNKNOWN_STATES)]))
        .otherwise(pl.col("WORKSITE_STATE")).alias("WORKSITE_STATE"),
        pl.when(pl.col("_row").is_in(broken[3]))
        .then(pl.Series(np.array(UNPARSEABLE_WAGES)[np.arange(n_base) % len(UNPARSEABLE_WAGES)]))
        .otherwise(pl.col("WAGE_RATE_OF_PAY_FROM")).alias("WAGE_RATE_OF_PAY_FROM"),
    ).drop("_row")

    # Exact duplicates of intact rows (so each broken row is quarantined for one reason), then one shuffle so they are scattered through the file.
    intact = np.setdiff1d(np.arange(n_base), broken.ravel())
    duplicate_of = rng.choice(intact, size=n_duplicates, replace=True) if n_duplicates else np.zeros(0, dtype=np.int64)
    records = pl.concat([records, records[duplicate_of]])
    records = records[rng.permutation(records.height)]

    employer_counts = np.bincount(employer_idx, minlength=n_employers)
    employers_out = employers.with_columns(pl.Series("n_records_generated", employer_counts.astype(np.int64))).drop(
        "role_mix", "base_name", "suffix_family"
    ).with_columns(
        pl.Series("role_mix", [";".join(f"{r}={w:.4f}" for r, w in zip(role_names, m) if w >= 0.005) for m in mix_matrix])
    )
    issue_counts = {
        "rows": int(records.height),
        "exact_duplicate_rows": n_duplicates,
        "empty_employer_name": n_broken,
        "empty_job_title": n_broken,
        "unknown_state": n_broken,
        "unparseable_wage": n_broken,
    }
    # Empty strings become missing cells (an empty CSV field, not a quoted "").
    records = records.select(LCA_COLUMNS).with_columns(
        [pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c) for c in LCA_COLUMNS]
    )
    return JobsWorld(records=records, employers=employers_out, issue_counts=issue_counts)
