"""The ``cradle`` command."""
