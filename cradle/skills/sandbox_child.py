"""The process that runs model-written skills: stdlib only, started as a script.

cradle never runs a model-written skill body in its own process. :mod:`cradle.skills.isolation`
starts this file as ``python -I -S -B sandbox_child.py`` (no site-packages, no user
environment, no bytecode writes) in a private temporary folder, with an environment that holds
no keys. Before it reads any model-written code, the child limits itself with ``setrlimit``
(address space, CPU seconds, open files, file size 0, no core dumps); the parent adds a
wall-clock deadline and kills the whole process group when it passes.

The protocol is one JSON object per line. The parent sends one request::

    {"sources": [[filename, guarded_source], ...], "skills": [every skill name],
     "skill": "name", "args": [...], "kwargs": {...}, "limits": {...}}

``guarded_source`` is a checked source whose arithmetic operators were rewritten into calls
of ``__cradle_op__`` (:func:`cradle.skills.untrusted.guarded_source`). Every skill call the code
makes, to any skill, goes to the parent, which applies the same gates as to the model's own
actions (signature, policy, confirmation) and either runs a trusted skill itself and answers
``{"op": "result", "value": ...}`` / ``{"op": "error", "message": ...}``, or allows a
model-written one to run here: ``{"op": "run", "args": [...], "kwargs": {...}}``. The child
ends with ``{"op": "return", "value": ...}`` or ``{"op": "error", "kind": ..., "message": ...}``.
"""

from __future__ import annotations

import json
import operator
import sys
from collections.abc import Callable
from typing import Any

try:
    import resource
except ImportError:  # Windows: the parent's deadline is the only limit
    resource = None  # type: ignore[assignment]

MAX_RANGE_ITEMS = 10_000
MAX_INT_BITS = 8_192
MAX_SIZE = 200_000
"""Largest string length / total element count any single operation may produce."""
MAX_ROUND_DIGITS = 100
MAX_MESSAGE_CHARS = 2_000
OP_GUARD = "__cradle_op__"


class SkillFailed(Exception):
    """A skill call answered by the parent with an error; unwinds the model-written code."""


class TooLarge(ValueError):
    """An operation would build a value past the size limits: the memory limit, enforced
    before the memory is spent."""


# --------------------------------------------------------------------------- size guards


def _size(value: Any) -> int:
    if isinstance(value, str | bytes):
        return len(value)
    if isinstance(value, list | tuple | dict):
        return len(value) + sum(_size(v) for v in value if isinstance(v, str | list | tuple))
    return 1


def _too_large() -> TooLarge:
    return TooLarge(f"result too large (more than {MAX_SIZE} items or characters)")


def _too_many_bits() -> TooLarge:
    return TooLarge(f"integer result too large (more than {MAX_INT_BITS} bits)")


def _guard_result(value: Any) -> Any:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise _too_many_bits()
    if isinstance(value, str | list | tuple) and _size(value) > MAX_SIZE:
        raise _too_large()
    return value


_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "Add": operator.add,
    "Sub": operator.sub,
    "Mult": operator.mul,
    "Div": operator.truediv,
    "FloorDiv": operator.floordiv,
    "Mod": operator.mod,
    "Pow": operator.pow,
    "LShift": operator.lshift,
    "RShift": operator.rshift,
    "BitOr": operator.or_,
    "BitXor": operator.xor,
    "BitAnd": operator.and_,
}


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_operands(name: str, a: Any, b: Any) -> None:
    """Refuse, before computing it, an operation whose result would be huge."""
    if name == "Mod" and isinstance(a, str | bytes):
        raise ValueError("string % formatting is not allowed; use str() and +")
    if name == "Mult":
        seq, n = (a, b) if isinstance(a, str | list | tuple) else (b, a)
        if isinstance(seq, str | list | tuple) and _is_int(n):
            if _size(seq) * max(n, 0) > MAX_SIZE:
                raise _too_large()
        elif _is_int(a) and _is_int(b) and a.bit_length() + b.bit_length() > MAX_INT_BITS:
            raise _too_many_bits()
    elif name == "Add" and isinstance(a, str | list | tuple) and isinstance(b, str | list | tuple):
        if _size(a) + _size(b) > MAX_SIZE:
            raise _too_large()
    elif name == "Pow" and _is_int(a) and _is_int(b) and b > 0 and abs(a) > 1:
        if b > MAX_INT_BITS or a.bit_length() * b > MAX_INT_BITS + a.bit_length():
            raise _too_many_bits()
    elif name == "LShift" and _is_int(a) and _is_int(b) and a and b > 0:
        if b > MAX_INT_BITS or a.bit_length() + b > MAX_INT_BITS:
            raise _too_many_bits()


def guarded_op(name: str, a: Any, b: Any) -> Any:
    """``a <op> b`` for checked code, refusing operations whose result would be huge."""
    # bool is an int subclass: True << n must meet the same limits as 1 << n.
    a = int(a) if isinstance(a, bool) else a
    b = int(b) if isinstance(b, bool) else b
    _check_operands(name, a, b)
    return _guard_result(_OPERATORS[name](a, b))


def capped_range(*args: int) -> range:
    """``range`` with at most ``MAX_RANGE_ITEMS`` items."""
    r = range(*args)
    try:
        n = len(r)
    except OverflowError:
        n = MAX_RANGE_ITEMS + 1
    if n > MAX_RANGE_ITEMS:
        raise TooLarge(f"range() is limited to {MAX_RANGE_ITEMS} items in generated skills")
    return r


