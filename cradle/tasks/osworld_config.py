"""OSWorld ``config`` steps as cradle setup steps, and the commands and paths they share with
the evaluator: the VM's home ``/home/user`` becomes the episode's home. Part of
:mod:`cradle.tasks.osworld`, which documents what translates.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

HOME = "/home/user"
"""The home folder of OSWorld's VM user; it maps onto the episode's home."""
NETWORK = "needs the network"
STEP_REASONS = {
    "download": NETWORK,
    "googledrive": NETWORK,
    "login": NETWORK,
    "proxy": NETWORK,
    "chrome_open_tabs": "drives Chrome through its DevTools connection",
    "chrome_close_tabs": "drives Chrome through its DevTools connection",
}
"""Why OSWorld steps of these types cannot run here."""

_HOME_AT = re.compile(r"(?<![\w.-])/home/user(?![\w.-])")
_VM_ONLY = (
    (re.compile(r"(?<![\w-])sudo(?![\w-])"), "needs root (sudo); an episode runs as you"),
    (
        re.compile(r"\{(?:CLIENT_PASSWORD|SCREEN_[A-Z_]+)\}"),
        "uses OSWorld's {CLIENT_PASSWORD}/{SCREEN_...} placeholders",
    ),
)


class Skip(Exception):
    """The item cannot be translated; the message says why (one line, no traceback)."""


def typed_steps(steps: Any, label: str) -> list[tuple[str, str, dict[str, Any]]]:
    """``(where, type, parameters)`` of each step; ``where`` names it in skip reasons."""
    if not isinstance(steps, list):
        raise Skip(f"'{label}' is not a list of steps")
    found = []
    for number, step in enumerate(steps, start=1):
        kind = step.get("type") if isinstance(step, dict) else None
        params = step.get("parameters", {}) if isinstance(step, dict) else None
        if not isinstance(kind, str) or not isinstance(params, dict):
            raise Skip(f"{label} step {number} is not a {{type, parameters}} object")
        found.append((f"{label} step {number} {kind!r}", kind, params))
    return found


def config_steps(steps: Any) -> list[dict[str, Any]]:
    """The setup steps of an OSWorld ``config`` list (see :mod:`cradle.tasks.osworld`)."""
    setup: list[dict[str, Any]] = []
    for where, kind, params in typed_steps(steps, "config"):
        if kind == "activate_window":
            _await_window(setup, params, where)
        elif kind in ("execute", "command"):
            known_parameters(params, where, "command", "shell")
            setup.append({"run": shell_command(params, where)})
        elif kind == "launch":
            known_parameters(params, where, "command", "shell")
            setup.append({"launch": {"command": shell_command(params, where)}})
        elif kind == "sleep":
            setup.append({"sleep": seconds(params, where)})
        elif kind == "open":
            path = params.get("path")
            if not isinstance(path, str) or not path:
                raise Skip(f"{where} has no path")
            name = path.replace("\\", "/").rsplit("/", 1)[-1]
            setup.append(
                {"launch": {"command": f"xdg-open {shell_word(path)}", "window": _ere(name)}}
            )
        else:
            raise Skip(f"{where} {STEP_REASONS.get(kind, 'is not supported')}")
    return setup


def known_parameters(params: dict[str, Any], where: str, *names: str) -> None:
    """Skip a step with a parameter beyond ``names``: it would do more than its translation."""
    for key in params:
        if key not in names:
            what = {
                "stdout": "saves its output for the evaluator",
                "stderr": "saves its output for the evaluator",
                "until": "repeats until a condition holds",
            }.get(key, "is not supported")
            raise Skip(f"{where}: parameter {key!r} {what}")


def _await_window(setup: list[dict[str, Any]], params: dict[str, Any], where: str) -> None:
    """OSWorld raises a window by title; here the launch just before it awaits that title."""
    name = params.get("window_name")
    if not isinstance(name, str) or not name:
        raise Skip(f"{where} has no window_name")
    if params.get("by_class"):
        raise Skip(f"{where} matches a window class; only titles can be awaited")
    if not setup or "launch" not in setup[-1]:
        raise Skip(f"{where} does not follow a launch or open step")
    pattern = _ere(name)
    setup[-1]["launch"]["window"] = f"^{pattern}$" if params.get("strict") else pattern


def seconds(params: dict[str, Any], where: str) -> float:
    """The ``seconds`` of a sleep step (a setup step sleeps at most 60 s)."""
    value = params.get("seconds")
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e9:
        raise Skip(f"{where} has no number of seconds")
    if value > 60:
        raise Skip(f"{where} waits {value:g} s; at most 60 s is supported")
    return float(value)


def shell_command(params: dict[str, Any], where: str) -> str:
    """The shell text of an OSWorld command (a list of arguments, or a string run with or
    without a shell), with the VM's home mapped onto ``$HOME``."""
    command, shell = params.get("command"), bool(params.get("shell", False))
    if isinstance(command, list) and command and all(isinstance(a, str) for a in command):
        raw = " ".join(command)
    elif isinstance(command, str) and command.strip():
        raw = command
    else:
        raise Skip(f"{where} has no command")
    for pattern, reason in _VM_ONLY:
        if pattern.search(raw):
            raise Skip(f"{where} {reason}")
    if shell and "pyautogui" not in raw:
        if isinstance(command, list) and len(command) != 1:
            raise Skip(f"{where} passes a list of several arguments to a shell")
        return _home_in_script(command if isinstance(command, str) else command[0])
    try:
        argv = shlex.split(command) if isinstance(command, str) else command
    except ValueError as exc:
        raise Skip(f"{where} cannot be split into arguments: {exc}") from None
    if not argv:
        raise Skip(f"{where} has no command")
    words = [shell_word(arg) for arg in argv]
    if "pyautogui" in raw:
        # OSWorld clicks or types with pyautogui from the VM's Python; cradle's has it.
        if shell or argv[0] not in ("python", "python3") or argv[1:2] != ["-c"]:
            raise Skip(f"{where} uses pyautogui other than in `python -c CODE`")
        words[0] = '"$CRADLE_PYTHON"'
    return " ".join(words)


