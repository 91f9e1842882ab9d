"""Lay the real public data (../shared/data) out as an input directory of the contract.

Files that already follow the contract are linked, not copied; the only file written is the profiles
batch of the 12 AI labs, derived from the employee annotations (profile_id, company_id, empty text: the
labels of those employees are imported, their texts were never published).
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

LINKS = {
    "rated_cvs.csv": "annotations/validation_annotations.csv",
    "companies.csv": "annotations/comparator_ml_companies.csv",
    "annotations/validation_annotations.csv": "annotations/validation_annotations.csv",
    "annotations/validation_llm_variants.csv": "annotations/validation_llm_variants.csv",
    "annotations/comparator_ml_employee_annotations.csv": "annotations/comparator_ml_employee_annotations.csv",
}
#: Linked when present: texts of profiles with no company and no label (clustered with the rest).
OPTIONAL_LINKS = {"unlabeled_profiles.csv": "annotations/profiles_unlabeled.csv"}


def _link(target: Path, link: Path) -> Path:
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        link.unlink()
    os.symlink(target.resolve(), link)
    return link


def arrange_shared_data(shared: Path, out: Path) -> list[Path]:
    """Build ``out`` from ``shared`` (the folder holding annotations/ and jobs/); returns the paths written."""
    shared = Path(shared)
    missing = [rel for rel in LINKS.values() if not (shared / rel).exists()]
    if missing:
        raise FileNotFoundError(f"{shared} lacks {missing}")
    written = [_link(shared / source, out / name) for name, source in LINKS.items()]
    employees = pl.read_csv(shared / "annotations/comparator_ml_employee_annotations.csv", infer_schema=False)
    profiles = employees.select("profile_id", "company_id", profile_text=pl.lit(""))
    (out / "profiles").mkdir(parents=True, exist_ok=True)
    profiles.write_csv(out / "profiles" / "comparator_labs.csv")
    written.append(out / "profiles" / "comparator_labs.csv")
    for name, source in OPTIONAL_LINKS.items():
        if (shared / source).exists():
            written.append(_link(shared / source, out / name))
    aggregates = shared / "annotations/company_aggregates.csv"
    if aggregates.exists():
        written.append(write_company_counts(aggregates, out / "company_counts.csv"))
    for job_file in sorted((shared / "jobs").rglob("*")):
        if job_file.suffix.lower() in {".csv", ".xlsx"}:
            written.append(_link(job_file, out / "jobs" / job_file.name))
    return written


# company_aggregates.csv (the study's company-level counts) -> the contract's company_counts.csv
AGGREGATE_RENAMES = {"linkedin_id": "company_id", "total_headcount": "headcount"}
AGGREGATE_LLMS = {"claude": "llm_sonnet_4", "gpt5": "llm_gpt_5_mini", "gemini": "llm_gemini_2_5_flash"}


def write_company_counts(aggregates: Path, out: Path) -> Path:
    """Rename the study's columns to the contract's (values untouched, as text, so nothing is reformatted):
    ``linkedin_id`` -> company_id, ``total_headcount`` -> headcount, ``<llm>_total_employees / _rejected /
    _accepted`` -> ``<annotator>_sampled / _rejected / _accepted`` with the rated CVs' annotator names."""
    frame = pl.read_csv(aggregates, infer_schema=False)
    renames = dict(AGGREGATE_RENAMES)
    for short, annotator in AGGREGATE_LLMS.items():
        renames[f"{short}_total_employees"] = f"{annotator}_sampled"
        renames[f"{short}_total_rejected"] = f"{annotator}_rejected"
        renames[f"{short}_total_accepted"] = f"{annotator}_accepted"
    frame = frame.rename({k: v for k, v in renames.items() if k in frame.columns})
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(out)
    return out
