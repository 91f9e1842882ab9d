"""labor domain."""
