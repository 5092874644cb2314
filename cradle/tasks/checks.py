"""Judge an episode by what it left behind, never by the model's word.

Each check of a task gives a :class:`~cradle.types.CheckResult`; the task passes when all do.
``command`` runs in the episode's place and passes on exit 0; ``file`` reads a file from it
(bounded) and tests its content; ``screen_text`` reads the final screen with OCR; ``state``
compares the environment's own ``state()`` with a subset.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from PIL import Image

from cradle.tasks.setup import EpisodePlace
from cradle.types import Check, CheckResult, FileCheck, Task, Verdict

MAX_FILE_BYTES = 10_000_000
CHECK_TIMEOUT = 60.0


def judge(
    task: Task,
    place: EpisodePlace,
    *,
    final_screen: Image.Image | None = None,
    state: Callable[[], dict[str, Any]] | None = None,
) -> Verdict:
    """Run every check of ``task``; the verdict lists each with its reason."""
    results = [_check(check, place, final_screen, state) for check in task.check]
    return Verdict(success=all(r.passed for r in results), checks=results, stage="done")


def _check(
    check: Check,
    place: EpisodePlace,
    final_screen: Image.Image | None,
    state: Callable[[], dict[str, Any]] | None,
) -> CheckResult:
    kind = check.kind
    try:
        if check.command is not None:
            code, output = place.shell(check.command, timeout=CHECK_TIMEOUT)
            detail = f"{check.command!r} exited {code}" + (f": {output}" if output else "")
            return CheckResult(kind=kind, passed=code == 0, detail=detail[:2_000])
        if check.file is not None:
            return _file_check(check.file, place)
        if check.screen_text is not None:
            return _screen_check(check.screen_text, final_screen)
        assert check.state is not None
        actual = state() if state is not None else {}
        missing = subset_mismatch(check.state, actual)
        return CheckResult(
            kind=kind, passed=not missing, detail=missing or "the environment's state matches"
        )
    except Exception as exc:  # noqa: BLE001 - a broken check fails the task, never the harness
        return CheckResult(kind=kind, passed=False, detail=f"check failed to run: {exc}")


def _file_check(spec: FileCheck, place: EpisodePlace) -> CheckResult:
    path = place.expand(spec.path)
    if not path.is_file():
        return CheckResult(kind="file", passed=False, detail=f"{spec.path} does not exist")
    if path.stat().st_size > MAX_FILE_BYTES:
        return CheckResult(
            kind="file", passed=False, detail=f"{spec.path} is larger than {MAX_FILE_BYTES:,} bytes"
        )
    text = path.read_bytes().decode("utf-8", "replace")
    problems: list[str] = []
    if spec.contains is not None and spec.contains not in text:
        problems.append(f"does not contain {spec.contains!r}")
    if spec.equals is not None and text.rstrip("\n") != spec.equals.rstrip("\n"):
        problems.append(f"is {_show(text)}, not {spec.equals!r}")
    if spec.regex is not None and re.search(spec.regex, text, re.MULTILINE) is None:
        problems.append(f"does not match /{spec.regex}/")
    if spec.json_subset is not None:
        try:
            mismatch = subset_mismatch(spec.json_subset, json.loads(text))
        except ValueError:
            mismatch = "is not JSON"
        if mismatch:
            problems.append(mismatch)
    detail = f"{spec.path} " + "; ".join(problems) if problems else f"{spec.path} is as expected"
    return CheckResult(kind="file", passed=not problems, detail=detail)


def _screen_check(wanted: str, final_screen: Image.Image | None) -> CheckResult:
    if final_screen is None:
        return CheckResult(kind="screen_text", passed=False, detail="no final screen was captured")
    from cradle.vision.ocr import TesseractOCR

    lines = TesseractOCR().read(final_screen).lines
    seen = " ".join(" ".join(span.text for span in lines).split())
    passed = " ".join(wanted.split()).lower() in seen.lower()
    detail = f"{wanted!r} {'is' if passed else 'is not'} on the final screen"
    return CheckResult(kind="screen_text", passed=passed, detail=detail)


def subset_mismatch(expected: Any, actual: Any, where: str = "") -> str:
    """'' when ``actual`` contains ``expected`` (dict keys recursively, lists item by item,
    other values equal); otherwise where and how they differ."""
    label = where or "the value"
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{label} is not an object"
        for key, value in expected.items():
            if key not in actual:
                return f"{label} has no key {key!r}"
            found = subset_mismatch(value, actual[key], f"{where}.{key}" if where else str(key))
            if found:
                return found
        return ""
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return f"{label} is {_show(actual)}, not {_show(expected)}"
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            found = subset_mismatch(want, got, f"{where}[{index}]")
            if found:
                return found
        return ""
    return "" if expected == actual else f"{label} is {_show(actual)}, not {_show(expected)}"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."
