"""Model-written skills run in a child process with OS limits; cradle serves their calls.

An in-process Python sandbox cannot be made safe by adding checks: builtins such as ``str`` or
``min`` build huge values in one C call, and a time limit checked between lines never fires
inside it. So the registry keeps only the *declaration* of a model-written skill (its name,
parameters and docstring, for the prompt and for argument validation), and its
:attr:`~cradle.skills.decorator.Skill.func` is an :class:`IsolatedSkill`: each call starts
:mod:`cradle.skills.sandbox_child` in a fresh process, which limits its own address space, CPU
time, open files and file sizes before it defines any model-written code, in a private
temporary folder with no keys in its environment. The parent kills the whole process group at
the wall-clock deadline.

Every skill the child calls comes back here over the pipe and passes the same gates as the
model's own actions (argument validation, allow/deny lists, confirmation; dry-run and
redaction sit on the screen and the recorder): a trusted skill runs here and its result goes
back; a model-written one is allowed to run in the child. Killed for time, CPU or memory, the
call raises :class:`~cradle.errors.SkillKilled`, and the caller retires the skill.

The cost of one call is one process start (about 30 ms; ``cradle bench`` reports it), small
next to a model call.
"""

from __future__ import annotations

import json
import math
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cradle.errors import (
    ActionRejected,
    CradleError,
    EnvironmentFailure,
    RunInterrupted,
    SkillExecutionError,
    SkillKilled,
)
from cradle.skills.calls import MAX_CALL_DEPTH, call_prepared, prepare_call

if TYPE_CHECKING:
    from cradle.skills.context import SkillContext
    from cradle.skills.registry import SkillRegistry

CHILD_SCRIPT = Path(__file__).with_name("sandbox_child.py")
RETIRE_AFTER_SECONDS = 1.0
"""A skill stopped at its deadline is retired only if it had at least this long: one that
only got the last moments of the run's budget was not given a fair chance."""
WATCHDOG_GRACE = 0.5
"""Past the deadline by this much, the child is killed wherever the parent is (even blocked
writing to a child that stopped reading)."""


@dataclass(frozen=True)
class SandboxLimits:
    """OS limits of the process that runs one model-written skill call."""

    memory_mb: int = 256
    """Address space; the interpreter itself needs about 15 MB of it."""
    timeout: float = 30.0
    """Wall-clock seconds for a call when the caller gives no earlier deadline."""
    open_files: int = 16
    max_message_bytes: int = 1_000_000
    """Largest line the child may send; past it the child is killed."""

    def for_child(self, seconds: float) -> dict[str, int]:
        return {
            "memory_bytes": self.memory_mb * 1024 * 1024,
            "cpu_seconds": max(1, math.ceil(seconds) + 1),
            "open_files": self.open_files,
            "max_depth": MAX_CALL_DEPTH,
        }


class IsolatedSkill:
    """``Skill.func`` of a model-written skill: each call runs in a limited child process."""

    def __init__(self, registry: SkillRegistry, name: str, limits: SandboxLimits) -> None:
        self.registry = registry
        self.name = name
        self.limits = limits

    def __repr__(self) -> str:
        return f"<isolated skill {self.name}>"

    def __call__(self, ctx: SkillContext, *args: Any, **kwargs: Any) -> Any:
        seconds = max(0.0, min(ctx.deadline - time.monotonic(), self.limits.timeout))
        request = {
            "sources": self.registry.guarded_sources(self.name),
            "skills": self.registry.names(),
            "skill": self.name,
            "args": list(args),
            "kwargs": kwargs,
            "limits": self.limits.for_child(seconds),
        }
        deadline = time.monotonic() + seconds
        with _Child(self.limits.max_message_bytes, deadline) as child:
            child.send(request)
            return self._converse(child, ctx, deadline, seconds)

    def _converse(self, child: _Child, ctx: SkillContext, deadline: float, seconds: float) -> Any:
        while True:
            message = child.receive(deadline)
            if message is None:
                raise self._ended(child, seconds)
            op = message.get("op")
            if op == "call":
                child.send(self._serve(ctx, message))
            elif op == "return":
                return message.get("value")
            elif op == "error" and message.get("kind") == "memory":
                raise SkillKilled(
                    f"{self.name}: stopped at the memory limit ({message.get('message', '')})",
                    reason="memory",
                )
            elif op == "error":
                raise SkillExecutionError(str(message.get("message", "")))
            else:
                raise SkillExecutionError(f"{self.name}: the skill process sent {op!r}")

    def _ended(self, child: _Child, seconds: float) -> SkillExecutionError:
        """Why the child stopped without a final message."""
        if child.timed_out:
            text = f"{self.name}: stopped after the time limit of {seconds:.3g} s"
            if seconds < RETIRE_AFTER_SECONDS:  # cut short by the run's budget, not judged
                return SkillExecutionError(text)
            return SkillKilled(text, reason="time")
        if child.oversized:
            return SkillKilled(
                f"{self.name}: sent more than {self.limits.max_message_bytes} bytes at once",
                reason="memory",
            )
        code = child.returncode
        if code is not None and code < 0 and -code == getattr(signal, "SIGXCPU", None):
            return SkillKilled(f"{self.name}: stopped at the CPU time limit", reason="time")
        if code is not None and code < 0:
            return SkillKilled(
                f"{self.name}: the skill process was killed (signal {-code}), "
                "most likely at the memory limit",
                reason="memory",
            )
        return SkillExecutionError(f"{self.name}: the skill process ended (exit code {code})")

    def _serve(self, ctx: SkillContext, message: dict[str, Any]) -> dict[str, Any]:
        """Answer one skill call made by the child, through the usual gates."""
        name, args, kwargs = message.get("skill"), message.get("args"), message.get("kwargs")
        if not isinstance(name, str) or not isinstance(args, list) or not isinstance(kwargs, dict):
            return {"op": "error", "message": "malformed skill call"}
        try:
            target, args, kwargs = prepare_call(self.registry, name, args, kwargs, ctx)
            if target.generated:
                return {"op": "run", "args": args, "kwargs": kwargs}
            value = call_prepared(target, args, kwargs, ctx)
        except (EnvironmentFailure, RunInterrupted):
            raise
        except (ActionRejected, SkillExecutionError) as exc:
            return {"op": "error", "message": str(exc)}
        except Exception as exc:  # noqa: BLE001 - a trusted skill's failure, told to the caller
            text = str(exc) if isinstance(exc, CradleError) else f"{type(exc).__name__}: {exc}"
            return {"op": "error", "message": f"{name}: {text}"}
        return {"op": "result", "value": _plain(value)}


