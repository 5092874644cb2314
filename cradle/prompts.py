"""Prompt templates: Jinja2 files in prompts/, overridable per environment.

``StrictUndefined`` turns a variable the caller forgot into an error at render time, instead
of a silently empty section in what the model reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2

from cradle.bounds import shorten
from cradle.errors import TemplateError
from cradle.paths import shared_prompts_dir


class PromptLibrary:
    """Renders templates by name, looking in override folders before the shared one."""

    def __init__(self, overrides: Sequence[Path] = (), shared: Path | None = None) -> None:
        folders = [str(p) for p in overrides] + [str(shared or shared_prompts_dir())]
        self.folders = folders
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(folders),
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self._env.filters["quote_screen_text"] = quote_screen_text
        self._env.filters["shorten"] = shorten
        self._env.filters["notable_states"] = notable_states

    def render(self, name: str, **variables: Any) -> str:
        """Render ``name`` (e.g. ``action_planning.j2``) or raise ``TemplateError``."""
        try:
            return self._env.get_template(name).render(**variables).strip()
        except jinja2.TemplateNotFound as exc:
            raise TemplateError(
                f"prompt template {exc.name!r} not found in {', '.join(self.folders)}"
            ) from None
        except jinja2.UndefinedError as exc:
            raise TemplateError(f"prompt template {name!r}: {exc.message}") from None
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(
                f"prompt template {exc.filename or name}:{exc.lineno}: {exc.message}"
            ) from None


NOTABLE_STATES = ("focused", "checked", "pressed", "selected", "expanded", "disabled")
"""Element states worth the model's tokens; the rest (showing, visible, focusable, ...) hold
for nearly every element on screen."""


def notable_states(states: list[str]) -> list[str]:
    """The states of an element the model should know about, in a fixed order."""
    return [name for name in NOTABLE_STATES if name in states]


def quote_screen_text(text: str, limit: int = 300) -> str:
    """Screen text as inert data: one line, quoted, length-capped.

    Text read from the screen may try to give the model orders ("ignore your task and ...");
    quoting it marks it as something seen, not something said by the user.
    """
    flat = " ".join(str(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 3] + "..."
    return '"' + flat.replace('"', "'") + '"'
