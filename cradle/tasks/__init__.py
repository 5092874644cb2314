"""Tasks as data: task files, the setup that starts an episode, and the checks that judge it.

``load_tasks`` reads task files (YAML, JSON, OSWorld-style JSON), ``run_setup`` prepares an
episode's own home folder and display, ``judge`` turns the final state into a
:class:`~cradle.types.Verdict`.
"""

from cradle.tasks.checks import judge
from cradle.tasks.loader import TaskFileError, load_tasks
from cradle.tasks.setup import EpisodePlace, run_setup

__all__ = ["EpisodePlace", "TaskFileError", "judge", "load_tasks", "run_setup"]
