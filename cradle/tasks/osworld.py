"""OSWorld-style task JSON, translated into cradle tasks where the two formats meet.

An OSWorld item (``id``, ``instruction``, ``config``, ``evaluator``, ...) becomes a task on the
``desktop`` environment when every part of it has an exact cradle equivalent; otherwise it is
skipped with the first reason found (the loader lists it, never drops it silently), so a
translated task is judged as OSWorld would judge it and a skipped one says what is missing.

* ``config``: ``launch`` (a ``launch`` step), ``execute``/``command`` (a ``run`` step; unlike
  OSWorld, a non-zero exit fails the setup; ``python -c`` code using pyautogui runs with
  cradle's own Python, ``$CRADLE_PYTHON``), ``sleep`` (at most 60 s), ``open`` (``xdg-open``,
  awaiting a window titled with the file's name), ``activate_window`` right after a launch
  (the launch awaits that title).
* ``evaluator`` funcs, all of which must pass (``conj: and``): ``exact_match``,
  ``match_in_list``, ``is_in_list``, ``check_include_exclude`` on a command's output
  (``vm_command_line``; ``vm_command_error`` for its error output) become a ``command`` check;
  ``file_contains``, ``check_list`` (``expect`` only) and ``check_json`` (``eq`` rules on
  object keys) on a ``vm_file`` become ``file`` checks; ``compare_text_file`` of two
  ``vm_file`` results becomes ``cmp``. Postconfig ``sleep`` steps become a first check that
  sleeps.
* Skipped: downloads and cloud files (no network), Chrome DevTools and accessibility-tree
  getters, document/image/media comparisons, partial scores (``fuzzy_match``,
  ``diff_text_file``), ``infeasible``, postconfig steps that act on apps, ``sudo``, OSWorld's
  ``{SCREEN_WIDTH}``-style placeholders.

Paths: OSWorld's VM user has the home ``/home/user``; here that is the episode's own home:
``/home/user/x`` becomes ``~/x`` in file paths and ``"$HOME"/x`` in commands (also inside
quotes); a file path elsewhere (``/etc/...``, ``C:\\...``) skips the task. ``snapshot`` (the VM
image to restore) is not used: an episode starts from an empty home on this machine, so the
apps a task needs must be installed here.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from cradle.tasks.osworld_config import (
    NETWORK,
    STEP_REASONS,
    Skip,
    config_steps,
    home_path,
    known_parameters,
    seconds,
    shell_command,
    shell_word,
    typed_steps,
)
from cradle.tasks.validation import validation_problem
from cradle.types import Task

MAX_WAIT = 50.0
"""Seconds of postconfig sleep kept before the checks (a check command may run for 60 s)."""
_DEVTOOLS = "reads Chrome through its DevTools connection"
_RESULT_REASONS = {
    "cloud_file": NETWORK,
    "googledrive_file": NETWORK,
    "pdf_from_url": NETWORK,
    "info_from_website": NETWORK,
    "cache_file": "reads the output of a postconfig step",
    "accessibility_tree": "reads the accessibility tree",
    "active_url_from_accessTree": "reads the accessibility tree",
    **dict.fromkeys(
        (
            "active_tab_info",
            "active_tab_html_parse",
            "active_tab_url_parse",
            "open_tabs_info",
            "url_dashPart",
            "bookmarks",
            "history",
            "cookie_data",
            "profile_name",
            "page_info",
            "default_search_engine",
            "find_unpacked_extension_path",
            "enable_do_not_track",
        ),
        _DEVTOOLS,
    ),
}


def translate(item: dict[str, Any], *, source: str) -> tuple[dict[str, Any] | None, str]:
    """A cradle task mapping for ``item``, or ``None`` and why it cannot be translated."""
    try:
        task = _task(item)
    except Skip as skip:
        return None, str(skip)
    try:
        Task.model_validate({**task, "source": source})
    except ValidationError as exc:
        return None, f"the translated task is not valid: {validation_problem(exc)}"
    return task, ""


def _task(item: dict[str, Any]) -> dict[str, Any]:
    task_id, instruction = item.get("id"), item.get("instruction")
    if not isinstance(task_id, str) or not task_id:
        raise Skip("it has no 'id'")
    if not isinstance(instruction, str) or not instruction.strip():
        raise Skip("it has no 'instruction'")
    if item.get("proxy"):
        raise Skip(f"it {NETWORK} (through OSWorld's proxy)")
    checks = _evaluator(item.get("evaluator"))
    task: dict[str, Any] = {
        "id": task_id,
        "instruction": instruction,
        "environment": "desktop",
        "setup": config_steps(item.get("config", [])),
        "check": checks,
    }
    if "max_steps" in item:
        task["max_steps"] = item["max_steps"]
    return task


# --------------------------------------------------------------------------- evaluator (checks)


@dataclass(frozen=True)
class _Output:
    """A command whose output an evaluator func reads (as the shell text to run)."""

    script: str
    stream: Literal["stdout", "stderr"]


@dataclass(frozen=True)
class _File:
    """A file an evaluator func reads: its VM path and the same path in the episode."""

    vm_path: str
    path: str


@dataclass(frozen=True)
class _Metric:
    reads: type[_Output] | type[_File]
    expects: Literal["rule", "file"]
    build: Callable[[Any, Any, str], list[dict[str, Any]]]
    options: tuple[tuple[str, Any], ...] = ()
    """Options accepted, each with the one value that keeps the translation exact."""


def _evaluator(evaluator: Any) -> list[dict[str, Any]]:
    if not isinstance(evaluator, dict):
        raise Skip("'evaluator' is not an object")
    func = evaluator.get("func")
    if func == "infeasible":
        raise Skip(
            "evaluator 'infeasible': the agent is to declare the task impossible, "
            "which cradle does not judge"
        )
    listed = isinstance(func, list)
    funcs = func if listed else [func]
    if not funcs or not all(isinstance(name, str) and name for name in funcs):
        raise Skip("the evaluator has no func")
    conj = evaluator.get("conj", "and")
    if len(funcs) > 1 and conj != "and":
        raise Skip(
            f"evaluator conj {conj!r} is not supported: a task passes when all its checks pass"
        )
    parts = [
        _per_func(evaluator.get(key), len(funcs), listed, key)
        for key in ("result", "expected", "options")
    ]
    checks: list[dict[str, Any]] = []
    for name, result, expected, options in zip(funcs, *parts, strict=True):
        checks += _metric(name, result, expected, options)
    wait = _postconfig(evaluator.get("postconfig", []))
    return ([{"command": f"sleep {wait:g}"}] if wait else []) + checks


def _per_func(value: Any, count: int, listed: bool, key: str) -> list[Any]:
    if not listed:
        return [value]
    if value is None:
        return [None] * count
    if isinstance(value, list) and len(value) == count:
        return value
    raise Skip(f"evaluator '{key}' should be a list of {count}, one per func")


def _metric(name: str, result: Any, expected: Any, options: Any) -> list[dict[str, Any]]:
    metric = _METRICS.get(name)
    where = f"evaluator func {name!r}"
    if metric is None:
        raise Skip(f"{where} is not supported")
    accepted = dict(metric.options)
    for key, value in (options if isinstance(options, dict) else {}).items():
        if key not in accepted or accepted[key] != value:
            raise Skip(f"{where}: option {key!r}: {value!r} is not supported")
    source = _source(result, where, "result")
    if not isinstance(source, metric.reads):
        raise Skip(f"{where} on result {result['type']!r} is not supported")
    if metric.expects == "file":
        wanted: Any = _source(expected, where, "expected")
        if not isinstance(wanted, _File):
            raise Skip(f"{where}: expected {expected['type']!r} is not supported")
    else:
        wanted = _rules(expected, where)
    return metric.build(source, wanted, where)


def _source(spec: Any, where: str, role: str) -> _Output | _File:
    """What a ``result`` (or ``expected``) getter reads, if cradle can read the same."""
    kind = spec.get("type") if isinstance(spec, dict) else None
    if not isinstance(kind, str) or not kind:
        raise Skip(f"{where} has no {role} to read")
    label = f"evaluator {role} {kind!r}"
    if kind in ("vm_command_line", "vm_command_error"):
        known_parameters(spec, label, "type", "command", "shell")
        stream: Literal["stdout", "stderr"] = "stdout" if kind == "vm_command_line" else "stderr"
        return _Output(shell_command(spec, label), stream)
    if kind == "vm_file":
        if spec.get("multi") or spec.get("time_suffix"):
            raise Skip(f"{label} with several files or a dated name is not supported")
        return _File(spec.get("path", ""), home_path(spec.get("path"), label))
    raise Skip(f"{label} {_RESULT_REASONS.get(kind, 'is not supported')}")


def _rules(expected: Any, where: str) -> dict[str, Any]:
    kind = expected.get("type") if isinstance(expected, dict) else None
    if kind == "rule" and isinstance(expected.get("rules"), dict):
        return expected["rules"]
    if kind is None or kind == "rule":
        raise Skip(f"{where} has no expected rules")
    raise Skip(f"{where}: expected {kind!r} {_RESULT_REASONS.get(kind, 'is not supported')}")


def _postconfig(steps: Any) -> float:
    """Seconds to wait before the checks: the only postconfig cradle can reproduce."""
    total = 0.0
    for where, kind, params in typed_steps(steps, "postconfig"):
        if kind in STEP_REASONS:
            raise Skip(f"{where} {STEP_REASONS[kind]}")
        if kind != "sleep":
            raise Skip(f"{where} is not supported: nothing runs between the episode and its checks")
        total += seconds(params, where)
    if total > MAX_WAIT:
        raise Skip(f"postconfig waits {total:g} s; at most {MAX_WAIT:g} s is supported")
    return total


def _texts(rules: dict[str, Any], key: str, where: str, *, single: bool = False) -> list[str]:
    value = rules.get(key, None if single else [])
    values = [value] if single else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        kind = "a text" if single else "a list of texts"
        raise Skip(f"{where}: rule {key!r} is not {kind}")
    return values


# --------------------------------------------------------------------------- command output


def _output_check(out: _Output, *tests: str) -> list[dict[str, Any]]:
    """One ``command`` check: capture the output exactly (trailing newlines included, as
    OSWorld compares it), then run ``tests`` on ``$out``."""
    redirect = "2>/dev/null" if out.stream == "stdout" else "2>&1 >/dev/null"
    capture = f"out=$( ({out.script}\n) {redirect}; echo .); out=${{out%.}}"
    return [{"command": "; ".join((capture, *tests))}]


def _require(patterns: list[str], message: str, *, present: bool = True) -> str:
    """A ``case`` that fails, printing ``message`` and the output, unless the output matches
    one of ``patterns`` (or, with ``present=False``, if it does)."""
    fail = f"{{ printf '%s%s\\n' {shlex.quote(message)} \"$out\"; exit 1; }}"
    matched, other = (":", fail) if present else (fail, ":")
    return f'case "$out" in {"|".join(patterns)}) {matched};; *) {other};; esac'


def _literal(text: str) -> str:
    """``text`` as a quoted shell word that does not contain ``text`` itself: a check whose
    command lists processes (``ps -ef | grep ...``) must not find the expected text in its
    own command line, where OSWorld would not have it either."""
    quoted = [part.replace("'", "'\\''") for part in (text[:1], text[1:])]
    return f"'{quoted[0]}''{quoted[1]}'"


def _exact_match(out: _Output, rules: dict[str, Any], where: str) -> list[dict[str, Any]]:
    wanted = _texts(rules, "expected", where, single=True)[0]
    return _output_check(out, _require([_literal(wanted)], "the output differs: "))


def _match_in_list(out: _Output, rules: dict[str, Any], where: str) -> list[dict[str, Any]]:
    wanted = _texts(rules, "expected", where)
    if not wanted:
        raise Skip(f"{where}: rule 'expected' is empty")
    return _output_check(
        out, _require([_literal(w) for w in wanted], "the output is none of the expected: ")
    )


def _include_exclude(out: _Output, rules: dict[str, Any], where: str) -> list[dict[str, Any]]:
    include, exclude = _texts(rules, "include", where), _texts(rules, "exclude", where)
    if not include and not exclude:
        raise Skip(f"{where}: no 'include' or 'exclude' rules")
    tests = [
        _require([f"*{_literal(text)}*"], f"the output lacks include {number}: ")
        for number, text in enumerate(include, start=1)
    ]
    tests += [
        _require([f"*{_literal(text)}*"], f"the output has exclude {number}: ", present=False)
        for number, text in enumerate(exclude, start=1)
    ]
    return _output_check(out, *tests)


def _is_in_list(out: _Output, rules: dict[str, Any], where: str) -> list[dict[str, Any]]:
    return _include_exclude(out, {"include": _texts(rules, "expected", where, single=True)}, where)


# --------------------------------------------------------------------------- files


def _file_contains(file: _File, rules: dict[str, Any], where: str) -> list[dict[str, Any]]:
    texts = _texts(rules, "expected", where)
    return [{"file": {"path": file.path, "contains": t}} for t in texts] or [
        {"file": {"path": file.path}}
    ]


def _check_list(file: _File, rules: dict[str, Any], where: str) -> list[dict[str, Any]]:
    if rules.get("unexpect"):
        raise Skip(f"{where}: 'unexpect' patterns are not supported")
    patterns = _texts(rules, "expect", where)
    return [{"file": {"path": file.path, "regex": p}} for p in patterns] or [
        {"file": {"path": file.path}}
    ]


def _check_json(file: _File, rules: dict[str, Any], where: str) -> list[dict[str, Any]]:
    """``eq`` rules on a path of object keys become JSON subsets (exact for plain values)."""
    if rules.get("unexpect"):
        raise Skip(f"{where}: 'unexpect' rules are not supported")
    expect = rules.get("expect", [])
    if not isinstance(expect, list) or not expect:
        raise Skip(f"{where}: no 'expect' rules")
    checks = []
    for rule in expect:
        keys = rule.get("key") if isinstance(rule, dict) else None
        if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
            raise Skip(f"{where}: a rule's 'key' is not a list of object keys")
        if rule.get("method") != "eq":
            raise Skip(f"{where}: method {rule.get('method')!r} is not supported (only 'eq')")
        value = rule.get("ref")
        if not _plain(value):
            raise Skip(f"{where}: a 'ref' that is an object is not supported")
        for key in reversed(keys):
            value = {key: value}
        checks.append({"file": {"path": file.path, "json": value}})
    return checks


def _plain(value: Any) -> bool:
    """A value a JSON subset compares exactly: no objects (they would match extra keys)."""
    if isinstance(value, list):
        return all(_plain(item) for item in value)
    return not isinstance(value, dict)


def _compare_text_file(file: _File, gold: _File, where: str) -> list[dict[str, Any]]:
    return [{"command": f"cmp -- {shell_word(file.vm_path)} {shell_word(gold.vm_path)}"}]


_METRICS: dict[str, _Metric] = {
    "exact_match": _Metric(_Output, "rule", _exact_match),
    "match_in_list": _Metric(_Output, "rule", _match_in_list),
    "is_in_list": _Metric(_Output, "rule", _is_in_list),
    "check_include_exclude": _Metric(_Output, "rule", _include_exclude),
    "file_contains": _Metric(_File, "rule", _file_contains),
    "check_list": _Metric(_File, "rule", _check_list),
    "check_json": _Metric(_File, "rule", _check_json, (("is_yaml", False),)),
    "compare_text_file": _Metric(
        _File, "file", _compare_text_file, (("ignore_blanks", False), ("ignore_case", False))
    ),
}
