"""Company batches: one dynamic partition per file in <input>/profiles/."""

import dagster as dg

COMPANY_BATCHES = dg.DynamicPartitionsDefinition(name="company_batches")
DUCKDB_POOL = "duckdb_writer"
