"""``python -m cradle`` is the ``cradle`` command."""

from cradle.cli.app import main

main()
