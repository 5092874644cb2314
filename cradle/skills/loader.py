"""Running skill files: a trusted file as a module of its folder's package, a model-written
source as declarations only.

A trusted file runs as an ordinary module, so it imports the skills it uses as ordinary
Python: ``from skills.keyboard import hotkey`` for the shared skills (the folder is the
package ``skills``, in a checkout and in an installed wheel alike, as an editor opened on the
repository resolves it), ``from .save import save`` for a file beside it (every other folder
is a package of its own, ``cradle_skill_files.f<digest>``). If another ``skills`` package is
already imported, the shared folder gets a private name too and only relative imports work.

A model-written source is checked first (:func:`cradle.skills.checker.check_untrusted`) and
only its declarations run here (:mod:`cradle.skills.untrusted`); its bodies run in a
limited child process.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cradle.errors import GeneratedSkillRejected, SkillDefinitionError
from cradle.paths import shared_skills_dir
from cradle.skills.checker import check_untrusted
from cradle.skills.decorator import skill
from cradle.skills.free_names import free_names
from cradle.skills.untrusted import (
    DECLARATION_BUILTINS,
    called_names,
    compile_declarations,
    guarded_source,
)

SHARED_PACKAGE = "skills"
"""What skill files import the shared skills as: ``from skills.mouse import click``."""
PRIVATE_ROOT = "cradle_skill_files"
_OURS = "__cradle_skill_folder__"


def exec_trusted(key: str, source: bytes) -> types.ModuleType:
    """Run the trusted file ``key`` as a module of its folder's package, registered in
    ``sys.modules``; ``SkillDefinitionError`` with file and line when it does not load."""
    tree, code = _compile(key, source)
    name = _module_name(Path(key))
    spec = importlib.util.spec_from_file_location(name, key)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        exec(code, module.__dict__)  # noqa: S102 - trusted skill files are code the user installed
    except SkillDefinitionError as exc:
        forget(module)
        if exc.path is not None:
            raise
        # e.g. ``@skill(True)``: the decorator cannot know the file; the loader does.
        raise SkillDefinitionError(
            str(exc), path=key, line=_line_in(exc.__traceback__, key)
        ) from None
    except (Exception, SystemExit) as exc:
        forget(module)
        raise SkillDefinitionError(
            f"failed to load: {type(exc).__name__}: {exc}",
            path=key,
            line=_line_in(exc.__traceback__, key),
        ) from None
    for free, line in free_names(tree, module.__dict__):
        forget(module)
        raise SkillDefinitionError(
            f"{free} is used but never defined or imported: a skill file imports what it "
            f"uses (`from skills.<file> import {free}` for a shared skill, then "
            f"`ctx.call({free}, ...)`)",
            path=key,
            line=line,
        )
    package, _, stem = name.rpartition(".")
    setattr(sys.modules[package], stem, module)
    return module


def forget(module: types.ModuleType) -> None:
    """Take a loaded skill module out of ``sys.modules`` (unless a newer one took its name)."""
    if sys.modules.get(module.__name__) is module:
        del sys.modules[module.__name__]


def _compile(key: str, source: bytes) -> tuple[ast.Module, types.CodeType]:
    """The file's tree (for :func:`free_names`) and its code, parsed once."""
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
        tree = ast.parse(text, key)
        return tree, compile(tree, key, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise SkillDefinitionError(f"syntax error: {exc.msg}", path=key, line=exc.lineno) from None
    except ValueError as exc:
        raise SkillDefinitionError(f"cannot compile: {exc}", path=key) from None


def _module_name(path: Path) -> str:
    stem = path.stem if path.stem.isidentifier() else "_" + path.stem.replace(".", "_")
    return f"{_package(path.parent)}.{stem}"


def _package(folder: Path) -> str:
    """The package the files of ``folder`` belong to, registered in ``sys.modules``; the
    shared skills are registered too, as every trusted file may import them."""
    shared = shared_skills_dir().resolve()
    if folder == shared and not _importable_elsewhere(SHARED_PACKAGE, shared):
        if _claim(SHARED_PACKAGE, shared):
            return SHARED_PACKAGE
    if PRIVATE_ROOT not in sys.modules:
        root = types.ModuleType(PRIVATE_ROOT, "Packages of the loaded skill folders.")
        root.__path__ = []
        sys.modules[PRIVATE_ROOT] = root
    digest = hashlib.sha1(str(folder).encode()).hexdigest()[:10]
    name = f"{PRIVATE_ROOT}.f{digest}"
    _claim(name, folder)
    return name


def _importable_elsewhere(name: str, folder: Path) -> bool:
    """Whether ``import name`` would find a package other than ``folder`` (a project of the
    user's own called ``skills``): then the shared skills take a private name rather than
    hide it. A package already claimed for ``folder`` is not elsewhere."""
    found = sys.modules.get(name)
    if found is not None:
        paths = [Path(p).resolve() for p in getattr(found, "__path__", [])]
        return not getattr(found, _OURS, False) and folder not in paths
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return False
    if spec is None:
        return False
    places = {Path(p).resolve() for p in spec.submodule_search_locations or []}
    return places != {folder}


def _claim(name: str, folder: Path) -> bool:
    """Make ``name`` the package of ``folder``; False if another package already has it."""
    found = sys.modules.get(name)
    if found is not None:
        paths = [Path(p) for p in getattr(found, "__path__", [])]
        if folder in paths:
            return True
        if not getattr(found, _OURS, False):
            return False
        # The shared folder moved (another CRADLE_HOME): its modules go with it.
        for key in [k for k in sys.modules if k.startswith(name + ".")]:
            del sys.modules[key]
    package = types.ModuleType(name, f"The skill files of {folder}.")
    package.__path__ = [str(folder)]
    package.__package__ = name
    setattr(package, _OURS, True)
    sys.modules[name] = package
    return True


@dataclass(frozen=True)
class Declared:
    """A checked model-written source: its declarations, and what its sandbox runs."""

    namespace: dict[str, Any]
    guarded: str
    calls: frozenset[str]


def declare_untrusted(source: str, key: str, known_skills: set[str]) -> Declared:
    """Check ``source`` and run its declarations (every body is ``pass``); raises
    ``GeneratedSkillRejected`` with the checker's problems."""
    problems = check_untrusted(source, key, known_skills=known_skills)
    if problems:
        raise GeneratedSkillRejected("; ".join(str(p) for p in problems), problems=problems)
    try:
        code = compile_declarations(source, key)
    except ValueError as exc:
        raise GeneratedSkillRejected(str(exc)) from None
    namespace: dict[str, Any] = {
        "__builtins__": dict(DECLARATION_BUILTINS),
        "skill": skill,
        "__name__": "cradle_generated_skill",
    }
    try:
        exec(code, namespace)  # noqa: S102 - declarations only: every body is `pass`
    except SkillDefinitionError as exc:
        raise GeneratedSkillRejected(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - report, never crash the loader
        raise GeneratedSkillRejected(f"failed to load: {type(exc).__name__}: {exc}") from None
    return Declared(namespace, guarded_source(source, key), called_names(source))


def _line_in(tb: types.TracebackType | None, filename: str) -> int | None:
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
