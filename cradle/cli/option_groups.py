"""Groups of command-line options defined once and shared by several commands.

A group is a dataclass whose fields are typer options (``Annotated[type, typer.Option(...)]``
with a default). A command takes the group as one parameter; :func:`option_groups` expands it
into the group's options in the signature typer reads (``inspect.signature`` honours
``__signature__``), and rebuilds the dataclass from the parsed values before the command's
body runs. So ``cradle run`` and ``cradle eval`` list the same flags with the same help and
defaults, and a body gets a few typed values instead of dozens of loose ones.

Defaults that belong to the settings (the model's name, the step budget, ...) are
:class:`SettingDefault`: read from the settings model when help is shown or the command
parses its flags, so the command line never restates them and building the command list
(every ``cradle`` invocation) does not import the engine that defines them.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, get_type_hints

F = TypeVar("F", bound=Callable[..., Any])


class SettingDefault:
    """A settings field's default, looked up when first needed. Click calls a callable
    default to get the value; typer's help shows ``str()`` of it. ``owner`` returns the
    settings class: a pydantic model or a dataclass."""

    def __init__(self, owner: Callable[[], type], field: str) -> None:
        self._owner = owner
        self._field = field

    def __call__(self) -> Any:
        owner = self._owner()
        if dataclasses.is_dataclass(owner):
            field = next(f for f in dataclasses.fields(owner) if f.name == self._field)
            if field.default_factory is not dataclasses.MISSING:
                return field.default_factory()
            return field.default
        return owner.model_fields[self._field].get_default(call_default_factory=True)

    def __str__(self) -> str:
        return str(self())

    def __repr__(self) -> str:
        return f"SettingDefault({self._field})"


def given(ctx: Any, name: str) -> bool:
    """Whether the user set option ``name`` of the command ``ctx`` runs (a typer or click
    context), and did not just get its default."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name != "DEFAULT"


def is_group(annotation: Any) -> bool:
    """Whether a parameter's annotation is an option group (a dataclass)."""
    return isinstance(annotation, type) and dataclasses.is_dataclass(annotation)


def group_parameters(group: type) -> list[inspect.Parameter]:
    """The group's fields as keyword-only parameters with their typer annotations; a field
    that is itself a group is expanded in its place."""
    hints = get_type_hints(group, include_extras=True)
    parameters: list[inspect.Parameter] = []
    for field in dataclasses.fields(group):
        if is_group(hints[field.name]):
            parameters.extend(group_parameters(hints[field.name]))
            continue
        default = inspect.Parameter.empty if field.default is dataclasses.MISSING else field.default
        parameters.append(
            inspect.Parameter(
                field.name,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=hints[field.name],
                default=default,
            )
        )
    return parameters


def build_group(group: type, values: dict[str, Any]) -> Any:
    """The group (and the groups inside it) from parsed ``values``, which it takes out."""
    hints = get_type_hints(group, include_extras=True)
    return group(
        **{
            field.name: build_group(hints[field.name], values)
            if is_group(hints[field.name])
            else values.pop(field.name)
            for field in dataclasses.fields(group)
        }
    )


def option_groups(command: F) -> F:
    """``command`` with each option-group parameter expanded into the group's options for
    typer, and the groups rebuilt from the parsed values when it is called."""
    signature = inspect.signature(command, eval_str=True)
    groups: dict[str, type] = {}
    parameters: list[inspect.Parameter] = []
    for parameter in signature.parameters.values():
        if is_group(parameter.annotation):
            groups[parameter.name] = parameter.annotation
            parameters.extend(group_parameters(parameter.annotation))
        else:
            parameters.append(parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY))
    names = [parameter.name for parameter in parameters]
    if len(set(names)) != len(names):
        raise TypeError(f"{command.__name__}: an option name is used twice: {sorted(names)}")

    @functools.wraps(command)
    def expanded(**values: Any) -> Any:
        for name, group in groups.items():
            values[name] = build_group(group, values)
        return command(**values)

    del expanded.__wrapped__  # typer must read the expanded signature, not the original
    expanded.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    expanded.__annotations__ = {p.name: p.annotation for p in parameters}
    return expanded  # type: ignore[return-value]
