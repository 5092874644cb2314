"""One exception tree for the whole framework.

Two families matter to callers:

* ``ModelError`` and its children are caused by what a model said or by the model service.
  The loop turns them into feedback for the model or into a clean stop; they are never a
  developer bug.
* ``UsageError`` and its children are caused by the user or the developer (bad flags, bad
  config, a broken skill file). The CLI prints them as one line and exits with ``EXIT_USAGE``.

Every error carries the exit code the CLI uses when it ends a run, so the mapping from
"what went wrong" to "how the process ends" lives in one place.
"""

from __future__ import annotations

EXIT_DONE = 0
"""The model declared the task done."""
EXIT_FAILURE = 1
"""Anything not covered below (also: a step failed and the loop stopped by rule)."""
EXIT_USAGE = 2
"""Bad flags, unknown environment, bad config or input files."""
EXIT_BUDGET = 3
"""A budget ran out (steps, wall time, tokens, cost) before the task was done."""
EXIT_MODEL = 4
"""The model service failed (unreachable, auth, repeated unusable replies)."""
EXIT_ENVIRONMENT = 5
"""The environment or the machine could not be used (no display, app failed to start, memory
store unreachable, run folder not writable: disk full or permissions)."""
EXIT_INTERRUPTED = 130
"""Ctrl+C, SIGINT or the stop hotkey (128 + SIGINT, as shells report it)."""
EXIT_HANGUP = 129
"""SIGHUP: the terminal was closed (128 + SIGHUP). The run is recorded as interrupted."""
EXIT_TERMINATED = 143
"""SIGTERM: ``timeout``, systemd, docker, Kubernetes, Ray (128 + SIGTERM); also interrupted."""

EXIT_CODES: dict[int, str] = {
    EXIT_DONE: "task done",
    EXIT_FAILURE: "run failed",
    EXIT_USAGE: "bad usage or input",
    EXIT_BUDGET: "budget exhausted before the task was done",
    EXIT_MODEL: "model failure",
    EXIT_ENVIRONMENT: "environment failure (no display, app did not start, disk full)",
    EXIT_HANGUP: "stopped by SIGHUP (recorded as interrupted)",
    EXIT_INTERRUPTED: "interrupted (Ctrl+C, SIGINT, stop hotkey)",
    EXIT_TERMINATED: "stopped by SIGTERM (recorded as interrupted)",
}


class CradleError(Exception):
    """Base of every error the framework raises on purpose."""

    exit_code: int = EXIT_FAILURE


class UsageError(CradleError):
    """The user or developer asked for something that cannot work; says what to do instead."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """A setting, flag or config file is invalid."""


class UnknownEnvironmentError(UsageError):
    """No environment is registered under the requested name."""


class SkillDefinitionError(UsageError):
    """A skill file or function cannot be turned into a skill (hints, docstring, duplicates)."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        self.path = path
        self.line = line
        where = f"{path}:{line}: " if path and line else (f"{path}: " if path else "")
        super().__init__(f"{where}{message}")


class TemplateError(UsageError):
    """A prompt template is missing or refers to a variable that was not provided."""


class ModelError(CradleError):
    """The model service or the model's output made the step impossible."""

    exit_code = EXIT_MODEL


class ModelUnavailableError(ModelError):
    """The model service could not be reached, refused the key, or kept failing."""

    def __init__(self, message: str, *, calls: tuple = ()):
        self.calls = calls
        """Records of the failed requests (prompt, error, latency), kept for the trajectory."""
        super().__init__(message)


class ModelReplyError(ModelError):
    """The model replied with something that does not fit the expected output model."""

    def __init__(self, message: str, *, reply: str = "", calls: tuple = ()):
        self.reply = reply
        self.calls = calls
        """Records of the model calls that produced unusable replies, kept for the trajectory."""
        super().__init__(message)


class ScriptExhaustedError(ModelError):
    """The scripted model was asked for more replies than it was given."""


class ActionRejected(CradleError):
    """An action string from the model is not an allowed skill call; the reason goes back to it."""


class SkillExecutionError(CradleError):
    """The action did not do what the call asked; the reason goes back to the model.

    Raised by a skill on purpose (the point is off the screenshot, no element matches, a
    value is out of range: see :class:`SkillFeedback`), by the executor when a skill ran past
    its time limit, and for any failure of a model-written skill (the model wrote its code).
    """


class SkillFeedback(SkillExecutionError):
    """What a skill raises to tell the model, in a sentence, why it could not act and what to
    try instead. Skills that raise ``SkillExecutionError`` itself mean the same."""


class SkillCallError(SkillExecutionError):
    """A skill called another in a way that cannot run: a function that is not a skill, a name
    not loaded, arguments that do not fit. The calling skill's mistake: in a trusted skill a
    bug for its author (``SkillBug``), in a model-written one feedback like the rest of its
    code. A guard's refusal of the call is not this; it is feedback either way."""


class SkillBug(CradleError):
    """A trusted skill failed from a fault of its own (a ``TypeError`` in its body), not from
    the call the model made.

    The action is recorded as failed with the ``traceback`` for the skill's author; the model
    is told that the skill broke, not that its call was wrong.
    """

    def __init__(self, message: str, *, traceback: str):
        self.traceback = traceback
        super().__init__(message)


class SkillKilled(SkillExecutionError):
    """A model-written skill was stopped by a limit of its process (time, CPU or memory).

    Such a skill would hit the same limit again in a later run, so the caller retires it from
    the registry and the generated-skills folder.
    """

    def __init__(self, message: str, *, reason: str):
        self.reason = reason
        super().__init__(message)


class EnvironmentFailure(CradleError):
    """The screen or app cannot be used (no display, app did not start, window gone)."""

    exit_code = EXIT_ENVIRONMENT


class SetupFailed(EnvironmentFailure):
    """A task's setup step failed (a command exited non-zero, an app's window never showed):
    the task fails at stage 'setup' before any model call."""


class AccessibilityUnavailable(EnvironmentFailure):
    """The accessibility tree cannot be read here (no AT-SPI bus, library missing, app gone).

    Perception goes on without it (OCR and contours); a skill that needed it fails with this
    message."""


class RunStorageError(CradleError):
    """The run folder cannot be written (disk full, read-only, a file replaced by a folder).

    The run stops: a run whose record cannot be kept is not worth continuing. Like an unusable
    screen it comes from the machine, not from the model or the task, so it shares that exit
    code; the steps already written stay readable and the run can be resumed.
    """

    exit_code = EXIT_ENVIRONMENT


class RunInterrupted(CradleError):
    """The user stopped the run (Ctrl+C, stop hotkey, fail-safe corner)."""

    exit_code = EXIT_INTERRUPTED


class TrajectoryError(UsageError):
    """A run folder or trajectory file is not readable as a run."""


class GeneratedSkillRejected(ActionRejected):
    """A model-written skill broke the untrusted-code policy; every problem goes back to it."""

    def __init__(self, message: str, *, problems: list[object] | None = None):
        self.problems = list(problems or [])
        super().__init__(message)


class MemoryUnavailableError(CradleError):
    """The long-term memory store (a chroma server) or its embedding service cannot be reached.

    Like an unusable screen, it stops a run from the outside, so it shares that exit code.
    """

    exit_code = EXIT_ENVIRONMENT


class MemoryStoreError(UsageError):
    """A memory folder or collection cannot be used as asked (a foreign folder, a corrupt store,
    vectors made by another embedder); nothing is changed or deleted when this is raised."""
