"""Annotation planning on a fitted headcount model: where to sample next, what to rate next (pure core)."""
