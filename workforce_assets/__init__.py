"""workforce_assets: ML-expert headcount posteriors and labor-market models on Dagster + DuckDB.

Importing the package sets two environment defaults before anything heavy is imported:
``LITELLM_LOCAL_MODEL_COST_MAP=True`` (litellm, and keybert which imports it, would otherwise fetch a
price list at import and stall offline) and ``HF_HUB_OFFLINE=1`` (models come from installed packages,
never from the Hub). A value the user set wins.
"""

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

__version__ = "0.1.0"
