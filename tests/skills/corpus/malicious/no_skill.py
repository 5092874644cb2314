# ruff: noqa
"""Only a docstring."""
