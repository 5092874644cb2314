"""From a run to a skill: the recorded ok actions, in order, as one ``@skill`` function.

A demonstration (or a successful agent run) becomes reusable: each distinct typed text turns
into a parameter (``text1: str = "recorded value"``) so the same steps can type something else,
while clicks, keys and waits stay as recorded. The source follows the untrusted-skill policy
(:func:`cradle.skills.check_untrusted`), so it loads from a generated-skills folder like a
model-written skill. Coordinates stay pixels of the recorded screenshots: the skill is for the
same screen layout.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Collection
from typing import Any

from cradle.errors import UsageError
from cradle.skills import check_untrusted
from cradle.trajectory.loader import LoadedRun
from cradle.types import ActionOutcome, SkillCall

NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*")


def _doc_text(text: str, limit: int = 200) -> str:
    """Text safe inside a docstring line: one line, no closing quotes, no dunder."""
    clean = " ".join(text.split())
    clean = clean if len(clean) <= limit else clean[: limit - 3] + "..."
    clean = re.sub(r"_{2,}", "_", clean.replace('"', "'"))
    return clean.replace("\\", "\\\\")


def _literal(value: Any) -> str:
    text = repr(value)
    if "__" in text:
        raise UsageError(
            f"the recorded value {text[:60]} contains a double underscore, which skills may "
            "not hold; edit the run or write the skill by hand"
        )
    return text


def _call_of(outcome: ActionOutcome) -> SkillCall:
    if outcome.call is not None:
        return outcome.call
    raise UsageError(f"recorded action {outcome.source} has no parsed call; cannot reuse it")


def skill_from_run(run: LoadedRun, name: str, *, known_skills: Collection[str] = ()) -> str:
    """Python source of a skill ``name`` that performs ``run``'s ok actions in order."""
    if not NAME_PATTERN.fullmatch(name) or keyword.iskeyword(name) or "__" in name:
        raise UsageError(
            f"skill name {name!r} must be lowercase letters, digits and single underscores, "
            "starting with a letter (e.g. save_note)"
        )
    if name in known_skills:
        raise UsageError(f"a skill named {name!r} already exists; choose another --name")
    actions = run.ok_actions()
    if not actions:
        raise UsageError(f"run {run.info.run_id} has no successful actions to make a skill of")
    body, params = _body(actions)
    source = _source(run, name, body, params)
    problems = check_untrusted(source, f"<{name}>")
    if problems:
        raise UsageError(f"the generated skill breaks the skill policy: {problems[0]}")
    return source


def _body(actions: list[tuple[Any, ActionOutcome]]) -> tuple[list[str], dict[str, tuple[str, int]]]:
    """The skill's body, one call per action, and its parameters: each distinct typed text
    becomes one (text -> parameter name and the step it was first typed at)."""
    params: dict[str, tuple[str, int]] = {}
    body: list[str] = []
    for record, outcome in actions:
        call = _call_of(outcome)
        args = list(call.args)
        kwargs = dict(call.kwargs)
        text: str | None = None
        if call.skill == "type_text":
            if "text" in kwargs and isinstance(kwargs["text"], str):
                text = kwargs.pop("text")
            elif args and isinstance(args[0], str):
                text = args.pop(0)
        parts = [_literal(a) for a in args]
        if text is not None:
            params.setdefault(text, (f"text{len(params) + 1}", record.step))
            parts.append(f"text={params[text][0]}")
        parts += [f"{k}={_literal(v)}" for k, v in kwargs.items()]
        body.append(f"    {call.skill}({', '.join(parts)})")
    return body, params


def _source(run: LoadedRun, name: str, body: list[str], params: dict[str, tuple[str, int]]) -> str:
    """The skill file: module docstring, import, the decorated function and its docstring."""
    width, height = run.steps[0].observation.image_size if run.steps else (0, 0)
    declared = ["screen", *(f"{p}: str = {_literal(text)}" for text, (p, _) in params.items())]
    signature = ", ".join(declared)
    if len(signature) + len(name) > 80:
        signature = "\n" + "".join(f"    {part},\n" for part in declared)
    lines = [
        f'"""Skill made by cradle skills from-run from run {_doc_text(run.info.run_id)}."""',
        "",
        "from cradle.skills import skill",
        "",
        "",
        "@skill",
        f"def {name}({signature}) -> None:",
        f'    """Repeat the recorded steps: {_doc_text(run.info.task)}.',
        "",
        f"    Recorded on {_doc_text(run.info.environment)}; coordinates are pixels of a "
        f"{width}x{height} screenshot.",
    ]
    if params:
        lines += ["", "    Args:"]
        for text, (param, step) in params.items():
            lines.append(
                f"        {param}: Text typed at step {step} "
                f"(recorded: {_doc_text(repr(text), 80)})."
            )
    lines += ['    """', *body, ""]
    return "\n".join(lines)
