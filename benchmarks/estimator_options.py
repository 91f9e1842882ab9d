"""``--option KEY=VALUE`` for the headcount benchmarks: HeadcountOptions overrides applied to every estimator run."""

import json


def add_option_argument(parser) -> None:
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="HeadcountOptions override for every estimator run (repeatable; VALUE as JSON, else a "
                             "string): --option prior=auto --option em_accelerate=true")


def apply_options(estimators: dict, items: list[str]) -> dict:
    """``estimators`` (name -> options) with the parsed overrides merged in and named in each estimator's name."""
    overrides = {}
    for item in items:
        key, value = item.split("=", 1)
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    if not overrides:
        return estimators
    return {f"{name}, {overrides}": {**options, **overrides} for name, options in estimators.items()}
