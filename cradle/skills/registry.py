"""The set of skills an agent may call, loaded from folders of plain Python files.

Each ``*.py`` file (not starting with ``_``) in the given folders is run as a fresh module and
its ``@skill`` functions are collected. Files from *untrusted* folders (model-written skills
saved by :func:`cradle.skills.curated.save_generated`) first pass
:func:`cradle.skills.checker.check_untrusted`; only their declarations run here, and each call
runs in a separate, OS-limited process (:mod:`cradle.skills.isolation`).

A skill calls another by plain name, without the context: ``hotkey("ctrl", "s")``. The names
in every skill module are :class:`SkillCaller` wrappers that look the target up in the registry
*at call time* (so load order and later reloads do not matter), validate the arguments like a
top-level action, and pass the :class:`~cradle.skills.context.SkillContext` held by a
``ContextVar`` that the executor sets while a skill runs.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import sys
import types
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cradle.errors import (
    ActionRejected,
    GeneratedSkillRejected,
    SkillDefinitionError,
    SkillExecutionError,
)
from cradle.skills import checker, untrusted
from cradle.skills.decorator import Skill, get_skill, skill
from cradle.skills.isolation import MAX_CALL_DEPTH, IsolatedSkill, SandboxLimits

if TYPE_CHECKING:
    from cradle.skills.context import SkillContext


_current_context: ContextVar[SkillContext | None] = ContextVar("cradle_skill_context", default=None)
_call_depth: ContextVar[int] = ContextVar("cradle_skill_depth", default=0)


def current_context() -> SkillContext:
    """The context of the skill running now; ``SkillExecutionError`` outside a skill."""
    ctx = _current_context.get()
    if ctx is None:
        raise SkillExecutionError("no skill is running (skills call skills only while running)")
    return ctx


@contextmanager
def skill_context(ctx: SkillContext) -> Iterator[SkillContext]:
    """Make ``ctx`` the context that skill-to-skill calls receive, for the ``with`` block."""
    token = _current_context.set(ctx)
    depth = _call_depth.set(0)
    try:
        yield ctx
    finally:
        _call_depth.reset(depth)
        _current_context.reset(token)


class SkillCaller:
    """What a skill module sees under a skill's name: call it without the context."""

    __slots__ = ("_registry", "_name")

    def __init__(self, registry: SkillRegistry, name: str):
        self._registry = registry
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"<skill {self._name}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        ctx = _current_context.get()
        if ctx is None:
            raise SkillExecutionError(
                f"{self._name}() needs a running skill; call it through the executor"
            )
        target, args_list, kwargs_dict = self._registry.prepare_call(self._name, args, kwargs, ctx)
        return self._registry.call_prepared(target, args_list, kwargs_dict, ctx)


@dataclass
class _Unit:
    """One loaded source: a file from a folder, or a generated source held in memory."""

    key: str
    """File path, or a ``<generated:...>`` name; also the code objects' filename."""
    path: Path | None
    trusted: bool
    stamp: tuple[int, int] | None = None
    skills: list[str] = field(default_factory=list)
    namespace: dict[str, Any] | None = None
    injected: set[str] = field(default_factory=set)
    module_name: str | None = None
    problem: SkillDefinitionError | None = None
    origin: dict[str, Any] = field(default_factory=dict)
    guarded: str | None = None
    """For a model-written source: the code its sandbox process runs."""
    calls: frozenset[str] = frozenset()
    """For a model-written source: the names it calls (to send only what a call can reach)."""


