"""Profiles: clusters of profile texts and the organisations people were affiliated with (pure core)."""
