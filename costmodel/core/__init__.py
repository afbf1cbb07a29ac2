"""Symbolic core: symbols, safe expressions, per-op formulas, conventions and the Network."""
