"""The set of skills an agent may call, loaded from folders of plain Python files.

Each skill file (:mod:`cradle.skills.folders`) is run as a module of its folder's package
(:mod:`cradle.skills.loader`) and its ``@skill`` functions are collected. Files from
*untrusted* folders (model-written skills saved by :func:`cradle.skills.curated.save_generated`)
first pass :func:`cradle.skills.checker.check_untrusted`; only their declarations run here, and
each call runs in a separate, OS-limited process (:mod:`cradle.skills.isolation`).

A skill calls another through its context, ``ctx.call(hotkey, "ctrl", "s")``: the registry
is what the executor puts in ``SkillContext.skills``, and :meth:`SkillRegistry.call` looks the
target up by name *at call time*, validates and gates the call (:mod:`cradle.skills.calls`).
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from cradle.errors import ActionRejected, GeneratedSkillRejected, SkillDefinitionError
from cradle.skills.calls import call_prepared, prepare_call
from cradle.skills.decorator import Skill, get_skill
from cradle.skills.folders import Listing, Stamp, list_files
from cradle.skills.isolation import IsolatedSkill, SandboxLimits
from cradle.skills.loader import declare_untrusted, exec_trusted, forget

if TYPE_CHECKING:
    from cradle.skills.context import SkillContext


@dataclass
class _Unit:
    """One loaded source: a file from a folder, or a generated source held in memory."""

    key: str
    """File path, or a ``<generated:...>`` name; also the code objects' filename."""
    path: Path | None
    trusted: bool
    stamp: Stamp | None = None
    skills: list[str] = field(default_factory=list)
    module: ModuleType | None = None
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
        listing, self._folder_problems = list_files(self._folders)
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
        failed = self._load_all(todo, listing)
        if changed or todo:
            self._reorder(listing)
        return failed

    def _load_all(self, todo: list[str], listing: Listing) -> list[SkillDefinitionError]:
        """Load ``todo``; a generated file may call a skill from a file loaded after it, so
        the failed ones are retried while others keep loading."""
        failed: dict[str, SkillDefinitionError] = {}
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
            todo = list(failed) if progress else []
        return list(failed.values())

    def _reorder(self, listing: Listing) -> None:
        order = [k for k in listing if k in self._units]
        order += [k for k in self._units if k not in listing]
        self._units = {k: self._units[k] for k in order}
        self._skills = {
            name: self._skills[name]
            for k in order
            for name in self._units[k].skills
            if name in self._skills
        }

    def _load_file(self, path: Path, trusted: bool, stamp: Stamp) -> _Unit:
        key = str(path)
        old = self._units.pop(key, None)
        if old is not None:
            self._drop(old)
        unit = _Unit(key=key, path=path, trusted=trusted, stamp=stamp, origin={"file": key})
        try:
            if trusted:
                unit.module = exec_trusted(key, path.read_bytes())
                self._register(unit, vars(unit.module))
            else:
                self._load_untrusted_file(unit, path)
        except OSError as exc:
            unit.problem = SkillDefinitionError(f"cannot read file ({exc})", path=key)
        except SkillDefinitionError as exc:
            unit.problem = exc
        self._units[key] = unit
        return unit

    def _load_untrusted_file(self, unit: _Unit, path: Path) -> None:
        try:
            source = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise SkillDefinitionError(f"not UTF-8 text ({exc.reason})", path=unit.key) from None
        try:
            self._declare(unit, source)
        except GeneratedSkillRejected as exc:
            first = exc.problems[0] if exc.problems else None
            raise SkillDefinitionError(
                f"rejected by the untrusted-skill check: {exc}",
                path=unit.key,
                line=getattr(first, "line", None),
            ) from None

    def _declare(self, unit: _Unit, source: str) -> None:
        declared = declare_untrusted(source, unit.key, set(self._skills))
        unit.guarded, unit.calls = declared.guarded, declared.calls
        self._register(unit, declared.namespace, generated=True)

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
            self._declare(unit, source)
        except SkillDefinitionError as exc:
            raise GeneratedSkillRejected(str(exc)) from None
        self._units[key] = unit
        return [self._skills[name] for name in unit.skills]

    # ---------------------------------------------------------------- registration

    def _register(
        self, unit: _Unit, namespace: Mapping[str, Any], *, generated: bool = False
    ) -> None:
        found = self._defined_in(unit, namespace)
        if not found and not unit.trusted:
            raise GeneratedSkillRejected("the source defines no @skill function")
        superseded = self._superseded_by(unit, found)
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
        unit.skills = [s.name for s in found]

    @staticmethod
    def _defined_in(unit: _Unit, namespace: Mapping[str, Any]) -> list[Skill]:
        """The skills ``unit``'s own code defines (not the ones it imports)."""
        found: dict[int, Skill] = {}
        for value in list(namespace.values()):
            defined = get_skill(value)
            if defined is not None and defined.source_file == unit.key:
                found.setdefault(id(defined), defined)
        return list(found.values())

    def _superseded_by(self, unit: _Unit, found: list[Skill]) -> set[str]:
        """A file in an untrusted folder supersedes an in-memory generated source defining
        the same skill: it is that source, saved by save_generated after add_untrusted."""
        superseded: set[str] = set()
        if unit.path is not None and not unit.trusted:
            for s in found:
                owner = self._units.get(self._owner.get(s.name, ""))
                if owner is not None and owner.path is None:
                    superseded.add(owner.key)
        return superseded

    def _drop(self, unit: _Unit) -> None:
        for name in unit.skills:
            if self._owner.get(name) == unit.key:
                self._skills.pop(name, None)
                self._owner.pop(name, None)
        unit.skills = []
        if unit.module is not None:
            forget(unit.module)

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

    def call(
        self, ctx: SkillContext, name: str, args: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> Any:
        """Run the skill ``name`` for a running skill (``ctx.call``): validated, asked of the
        context's guard, one level deeper; see :mod:`cradle.skills.calls`."""
        target, args_list, kwargs_dict = prepare_call(self, name, args, kwargs, ctx)
        return call_prepared(target, args_list, kwargs_dict, ctx)

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
