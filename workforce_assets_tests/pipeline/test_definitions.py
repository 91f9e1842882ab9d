"""The code location loads with every asset of the mission, grouped, with checks, jobs, sensor and schedules."""

import dagster as dg

EXPECTED_TABLE_ASSETS = {
    "inputs/rated_cvs", "inputs/companies", "inputs/employee_profiles", "inputs/job_records", "inputs/quarantine",
    "inputs/imported_annotations",
    "annotation/keyword_lists", "annotation/filter_labels", "annotation/llm_labels", "annotation/annotation_matrix",
    "annotation/rated_cv_filter_labels", "annotation/rated_cv_llm_labels", "annotation/rated_cv_matrix",
    "headcount/annotator_parameters", "headcount/company_posteriors", "headcount/log_debias", "headcount/headcount_totals",
    "labor/archetype_matrix", "labor/archetype_eval", "labor/archetype_model", "labor/archetype_scores",
    "labor/salary_eval", "labor/salary_model", "labor/headcount_eval", "labor/headcount_model",
    "labor/market_sizes", "labor/peer_gaps",
    "reports/headcount_report", "reports/labor_report",
}


def test_definitions_load_every_asset_with_a_group_and_description():
    from workforce_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert EXPECTED_TABLE_ASSETS <= keys
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.group_name in {"inputs", "annotation", "headcount", "labor", "reports"}, key
        assert node.description, f"{key} has no description"


def test_partitioned_assets_use_company_batches():
    from workforce_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    partitioned = {k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).is_partitioned}
    assert partitioned == {
        "inputs/employee_profiles", "annotation/filter_labels", "annotation/llm_labels",
        "annotation/annotation_matrix", "headcount/company_posteriors",
    }
    for key in partitioned:
        assert graph.get(dg.AssetKey.from_user_string(key)).partitions_def.name == "company_batches"


def test_jobs_sensors_schedules_and_checks_are_defined():
    from workforce_assets.definitions import defs

    assert defs.resolve_job_def("company_batch_job") is not None
    assert defs.resolve_sensor_def("new_company_batches") is not None
    assert defs.resolve_schedule_def("weekly_batch_backfill") is not None
    check_names = {k.name for k in defs.resolve_asset_graph().asset_check_keys}
    assert {"cv_id_unique", "posteriors_are_coherent", "profile_annotators_have_parameters"} <= check_names


def test_runner_phases_put_every_batch_annotation_before_posteriors():
    from workforce_assets.pipeline.runner import plan_phases
    from workforce_assets.definitions import defs

    phases = plan_phases(defs, None)
    position = {k.to_user_string(): i for i, (_, keys) in enumerate(phases) for k in keys}
    assert position["inputs/rated_cvs"] < position["inputs/employee_profiles"]
    assert position["annotation/annotation_matrix"] < position["headcount/company_posteriors"]
    assert position["headcount/company_posteriors"] < position["headcount/headcount_totals"]
    for partitioned, keys in phases:
        graph = defs.resolve_asset_graph()
        assert all(graph.get(k).is_partitioned == partitioned for k in keys)
