"""Shifted-annotator plasmode, the three sound LLMs only: how far the semi-supervised EM's pattern
distributions are from the simulation's true ones (KL per class), with and without a zero atom in the
E-step prior, and whether held-out rated-CV likelihood could choose between the two.

    .venv/bin/python benchmarks/headcount_shifted_em_diagnosis.py 1,2,4,9            # shifted world
    .venv/bin/python benchmarks/headcount_shifted_em_diagnosis.py 1,2 noshift        # all six annotators sound

Replications as in ``headcount_calibration.py`` (seed 10,000 + replication); held-out likelihood: five
random 20% thinnings of the rated counts, each refitted. Prints one line per replication. See
docs/validation.md, section 7 (shifted annotators).
"""
import sys, time
import numpy as np, polars as pl
from pathlib import Path
from workforce_assets.annotation.names import canonical_annotator_name
from workforce_assets.headcount.calibration import DEFAULT_DESIGN, oracle_log_likelihood
from workforce_assets.headcount.simulation import plasmode_world
from workforce_assets.headcount.patterns import build_pattern_data
from workforce_assets.headcount.posterior import semi_supervised_fit
from workforce_assets.headcount.annotator_models import make_model
from workforce_assets.headcount.prevalence import PrevalenceGrid

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "annotations" / "validation_annotations.csv"
source = pl.read_csv(DATA).drop("cv_text")
source = source.rename({c: canonical_annotator_name(c) for c in source.columns if c not in ("cv_id", "is_ml_expert")})
annotators = [c for c in source.columns if c not in ("cv_id", "is_ml_expert")]
shift = {"filter_broad_yes": 0.8, "filter_strict_no": 0.8, "filter_broad_yes_strict_no": 0.8}
noshift = len(sys.argv) > 2 and sys.argv[2] == "noshift"
em_grid = PrevalenceGrid.default(linear_step=0.02, geometric_cells=15)

def fit(data, labelled, za):
    ll, _, _ = semi_supervised_fit(data, make_model("saturated"), labelled, em_grid, n_iterations=100, zero_atom=za)
    return ll

for rep in [int(x) for x in sys.argv[1].split(",")]:
    rng = np.random.default_rng(10_000 + rep)
    world = plasmode_world(rng, source, annotators, n_companies=400, profile_shift=None if noshift else shift, **DEFAULT_DESIGN)
    sound = annotators if noshift else [a for a in annotators if a not in shift]
    data = build_pattern_data(world.rated, world.samples, world.companies, sound)
    true_ll = oracle_log_likelihood(data, world.simulation_rows, sound)
    out = {}
    sup = make_model("saturated").log_likelihood(data.patterns, data.rated_counts)
    with np.errstate(invalid="ignore"):
        sup_kl = [float(np.nansum(np.where(np.exp(true_ll[:, c]) > 0, np.exp(true_ll[:, c]) * (true_ll[:, c] - sup[:, c]), 0)))
                  for c in (0, 1)]
    for za in (False, True):
        t = time.perf_counter()
        ll = fit(data, data.rated_counts, za)
        p_true, p_fit = np.exp(true_ll), np.exp(ll)
        with np.errstate(invalid="ignore"):
            kl = [float(np.nansum(np.where(p_true[:, c] > 0, p_true[:, c] * (true_ll[:, c] - ll[:, c]), 0))) for c in (0, 1)]
        # held-out rated-CV log-likelihood: 5 random thinnings of the rated counts (20% held out each)
        frng = np.random.default_rng(rep)
        held_ll = 0.0
        for fold in range(5):
            held = frng.binomial(data.rated_counts.astype(np.int64), 0.2)
            train = data.rated_counts - held
            llf = fit(data, train, za)
            held_ll += float(np.sum(np.where(held > 0, held * llf, 0)))
        out[za] = (kl, held_ll, time.perf_counter() - t)
    print(rep, "supervised KL", np.round(sup_kl, 4).tolist(), {("atom" if k else "no atom"): (np.round(v[0], 4).tolist(), round(v[1], 1), round(v[2], 1)) for k, v in out.items()}, flush=True)
