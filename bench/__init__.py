"""Benchmarks: every figure is measured next to a peer or a bound in the same run."""