def _plain(value: Any) -> Any:
    """A trusted skill's result as the child can hold it (JSON types; the rest as text)."""
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)[:2_000]
    return value


def _child_env(home: str) -> dict[str, str]:
    """No keys, no proxies, no Python variables: only what an interpreter needs to start."""
    env = {"HOME": home, "TMPDIR": home, "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8"}
    for name in ("PATH", "SYSTEMROOT"):  # SYSTEMROOT: Windows cannot start Python without it
        if name in os.environ:
            env[name] = os.environ[name]
    return env


class _Child:
    """One sandbox process: JSON lines in and out, killed with its group on exit."""

    def __init__(self, max_message_bytes: int, deadline: float) -> None:
        self.max_message_bytes = max_message_bytes
        self.timed_out = False
        self.oversized = False
        # Bounded: a child that floods messages waits for the parent instead of filling it.
        self._lines: queue.Queue[bytes | None] = queue.Queue(maxsize=2)
        self._closed = threading.Event()
        self._folder = tempfile.TemporaryDirectory(prefix="cradle-skill-")
        self._proc: subprocess.Popen[bytes] | None = None
        self._watchdog = threading.Timer(
            max(0.0, deadline - time.monotonic()) + WATCHDOG_GRACE, self._expire
        )
        self._watchdog.daemon = True

    def __enter__(self) -> _Child:
        posix = os.name == "posix"
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-B", str(CHILD_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=self._folder.name,
            env=_child_env(self._folder.name),
            start_new_session=posix,
            close_fds=True,
        )
        threading.Thread(target=self._read, daemon=True, name="cradle-skill-reader").start()
        self._watchdog.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._watchdog.cancel()
        self._closed.set()
        self.kill()
        self._folder.cleanup()

    def _expire(self) -> None:
        """The deadline passed long enough ago: kill the child from here."""
        self.timed_out = True
        self._signal_group()

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.returncode

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        stream = self._proc.stdout
        while True:
            try:
                line = stream.readline(self.max_message_bytes + 1)
            except (OSError, ValueError):  # closed after a kill
                line = b""
            if not line or (len(line) > self.max_message_bytes and not line.endswith(b"\n")):
                self.oversized = bool(line)
                self._hand_over(None)
                return
            if not self._hand_over(line):
                return

    def _hand_over(self, line: bytes | None) -> bool:
        """Queue ``line`` for the parent; False once the parent stopped listening."""
        while not self._closed.is_set():
            try:
                self._lines.put(line, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def send(self, message: dict[str, Any]) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        try:
            self._proc.stdin.write(json.dumps(message, default=repr).encode() + b"\n")
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # the child died; its end is read from stdout

    def receive(self, deadline: float) -> dict[str, Any] | None:
        """The next message, or ``None`` when the child ended, was killed or is too late."""
        try:
            line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            self.timed_out = True
            self.kill()
            return None
        if line is None:
            self.kill()
            return None
        try:
            message = json.loads(line)
        except ValueError:
            return {"op": "error", "kind": "error", "message": "unreadable reply"}
        return message if isinstance(message, dict) else {"op": "error", "kind": "error"}

    def _signal_group(self) -> None:
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return
        try:
            if os.name == "posix":
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
        except (ProcessLookupError, PermissionError, OSError):
            pass

    def kill(self) -> None:
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return
        if proc.poll() is None:
            self._signal_group()
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