def shell_word(arg: str) -> str:
    """``arg`` quoted for ``sh``, the VM's home (or a leading ``~/``) becoming ``$HOME``."""
    if arg == "~" or arg.startswith("~/"):
        arg = HOME + arg[1:]
    if _HOME_AT.search(arg) is None:
        return shlex.quote(arg)
    escaped = re.sub(r'([\\"$`])', r"\\\1", arg)
    return '"' + _HOME_AT.sub("${HOME}", escaped) + '"'


def _home_in_script(script: str) -> str:
    """``script`` with each ``/home/user`` replaced by ``$HOME`` so that the shell expands it
    wherever it stands: bare, inside double quotes, or inside single quotes (closed around
    it)."""
    out: list[str] = []
    quote, index = "", 0
    while index < len(script):
        if _HOME_AT.match(script, index):
            out.append({"": '"$HOME"', '"': "${HOME}", "'": "'\"$HOME\"'"}[quote])
            index += len(HOME)
            continue
        char = script[index]
        if char == "\\" and quote != "'":
            out.append(script[index : index + 2])
            index += 2
            continue
        if char in "'\"" and quote in ("", char):
            quote = "" if quote else char
        out.append(char)
        index += 1
    return "".join(out)


def _ere(text: str) -> str:
    """``text`` as a literal in both POSIX extended (xdotool) and Python regular expressions."""
    return re.sub(r"([.\[\](){}*+?|^$\\])", r"\\\1", text)


def home_path(path: Any, where: str) -> str:
    """An OSWorld file path as a cradle one (``~/...``); elsewhere than the home skips."""
    if not isinstance(path, str) or not path:
        raise Skip(f"{where} has no path")
    for prefix in (HOME, "~"):
        if path == prefix:
            return "~"
        if path.startswith(prefix + "/"):
            return "~/" + path[len(prefix) + 1 :]
    if path.startswith(("/", "\\")) or re.match(r"[A-Za-z]:[\\/]", path):
        raise Skip(f"{where} reads {path}, outside the VM's home folder {HOME}")
    return path
