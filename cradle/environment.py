"""Environments: adapters that give the loop a screen, skills and prompt overrides.

An environment lives in a folder under ``environments/`` (or any folder named in
``CRADLE_ENVIRONMENTS_PATH``). The folder is a Python package whose ``__init__.py`` exposes
``environment``: a subclass of :class:`Environment`. Its ``skills/`` and ``prompts/`` subfolders,
when present, add skills and override prompt templates.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from cradle.errors import ConfigError, UnknownEnvironmentError, UsageError
from cradle.paths import project_dir
from cradle.perception import Perceiver
from cradle.screen.base import Screen

if TYPE_CHECKING:
    from cradle.tasks.setup import EpisodePlace
    from cradle.types import Task


class Environment(ABC):
    """One place the agent can act: a mocked app, the real desktop, a game window."""

    name: ClassVar[str]
    description: ClassVar[str]
    risky_skills: ClassVar[frozenset[str]] = frozenset()
    """Skills that need confirmation here (closing windows, sending, deleting, paying)."""
    allowed_skills: ClassVar[frozenset[str] | None] = None
    """When set, the only skills this environment offers."""
    denied_skills: ClassVar[frozenset[str]] = frozenset()
    """Skills this environment never offers."""
    needs_display: ClassVar[bool] = True
    """False when the environment draws its own screen (mocked apps): ``cradle eval`` then
    starts no virtual display for its episodes."""
    starts_fresh: ClassVar[bool] = False
    """True when ``start`` always shows the same initial screen (mocked apps): resuming a
    run then re-applies the recorded actions before the model continues."""
    option_help: ClassVar[Mapping[str, str]] = {}
    """The options this environment takes (``--env-option key=value``), each with what it
    means. Any other key is refused with this list, so a typo is not silently ignored."""

    def __init__(self, *, folder: Path | None = None, **options: Any) -> None:
        """``folder`` is the environment's package folder, holding optional skills/ and
        prompts/ (``EnvironmentInfo.create`` gives it; None: neither); ``options`` are checked
        against ``option_help``. Subclasses read their options from ``self.options``."""
        check_option_names(self.name, options, self.option_help)
        self.folder = folder
        self.options = options

    @abstractmethod
    def start(self) -> Screen:
        """Bring the environment up (start the app, connect to the display); return its screen."""

    def notes(self) -> list[str]:
        """Facts the agent should know this step (focus lost, app crashed); empty by default."""
        return []

    def close(self) -> None:
        """Tear down what ``start`` brought up."""
        return None

    place: EpisodePlace | None = None
    """The episode's own home, temp folder and display, set by :meth:`reset` (None for a
    plain ``cradle run``): an environment that launches apps should give them its ``env``."""

    def reset(self, task: Task, place: EpisodePlace) -> Screen:
        """A fresh start for ``task``: tear down what ran, run the task's setup steps in
        ``place`` (in order, on its display), then :meth:`start`.

        Setup comes before ``start`` so that an app it launches is there when ``start`` looks
        for its window. An environment that starts fresh anyway (the mocked apps) needs no
        more than this. Raises ``SetupFailed`` naming the step that failed.
        """
        from cradle.errors import SetupFailed
        from cradle.tasks.setup import run_setup

        self.close()
        self.place = place
        problem = run_setup(task, place)
        if problem:
            raise SetupFailed(problem)
        return self.start()

    def skill_folders(self) -> list[Path]:
        """Folders of environment-specific skill files."""
        if self.folder and (self.folder / "skills").is_dir():
            return [self.folder / "skills"]
        return []

    def prompt_folder(self) -> Path | None:
        """Folder whose templates override the shared ones of the same name."""
        if self.folder and (self.folder / "prompts").is_dir():
            return self.folder / "prompts"
        return None

    def perceiver(self, *, marks: bool = True) -> Perceiver | None:
        """What perceives frames before the model sees them (marks, OCR); None for nothing.
        ``marks=False`` leaves out the numbered marks whatever the options say (a
        computer-use planner clicks on the clean screenshot)."""
        return None

    def focus_keeper(self) -> Callable[[], object] | None:
        """After :meth:`start`: the check that gives the app's window the keyboard back, run
        before input (:mod:`cradle.screen.focus`); None when there is no window to keep."""
        return None

    def state(self) -> dict[str, Any]:
        """A JSON-able summary of the app's state, for tests and reports; empty by default."""
        return {}


def check_option_names(environment: str, given: Iterable[str], known: Iterable[str]) -> None:
    """``ConfigError`` naming the options ``environment`` does not know, and those it does."""
    unknown = sorted(set(given) - set(known))
    if unknown:
        listed = ", ".join(known) or "none (it takes no options)"
        raise ConfigError(
            f"unknown {environment} option(s): {', '.join(unknown)}; known: {listed} "
            "(see `cradle envs`)"
        )


@dataclass(frozen=True)
class EnvironmentInfo:
    """An environment found on the search path: its class and the folder it came from."""

    name: str
    description: str
    folder: Path
    cls: type[Environment]

    def create(self, **options: Any) -> Environment:
        """An instance with these options, knowing its folder (its skills and prompts)."""
        return self.cls(folder=self.folder, **options)


def environment_search_path() -> list[Path]:
    """Folders holding environment packages: CRADLE_ENVIRONMENTS_PATH first, then the built-ins."""
    extra = os.environ.get("CRADLE_ENVIRONMENTS_PATH", "")
    folders = [Path(p) for p in extra.split(os.pathsep) if p]
    folders.append(project_dir() / "environments")
    return folders


def _load_package(folder: Path) -> Any:
    module_name = f"cradle_environments.{folder.name.replace('-', '_')}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(
        module_name, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    if spec is None or spec.loader is None:
        raise UsageError(f"cannot load environment package {folder}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception:
        del sys.modules[module_name]
        raise
    return module


def discover_environments() -> dict[str, EnvironmentInfo]:
    """All environments on the search path, by name. Broken packages are reported, not fatal."""
    found: dict[str, EnvironmentInfo] = {}
    for root in environment_search_path():
        if not root.is_dir():
            continue
        for folder in sorted(p for p in root.iterdir() if (p / "__init__.py").is_file()):
            try:
                module = _load_package(folder)
            except Exception as exc:  # a broken third-party package must not hide the others
                print(f"cradle: skipping environment {folder}: {exc}", file=sys.stderr)
                continue
            cls = getattr(module, "environment", None)
            if not (isinstance(cls, type) and issubclass(cls, Environment)):
                continue
            found.setdefault(cls.name, EnvironmentInfo(cls.name, cls.description, folder, cls))
    return found


def load_environment(name: str, **options: Any) -> Environment:
    """Instantiate the environment called ``name`` or say which names exist."""
    known = discover_environments()
    if name not in known:
        searched = ", ".join(str(p) for p in environment_search_path())
        names = ", ".join(sorted(known)) or f"none (looked in {searched})"
        raise UnknownEnvironmentError(
            f"unknown environment {name!r}; known: {names} (see `cradle envs`)"
        )
    return known[name].create(**options)
