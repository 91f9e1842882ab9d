"""Write the seeded demo world: the input contract the pipeline reads, plus the ground truth it should recover.

Everything is SIMULATED. The world mirrors the shapes and error rates of the real study (rated CVs, company
samples, three LLM annotators with correlated errors, keyword filters, messy DOL job records) so the whole
platform can be run and validated end to end without private data, against a known truth.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from workforce_assets.demo import annotators as sim_annotators
from workforce_assets.demo import profile_text, vocabulary
from workforce_assets.demo.companies import simulate_companies
from workforce_assets.demo import jobs as job_model

#: Share of experts among the rated CVs (real: 153 of 585).
RATED_EXPERT_SHARE = 153 / 585
RATED_REPEATED_TEXT_SHARE = 0.01
EMPTY_PROFILE_TEXT_RATE = 0.005
JOBS_FILE = "jobs/lca_demo_fy2024.csv"


@dataclass(frozen=True)
class DemoConfig:
    """Size and seed of the demo world; the defaults give the full demo, `small()` a test-sized one."""

    seed: int = 7
    n_companies: int = 60
    n_rated_cvs: int = 600
    n_job_records: int = 20_000
    n_employers: int = 2_000
    n_batches: int = 6
    max_sample_per_company: int = 150

    @classmethod
    def small(cls) -> "DemoConfig":
        """Test-sized world: ~12 companies in 2 batches, 150 rated CVs, 1,500 job records over 150 employers."""
        return cls(n_companies=12, n_rated_cvs=150, n_job_records=1_500, n_employers=150, n_batches=2, max_sample_per_company=40)


@dataclass
class DemoSummary:
    """What was written: rows per file and paths, keyed by the path relative to `out_dir`."""

    out_dir: Path
    seed: int
    row_counts: dict[str, int] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)

    @property
    def n_profiles(self) -> int:
        return sum(n for name, n in self.row_counts.items() if name.startswith("profiles/"))

    @property
    def batches(self) -> list[str]:
        return sorted(Path(name).stem for name in self.row_counts if name.startswith("profiles/"))


def _generated_paths(out_dir: Path) -> list[Path]:
    """Files a previous run may have left (a bigger world had more batches): removed before writing."""
    fixed = [
        "README.md", "rated_cvs.csv", "companies.csv", "annotations/llm_labels.csv", JOBS_FILE,
        "truth/company_truth.csv", "truth/profile_truth.csv", "truth/annotators.json", "truth/README.md",
        "truth/job_employers.csv", "truth/jobs_truth.json",
    ]
    return [out_dir / p for p in fixed] + sorted((out_dir / "profiles").glob("batch_*.csv"))


def _operating_points(labels: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    truth = truth.astype(bool)
    return {
        "sensitivity": round(float(labels[truth].mean()), 4) if truth.any() else float("nan"),
        "specificity": round(float(1 - labels[~truth].mean()), 4) if (~truth).any() else float("nan"),
    }


def generate_demo_world(out_dir: Path, config: DemoConfig = DemoConfig()) -> DemoSummary:
    """Generate the world for `config` into `out_dir` (same seed -> byte-identical files)."""
    out_dir = Path(out_dir)
    if config.n_rated_cvs < 2:
        raise ValueError("n_rated_cvs must be >= 2 (the rated set needs experts and non-experts)")
    # Independent streams per part: changing the number of job records leaves the headcount world unchanged.
    company_rng, cv_rng, profile_rng, label_rng, jobs_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(5)
    )

    world = simulate_companies(config.n_companies, config.n_batches, config.max_sample_per_company, company_rng)
    companies, employees = world.companies, world.employees

    # Rated CVs: a fixed expert share, people from any industry working at fictional employers.
    n_cv_experts = int(round(RATED_EXPERT_SHARE * config.n_rated_cvs))
    cv_is_expert = np.zeros(config.n_rated_cvs, dtype=np.int8)
    cv_is_expert[cv_rng.choice(config.n_rated_cvs, size=n_cv_experts, replace=False)] = 1
    industry_names = list(vocabulary.INDUSTRIES)
    industry_weights = np.array([vocabulary.INDUSTRIES[i][0] for i in industry_names])
    cv_industries = np.array(industry_names, dtype=object)[
        cv_rng.choice(len(industry_names), size=config.n_rated_cvs, p=industry_weights / industry_weights.sum())
    ]
    cv_employers = np.array(profile_text.PAST_EMPLOYERS, dtype=object)[cv_rng.integers(0, len(profile_text.PAST_EMPLOYERS), config.n_rated_cvs)]
    cv_texts, cv_cells = profile_text.generate_profile_texts(cv_is_expert, cv_industries, cv_employers, cv_rng)
    # Like the real rated set (13 of 585 rows share a text), a few CVs repeat another CV of the same class.
    n_repeated = int(round(RATED_REPEATED_TEXT_SHARE * config.n_rated_cvs))
    for target in cv_rng.choice(config.n_rated_cvs, size=n_repeated, replace=False):
        same_class = np.flatnonzero(cv_is_expert == cv_is_expert[target])
        source = int(same_class[cv_rng.integers(same_class.size)])
        cv_texts[target], cv_cells[target] = cv_texts[source], cv_cells[source]
    cv_ids = [f"cv_{i + 1:04d}" for i in range(config.n_rated_cvs)]
    rated_cvs = pl.DataFrame({"cv_id": cv_ids, "cv_text": cv_texts, "is_ml_expert": cv_is_expert})

    # Company profiles: same text generator, industry and employer name of the sampled company.
    company_lookup = companies.select("company_id", "company_name", "industry")
    employees = employees.join(company_lookup, on="company_id", how="left", maintain_order="left")
    profile_expert = employees["is_ml_expert"].to_numpy()
    profile_texts, _ = profile_text.generate_profile_texts(
        profile_expert, employees["industry"].to_numpy(), employees["company_name"].to_numpy(), profile_rng,
        empty_text_rate=EMPTY_PROFILE_TEXT_RATE,
    )
    profile_ids = [f"pr_{i + 1:05d}" for i in range(employees.height)]
    profiles = employees.select("company_id", "batch").with_columns(
        pl.Series("profile_id", profile_ids), pl.Series("profile_text", [t or None for t in profile_texts], dtype=pl.String)
    )  # an empty text is written as an empty cell

    # LLM labels from one generative model for rated CVs and profiles alike.
    item_truth = np.concatenate([cv_is_expert, profile_expert]).astype(np.int8)
    llm = sim_annotators.DEFAULT_LLM_ANNOTATORS
    clean_labels = sim_annotators.simulate_annotator_labels(item_truth, label_rng, llm)
    rendered = sim_annotators.render_labels_with_missing(clean_labels, label_rng)
    llm_labels = pl.DataFrame(
        {"item_id": cv_ids + profile_ids}
        | {a.name: pl.Series(a.name, rendered[:, j].tolist(), dtype=pl.String) for j, a in enumerate(llm)}
    ).with_columns([pl.when(pl.col(a.name) == "").then(None).otherwise(pl.col(a.name)).alias(a.name) for a in llm])

    jobs = job_model.simulate_lca_records(config.n_job_records, config.n_employers, jobs_rng)

    # ---- write -----------------------------------------------------------------------------------
    for stale in _generated_paths(out_dir):
        stale.unlink(missing_ok=True)
    summary = DemoSummary(out_dir=out_dir, seed=config.seed)

    def write_csv(frame: pl.DataFrame, relative: str) -> None:
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.write_csv(path)
        summary.row_counts[relative] = frame.height
        summary.paths[relative] = path

    def write_text(text: str, relative: str) -> None:
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        summary.paths[relative] = path

    write_csv(rated_cvs, "rated_cvs.csv")
    write_csv(companies.select("company_id", "company_name", "headcount", "country", "industry"), "companies.csv")
    for batch in sorted(set(profiles["batch"].to_list())):
        write_csv(profiles.filter(pl.col("batch") == batch).select("profile_id", "company_id", "profile_text"), f"profiles/{batch}.csv")
    write_csv(llm_labels, "annotations/llm_labels.csv")
    write_csv(jobs.records, JOBS_FILE)
    write_csv(
        companies.select("company_id", "headcount", "prevalence", "true_ml_experts", "n_sampled", "true_ml_in_sample"),
        "truth/company_truth.csv",
    )
    write_csv(profiles.select("profile_id", "company_id", "batch").with_columns(pl.Series("is_ml_expert", profile_expert)),
              "truth/profile_truth.csv")
    write_csv(jobs.employers, "truth/job_employers.csv")

    filters_expected = profile_text.reference_filter_labels(np.arange(profile_text.N_CELLS))
    annotator_truth = {
        "simulated": True,
        "model": "class-conditional latent Gaussian: z ~ N(mu_k, R_k), label = 1 if z > 0; "
                 "mu_expert = probit(sensitivity), mu_non_expert = probit(1 - specificity)",
        "annotators": [
            {"name": a.name, "sensitivity": a.sensitivity, "specificity": a.specificity} for a in llm
        ],
        "latent_correlation": {
            "expert": sim_annotators.EXPERT_LATENT_CORRELATION,
            "non_expert": sim_annotators.NON_EXPERT_LATENT_CORRELATION,
        },
        "missing_labels": {"error_rate": sim_annotators.ERROR_LABEL_RATE, "empty_rate": sim_annotators.EMPTY_LABEL_RATE},
        "realised_on_rated_cvs_before_missing": {
            a.name: _operating_points(clean_labels[: config.n_rated_cvs, j], cv_is_expert) for j, a in enumerate(llm)
        },
        "keyword_filters": {
            "note": "texts are built so the reference filters have these class-conditional firing rates",
            "expected": {
                name: {
                    "sensitivity": round(float(fired @ profile_text.EXPERT_CELL_PROBABILITIES), 4),
                    "specificity": round(float(1 - fired @ profile_text.NON_EXPERT_CELL_PROBABILITIES), 4),
                }
                for name, fired in filters_expected.items()
            },
            "realised_on_rated_cvs": {
                name: _operating_points(fired, cv_is_expert)
                for name, fired in profile_text.reference_filter_labels(cv_cells).items()
            },
        },
    }
    write_text(json.dumps(annotator_truth, indent=2, sort_keys=True) + "\n", "truth/annotators.json")
    jobs_truth = {
        "simulated": True,
        "issues_injected": jobs.issue_counts,
        "wage_model": "log(annual) = log(role base) + log(seniority) + log(state) + employer premium + N(0, sd)",
        "wage_noise_sd": job_model.WAGE_NOISE_SD,
        "employer_premium_sd": job_model.EMPLOYER_PREMIUM_SD,
        "roles": {
            name: {"soc_code": r.soc_code, "soc_title": r.soc_title, "base_annual_wage": r.base_annual_wage,
                   "manager_soc_code": r.manager_soc[0]}
            for name, r in job_model.ROLES.items()
        },
        "seniority_wage_multiplier": {level: spec[1] for level, spec in job_model.SENIORITY.items()},
        "state_wage_multiplier": {code: spec[1] for code, spec in job_model.STATES.items()},
    }
    write_text(json.dumps(jobs_truth, indent=2, sort_keys=True) + "\n", "truth/jobs_truth.json")
    write_text(_truth_readme(config), "truth/README.md")
    write_text(_root_readme(config, summary), "README.md")
    return summary


def _truth_readme(config: DemoConfig) -> str:
    return (
        "# Ground truth of the SIMULATED demo world\n\n"
        f"Generated by `workforce_assets.demo` with seed {config.seed}. Nothing here describes real people or companies.\n\n"
        "- `company_truth.csv`: per company the true ML-expert prevalence, the true number of experts in the whole\n"
        "  company (`true_ml_experts` ~ Binomial(headcount, prevalence)), the sample size and the true number of\n"
        "  experts in the sample (hypergeometric). The headcount estimators should recover `true_ml_experts`.\n"
        "- `profile_truth.csv`: the true class of every sampled profile.\n"
        "- `annotators.json`: true sensitivity/specificity of each simulated LLM annotator, the latent correlation of\n"
        "  their errors, and the keyword-filter rates the texts were built for (expected and realised).\n"
        "- `job_employers.csv`, `jobs_truth.json`: the employers behind the job records (sector, size tier, home and\n"
        "  other states, wage premium, role mix) and the messy rows injected into the job file.\n"
    )


def _root_readme(config: DemoConfig, summary: DemoSummary) -> str:
    rows = "\n".join(f"| `{name}` | {n:,} |" for name, n in sorted(summary.row_counts.items()) if not name.startswith("truth/"))
    return (
        "# Demo world (SIMULATED data)\n\n"
        f"This directory was generated by `workforce_assets.demo` (seed {config.seed}). Every company, person, profile,\n"
        "label and job record in it is SIMULATED: names are fictional, texts are assembled from word lists, LLM labels\n"
        "come from a calibrated random model, and the job file imitates the layout of US DOL H-1B LCA disclosure files.\n"
        "It exists so the platform can be run end to end and checked against a known truth (`truth/`).\n\n"
        "| file | rows |\n| --- | --- |\n"
        f"{rows}\n"
    )
