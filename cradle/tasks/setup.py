"""Prepare an episode: its own home folder, temp folder and display, and the task's setup.

An :class:`EpisodePlace` is where one episode happens. ``~`` in task files means its home
folder, and every command a task runs (setup steps, ``command`` checks, launched apps) gets
its environment: ``HOME``, ``TMPDIR`` and the XDG folders inside the episode's folder, and the
episode's ``DISPLAY``. Two episodes with their own places cannot see each other's files.

:func:`run_setup` also exports ``CRADLE_TASK_DIR`` (the folder of the task's file, so a task
can run a script shipped beside it, e.g. ``"$CRADLE_PYTHON" "$CRADLE_TASK_DIR/webapp/x.py"``)
and ``CRADLE_PYTHON`` (the interpreter running cradle: inside a virtualenv, ``python3`` from
``PATH`` may be another one) to the setup steps, the launched apps and the checks.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from cradle.types import LaunchApp, SetupStep, Task

COMMAND_TIMEOUT = 120.0
MAX_OUTPUT_CHARS = 2_000


@dataclass
class EpisodePlace:
    """An episode's home and temp folders, its display, and the apps it started."""

    home: Path
    env: dict[str, str]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @classmethod
    def create(
        cls, root: Path, *, display: str | None = None, base_env: dict[str, str] | None = None
    ) -> EpisodePlace:
        """Folders under ``root`` (made now) and an environment pointing into them.

        The XDG folders exist from the start, as in a real home: some apps (galculator)
        silently save nothing when ``~/.config`` is missing."""
        root = root.resolve()  # commands run with cwd=home: a relative path would break ~
        home, tmp = root / "home", root / "tmp"
        runtime = tmp / "runtime"
        xdg = (home / ".config", home / ".local/share", home / ".cache")
        for folder in (home, tmp, runtime, *xdg):
            folder.mkdir(parents=True, exist_ok=True)
        runtime.chmod(0o700)
        env = dict(os.environ if base_env is None else base_env)
        env.update(
            {
                "HOME": str(home),
                "TMPDIR": str(tmp),
                "XDG_RUNTIME_DIR": str(runtime),
                "XDG_CONFIG_HOME": str(home / ".config"),
                "XDG_DATA_HOME": str(home / ".local/share"),
                "XDG_CACHE_HOME": str(home / ".cache"),
            }
        )
        if display is not None:
            env["DISPLAY"] = display
        return cls(home=home, env=env)

    @classmethod
    def current(cls) -> EpisodePlace:
        """This process's own home and environment (a plain ``cradle run --task-file``)."""
        return cls(home=Path.home(), env=dict(os.environ))

    def expand(self, path: str) -> Path:
        """``~`` and relative paths resolve inside the home folder."""
        if path == "~" or path.startswith("~/"):
            return self.home / path[2:]
        given = Path(path)
        return given if given.is_absolute() else self.home / given

    def shell(self, command: str, *, timeout: float = COMMAND_TIMEOUT) -> tuple[int, str]:
        """Run ``command`` with ``sh -c`` in the home folder; ``(exit code, output tail)``.

        A command that outlives ``timeout`` is killed with its process group (exit -9). The
        output goes to an unnamed temporary file, not a pipe: memory stays bounded however
        much it prints, and a process it leaves in the background (``app &``) cannot hold
        the step open."""
        with tempfile.TemporaryFile() as out:
            proc = subprocess.Popen(
                ["sh", "-c", command],
                cwd=self.home,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                code = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                return -9, f"timed out after {timeout:g} s"
            except BaseException:  # stopped (SIGTERM, Ctrl+C) while it ran: it goes too
                _kill_group(proc)
                raise
            out.seek(max(0, out.seek(0, os.SEEK_END) - 4 * MAX_OUTPUT_CHARS))
            text = out.read().decode("utf-8", "replace").strip()
        return code, text[-MAX_OUTPUT_CHARS:]

    def launch(self, app: LaunchApp) -> str:
        """Start an app in the background (kept until :meth:`close`); await its window.
        Returns a reason when it failed, '' when it is up. The app gets the variables under
        which toolkits expose their accessibility tree (Chromium, Qt), as the desktop's own
        ``launch`` option gives them."""
        from cradle.elements.platform import app_accessibility_env

        proc = subprocess.Popen(
            ["sh", "-c", app.command],
            cwd=self.home,
            env={**self.env, **app_accessibility_env(self.env)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.processes.append(proc)
        if app.window is None:
            return ""
        return self.await_window(app.window, app.timeout, proc)

    def await_window(self, title: str, timeout: float, proc: subprocess.Popen[bytes]) -> str:
        """'' once a window whose title matches ``title`` is mapped on this display."""
        if "DISPLAY" not in self.env:
            return f"cannot await window {title!r}: the episode has no display"
        if shutil.which("xdotool") is None:
            return "cannot await windows: xdotool is not installed"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                found = subprocess.run(
                    ["xdotool", "search", "--onlyvisible", "--name", title],
                    env=self.env,
                    capture_output=True,
                    text=True,
                    timeout=10,
                )
            except subprocess.TimeoutExpired:
                continue
            if found.returncode == 0 and found.stdout.strip():
                return ""
            if proc.poll() is not None and proc.returncode != 0:
                return f"the app exited with code {proc.returncode} before its window showed"
            time.sleep(0.1)
        return f"no window titled {title!r} within {timeout:g} s"

    def close(self) -> None:
        """Stop every app this episode launched (their whole process groups)."""
        for proc in self.processes:
            _kill_group(proc)
        self.processes.clear()


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def run_setup(task: Task, place: EpisodePlace) -> str:
    """Run the task's setup steps in order; '' when all worked, else why the first failed."""
    if task.source:
        place.env["CRADLE_TASK_DIR"] = str(Path(task.source).resolve().parent)
    place.env["CRADLE_PYTHON"] = sys.executable
    for number, step in enumerate(task.setup, start=1):
        problem = _setup_step(step, place)
        if problem:
            return f"setup step {number} ({step.kind}): {problem}"
    return ""


def _setup_step(step: SetupStep, place: EpisodePlace) -> str:
    if step.run is not None:
        code, output = place.shell(step.run)
        return "" if code == 0 else f"exit {code}: {output}".rstrip(": ")
    if step.file is not None:
        path = place.expand(step.file.path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(step.file.content, encoding="utf-8")
        except OSError as exc:
            return f"cannot write {path}: {exc.strerror or exc}"
        return ""
    if step.launch is not None:
        return place.launch(step.launch)
    if step.sleep is not None:
        time.sleep(step.sleep)
    return ""
