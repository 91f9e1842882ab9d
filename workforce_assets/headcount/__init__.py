"""headcount domain."""
