"""``@skill``: turn a plain typed function into something the model can call.

A skill is an ordinary Python function. Its first parameter is the injected
:class:`~cradle.skills.context.SkillContext` (``ctx: SkillContext``; model-written skills call
it ``screen`` and leave it unannotated); it is never shown to the model. Every other parameter
needs a type hint and an entry in the ``Args:`` section of a Google-style docstring, because
the hint and the entry are all the model learns about it::

    @skill
    def click(ctx: SkillContext, x: int, y: int) -> None:
        \"\"\"Click the left mouse button at (x, y) on the screenshot.

        Args:
            x: Horizontal pixel on the screenshot.
            y: Vertical pixel on the screenshot.
        \"\"\"
        ctx.click(x, y)

The decorator returns the function unchanged (still callable as ``click(ctx, 1, 2)``) with a
:class:`Skill` attached as ``__cradle_skill__``. The registry collects those.

Argument coercion (:meth:`Skill.validate`) uses pydantic in lax mode, with two rules on top:
a float with a fractional part is *rejected* for an ``int`` parameter (``12.0`` becomes ``12``,
``12.7`` is an error, never silently rounded), and ``True``/``False`` are rejected where the
annotation does not admit ``bool``. Booleans accept only ``true/false/yes/no/on/off/1/0``.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, TypeVar, overload

from pydantic import ConfigDict, TypeAdapter, ValidationError

from cradle.errors import ActionRejected, SkillDefinitionError

SKILL_ATTR = "__cradle_skill__"

F = TypeVar("F", bound=Callable[..., Any])

_EMPTY = inspect.Parameter.empty
_ALLOWED_KINDS = (
    inspect.Parameter.POSITIONAL_ONLY,
    inspect.Parameter.POSITIONAL_OR_KEYWORD,
    inspect.Parameter.KEYWORD_ONLY,
    inspect.Parameter.VAR_POSITIONAL,
)
_ADAPTER_CONFIG = ConfigDict(coerce_numbers_to_str=True)


@dataclass(frozen=True)
class SkillParam:
    """One model-visible parameter of a skill."""

    name: str
    annotation: Any
    default: Any
    """``inspect.Parameter.empty`` when the parameter is required."""
    description: str
    kind: inspect._ParameterKind

    @property
    def required(self) -> bool:
        return self.default is _EMPTY and self.kind is not inspect.Parameter.VAR_POSITIONAL

    def render(self) -> str:
        prefix = "*" if self.kind is inspect.Parameter.VAR_POSITIONAL else ""
        text = f"{prefix}{self.name}: {format_annotation(self.annotation)}"
        if self.default is not _EMPTY:
            text += f" = {self.default!r}"
        return text


@dataclass
class Skill:
    """A registered skill: schema for the model, and the function that does the work."""

    name: str
    summary: str
    params: tuple[SkillParam, ...]
    func: Callable[..., Any]
    source_file: str
    line: int
    risky: bool = False
    returns: Any = None
    generated: bool = False
    """True for model-written (untrusted) skills: checked, sandboxed, time-limited."""
    origin: dict[str, Any] = field(default_factory=dict)
    """Where a generated skill came from (run id, task, step), for the report."""

    def signature(self) -> str:
        """The one line the model sees, e.g. ``click(x: int, y: int) -> None  # Click ...``."""
        parts: list[str] = []
        star_done = False
        for p in self.params:
            if p.kind is inspect.Parameter.VAR_POSITIONAL:
                star_done = True
            elif p.kind is inspect.Parameter.KEYWORD_ONLY and not star_done:
                parts.append("*")
                star_done = True
            parts.append(p.render())
        ret = format_annotation(self.returns)
        return f"{self.name}({', '.join(parts)}) -> {ret}  # {self.summary}"

    @cached_property
    def call_signature(self) -> inspect.Signature:
        """The Python signature without the injected first parameter (for ``bind``)."""
        return inspect.Signature(
            [
                inspect.Parameter(p.name, p.kind, default=p.default, annotation=p.annotation)
                for p in self.params
            ]
        )

    @cached_property
    def _adapters(self) -> dict[str, TypeAdapter[Any]]:
        return {p.name: _adapter(p.annotation) for p in self.params}

    def validate(
        self, args: typing.Sequence[Any], kwargs: typing.Mapping[str, Any]
    ) -> tuple[list[Any], dict[str, Any]]:
        """Check arity and names, coerce each value to its annotation.

        Returns the coerced ``(args, kwargs)`` keeping the caller's positional/keyword split.
        Raises ``ActionRejected`` with the signature in the message on any mismatch.
        """
        try:
            self.call_signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise ActionRejected(
                f"{self.name}: {exc}; the signature is {self.signature()}"
            ) from None
        positional = [p for p in self.params if p.kind is not inspect.Parameter.KEYWORD_ONLY]
        new_args: list[Any] = []
        for i, value in enumerate(args):
            param = positional[min(i, len(positional) - 1)]
            new_args.append(self._coerce(param, value))
        by_name = {p.name: p for p in self.params}
        new_kwargs = {key: self._coerce(by_name[key], value) for key, value in kwargs.items()}
        return new_args, new_kwargs

    def _coerce(self, param: SkillParam, value: Any) -> Any:
        annotation = param.annotation
        if isinstance(value, bool) and not _admits_bool(annotation):
            raise ActionRejected(
                f"{self.name}: argument {param.name} must be "
                f"{format_annotation(annotation)}, not {value!r}; "
                f"the signature is {self.signature()}"
            )
        try:
            return self._adapters[param.name].validate_python(value)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ActionRejected(
                f"{self.name}: argument {param.name}={value!r} is not "
                f"{format_annotation(annotation)} ({first['msg']}); "
                f"the signature is {self.signature()}"
            ) from None