def bounded_round(number: Any, ndigits: int | None = None) -> Any:
    """``round`` with ``|ndigits| <= MAX_ROUND_DIGITS`` (large values would hang)."""
    if ndigits is not None and _is_int(ndigits) and abs(ndigits) > MAX_ROUND_DIGITS:
        raise ValueError(f"round() ndigits is limited to +-{MAX_ROUND_DIGITS}")
    return round(number, ndigits)


def _sized(func: Callable[..., Any]) -> Callable[..., Any]:
    """A builtin whose result meets the same size limits as an operator's."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return _guard_result(func(*args, **kwargs))

    return call


SANDBOX_BUILTINS: dict[str, Any] = {
    "len": len,
    "range": capped_range,
    "min": min,
    "max": max,
    "abs": abs,
    "round": bounded_round,
    "str": _sized(str),
    "int": _sized(int),
    "float": float,
    # only reachable from annotations (the checker forbids them elsewhere)
    "bool": bool,
    "list": list,
}


# --------------------------------------------------------------------------- the process


def limit_self(limits: dict[str, int]) -> None:
    """Apply OS limits to this process before any model-written code runs (POSIX only)."""
    if resource is None:
        return
    wanted = {
        "RLIMIT_AS": limits.get("memory_bytes"),
        "RLIMIT_CPU": limits.get("cpu_seconds"),
        "RLIMIT_NOFILE": limits.get("open_files"),
        "RLIMIT_FSIZE": 0,
        "RLIMIT_CORE": 0,
    }
    for name, value in wanted.items():
        which = getattr(resource, name, None)
        if which is None or value is None:
            continue
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, hard))


class Channel:
    """Line-delimited JSON to and from the parent over stdin/stdout."""

    def __init__(self) -> None:
        self.reader = sys.stdin
        self.writer = sys.stdout

    def send(self, message: dict[str, Any]) -> None:
        self.writer.write(json.dumps(message, default=repr) + "\n")
        self.writer.flush()

    def receive(self) -> dict[str, Any]:
        line = self.reader.readline()
        if not line:
            raise SystemExit(3)  # the parent went away: nothing left to do
        return json.loads(line)


def build_namespace(request: dict[str, Any], channel: Channel) -> dict[str, Any]:
    """Globals where every skill name is a call through the parent, and the sources' own
    functions are kept aside to run here when the parent allows it."""
    local: dict[str, Callable[..., Any]] = {}
    max_depth = int(request.get("limits", {}).get("max_depth", 16))
    depth = [0]

    def run_here(name: str, answer: dict[str, Any]) -> Any:
        if depth[0] >= max_depth:
            raise SkillFailed(f"skills call each other more than {max_depth} deep")
        depth[0] += 1
        try:
            return local[name](None, *answer.get("args", []), **answer.get("kwargs", {}))
        finally:
            depth[0] -= 1

    def remote(name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            channel.send({"op": "call", "skill": name, "args": list(args), "kwargs": kwargs})
            answer = channel.receive()
            if answer.get("op") == "run" and name in local:
                return run_here(name, answer)
            if answer.get("op") == "result":
                return answer.get("value")
            raise SkillFailed(str(answer.get("message", "the call failed")))

        return call

    def skill(func: Any = None, **_options: Any) -> Any:
        def mark(f: Callable[..., Any]) -> Callable[..., Any]:
            local[f.__name__] = f
            return remote(f.__name__)

        return mark if func is None else mark(func)

    namespace: dict[str, Any] = {"__builtins__": dict(SANDBOX_BUILTINS), "__name__": "skill"}
    namespace.update({name: remote(name) for name in request.get("skills", [])})
    namespace["skill"] = skill
    namespace[OP_GUARD] = guarded_op
    namespace["__cradle_local__"] = local
    return namespace


def run_request(request: dict[str, Any], channel: Channel) -> dict[str, Any]:
    """Define the sources, run the requested skill; the final message for the parent."""
    namespace = build_namespace(request, channel)
    for filename, source in request.get("sources", []):
        exec(compile(source, filename, "exec", dont_inherit=True), namespace)  # noqa: S102
    target = namespace["__cradle_local__"].get(request.get("skill"))
    if target is None:
        return {"op": "error", "kind": "error", "message": "the skill is not defined"}
    value = target(None, *request.get("args", []), **request.get("kwargs", {}))
    return {"op": "return", "value": value}


def _failure(kind: str, exc: BaseException) -> dict[str, Any]:
    text = str(exc).strip()
    if not isinstance(exc, SkillFailed):
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return {"op": "error", "kind": kind, "message": text[:MAX_MESSAGE_CHARS]}


def main() -> int:
    channel = Channel()
    request = channel.receive()
    limit_self(request.get("limits", {}))
    sys.path[:] = []  # model-written code cannot import, and nothing else is imported now
    try:
        outcome = run_request(request, channel)
        channel.send(outcome)
    except (MemoryError, TooLarge) as exc:
        channel.send(_failure("memory", exc))
    except RecursionError as exc:
        channel.send(_failure("error", exc))
    except Exception as exc:  # noqa: BLE001 - every failure goes back to the parent as text
        channel.send(_failure("error", exc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
