"""Could the transport check's agreement z-scores set how far profiles may differ from the rated CVs?

The default resamples the rated CVs twice per bootstrap replicate (``rated_resample_rounds=2``): in the
plasmode that is exactly the design's transport error (the estimator's rated half and the half the employees
come from are two independent samples). On real data the size of that difference is unknown, and the kept
annotators' agreement z-scores (observed against predicted positive rate on the profiles, section 5b of
docs/validation.md) were proposed as an estimate of it: mean z^2 ~ 1 if the rated CVs transport, larger if not.

This script measures whether that estimate is usable where the answer is known: per replication of the
shifted-annotator plasmode (seed 10,000 + replication, as ``headcount_calibration.py --shift``), the kept
(sound) annotators' agreement z, their mean z^2, and the default estimator's randomised-PIT 80% coverage.
With ``--no-shift``, the six-annotator Beta world instead.

    .venv/bin/python benchmarks/headcount_transport_dispersion.py              # 10 replications, ~2 minutes
    .venv/bin/python benchmarks/headcount_transport_dispersion.py --no-shift --replications 0 1 2
"""

import argparse

import numpy as np
import polars as pl

from headcount_shifted_decomposition import DATA, SHIFT  # the same data and shift (benchmarks/ is on sys.path)
from workforce_assets.annotation.names import canonical_annotator_name
from workforce_assets.headcount.calibration import DEFAULT_DESIGN, randomised_pit
from workforce_assets.headcount.model import HeadcountModel
from workforce_assets.headcount.patterns import build_pattern_data
from workforce_assets.headcount.simulation import plasmode_world


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replications", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--no-shift", action="store_true", help="the unshifted six-annotator Beta world")
    args = parser.parse_args()
    source = pl.read_csv(DATA).drop("cv_text")
    source = source.rename({c: canonical_annotator_name(c) for c in source.columns if c not in ("cv_id", "is_ml_expert")})
    annotators = [c for c in source.columns if c not in ("cv_id", "is_ml_expert")]
    shift = {} if args.no_shift else SHIFT
    rows, kept_z = [], []
    for replication in args.replications:
        rng = np.random.default_rng(10_000 + replication)
        world = plasmode_world(rng, source, annotators, n_companies=400, profile_shift=shift, **DEFAULT_DESIGN)
        data = build_pattern_data(world.rated, world.samples, world.companies, annotators)
        model = HeadcountModel(predictive_replicates=0, compare_excluded=False).fit_patterns(data, seed=replication)
        draws = model.sample(400, replication).draws
        row = {company: i for i, company in enumerate(data.company_ids)}
        order = [row[c] for c in world.truth["company_id"].to_list()]
        pit = randomised_pit(draws[order], world.truth["true_count"].to_numpy(), rng)
        kept = model.transport_.filter(~pl.col("excluded"))
        z = kept["agreement_z"].to_numpy()
        kept_z.append(z)
        rows.append({"replication": replication, "excluded": ", ".join(model.excluded_annotators_) or "none",
                     "kept annotators' agreement z": ", ".join(f"{v:+.2f}" for v in z),
                     "mean z^2": float(np.mean(z ** 2)), "PIT 80% coverage": float(np.mean((pit >= 0.1) & (pit <= 0.9)))})
        print(rows[-1], flush=True)
    table = pl.DataFrame(rows)
    correlation = np.corrcoef(table["mean z^2"], table["PIT 80% coverage"])[0, 1]
    print("\n| " + " | ".join(table.columns) + " |")
    print("|" + "---|" * len(table.columns))
    for values in table.iter_rows():
        print("| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in values) + " |")
    pooled = float(np.mean(np.concatenate(kept_z) ** 2))
    print(f"\npooled mean z^2 {pooled:.2f}; per replication {table['mean z^2'].min():.2f}-{table['mean z^2'].max():.2f}; "
          f"correlation of mean z^2 with the replication's coverage {correlation:+.2f}")


if __name__ == "__main__":
    main()