# --------------------------------------------------------------------------- decorator


@overload
def skill(func: F, /) -> F: ...


@overload
def skill(*, risky: bool = False) -> Callable[[F], F]: ...


def skill(func: Any = None, /, *, risky: bool = False) -> Any:
    """Mark a function as a skill; use as ``@skill`` or ``@skill(risky=True)``.

    ``risky`` marks skills a later confirmation gate may ask about before running them.
    Raises ``SkillDefinitionError`` (with file and line) when the function cannot be described
    to the model.
    """

    def mark(f: Any) -> Any:
        setattr(f, SKILL_ATTR, build_skill(f, risky=risky))
        return f

    if func is None:
        return mark
    if not callable(func):
        raise SkillDefinitionError("@skill takes no positional arguments; use @skill(risky=True)")
    return mark(func)


def get_skill(obj: Any) -> Skill | None:
    """The :class:`Skill` attached by ``@skill``, or ``None``."""
    found = getattr(obj, SKILL_ATTR, None) if inspect.isfunction(obj) else None
    return found if isinstance(found, Skill) else None


def build_skill(func: Any, *, risky: bool = False) -> Skill:
    """Read the schema of ``func`` from its hints and docstring."""
    if not inspect.isfunction(func):
        raise SkillDefinitionError(f"@skill needs a plain function, got {type(func).__name__}")
    code = func.__code__
    return describe_skill(
        func,
        name=func.__name__,
        path=code.co_filename,
        line=code.co_firstlineno,
        params=list(inspect.signature(func).parameters.values()),
        doc=inspect.getdoc(func) or "",
        plain=not (inspect.iscoroutinefunction(func) or inspect.isgeneratorfunction(func)),
        hints=lambda: typing.get_type_hints(func),
        risky=risky,
    )


def describe_skill(
    func: Callable[..., Any],
    *,
    name: str,
    path: str,
    line: int,
    params: list[inspect.Parameter],
    doc: str,
    plain: bool,
    hints: Callable[[], Mapping[str, Any]],
    risky: bool = False,
) -> Skill:
    """The checks and schema of :func:`build_skill`, from parts that both a live function and
    its syntax tree can give: ``cradle skills check`` reads files without running them
    (:mod:`cradle.skills.static_check`) and must find the same problems."""

    def fail(message: str) -> SkillDefinitionError:
        return SkillDefinitionError(f"skill {name}: {message}", path=path, line=line)

    if not plain:
        raise fail("skills must be plain functions, not async functions or generators")
    if name.startswith("_"):
        raise fail("skill names must not start with an underscore")
    if not params or params[0].kind not in (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
    ):
        raise fail(
            "the first parameter must be the injected screen context, "
            "e.g. def f(ctx: SkillContext, ...)"
        )
    try:
        hint_of = hints()
    except Exception as exc:  # noqa: BLE001 - any failure to evaluate hints is a definition error
        raise fail(f"cannot evaluate type hints ({type(exc).__name__}: {exc})") from None

    summary, arg_docs = parse_docstring(doc)
    if not summary:
        raise fail("add a docstring whose first line says what the skill does")
    skill_params = [_model_param(p, hint_of, arg_docs, fail) for p in params[1:]]
    extra = set(arg_docs) - {p.name for p in skill_params} - {params[0].name}
    if extra:
        raise fail(f"the Args: section describes unknown parameters: {', '.join(sorted(extra))}")
    return Skill(
        name=name,
        summary=summary,
        params=tuple(skill_params),
        func=func,
        source_file=path,
        line=line,
        risky=risky,
        returns=hint_of.get("return", type(None)),
    )


