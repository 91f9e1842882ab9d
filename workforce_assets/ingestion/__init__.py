"""ingestion domain."""
