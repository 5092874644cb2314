"""A public check of the environment contract, for anyone writing an adapter.

``check_environment`` starts an environment and verifies what the loop relies on: a name and
description, a screen whose geometry matches its captures, input primitives that accept the
same calls the real screen does, a JSON-able ``state``, and prompt overrides that name
templates the loop actually renders. It returns the problems instead of raising at the
first, so an adapter author sees everything at once.
"""

from __future__ import annotations

import json

from PIL import Image

from cradle.environment import Environment
from cradle.errors import CradleError
from cradle.paths import shared_prompts_dir
from cradle.screen.base import Screen


def _check_screen(screen: Screen) -> list[str]:
    problems: list[str] = []
    geometry = screen.geometry
    frame = screen.capture()
    if not isinstance(frame, Image.Image):
        return [f"capture() returned {type(frame).__name__}, not a PIL image"]
    if frame.mode != "RGB":
        problems.append(f"capture() gave mode {frame.mode!r}; convert to RGB")
    if tuple(frame.size) != tuple(geometry.capture_size):
        problems.append(
            f"geometry.capture_size {geometry.capture_size} != capture() size {frame.size}"
        )
    if geometry.scale <= 0:
        problems.append(f"geometry.scale must be positive, got {geometry.scale}")
    x, y = geometry.origin[0] + 1, geometry.origin[1] + 1
    calls = [
        ("move", lambda: screen.move(x, y)),
        ("scroll", lambda: screen.scroll(-1, x, y)),
        ("press", lambda: screen.press("shift")),
        ("hotkey", lambda: screen.hotkey("shift", "shift")),
        ("type_text", lambda: screen.type_text("")),
        ("release_all", screen.release_all),
    ]
    for name, call in calls:
        try:
            call()
        except CradleError as exc:
            problems.append(f"{name}: {exc}")
    return problems


def check_environment(environment: Environment) -> list[str]:
    """Every way ``environment`` breaks the contract; an empty list when it keeps it."""
    problems: list[str] = []
    cls = type(environment)
    for attribute in ("name", "description"):
        if not isinstance(getattr(cls, attribute, None), str) or not getattr(cls, attribute):
            problems.append(f"class attribute {attribute!r} must be a non-empty string")
    known = {p.name for p in shared_prompts_dir().glob("*.j2")}
    folder = environment.prompt_folder()
    if folder is not None:
        for template in sorted(folder.glob("*.j2")):
            if template.name not in known:
                problems.append(f"prompt override {template} replaces no template the loop uses")
    try:
        screen = environment.start()
    except CradleError as exc:
        return [*problems, f"start(): {exc}"]
    try:
        if not isinstance(screen, Screen):
            return [*problems, f"start() returned {type(screen).__name__}, not a Screen"]
        problems += _check_screen(screen)
        try:
            json.dumps(environment.state())
        except (TypeError, ValueError) as exc:
            problems.append(f"state() is not JSON-able: {exc}")
        notes = environment.notes()
        if not (isinstance(notes, list) and all(isinstance(n, str) for n in notes)):
            problems.append("notes() must return a list of strings")
    finally:
        environment.close()
    return problems