class SkillRegistry:
    """Skills by name, with the files they came from; see the module docstring."""

    def __init__(self, *, sandbox: SandboxLimits | None = None) -> None:
        self.sandbox = sandbox or SandboxLimits()
        self._skills: dict[str, Skill] = {}
        self._owner: dict[str, str] = {}
        self._units: dict[str, _Unit] = {}
        self._folders: list[tuple[Path, bool]] = []
        self._folder_problems: list[SkillDefinitionError] = []
        self._callers: dict[str, SkillCaller] = {}
        self._generated_count = 0

    # ---------------------------------------------------------------- loading

    @classmethod
    def load(
        cls,
        folders: Sequence[Path | str] = (),
        *,
        trusted: Sequence[Path | str] = (),
        untrusted: Sequence[Path | str] = (),
        sandbox: SandboxLimits | None = None,
    ) -> SkillRegistry:
        """Load every skill file in ``folders`` and ``trusted`` (as written), then ``untrusted``
        (checked, and run in limited processes). Broken files land in :attr:`problems`."""
        registry = cls(sandbox=sandbox)
        for folder in [*folders, *trusted]:
            registry._folders.append((Path(folder), True))
        for folder in untrusted:
            registry._folders.append((Path(folder), False))
        registry.reload_changed()
        return registry

    @property
    def problems(self) -> list[SkillDefinitionError]:
        """Why some files or folders could not be loaded (file and line in each)."""
        return [
            *self._folder_problems,
            *(u.problem for u in self._units.values() if u.problem is not None),
        ]

    def reload_changed(self) -> list[SkillDefinitionError]:
        """Re-load changed files, drop deleted ones, add new ones; returns new problems.

        Only ``stat`` calls when nothing changed. When something did change, files that failed
        before are retried too (a duplicate may have gone away), and failed files are retried
        while other files keep loading (a generated file may call a skill of a later file).
        """
        listing = self._list_files()
        changed = False
        for key, unit in list(self._units.items()):
            if unit.path is not None and key not in listing:
                self._drop(unit)
                del self._units[key]
                changed = True
        todo = [
            key
            for key, (_, trusted, stamp) in listing.items()
            if (unit := self._units.get(key)) is None
            or unit.stamp != stamp
            or unit.trusted != trusted
        ]
        if todo or changed:
            retry = [
                k
                for k, u in self._units.items()
                if u.problem is not None and u.path is not None and k not in todo
            ]
            todo = [k for k in listing if k in set(todo) | set(retry)]
        failed: dict[str, SkillDefinitionError] = {}
        changed = changed or bool(todo)
        while todo:
            progress = False
            for key in todo:
                path, trusted, stamp = listing[key]
                unit = self._load_file(path, trusted, stamp)
                if unit.problem is not None:
                    failed[key] = unit.problem
                else:
                    failed.pop(key, None)
                    progress = True
            # A generated file may call a skill from a file loaded after it: retry the failed
            # ones while others keep loading.
            todo = list(failed) if progress else []
        new_problems = list(failed.values())
        if changed:
            self._reorder(listing)
            self._inject_all()
        return new_problems

    def _list_files(self) -> dict[str, tuple[Path, bool, tuple[int, int]]]:
        listing: dict[str, tuple[Path, bool, tuple[int, int]]] = {}
        self._folder_problems = []
        for folder, trusted in self._folders:
            if folder.is_file():
                paths = [folder]  # one file given on its own (``cradle skills check FILE``)
            elif folder.is_dir():
                paths = [p for p in sorted(folder.glob("*.py")) if not p.name.startswith("_")]
            else:
                self._folder_problems.append(
                    SkillDefinitionError("skill folder does not exist", path=str(folder))
                )
                continue
            for path in paths:
                try:
                    st = path.stat()
                except OSError:
                    continue
                key = str(path.resolve())
                listing.setdefault(key, (path.resolve(), trusted, (st.st_mtime_ns, st.st_size)))
        return listing

    def _reorder(self, listing: dict[str, Any]) -> None:
        order = [k for k in listing if k in self._units]
        order += [k for k in self._units if k not in listing]
        self._units = {k: self._units[k] for k in order}
        self._skills = {
            name: self._skills[name]
            for k in order
            for name in self._units[k].skills
            if name in self._skills
        }

    def _load_file(self, path: Path, trusted: bool, stamp: tuple[int, int]) -> _Unit:
        key = str(path)
        old = self._units.pop(key, None)
        if old is not None:
            self._drop(old)
        unit = _Unit(key=key, path=path, trusted=trusted, stamp=stamp, origin={"file": key})
        try:
            if trusted:
                self._exec_trusted(unit, path.read_bytes())
            else:
                try:
                    source = path.read_text(encoding="utf-8")
                except UnicodeDecodeError as exc:
                    raise SkillDefinitionError(f"not UTF-8 text ({exc.reason})", path=key) from None
                try:
                    self._exec_untrusted(unit, source)
                except GeneratedSkillRejected as exc:
                    first = exc.problems[0] if exc.problems else None
                    raise SkillDefinitionError(
                        f"rejected by the untrusted-skill check: {exc}",
                        path=key,
                        line=getattr(first, "line", None),
                    ) from None
        except OSError as exc:
            unit.problem = SkillDefinitionError(f"cannot read file ({exc})", path=key)
        except SkillDefinitionError as exc:
            unit.problem = exc
        self._units[key] = unit
        return unit

    def _exec_trusted(self, unit: _Unit, source: bytes) -> None:
        key = unit.key
        try:
            # Python skips undecodable bytes in comments; a skill file is UTF-8 throughout, as
            # `cradle skills check` reads it.
            text = source.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SkillDefinitionError(
                f"not UTF-8 text ({exc.reason})",
                path=key,
                line=source.count(b"\n", 0, exc.start) + 1,
            ) from None
        try:
            code = compile(text, key, "exec", dont_inherit=True)
        except SyntaxError as exc:
            raise SkillDefinitionError(
                f"syntax error: {exc.msg}", path=key, line=exc.lineno
            ) from None
        except ValueError as exc:
            raise SkillDefinitionError(f"cannot compile: {exc}", path=key) from None
        digest = hashlib.sha1(key.encode()).hexdigest()[:8]
        stem = re.sub(r"\W", "_", Path(key).stem)
        module_name = f"cradle_skill_files.{stem}_{digest}"
        module = types.ModuleType(module_name)
        module.__file__ = key
        namespace = module.__dict__
        injected = self._inject(namespace, set())
        sys.modules[module_name] = module
        try:
            exec(code, namespace)  # noqa: S102 - trusted skill files are code the user installed
        except SkillDefinitionError as exc:
            sys.modules.pop(module_name, None)
            if exc.path is not None:
                raise
            # e.g. ``@skill(True)``: the decorator cannot know the file; the loader does.
            raise SkillDefinitionError(
                str(exc), path=key, line=_line_in(exc.__traceback__, key)
            ) from None
        except (Exception, SystemExit) as exc:
            sys.modules.pop(module_name, None)
            raise SkillDefinitionError(
                f"failed to load: {type(exc).__name__}: {exc}",
                path=key,
                line=_line_in(exc.__traceback__, key),
            ) from None
        unit.module_name = module_name
        self._register(unit, namespace, injected)

    def _exec_untrusted(self, unit: _Unit, source: str) -> None:
        problems = checker.check_untrusted(source, unit.key, known_skills=set(self._skills))
        if problems:
            raise GeneratedSkillRejected("; ".join(str(p) for p in problems), problems=problems)
        try:
            code = untrusted.compile_declarations(source, unit.key)
        except ValueError as exc:
            raise GeneratedSkillRejected(str(exc)) from None
        namespace: dict[str, Any] = {
            "__builtins__": dict(untrusted.DECLARATION_BUILTINS),
            "skill": skill,
            "__name__": "cradle_generated_skill",
        }
        try:
            exec(code, namespace)  # noqa: S102 - declarations only: every body is `pass`
        except SkillDefinitionError as exc:
            raise GeneratedSkillRejected(str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - report, never crash the loader
            raise GeneratedSkillRejected(f"failed to load: {type(exc).__name__}: {exc}") from None
        unit.guarded = untrusted.guarded_source(source, unit.key)
        unit.calls = untrusted.called_names(source)
        self._register(unit, namespace, set(), generated=True)
        unit.namespace = None  # nothing runs in it, so nothing is injected into it

    def add_untrusted(
        self, source: str, *, origin: dict[str, Any], filename: str | None = None
    ) -> list[Skill]:
        """Check, sandbox-load and register a model-written source; see ``load_untrusted``."""
        self._generated_count += 1
        digest = hashlib.sha1(source.encode("utf-8", "replace")).hexdigest()[:10]
        key = filename or f"<generated:{self._generated_count}:{digest}>"
        if key in self._units:
            raise GeneratedSkillRejected(f"a generated source named {key} is already loaded")
        unit = _Unit(key=key, path=None, trusted=False, origin=dict(origin))
        try:
            self._exec_untrusted(unit, source)
        except SkillDefinitionError as exc:
            raise GeneratedSkillRejected(str(exc)) from None
        self._units[key] = unit
        self._inject_all()
        return [self._skills[name] for name in unit.skills]

    # ---------------------------------------------------------------- registration

    def _register(
        self,
        unit: _Unit,
        namespace: dict[str, Any],
        injected: set[str],
        *,
        generated: bool = False,
    ) -> None:
        found: list[Skill] = []
        seen: set[int] = set()
        callers = self._callers
        for key, value in list(namespace.items()):
            if value is callers.get(key):
                continue  # an injected wrapper of another skill (most of the namespace)
            found_skill = get_skill(value)
            if found_skill is None or found_skill.source_file != unit.key:
                continue
            if id(found_skill) in seen:
                continue
            seen.add(id(found_skill))
            found.append(found_skill)
        if not found and not unit.trusted:
            raise GeneratedSkillRejected("the source defines no @skill function")
        # A file in an untrusted folder supersedes an in-memory generated source defining the
        # same skill: it is that source, saved by save_generated after add_untrusted.
        superseded: set[str] = set()
        if unit.path is not None and not unit.trusted:
            for s in found:
                owner = self._units.get(self._owner.get(s.name, ""))
                if owner is not None and owner.path is None:
                    superseded.add(owner.key)
        for s in found:
            other = self._skills.get(s.name)
            if other is not None and self._owner.get(s.name) not in superseded:
                message = (
                    f"duplicate skill {s.name!r}: already defined at "
                    f"{other.source_file}:{other.line}"
                )
                if generated:
                    raise GeneratedSkillRejected(message)
                raise SkillDefinitionError(message, path=s.source_file, line=s.line)
        for key in superseded:
            old = self._units.pop(key)
            self._drop(old)
            unit.origin = {**old.origin, **unit.origin}
        for s in found:
            func = IsolatedSkill(self, s.name, self.sandbox) if generated else s.func
            s = replace(s, generated=generated, origin=dict(unit.origin), func=func)
            self._skills[s.name] = s
            self._owner[s.name] = unit.key
            namespace[s.name] = self._caller(s.name)
        unit.skills = [s.name for s in found]
        unit.namespace = namespace
        unit.injected = {n for n in injected if namespace.get(n) is self._callers.get(n)}

    def _drop(self, unit: _Unit) -> None:
        for name in unit.skills:
            if self._owner.get(name) == unit.key:
                self._skills.pop(name, None)
                self._owner.pop(name, None)
        unit.skills = []
        if unit.module_name:
            sys.modules.pop(unit.module_name, None)

    def _caller(self, name: str) -> SkillCaller:
        caller = self._callers.get(name)
        if caller is None:
            caller = self._callers[name] = SkillCaller(self, name)
        return caller

    def _inject(self, namespace: dict[str, Any], injected: set[str]) -> set[str]:
        """Put wrappers of all skills into ``namespace`` without clobbering its own names."""
        result = set()
        for name in list(injected):
            if name not in self._skills and namespace.get(name) is self._callers.get(name):
                del namespace[name]
        # Set operations and dict.update in C: this runs once per loaded file over every
        # skill, so a Python loop here made loading 1,000 files quadratic in slow code.
        names = self._skills.keys()
        for name in names - self._callers.keys():
            self._caller(name)
        todo = (names - namespace.keys()) | (names & injected)
        namespace.update(zip(todo, map(self._callers.__getitem__, todo), strict=True))
        result.update(todo)
        return result

    def _inject_all(self) -> None:
        for unit in self._units.values():
            if unit.namespace is not None and unit.problem is None:
                own = set(unit.skills)
                unit.injected = self._inject(unit.namespace, unit.injected) - own

    def retire(self, name: str) -> Path | None:
        """Drop the model-written source that defines ``name`` (it hit a process limit);
        returns its file, which the caller deletes, or ``None`` for an in-memory source."""
        unit = self._units.get(self._owner.get(name, ""))
        if unit is None or unit.trusted:
            return None
        self._drop(unit)
        del self._units[unit.key]
        return unit.path

    # ---------------------------------------------------------------- calls between skills

    def prepare_call(
        self, name: str, args: Sequence[Any], kwargs: dict[str, Any], ctx: SkillContext
    ) -> tuple[Skill, list[Any], dict[str, Any]]:
        """Look up, validate and gate a call one skill makes to another.

        Raises ``SkillExecutionError`` (unknown skill, refused by the policy) or
        ``ActionRejected`` (arguments that do not fit).
        """
        target = self.get(name)
        if target is None:
            raise SkillExecutionError(f"skill {name!r} is no longer available")
        args_list, kwargs_dict = target.validate(args, kwargs)
        if ctx.guard is not None:
            from cradle.types import SkillCall

            refusal = ctx.guard(target, SkillCall(skill=name, args=args_list, kwargs=kwargs_dict))
            if refusal:
                raise SkillExecutionError(f"{name}: {refusal}")
        return target, args_list, kwargs_dict

    def call_prepared(
        self, target: Skill, args: list[Any], kwargs: dict[str, Any], ctx: SkillContext
    ) -> Any:
        """Run a call :meth:`prepare_call` let through, within the nesting bound."""
        depth = _call_depth.get()
        if depth >= MAX_CALL_DEPTH:
            raise SkillExecutionError(f"skills call each other more than {MAX_CALL_DEPTH} deep")
        token = _call_depth.set(depth + 1)
        try:
            return target.func(ctx, *args, **kwargs)
        finally:
            _call_depth.reset(token)

    # ---------------------------------------------------------------- queries

    def guarded_sources(self, name: str) -> list[tuple[str, str]]:
        """``(filename, code)`` of the model-written sources a call of ``name`` can reach (its
        own and those of the generated skills it calls, transitively), for the sandbox."""
        todo, chosen = [name], {}
        while todo:
            unit = self._units.get(self._owner.get(todo.pop(), ""))
            if unit is None or unit.guarded is None or unit.key in chosen:
                continue
            chosen[unit.key] = unit.guarded
            todo.extend(unit.calls)
        return list(chosen.items())

    def names(self) -> list[str]:
        return list(self._skills)

    def get(self, name: str) -> Skill | None:
        """The skill called ``name``, or ``None``."""
        return self._skills.get(name) if isinstance(name, str) else None

    def require(self, name: str) -> Skill:
        """The skill called ``name``; ``ActionRejected`` with close matches if unknown."""
        found = self.get(name)
        if found is None:
            close = difflib.get_close_matches(str(name), self.names(), n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ActionRejected(f"unknown skill {name!r}{hint}")
        return found

    def describe(self, names: Iterable[str] | None = None) -> str:
        """One signature line per skill (all, or the known ones among ``names``)."""
        if names is None:
            chosen = list(self._skills.values())
        else:
            chosen = [s for n in dict.fromkeys(names) if (s := self._skills.get(n)) is not None]
        return "\n".join(s.signature() for s in chosen)

    def source_files(self) -> frozenset[str]:
        """Code filenames of every loaded skill source (the executor's time limit watches them)."""
        return frozenset(self._units)

    def __len__(self) -> int:
        return len(self._skills)

    def __iter__(self) -> Iterator[Skill]:
        return iter(list(self._skills.values()))

    def __contains__(self, name: object) -> bool:
        return name in self._skills

    def __repr__(self) -> str:
        return f"<SkillRegistry {len(self)} skills, {len(self.problems)} problems>"


def _line_in(tb: types.TracebackType | None, filename: str) -> int | None:
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
