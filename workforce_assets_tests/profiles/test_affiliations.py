"""Affiliations: parsing the profile layout, categories, overrides, company summaries, and the hand-labelled
real fixture (labelled before the extractor existed; docs/validation.md section 8)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from workforce_assets.profiles import affiliations as af

FIXTURES = Path(__file__).parent / "fixtures"

TEXT = ("Experiences: Wave (Mobile Remittance) (Software Engineer): built apps | Dantley-Maxey Solutions, LLC "
        "(Technical Consultant (Data Analyst, Test Engineer)): | Stealth Startup (Founder): | University of Basel "
        "(PhD Student): thesis on x | Wave (Mobile Remittance) (Intern): || Certifications: Coursera: Deep Learning "
        "| Duke University: Physiology || Education: Chemistry – Doctor of Philosophy - PhD @ University of Basel | "
        "– High School @ Sevenoaks School || Summary: I worked with Microsoft Research.")


def test_experience_and_education_entries_are_the_affiliations():
    found = af.extract_affiliations(TEXT)
    assert [(a.organisation, a.section) for a in found] == [
        ("Wave (Mobile Remittance)", "experience"),
        ("Dantley-Maxey Solutions, LLC", "experience"),
        ("University of Basel", "experience"),  # its education entry is the same organisation: kept once
        ("Sevenoaks School", "education"),
    ]
    assert found[1].detail == "Technical Consultant (Data Analyst, Test Engineer)"
    # certification issuers, placeholders and organisations named only in free text are not affiliations
    names = {a.organisation for a in found}
    assert not names & {"Coursera", "Duke University", "Stealth Startup", "Microsoft Research"}


@pytest.mark.parametrize("text", [None, "", "Software Engineer", "Experiences: || Certifications: || Education: || Summary:",
                                  "Experiences: no parentheses here || Education: – @ "])
def test_texts_without_entries_give_no_affiliation(text):
    assert af.extract_affiliations(text) == []


@pytest.mark.parametrize("name,category", [
    ("Stanford University", "academic"), ("Technische Universität München", "academic"), ("ETH Zürich", "academic"),
    ("Google DeepMind", "industry_lab"), ("Microsoft Research", "industry_lab"), ("OpenAI", "industry_lab"),
    ("US Navy", "government_nonprofit"), ("Wikimedia Foundation", "government_nonprofit"),
    ("Accenture", "company"), ("Boston Consulting Group (BCG)", "company"),
])
def test_categories_from_names(name, category):
    assert af.categorise(name) == category


def test_user_overrides_win_and_bad_categories_are_refused():
    profiles = pl.DataFrame({"profile_id": ["p1"], "company_id": ["c1"], "profile_text": [TEXT]})
    rows = af.affiliation_table(profiles, overrides={"wave (mobile remittance)": "industry_lab"})
    wave = rows.filter(pl.col("organisation") == "Wave (Mobile Remittance)").row(0, named=True)
    assert (wave["category"], wave["category_source"]) == ("industry_lab", "user")
    assert set(rows.filter(pl.col("organisation") != "Wave (Mobile Remittance)")["category_source"]) == {"rule"}
    with pytest.raises(ValueError, match="not among"):
        af.affiliation_table(profiles, overrides={"Wave": "startup"})


def test_company_summary_counts_profiles_without_text_apart():
    profiles = pl.DataFrame({
        "profile_id": ["p1", "p2", "p3", "p4"], "company_id": ["c1", "c1", "c1", "c2"],
        "profile_text": [TEXT, "Experiences: Accenture (Analyst): ", "", ""],
    })
    rows = af.affiliation_table(profiles)
    summary = {r["company_id"]: r for r in af.company_summary(profiles, rows).iter_rows(named=True)}
    assert summary["c1"]["n_profiles"] == 3 and summary["c1"]["n_profiles_with_text"] == 2
    assert summary["c1"]["share_academic"] == pytest.approx(0.5) and summary["c1"]["share_phd"] == pytest.approx(0.5)
    assert summary["c2"]["share_academic"] is None  # no text: unknown, never 0
    empty = af.company_summary(profiles.head(0), rows.head(0))
    assert empty.height == 0 and "share_phd" in empty.columns


def test_hand_labelled_real_affiliations(shared_data):
    """272 affiliations of 44 real texts (seed 20261203), labelled by hand before any rule was written."""
    ids = pl.read_csv(FIXTURES / "affiliations_sample_ids.csv", schema_overrides={"cv_id": pl.Utf8})
    gold = pl.read_csv(FIXTURES / "affiliations_gold.csv", schema_overrides={"cv_id": pl.Utf8})
    assert gold.height >= 150 and set(gold["category"]) <= set(af.CATEGORIES)
    texts = {}
    for name in ("profiles_unlabeled.csv", "validation_annotations.csv"):
        frame = pl.read_csv(shared_data / "annotations" / name, schema_overrides={"cv_id": pl.Utf8})
        texts.update(zip(frame["cv_id"], frame["cv_text"]))
    result = af.evaluate({i: texts[i] for i in ids["cv_id"]}, gold)
    assert result["extraction_precision"] >= 0.95 and result["extraction_recall"] >= 0.95, (result["missed"], result["spurious"])
    assert result["category_accuracy"] >= 0.85, result["miscategorised"]
    assert result["per_category"]["academic"]["precision"] >= 0.9 and result["per_category"]["academic"]["recall"] >= 0.9


def test_non_english_and_very_long_texts():
    german = ("Experiences: Technische Universität München (Wissenschaftlicher Mitarbeiter): Forschung | "
              "Siemens AG (Werkstudent): || Education: Informatik – Promotion (Dr. rer. nat.) @ Universität Stuttgart")
    found = {a.organisation: af.categorise(a.organisation) for a in af.extract_affiliations(german)}
    assert found == {"Technische Universität München": "academic", "Siemens AG": "company",
                     "Universität Stuttgart": "academic"}
    chinese = "Experiences: 清华大学 (研究员): 机器学习 || Education: 计算机 – 博士 @ 北京大学"
    assert [(a.organisation, af.categorise(a.organisation)) for a in af.extract_affiliations(chinese)] == [
        ("清华大学", "academic"), ("北京大学", "academic")]
    long_text = "Experiences: Acme Corp (Engineer): " + "x" * 500_000 + " | Globex (Analyst): || Summary: " + "y " * 100_000
    assert [a.organisation for a in af.extract_affiliations(long_text)] == ["Acme Corp", "Globex"]
