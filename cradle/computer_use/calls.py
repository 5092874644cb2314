"""Reading function-call text such as ``click(start_box='(10,20)')`` without evaluating it.

UI-TARS writes its actions as Python-like calls with keyword arguments whose values are
quoted strings. Real replies bend the grammar: a quote inside ``type(content='It's')`` left
unescaped, ``\\n`` written as two characters, a missing closing parenthesis at the very end.
This scanner reads such text leniently but never runs it, and every way it can fail is one
line the model reads on its next step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cradle.errors import ModelReplyError

MAX_CALLS = 10
"""Actions read from one reply; more is not a plan but a runaway."""
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPES = {"n": "\n", "t": "\t", "'": "'", '"': '"', "\\": "\\"}


@dataclass(frozen=True)
class TextCall:
    """One call as written: its name, keyword arguments (strings) and source text."""

    name: str
    kwargs: dict[str, str]
    source: str


def read_calls(text: str) -> list[TextCall]:
    """Every call in ``text`` in order (whitespace and blank lines between them)."""
    calls: list[TextCall] = []
    pos = _skip(text, 0)
    while pos < len(text):
        if len(calls) >= MAX_CALLS:
            raise ModelReplyError(f"more than {MAX_CALLS} actions in one reply")
        call, pos = _read_call(text, pos)
        calls.append(call)
        pos = _skip(text, pos)
    return calls


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and (text[pos].isspace() or text[pos] in ";`"):
        pos += 1
    return pos


def _read_call(text: str, start: int) -> tuple[TextCall, int]:
    match = _NAME.match(text, start)
    if not match or match.end() >= len(text) or text[match.end()] != "(":
        raise ModelReplyError(
            f"expected an action such as click(...), got {text[start : start + 80]!r}"
        )
    name, pos = match.group(), match.end() + 1
    kwargs: dict[str, str] = {}
    while True:
        pos = _skip(text, pos)
        if pos >= len(text):  # a reply cut right after its last argument: close it
            break
        if text[pos] == ")":
            pos += 1
            break
        key = _NAME.match(text, pos)
        if not key or text[key.end() : key.end() + 1] != "=":
            raise ModelReplyError(
                f"{name}(...): expected key='value', got {text[pos : pos + 60]!r}"
            )
        value, pos = _read_value(text, key.end() + 1, name)
        kwargs[key.group()] = value
        pos = _skip(text, pos)
        if text[pos : pos + 1] == ",":
            pos += 1
    return TextCall(name, kwargs, text[start:pos].strip()), pos


def _read_value(text: str, pos: int, name: str) -> tuple[str, int]:
    """A quoted string (closed only by a quote followed by ``,`` or ``)`` or the end, so an
    unescaped quote inside stays text) or a bare value up to ``,``/``)``."""
    pos = _skip(text, pos)
    if pos >= len(text):
        raise ModelReplyError(f"{name}(...): an argument has no value")
    quote = text[pos]
    if quote not in "'\"":
        end = pos
        while end < len(text) and text[end] not in ",)":
            end += 1
        return text[pos:end].strip(), end
    out: list[str] = []
    i = pos + 1
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            out.append(_ESCAPES.get(text[i + 1], "\\" + text[i + 1]))
            i += 2
            continue
        if char == quote:
            after = _skip(text, i + 1)
            if after >= len(text) or text[after] in ",)":
                return "".join(out), i + 1
        out.append(char)
        i += 1
    # No closing quote: a reply cut off inside the text (or one quote too few); keep the text
    # but not a trailing ") the model meant to close with.
    return re.sub(r"'?\)?\s*$", "", "".join(out)), len(text)
