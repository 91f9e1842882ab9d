"""Role (a SOC occupation) and seniority for job records, vectorised over polars.

Why SOC occupations: an archetype (role | seniority | state) is only as useful as its roles are real. The
SOC code is the filer's (and the DOL's) own classification, so a record's role is its SOC detailed
occupation, named by the SOC title the files give (hundreds of roles on the real files, not a hand-made
few dozen). Rules (documented in ``docs/validation.md`` section 5c):

* **SOC code first**, read in any common spelling (``45-2092``, ``45-2092.02`` O*NET extension, ``452092``),
  reconciled across SOC 2010 / 2018 where the data's own (code, title) pairs allow
  (:class:`~workforce_assets.labor.occupations.OccupationCatalog`).
* **A learned title classifier** for records without a code (the H-1B extract): trained on the records that
  carry both; below a confidence threshold it falls back to the broad or major group and says so
  (``role_level``, ``role_confidence``).
* **Hand-written title rules** (:data:`ROLE_TAXONOMY`) only where neither exists (no classifier could be
  trained); their coarse family is kept for every record as ``role_family``. Nothing at all: ``other``,
  ``role_source = 'none'``; the row is kept, never dropped.
* **Seniority from evidence**: the prevailing-wage level I-IV where the record has one, else title cues in a
  fixed priority order (intern > executive > director > manager > principal > lead > senior > junior; level
  numerals count), else ``unknown`` (never a default ``mid``).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

SENIORITY_LEVELS: tuple[str, ...] = (
    "intern", "junior", "mid", "senior", "lead", "principal", "manager", "director", "executive", "unknown",
)
UNKNOWN_SENIORITY = "unknown"
#: The DOL's prevailing-wage levels (LCA ``PW_WAGE_LEVEL``): I entry (junior), II qualified (mid), III
#: experienced (senior), IV fully competent (lead). Evidence that outranks title cues: the DOL graded the job.
WAGE_LEVEL_SENIORITY: dict[str, str] = {"I": "junior", "II": "mid", "III": "senior", "IV": "lead"}
OTHER_ROLE = "other"


@dataclass(frozen=True)
class Role:
    """One canonical role: the SOC prefixes it owns and, for records without SOC, title cues (regex)."""

    name: str
    soc_major: str  # the SOC major group it belongs to (documentation and coarse features)
    soc_prefixes: tuple[str, ...]
    title_pattern: str | None = None
    description: str = ""


# Order matters only for title rules (first match wins). SOC prefixes are resolved most-specific-first.
ROLE_TAXONOMY: tuple[Role, ...] = (
    # --- computer and mathematical (15): title rules first, H-1B titles carry no SOC code
    Role("software_test_engineer", "15", ("15-1253",),
         r"\b(in test|sdet|test engineer|tester|testing|qa|quality assurance|test automation)\b",
         "software testing and quality assurance"),
    Role("software_architect", "15", (),
         r"\b(architect)\b.*\b(software|solution|solutions|technical|enterprise|system|systems|application|applications|cloud|data)\b"
         r"|\b(software|solution|solutions|technical|enterprise|system|systems|application|applications|cloud|data)\b.*\barchitect\b",
         "software / solution architects (title only)"),
    Role("data_scientist", "15", ("15-2041", "15-2051", "15-2031", "15-2011"),
         r"\b(data scien\w*|machine learning|statistician|quantitative|ml engineer|deep learning|actuar\w*)\b",
         "data science, statistics, operations research, actuaries"),
    Role("data_engineer", "15", ("15-1141", "15-1242", "15-1243", "15-1245"),
         r"\b(database|dba|data engineer\w*|etl|data warehouse|big data|hadoop|sql developer)\b",
         "databases, data engineering"),
    Role("web_developer", "15", ("15-1134", "15-1254", "15-1255"),
         r"\b(web|front end|frontend|ui|ux|user interface)\b.*\b(developer|engineer|designer|programmer)\b",
         "web and UI development"),
    Role("network_systems_admin", "15", ("15-1142", "15-1143", "15-1241", "15-1244", "15-1122", "15-1212"),
         r"\b(network|system administrator|systems administrator|sysadmin|devops|infrastructure|cloud engineer|security)\b",
         "networks, system administration, infrastructure, security"),
    Role("it_support", "15", ("15-1151", "15-1152", "15-1231", "15-1232"),
         r"\b(help desk|helpdesk|support specialist|technical support|desktop support)\b",
         "computer user and network support"),
    Role("systems_analyst", "15", ("15-1121", "15-1211"),
         r"\b(software analyst|systems analyst|system analyst|programmer analyst|development analyst|software development analyst)\b",
         "computer systems analysts"),
    Role("it_consultant", "15", ("15-1199", "15-1299"),
         r"\b(consultant|advisor|adviser)\b.*\b(software|it|technical|technology|sap|oracle|development)\b"
         r"|\b(software|it|technical|technology|sap|oracle|development)\b.*\b(consultant|advisor|adviser)\b",
         "IT consultants and other computer occupations"),
    Role("software_engineer", "15", ("15-1131", "15-1132", "15-1133", "15-1251", "15-1252", "15"),
         r"\b(software|developer|programmer|sde|swe|coder|application engineer|applications engineer|"
         r"java|net developer|engineer in software)\b",
         "software developers, engineers and programmers"),
    # --- management, business (11, 13)
    Role("executive_management", "11", ("11-1",),
         r"\b(chief executive|ceo|president|general manager|operations manager)\b", "top and general management"),
    Role("it_manager", "11", ("11-3021",), r"\b(it manager|engineering manager|development manager)\b",
         "computer and information systems managers"),
    Role("agricultural_manager", "11", ("11-9013",), r"\b(farm manager|ranch manager|crop manager)\b",
         "farmers, ranchers, agricultural managers"),
    Role("hospitality_manager", "11", ("11-9051", "11-9081"),
         r"\b(food service manager|restaurant manager|lodging manager|hotel manager)\b",
         "food service and lodging managers"),
    Role("manager_other", "11", ("11",), r"\b(project manager|program manager|product manager)\b",
         "other managers"),
    Role("business_analyst", "13", ("13-1", "13"), r"\b(business analyst|management analyst|market research\w*)\b",
         "business operations specialists"),
    Role("finance_accounting", "13", ("13-2",), r"\b(accountant|auditor|financial analyst|finance)\b",
         "accountants, auditors, financial specialists"),
    # --- professional (17, 19, 21, 23, 25, 27, 29, 31, 33)
    Role("engineer", "17", ("17-2", "17-1", "17"),
         r"\b(mechanical|electrical|civil|chemical|industrial|hardware|electronics)\b.*\bengineer\b", "engineers and architects"),
    Role("engineering_technician", "17", ("17-3",), r"\b(drafter|engineering technician)\b",
         "drafters, engineering technicians"),
    Role("scientist", "19", ("19",), r"\b(scientist|biologist|chemist|physicist|research associate)\b",
         "life, physical and social scientists and technicians"),
    Role("community_legal", "21", ("21", "23"), r"\b(counselor|social worker|lawyer|attorney|paralegal)\b",
         "community, social service and legal occupations"),
    Role("teacher_instructor", "25", ("25",), r"\b(teacher|instructor|professor|lecturer|tutor)\b",
         "education and instruction"),
    Role("coach_sports", "27", ("27-2022", "27-2021"), r"\b(coach|coaches|athlete)\b", "coaches, scouts, athletes"),
    Role("arts_media_entertainment", "27", ("27",),
         r"\b(designer|artist|performer|musician|entertainer|photographer|floral|florist)\b",
         "arts, design, entertainment, media"),
    Role("healthcare_practitioner", "29", ("29",), r"\b(nurse|physician|therapist|pharmacist|dentist)\b",
         "healthcare practitioners"),
    Role("healthcare_support", "31", ("31",), r"\b(home health|nursing aide|medical assistant|caregiver)\b",
         "healthcare support"),
    Role("protective_lifeguard", "33", ("33",), r"\b(lifeguard|ski patrol|security guard|guard)\b",
         "lifeguards, ski patrol, guards"),
    # --- food preparation and serving (35)
    Role("chef_kitchen_supervisor", "35", ("35-1",), r"\b(chef|head cook|kitchen manager|kitchen supervisor)\b",
         "chefs, head cooks, food preparation supervisors"),
    Role("cook", "35", ("35-201",), r"\b(cook|cooks|line cook|prep cook|baker)\b", "cooks"),
    Role("food_preparation_worker", "35", ("35-2021", "35-9021", "35-9099"),
         r"\b(dishwasher\w*|kitchen helper|kitchen worker|food prep\w*|food preparation)\b",
         "food preparation workers and dishwashers"),
    Role("server_host", "35", ("35-3031", "35-3041", "35-9031"), r"\b(server|servers|waiter|waitress|waitstaff|host|hostess)\b",
         "waiters, servers, hosts"),
    Role("bartender", "35", ("35-3011",), r"\b(bartender\w*)\b", "bartenders"),
    Role("food_service_attendant", "35", ("35-3021", "35-3022", "35-3023", "35-9011", "35"),
         r"\b(food service|dining room|busser|busboy|counter attendant|concession\w*|cafeteria)\b",
         "counter, cafeteria, dining room and concession attendants"),
    # --- building and grounds (37)
    Role("tree_trimmer", "37", ("37-3013",), r"\b(tree trimmer\w*|arborist|tree climber)\b", "tree trimmers and pruners"),
    Role("landscaping_groundskeeping", "37", ("37-3", "37-1012"),
         r"\b(landscap\w*|groundskeep\w*|grounds|lawn|gardener\w*|greenskeeper)\b",
         "landscaping and groundskeeping"),
    Role("housekeeping_cleaner", "37", ("37-2012", "37-1011"), r"\b(housekeep\w*|maid|maids|room attendant\w*)\b",
         "maids and housekeeping cleaners"),
    Role("janitor_building_cleaner", "37", ("37",), r"\b(janitor\w*|custodian|cleaner\w*|pest control)\b",
         "janitors, building cleaners, pest control"),
    # --- personal care and service (39)
    Role("animal_caretaker", "39", ("39-2",), r"\b(groom|grooms|groomer|hotwalker|animal caretaker|kennel|stable attendant)\b",
         "animal caretakers and trainers"),
    Role("amusement_recreation_attendant", "39", ("39-3",),
         r"\b(amusement|carnival|ride operator|ride attendant|concession worker|recreation attendant\w*)\b",
         "amusement park, carnival and recreation attendants"),
    Role("tour_guide", "39", ("39-7",), r"\b(tour guide|travel guide|guide|guides|outfitter)\b", "tour and travel guides"),
    Role("childcare_recreation_worker", "39", ("39-9",), r"\b(nanny|childcare|child care|au pair|camp counselor|recreation worker\w*)\b",
         "childcare, recreation and personal care workers"),
    Role("personal_service_other", "39", ("39",), r"\b(bellhop|porter|valet|concierge)\b", "porters, bellhops, other personal service"),
    # --- sales, office (41, 43)
    Role("sales_retail", "41", ("41",), r"\b(sales|salesperson|cashier\w*|retail|vendor)\b", "sales and retail"),
    Role("office_clerk", "43", ("43",), r"\b(clerk|receptionist|front desk|office assistant|administrative|secretary)\b",
         "office and administrative support, desk clerks"),
    # --- farming, fishing, forestry (45)
    Role("agricultural_equipment_operator", "45", ("45-2091",),
         r"\b(equipment operator\w*|machine operator\w*|tractor|combine\w*|combiner|harvester operator)\b",
         "agricultural equipment operators, custom combining"),
    Role("farmworker_livestock", "45", ("45-2093",),
         r"\b(sheep\w*|livestock|cattle|ranch|ranch hand|herder|goat\w*|dairy|range|cowboy|lambing|shepherd)\b",
         "farm and ranch animal workers, herders"),
    Role("forest_conservation_worker", "45", ("45-4",), r"\b(forest\w*|tree planter\w*|logger|logging|reforestation|conservation)\b",
         "forest, conservation and logging workers"),
    Role("fisher", "45", ("45-3",), r"\b(fisher\w*|fishing|deckhand)\b", "fishers and fishing workers"),
    Role("farm_supervisor", "45", ("45-1",), r"\b(farm supervisor|crew leader|farm labor contractor)\b",
         "first-line supervisors of farm workers"),
    Role("farmworker_crop", "45", ("45-2", "45"),
         r"\b(farm\w*|crop\w*|harvest\w*|nursery|orchard|field worker\w*|picker\w*|agricultur\w*|greenhouse|"
         r"vineyard|irrigat\w*|beekeep\w*|detassel\w*|tobacco|citrus)\b",
         "crop, nursery and greenhouse farmworkers"),
    # --- construction and extraction (47)
    Role("construction_helper", "47", ("47-3",), r"\b(helper\w*)\b.*\b(carpenter|roofer|mason|painter|plumber|electrician|construction)\w*"
         r"|\b(carpenter|roofer|mason|painter|plumber|electrician|construction)\w*\b.*\bhelper\w*\b",
         "helpers of construction trades"),
    Role("carpenter", "47", ("47-2031",), r"\b(carpenter\w*|framer\w*)\b", "carpenters"),
    Role("mason_concrete_tile", "47", ("47-202", "47-204", "47-205"),
         r"\b(mason\w*|concrete|cement|brick\w*|stone\w*|tile|terrazzo)\b", "masons, concrete, tile and stone"),
    Role("roofer", "47", ("47-2181",), r"\b(roofer\w*|roofing)\b", "roofers"),
    Role("painter_drywall_plaster", "47", ("47-2141", "47-2081", "47-2082", "47-2161", "47-2131"),
         r"\b(painter\w*|drywall|plaster\w*|stucco|taper\w*|insulation)\b", "painters, drywall, plaster, insulation"),
    Role("electrician_plumber", "47", ("47-2111", "47-2152", "47-2211"),
         r"\b(electrician\w*|plumber\w*|pipefitter\w*|sheet metal)\b", "electricians, plumbers, sheet metal"),
    Role("construction_laborer", "47", ("47-2061", "47-4", "47-2", "47"),
         r"\b(construction|laborer|laborers|labourer|paver\w*|fence\w*)\b", "construction laborers and other trades"),
    Role("extraction_worker", "47", ("47-5",), r"\b(quarry|rock splitter\w*|miner|mining|driller)\b",
         "extraction workers"),
    # --- installation, maintenance, repair (49)
    Role("mechanic", "49", ("49-3",), r"\b(mechanic\w*|technician)\b", "vehicle and equipment mechanics"),
    Role("maintenance_repair", "49", ("49",), r"\b(maintenance|repair\w*|installer\w*)\b", "installation, maintenance and repair"),
    # --- production (51)
    Role("meat_fish_processing", "51", ("51-3022", "51-3023"),
         r"\b(meat|poultry|fish|seafood|crab|shrimp|oyster|salmon|roe|slaughter\w*|butcher\w*|trimmer\w*)\b",
         "meat, poultry and fish cutters, processors"),
    Role("food_processing", "51", ("51-3",), r"\b(food processing|batchmaker|bakery|cannery)\b", "food processing"),
    Role("welder_metal_fabricator", "51", ("51-4", "51-2041"), r"\b(welder\w*|fabricator\w*|machinist\w*)\b",
         "welders, metal workers, fabricators"),
    Role("production_worker", "51", ("51",), r"\b(production|assembler\w*|packer\w*|laundry|sewer|seamstress|factory)\b",
         "production workers, assemblers, laundry"),
    # --- transportation and material moving (53)
    Role("truck_driver", "53", ("53-3",), r"\b(driver\w*|trucker|cdl)\b", "truck and delivery drivers"),
    Role("material_mover", "53", ("53-7", "53"), r"\b(material handler|mover\w*|loader\w*|stocker|warehouse|freight)\b",
         "laborers and material movers, packers"),
)

ROLE_NAMES: tuple[str, ...] = tuple(r.name for r in ROLE_TAXONOMY) + (OTHER_ROLE,)
ROLE_SOC_MAJOR: dict[str, str] = {r.name: r.soc_major for r in ROLE_TAXONOMY} | {OTHER_ROLE: "00"}

# Seniority cues, highest priority first (a title naming two levels gets the first that matches).
SENIORITY_RULES: tuple[tuple[str, str], ...] = (
    (r"\b(intern|interns|internship|trainee|apprentice|co op|coop student|student)\b", "intern"),
    (r"\bexecutive (assistant|secretary|housekeeper)\b", "mid"),
    (r"\b(executive chef|sous chef|head chef|head cook|chef de cuisine)\b", "lead"),
    (r"\b(chief|ceo|cto|cfo|coo|cio|president|vp|svp|evp|head of|executive|founder)\b", "executive"),
    (r"\b(director|directors)\b", "director"),
    (r"\b(manager|managers|mgr|superintendent)\b", "manager"),
    (r"\b(principal|distinguished|fellow)\b|\bstaff (engineer|scientist|software|developer)\b", "principal"),
    (r"\b(lead|leader|supervisor|supervisors|foreman|forewoman|foremen|crew chief|team lead)\b", "lead"),
    (r"\b(senior|sr|experienced|expert|iii|iv)\b|\b(v|3|4|5)$|\blevel (3|4|5|iii|iv|v)\b", "senior"),
    (r"\b(junior|jr|entry|entry level|beginner|assistant|helper|helpers|apprentice|graduate)\b|\b(i|1)$|\blevel (1|i)\b",
     "junior"),
    (r"\b(ii|2)$|\bii\b|\blevel (2|ii)\b|\bintermediate\b", "mid"),
)


def clean_title(title: pl.Expr) -> pl.Expr:
    """Lower case, every run of non-alphanumerics becomes one space, trimmed ('Sr. S/W Dev.' -> 'sr s w dev')."""
    return (
        title.cast(pl.Utf8)
        .str.to_lowercase()
        .str.replace_all(r"[^a-z0-9]+", " ")
        .str.strip_chars()
    )


def normalise_soc(code: pl.Expr) -> pl.Expr:
    """``45-2092``, ``45-2092.02``, ``452092`` and ``45-2092.00`` all become ``45-2092`` (null if unreadable)."""
    digits = code.cast(pl.Utf8).str.strip_chars().str.extract(r"^(\d{2})-?(\d{4})", 0)
    return pl.when(digits.is_not_null()).then(
        digits.str.replace("-", "").str.slice(0, 2) + pl.lit("-") + digits.str.replace("-", "").str.slice(2, 4)
    )


def _soc_prefix_tables() -> dict[int, dict[str, str]]:
    """prefix length -> {prefix: role}; a prefix claimed twice is a taxonomy bug, so fail loudly."""
    tables: dict[int, dict[str, str]] = {}
    for role in ROLE_TAXONOMY:
        for prefix in role.soc_prefixes:
            table = tables.setdefault(len(prefix), {})
            if prefix in table:
                raise ValueError(f"SOC prefix {prefix} mapped twice ({table[prefix]}, {role.name})")
            table[prefix] = role.name
    return tables


_SOC_TABLES = _soc_prefix_tables()


def role_from_soc(soc: pl.Expr) -> pl.Expr:
    """Most specific SOC prefix in the taxonomy wins; null when none matches."""
    code = normalise_soc(soc)
    candidates = [
        code.str.slice(0, length).replace_strict(table, default=None, return_dtype=pl.Utf8)
        for length, table in sorted(_SOC_TABLES.items(), reverse=True)
    ]
    return pl.coalesce(candidates)


def role_from_title(cleaned_title: pl.Expr) -> pl.Expr:
    """First title rule that matches (taxonomy order); null when none does."""
    rules = [r for r in ROLE_TAXONOMY if r.title_pattern]
    expr = pl.when(cleaned_title.str.contains(rules[0].title_pattern)).then(pl.lit(rules[0].name))
    for rule in rules[1:]:
        expr = expr.when(cleaned_title.str.contains(rule.title_pattern)).then(pl.lit(rule.name))
    return expr.otherwise(pl.lit(None, dtype=pl.Utf8))


def seniority_from_title(cleaned_title: pl.Expr) -> pl.Expr:
    """Seniority from the first cue that matches (priority order of :data:`SENIORITY_RULES`), else null."""
    pattern, level = SENIORITY_RULES[0]
    expr = pl.when(cleaned_title.str.contains(pattern)).then(pl.lit(level))
    for pattern, level in SENIORITY_RULES[1:]:
        expr = expr.when(cleaned_title.str.contains(pattern)).then(pl.lit(level))
    return expr.otherwise(pl.lit(None, dtype=pl.Utf8))


ROLE_SOURCES = ("soc", "title_classifier", "title_rule", "none")


def normalise_soc_and_title(jobs: pl.DataFrame) -> pl.DataFrame:
    """``_soc`` (normalised code) and ``_soc_title`` columns, null where the input lacks them."""
    soc = normalise_soc(pl.col("soc_code")) if "soc_code" in jobs.columns else pl.lit(None, dtype=pl.Utf8)
    title = pl.col("soc_title").cast(pl.Utf8) if "soc_title" in jobs.columns else pl.lit(None, dtype=pl.Utf8)
    year = pl.col("fiscal_year").cast(pl.Int64) if "fiscal_year" in jobs.columns else pl.lit(None, dtype=pl.Int64)
    return jobs.with_columns(_soc=soc, _soc_title=title, _year=year).select("_soc", "_soc_title", "_year")


class RoleModel:
    """Job record -> role (a SOC occupation) and seniority.

    ``RoleModel(use_title_classifier=True).fit(jobs)`` learns, from the records themselves:

    * ``catalog_``: the SOC occupations present, their titles as the files give them, SOC 2010/2018 codes
      reconciled where the data's (code, title) pairs allow (:class:`~workforce_assets.labor.occupations.OccupationCatalog`);
    * ``classifier_``: a title -> occupation classifier trained on the records that carry both a title and a SOC
      code, for the records that carry only a title (None when fewer than two occupations have titles, or when
      ``use_title_classifier`` is off).

    ``transform(jobs)`` adds ``role_code``, ``role``, ``role_level`` (detailed | broad | major), ``role_source``
    (see :data:`ROLE_SOURCES`), ``role_confidence`` (the classifier's calibrated confidence at the level it
    kept; null otherwise), ``role_family`` (the coarse hand-written family of :data:`ROLE_TAXONOMY`, kept as a
    feature and for records no classifier can place), ``seniority`` and ``seniority_source``.
    """

    def __init__(self, use_title_classifier: bool = True, min_confidence: float = 0.5, seed: int = 0):
        self.use_title_classifier, self.min_confidence, self.seed = use_title_classifier, min_confidence, seed

    def fit(self, jobs: pl.DataFrame):
        from workforce_assets.labor.occupations import OccupationCatalog, TitleOccupationClassifier

        if "job_title" not in jobs.columns:
            raise ValueError("RoleModel needs a 'job_title' column")
        soc = normalise_soc_and_title(jobs)
        self.catalog_ = OccupationCatalog().fit(soc["_soc"].to_list(), soc["_soc_title"].to_list(), soc["_year"].to_list())
        self.classifier_ = None
        if self.use_title_classifier:
            training = jobs.select(title=clean_title(pl.col("job_title")).fill_null(""),
                                   employer=pl.col("employer_key").cast(pl.Utf8) if "employer_key" in jobs.columns
                                   else pl.lit(None, dtype=pl.Utf8)).with_columns(
                code=self.catalog_.canonical(soc["_soc"])).filter(
                pl.col("code").is_not_null() & (pl.col("title").str.len_chars() > 0))
            if training["code"].n_unique() >= 2:
                employers = training["employer"].fill_null(training["title"]).to_list()
                self.classifier_ = TitleOccupationClassifier(min_confidence=self.min_confidence, seed=self.seed).fit(
                    training["title"].to_list(), training["code"].to_list(), employers)
        return self

    def transform(self, jobs: pl.DataFrame) -> pl.DataFrame:
        from workforce_assets.labor.occupations import level_of

        if "job_title" not in jobs.columns:
            raise ValueError("add_role_and_seniority needs a 'job_title' column")
        soc = normalise_soc_and_title(jobs)
        wage_level = pl.col("wage_level") if "wage_level" in jobs.columns else pl.lit(None, dtype=pl.Utf8)
        out = jobs.with_columns(
            title_clean=clean_title(pl.col("job_title")).fill_null(""),
            _code=self.catalog_.canonical(soc["_soc"]),
            _soc_title_clean=clean_title(soc["_soc_title"]).fill_null(""),
        )
        # the hand-written families: SOC prefix first, then title cues (job title, then the SOC title)
        out = out.with_columns(
            _soc_family=role_from_soc(pl.col("_code")),
            _title_family=pl.coalesce(role_from_title(pl.col("title_clean")), role_from_title(pl.col("_soc_title_clean"))),
        ).with_columns(role_family=pl.coalesce("_soc_family", "_title_family", pl.lit(OTHER_ROLE)))
        # records without a code: the classifier, once per distinct title
        need = out.filter(pl.col("_code").is_null() & (pl.col("title_clean").str.len_chars() > 0))["title_clean"].unique()
        predicted = pl.DataFrame(schema={"title_clean": pl.Utf8, "_pred_code": pl.Utf8, "_pred_confidence": pl.Float64})
        if self.classifier_ is not None and need.len():
            titles = need.sort().to_list()
            result = self.classifier_.predict(titles)
            predicted = pl.DataFrame({"title_clean": titles, "_pred_code": result.code.astype(str).tolist(),
                                      "_pred_confidence": result.confidence.astype(float)})
        out = out.join(predicted, on="title_clean", how="left")
        codes = pl.coalesce("_code", "_pred_code")
        distinct = out.select(codes.alias("c")).drop_nulls().unique()["c"].to_list()
        names = {c: self.catalog_.name(c) for c in distinct}
        levels = {c: level_of(c) for c in distinct}
        out = out.with_columns(
            role_source=pl.when(pl.col("_code").is_not_null()).then(pl.lit("soc"))
            .when(pl.col("_pred_code").is_not_null()).then(pl.lit("title_classifier"))
            .when(pl.col("_title_family").is_not_null()).then(pl.lit("title_rule"))
            .otherwise(pl.lit("none")),
            role_code=codes,
            role_level=codes.replace_strict(levels, default=None, return_dtype=pl.Utf8),
            role_confidence=pl.when(pl.col("_code").is_null()).then(pl.col("_pred_confidence")),
            role=pl.coalesce(codes.replace_strict(names, default=None, return_dtype=pl.Utf8),
                             pl.col("_title_family"), pl.lit(OTHER_ROLE)),
            _title_seniority=seniority_from_title(pl.col("title_clean")),
            _level_seniority=wage_level.replace_strict(WAGE_LEVEL_SENIORITY, default=None, return_dtype=pl.Utf8),
        ).with_columns(
            seniority=pl.coalesce("_level_seniority", "_title_seniority", pl.lit(UNKNOWN_SENIORITY)),
            seniority_source=pl.when(pl.col("_level_seniority").is_not_null()).then(pl.lit("wage_level"))
            .when(pl.col("_title_seniority").is_not_null()).then(pl.lit("title"))
            .otherwise(pl.lit("none")),
        )
        return out.drop("_code", "_soc_title_clean", "_soc_family", "_title_family", "_pred_code", "_pred_confidence", "_title_seniority", "_level_seniority")

    def roles_table(self, assigned: pl.DataFrame) -> pl.DataFrame:
        """One row per role of ``transform``'s output: code, name, level, SOC broad and major group, record
        counts by source, and the codes folded into it (table ``labor.roles``)."""
        from workforce_assets.labor.occupations import SOC_MAJOR_GROUPS

        merged = dict(zip(self.catalog_.occupations_["role_code"], self.catalog_.occupations_["merged_codes"]))
        table = assigned.group_by("role", "role_code", "role_level").agg(
            n_records=pl.len().cast(pl.Int64),
            n_records_soc=(pl.col("role_source") == "soc").sum().cast(pl.Int64),
            n_records_title_classifier=(pl.col("role_source") == "title_classifier").sum().cast(pl.Int64),
            n_records_title_rule=(pl.col("role_source").is_in(["title_rule", "none"])).sum().cast(pl.Int64),
            mean_role_confidence=pl.col("role_confidence").mean(),
        )
        code = pl.col("role_code")
        return table.with_columns(
            broad_group=code.str.slice(0, 6) + "0",  # as occupations.broad_group / major_group, vectorised
            major_group=code.str.slice(0, 2) + "-0000",
            major_group_title=code.str.slice(0, 2).replace_strict(SOC_MAJOR_GROUPS, default=None, return_dtype=pl.Utf8),
            merged_codes=code.replace_strict(merged, default="", return_dtype=pl.Utf8),
        ).select("role_code", "role", "role_level", "broad_group", "major_group", "major_group_title", "n_records",
                 "n_records_soc", "n_records_title_classifier", "n_records_title_rule", "mean_role_confidence",
                 "merged_codes").sort("n_records", "role", descending=[True, False])


def add_role_and_seniority(jobs: pl.DataFrame, model: RoleModel | None = None) -> pl.DataFrame:
    """Add role, seniority and their sources (see :class:`RoleModel`); every input row comes out, in order.

    Without a fitted ``model`` the SOC catalog is learned from ``jobs`` itself and records without a SOC code
    get a role from the hand-written title rules (``role_source = 'title_rule'``): no classifier is trained.
    The pipeline fits a :class:`RoleModel` once (asset ``labor/role_model``) and passes it here.

    Seniority comes from evidence: the prevailing-wage level (I-IV) where the record has one, title cues
    otherwise, and ``unknown`` where neither speaks (never a default ``mid``).
    """
    if "job_title" not in jobs.columns:
        raise ValueError("add_role_and_seniority needs a 'job_title' column")
    if model is None:
        model = RoleModel(use_title_classifier=False).fit(jobs)
    return model.transform(jobs)


def role_taxonomy_table() -> pl.DataFrame:
    """The taxonomy as a table (role, SOC major group, SOC prefixes, title cue, description) for docs/reports."""
    return pl.DataFrame(
        {
            "role": [r.name for r in ROLE_TAXONOMY],
            "soc_major": [r.soc_major for r in ROLE_TAXONOMY],
            "soc_prefixes": [", ".join(r.soc_prefixes) for r in ROLE_TAXONOMY],
            "title_pattern": [r.title_pattern or "" for r in ROLE_TAXONOMY],
            "description": [r.description for r in ROLE_TAXONOMY],
        }
    )
