"""Progress lines: done / total, rate and time left, throttled, and always the last one."""

from __future__ import annotations

import logging

from workforce_assets.progress import Progress


def test_progress_logs_throttled_lines_with_rate_and_time_left(caplog):
    logger = logging.getLogger("workforce_assets.test_progress")
    with caplog.at_level(logging.INFO, logger=logger.name):
        progress = Progress("embedding texts", 100, logger, every_s=3600, unit="texts")
        for done in range(1, 101):
            progress.update(done, note="$0.01 spent")
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1  # throttled: only the final line within the hour
    assert lines[0].startswith("embedding texts: 100 / 100 texts done,") and "per s, about 0 s left, $0.01 spent" in lines[0]
    with caplog.at_level(logging.INFO, logger=logger.name):
        caplog.clear()
        every = Progress("scoring", 3, logger, every_s=0.0)
        every.advance()
        every.advance(2)
    assert [r.getMessage().split(":")[1].split(",")[0].strip() for r in caplog.records] == ["1 / 3 done", "3 / 3 done"]


def test_lightgbm_training_logs_rounds_done(caplog):
    import lightgbm as lgb
    import numpy as np

    from workforce_assets.labor.boosting import progress_callback

    rng = np.random.default_rng(0)
    data = lgb.Dataset(rng.normal(size=(200, 3)), label=rng.normal(size=200))
    with caplog.at_level(logging.INFO, logger="workforce_assets.labor.boosting"):
        lgb.train({"objective": "regression", "verbose": -1, "num_threads": 1}, data, num_boost_round=7,
                  callbacks=[progress_callback("LightGBM salary", 7)])
    assert any(r.getMessage().startswith("LightGBM salary: 7 / 7 rounds done") for r in caplog.records)
