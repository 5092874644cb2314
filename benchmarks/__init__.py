"""Benchmarks: run as modules, e.g. ``python -m benchmarks.memory_bench --quick``."""