def _model_param(
    p: inspect.Parameter,
    hint_of: Mapping[str, Any],
    arg_docs: Mapping[str, str],
    fail: Callable[[str], SkillDefinitionError],
) -> SkillParam:
    """One parameter the model sees: it needs a supported type hint and an ``Args:`` entry."""
    if p.kind not in _ALLOWED_KINDS:
        raise fail(f"parameter **{p.name} is not allowed; list each parameter")
    if p.name not in hint_of:
        raise fail(f"parameter {p.name!r} needs a type hint")
    annotation = hint_of[p.name]
    problem = _unsupported(annotation)
    if problem:
        raise fail(f"parameter {p.name!r}: {problem}")
    description = arg_docs.get(p.name)
    if not description:
        raise fail(f"parameter {p.name!r} needs an entry in the docstring's Args: section")
    return SkillParam(p.name, annotation, p.default, description, p.kind)


# --------------------------------------------------------------------------- docstrings

_SECTION = re.compile(
    r"^(Args|Arguments|Parameters|Returns|Return|Raises|Yields|Examples?|"
    r"Notes?|Attributes|See Also|Warnings?)\s*:\s*$"
)
_ARG_LINE = re.compile(r"^\*{0,2}(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*(\([^)]*\))?\s*:\s*(?P<d>.*)$")


def parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """Summary (first paragraph, joined) and ``{param: description}`` from ``Args:``."""
    lines = doc.expandtabs().splitlines()
    summary_lines: list[str] = []
    for raw in lines:
        text = raw.strip()
        if not text or _SECTION.match(text):
            break
        summary_lines.append(text)
    summary = " ".join(summary_lines)

    args: dict[str, str] = {}
    in_args = False
    entry_indent: int | None = None
    current: str | None = None
    for raw in lines:
        text = raw.strip()
        indent = len(raw) - len(raw.lstrip())
        match = _SECTION.match(text)
        if match:
            in_args = match.group(1) in ("Args", "Arguments", "Parameters")
            entry_indent, current = None, None
            continue
        if not in_args:
            continue
        if not text:
            current = None
            continue
        if entry_indent is None:
            entry_indent = indent
        m = _ARG_LINE.match(text)
        if indent <= entry_indent and m:
            current = m.group("name")
            args[current] = m.group("d").strip()
        elif current is not None and indent > entry_indent:
            args[current] = f"{args[current]} {text}".strip()
        elif indent < entry_indent:
            in_args = False
    return summary, args


# --------------------------------------------------------------------------- annotations

_SCALARS: tuple[Any, ...] = (str, int, float, bool, type(None))


def _unsupported(tp: Any) -> str | None:
    """Why ``tp`` cannot be shown to the model and validated, or ``None`` when it can."""
    if tp in _SCALARS:
        return None
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is Literal:
        bad = [a for a in args if not isinstance(a, str | int | float | bool)]
        return f"Literal values must be str, int, float or bool, not {bad!r}" if bad else None
    if origin in (typing.Union, types.UnionType):
        for a in args:
            if (why := _unsupported(a)) is not None:
                return why
        return None
    if origin in (list, tuple) and args:
        for a in args:
            if a is Ellipsis:
                continue
            if (why := _unsupported(a)) is not None:
                return why
        return None
    if origin is dict and len(args) == 2:
        if args[0] is not str:
            return "dict keys must be str"
        return _unsupported(args[1])
    return (
        f"type {format_annotation(tp)} is not supported; use str, int, float, bool, "
        "X | None, list[X], Literal[...]"
    )


def format_annotation(tp: Any) -> str:
    """How an annotation reads in the signature the model sees."""
    if tp is None or tp is type(None):
        return "None"
    if tp is _EMPTY:
        return "Any"
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is Literal:
        return f"Literal[{', '.join(repr(a) for a in args)}]"
    if origin in (typing.Union, types.UnionType):
        return " | ".join(format_annotation(a) for a in args)
    if origin is not None:
        inner = ", ".join("..." if a is Ellipsis else format_annotation(a) for a in args)
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]"
    if isinstance(tp, type):
        return tp.__name__
    return str(tp)


def _admits_bool(tp: Any) -> bool:
    if tp is bool or tp is _EMPTY or tp is Any:
        return True
    origin = typing.get_origin(tp)
    if origin is Literal:
        return any(isinstance(a, bool) for a in typing.get_args(tp))
    if origin in (typing.Union, types.UnionType):
        return any(_admits_bool(a) for a in typing.get_args(tp))
    return origin is not None and tp not in _SCALARS  # containers: checked element-wise


def _adapter(tp: Any) -> TypeAdapter[Any]:
    try:
        return TypeAdapter(tp, config=_ADAPTER_CONFIG)
    except Exception:  # noqa: BLE001 - types that carry their own config
        return TypeAdapter(tp)
