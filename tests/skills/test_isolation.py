"""Model-written skills run in a separate, OS-limited process; their calls come back through
the same gates as the model's own actions."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cradle.errors import GeneratedSkillRejected, SkillExecutionError, SkillKilled
from cradle.gate.executor import execute
from cradle.skills import SkillContext, SkillRegistry, load_untrusted, parse_action
from cradle.skills.isolation import (
    CHILD_SCRIPT,
    IsolatedSkill,
    SandboxLimits,
    _Child,
    _child_env,
)

HEADER = "from cradle.skills import skill\n\n\n"


def _one_skill(name: str, body: str, params: str = "") -> str:
    args_doc = "".join(
        f"\n        {p.split(':')[0].strip()}: A value." for p in params.split(",") if p.strip()
    )
    doc = f'"""Do {name}.\n\n    Args:{args_doc}\n    """' if params else f'"""Do {name}."""'
    sep = ", " if params else ""
    return f"{HEADER}@skill\ndef {name}(screen{sep}{params}) -> int:\n    {doc}\n{body}\n"


HUGE_STRINGS = _one_skill(
    "blow_up",
    f"""    x = [{10**300}] * 200000
    n = len(min(str(x), str(x), str(x), str(x)))
    return n""",
)

FOREVER = _one_skill(
    "forever",
    """    total = 0
    for i in range(10000):
        for j in range(10000):
            for k in range(10000):
                total += 1
    return total""",
)


def _run(source: str, registry: SkillRegistry, ctx: SkillContext, timeout: float = 5.0):
    return execute(parse_action(source, registry), registry, ctx, timeout=timeout)


def test_model_written_skill_runs_in_another_process(registry, ctx) -> None:
    [added] = load_untrusted(
        _one_skill("double", "    return n * 2", "n: int"), registry, origin={}
    )
    assert isinstance(added.func, IsolatedSkill)
    assert _run("double(n=21)", registry, ctx) == 42


def test_builtin_results_meet_the_size_limit_and_end_fast(registry, ctx) -> None:
    load_untrusted(HUGE_STRINGS, registry, origin={})
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.monotonic()
    with pytest.raises(SkillKilled, match="blow_up: stopped at the memory limit") as info:
        _run("blow_up()", registry, ctx)
    assert info.value.reason == "memory"
    assert time.monotonic() - start < 5
    # The huge values were built in the child: this process did not grow by them.
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 50


def test_address_space_limit_stops_code_the_guards_never_saw() -> None:
    # Unchecked, unguarded code sent straight to the child: only the OS limit stands.
    request = {
        "sources": [
            [
                "<raw>",
                "@skill\ndef grab(screen):\n    x = 'a' * (600 * 1024 * 1024)\n    return len(x)\n",
            ]
        ],
        "skills": ["grab"],
        "skill": "grab",
        "args": [],
        "kwargs": {},
        "limits": SandboxLimits(memory_mb=128).for_child(10),
    }
    with _Child(max_message_bytes=100_000, deadline=time.monotonic() + 20) as child:
        child.send(request)
        reply = child.receive(time.monotonic() + 20)
    assert reply is not None and reply["op"] == "error" and reply["kind"] == "memory"
    assert "MemoryError" in reply["message"]


def test_wall_clock_deadline_kills_the_process(registry, ctx) -> None:
    load_untrusted(FOREVER, registry, origin={})
    start = time.monotonic()
    with pytest.raises(SkillKilled, match="forever: stopped after the time limit of 1.2 s") as info:
        _run("forever()", registry, ctx, timeout=1.2)
    assert info.value.reason == "time"
    assert time.monotonic() - start < 4


def test_context_deadline_bounds_the_call(registry, ctx) -> None:
    # Only the end of the run's budget was left: the call stops, but the skill is not judged.
    load_untrusted(FOREVER, registry, origin={})
    ctx.deadline = time.monotonic() + 0.3
    start = time.monotonic()
    with pytest.raises(SkillExecutionError, match="time limit") as info:
        _run("forever()", registry, ctx, timeout=30)
    assert not isinstance(info.value, SkillKilled)
    assert time.monotonic() - start < 3


def test_a_child_that_stops_reading_is_killed_by_the_watchdog(
    registry, ctx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A child that floods calls and never reads the answers: the parent blocks writing them.
    import cradle.skills.isolation as isolation

    flood = tmp_path / "flood.py"
    call = json.dumps({"op": "call", "skill": "wait", "args": [0], "kwargs": {}})
    flood.write_text(
        "import sys\nsys.stdin.readline()\nwhile True:\n"
        f"    sys.stdout.write({call + chr(10)!r})\n    sys.stdout.flush()\n"
    )
    monkeypatch.setattr(isolation, "CHILD_SCRIPT", flood)
    load_untrusted(FOREVER, registry, origin={})
    start = time.monotonic()
    with pytest.raises(SkillExecutionError, match="time limit"):
        _run("forever()", registry, ctx, timeout=1.5)
    assert time.monotonic() - start < 1.5 + isolation.WATCHDOG_GRACE + 2


def test_calls_to_other_skills_pass_the_guard(registry, ctx) -> None:
    source = _one_skill("sign", '    type_text(text="Regards")\n    return 1')
    load_untrusted(source, registry, origin={})
    refused: list[str] = []

    def guard(skill, call) -> str:
        refused.append(call.skill)
        return "denied by the test" if call.skill == "type_text" else ""

    ctx.guard = guard
    with pytest.raises(SkillExecutionError, match="type_text: denied by the test"):
        _run("sign()", registry, ctx)
    assert refused == ["type_text"]


def test_generated_skill_calls_generated_skill_and_trusted_skill(registry, ctx, screen) -> None:
    source = (
        HEADER
        + '''@skill
def inner(screen, word: str) -> str:
    """Type a word.

    Args:
        word: The word.
    """
    type_text(text=word)
    return word + "!"


@skill
def outer(screen) -> str:
    """Type twice."""
    a = inner(word="one")
    b = inner(word="two")
    return a + b
'''
    )
    load_untrusted(source, registry, origin={})
    assert _run("outer()", registry, ctx) == "one!two!"
    assert screen.calls == [("type_text", "one"), ("type_text", "two")]


def test_checker_rejects_a_2000_term_expression_without_recursion_error(registry) -> None:
    rows = [" + ".join(["1"] * 40)] * 50  # 2,000 terms on 50 lines of one expression
    expr = "(" + " +\n        ".join(rows) + ")"
    source = _one_skill("sum_many", f"    return {expr}")
    with pytest.raises(GeneratedSkillRejected, match="nested more than 100 levels"):
        load_untrusted(source, registry, origin={})


def test_child_environment_carries_no_keys(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-must-not-leak")
    env = _child_env(str(tmp_path))
    assert "OPENAI_API_KEY" not in env and env["HOME"] == str(tmp_path)


def test_child_limits_itself_before_running_code(tmp_path: Path) -> None:
    probe = (
        "import resource, runpy, sys\n"
        f"mod = runpy.run_path({str(CHILD_SCRIPT)!r})\n"
        "mod['limit_self']({'memory_bytes': 200 * 2**20, 'cpu_seconds': 3, 'open_files': 12})\n"
        "print([resource.getrlimit(getattr(resource, n))[0] for n in "
        "('RLIMIT_AS', 'RLIMIT_CPU', 'RLIMIT_NOFILE', 'RLIMIT_FSIZE')])\n"
        "try:\n    with open('x', 'w') as f:\n        f.write('data')\n"
        "except OSError as e:\n    print('write', e.errno)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == str([200 * 2**20, 3, 12, 0])
    assert lines[1].startswith("write ")  # file size limit 0: nothing can be written
    assert not (tmp_path / "x").exists() or (tmp_path / "x").stat().st_size == 0


def test_a_killed_child_leaves_no_process(registry, ctx) -> None:
    load_untrusted(FOREVER, registry, origin={})
    with pytest.raises(SkillExecutionError):
        _run("forever()", registry, ctx, timeout=0.3)
    time.sleep(0.2)
    ours = subprocess.run(["pgrep", "-f", str(CHILD_SCRIPT)], capture_output=True, text=True)
    assert str(os.getpid()) not in ours.stdout  # nothing of ours left running
    assert ours.stdout.strip() == "" or all(
        Path(f"/proc/{pid}/status").read_text().find(f"PPid:\t{os.getpid()}") < 0
        for pid in ours.stdout.split()
        if Path(f"/proc/{pid}").exists()
    )


def test_at_most_a_few_proposals_are_checked_per_step(registry, screen, tmp_path: Path) -> None:
    from cradle.gate.runner import MAX_NEW_SKILLS, ActionRunner

    runner = ActionRunner(registry=registry, screen=screen, generated_dir=None, run_id="r")
    sources = [_one_skill(f"made_{i}", "    return 1") for i in range(50)]
    verdicts = runner.curate(sources, task="t")
    assert [v["accepted"] for v in verdicts] == [True] * MAX_NEW_SKILLS + [False]
    assert "were not read" in verdicts[-1]["reason"]
    assert "made_5" not in registry


def test_a_call_ships_only_the_sources_it_can_reach(registry) -> None:
    load_untrusted(_one_skill("leaf", "    return 1"), registry, origin={})
    load_untrusted(_one_skill("middle", "    return leaf() + 1"), registry, origin={})
    load_untrusted(_one_skill("apart", "    return 3"), registry, origin={})
    reached = "\n".join(code for _, code in registry.guarded_sources("middle"))
    assert "def middle" in reached and "def leaf" in reached and "def apart" not in reached
    assert len(registry.guarded_sources("apart")) == 1


ESCAPE = (
    HEADER + "@skill\ndef hello(screen: [g := (g.gi_frame.f_back.f_globals for _ in [0]), "
    'list(g)]) -> None:\n    """Say hello."""\n    pass\n'
)


def test_the_screen_parameter_takes_no_annotation(registry) -> None:
    # Annotations are evaluated when the declaration loads in cradle's own process.
    from cradle.skills import check_untrusted

    problems = check_untrusted(ESCAPE)
    assert any("screen parameter takes no annotation" in p.reason for p in problems)
    with pytest.raises(GeneratedSkillRejected):
        load_untrusted(ESCAPE, registry, origin={})
    assert "hello" not in registry


@pytest.mark.parametrize(
    "signature",
    [
        "screen: [g := 1]",
        "screen, n: int = (lambda: 1)()",
        "screen, n: os.path = 1",
        "screen) -> (9 ** 9",
    ],
)
def test_declarations_refuse_any_signature_beyond_types_and_literals(signature: str) -> None:
    import ast

    from cradle.skills.untrusted import _require_plain_signature

    func = ast.parse(f"def f({signature}): pass").body[0]
    with pytest.raises(ValueError, match="its signature holds"):
        _require_plain_signature(func)
    ok = ast.parse(
        "@skill(risky=True)\ndef f(screen, n: int | None = -1, *, s: list[str] = 'x') -> str: pass"
    ).body[0]
    _require_plain_signature(ok)
