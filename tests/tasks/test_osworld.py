"""OSWorld-style task JSON: what translates is judged as OSWorld would judge it, the rest is
skipped with a precise reason. The items below are written in OSWorld's format (``config`` of
``{type, parameters}``, ``evaluator`` with ``func``/``result``/``expected``), paths in the VM's
home ``/home/user``."""

from __future__ import annotations

import json
import os
import signal
import uuid
from pathlib import Path
from typing import Any

import pytest

from cradle.tasks import EpisodePlace, judge, load_tasks, run_setup
from cradle.tasks.osworld import translate
from cradle.tasks.osworld_config import shell_command, shell_word
from cradle.types import Task

IDLE_DELAY = {
    "id": "bb5e4c0d-f964-439c-97b6-bdb9747de3f4",
    "snapshot": "os",
    "instruction": "Set the idle delay to 0 in the settings file in my home folder.",
    "source": "https://help.ubuntu.com/",
    "config": [
        {
            "type": "execute",
            "parameters": {
                "command": "mkdir -p /home/user/.cfg && echo 300 > '/home/user/.cfg/idle delay'",
                "shell": True,
            },
        },
        {"type": "sleep", "parameters": {"seconds": 0.1}},
    ],
    "trajectory": "trajectories/",
    "related_apps": ["os"],
    "evaluator": {
        "func": "exact_match",
        "result": {"type": "vm_command_line", "command": ["cat", "/home/user/.cfg/idle delay"]},
        "expected": {"type": "rule", "rules": {"expected": "0\n"}},
    },
}


def _stop_process(job: str) -> dict[str, Any]:
    """An OS task on a process (named ``job``, unique so that runs at once do not meet)."""
    return {
        "id": "os-stop-process",
        "instruction": f"The program {job} is running; end it.",
        "config": [
            {
                "type": "execute",
                "parameters": {
                    "command": f"printf 'while true; do sleep 1; done' > {job}; "
                    f"nohup sh ./{job} >/dev/null 2>&1 & echo $! > job.pid",
                    "shell": True,
                },
            }
        ],
        "evaluator": {
            "postconfig": [{"type": "sleep", "parameters": {"seconds": 0.2}}],
            "func": "check_include_exclude",
            "result": {
                "type": "vm_command_line",
                "command": f"ps -eo args | grep {job[:-1]}[h]",
                "shell": True,
            },
            "expected": {"type": "rule", "rules": {"include": [], "exclude": [f"./{job}"]}},
        },
    }


NOTES = {
    "id": "notes-and-settings",
    "instruction": "Write 'buy milk' in Desktop/notes.txt and turn dark mode on in prefs.json.",
    "config": [
        {"type": "command", "parameters": {"command": ["mkdir", "-p", "/home/user/Desktop"]}}
    ],
    "evaluator": {
        "func": ["file_contains", "check_json", "check_list"],
        "result": [
            {"type": "vm_file", "path": "/home/user/Desktop/notes.txt", "dest": "notes.txt"},
            {"type": "vm_file", "path": "/home/user/prefs.json", "dest": "prefs.json"},
            {"type": "vm_file", "path": "/home/user/Desktop/notes.txt", "dest": "notes.txt"},
        ],
        "expected": [
            {"type": "rule", "rules": {"expected": ["buy milk"]}},
            {
                "type": "rule",
                "rules": {
                    "expect": [
                        {"key": ["ui", "theme"], "method": "eq", "ref": "dark"},
                        {"key": ["ui", "scale"], "method": "eq", "ref": 2},
                    ]
                },
            },
            {"type": "rule", "rules": {"expect": [r"^buy \w+$"]}},
        ],
        "options": [{}, {"is_yaml": False}, {}],
    },
    "max_steps": 30,
}


def _translated(item: dict[str, Any]) -> dict[str, Any]:
    task, reason = translate(item, source="examples/x.json")
    assert task is not None, reason
    assert reason == ""
    return task


def _place(tmp_path: Path) -> EpisodePlace:
    return EpisodePlace.create(tmp_path / "episode", base_env=dict(os.environ))


def _episode(item: dict[str, Any], tmp_path: Path) -> tuple[Task, EpisodePlace]:
    """The translated task, loaded through the loader, with its setup run in a new place."""
    path = tmp_path / "osworld" / "task.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(item))
    tasks = load_tasks([path])
    assert tasks.skipped == []
    task = tasks.tasks[0]
    place = _place(tmp_path)
    assert run_setup(task, place) == ""
    return task, place


def test_an_os_task_translates_onto_the_desktop_with_its_fields() -> None:
    task = _translated(IDLE_DELAY)
    assert task["id"] == IDLE_DELAY["id"]
    assert task["instruction"] == IDLE_DELAY["instruction"]
    assert task["environment"] == "desktop"
    assert "max_steps" not in task  # the default applies
    assert task["setup"][0]["run"].startswith('mkdir -p "$HOME"/.cfg && echo 300 > \'\'"$HOME"')
    assert task["setup"][1] == {"sleep": 0.1}
    assert [next(iter(check)) for check in task["check"]] == ["command"]
    assert _translated(NOTES)["max_steps"] == 30


def test_exact_match_fails_on_the_untouched_start_and_passes_when_done(tmp_path: Path) -> None:
    task, place = _episode(IDLE_DELAY, tmp_path)
    assert (place.home / ".cfg" / "idle delay").read_text() == "300\n"
    verdict = judge(task, place)
    assert not verdict.success
    assert "the output differs: 300" in verdict.checks[0].detail
    (place.home / ".cfg" / "idle delay").write_text("0")  # no newline: OSWorld compares exactly
    assert not judge(task, place).success
    (place.home / ".cfg" / "idle delay").write_text("0\n")
    assert judge(task, place).success


def test_include_exclude_and_a_postconfig_sleep(tmp_path: Path) -> None:
    job = f"job_{uuid.uuid4().hex[:8]}.sh"
    task, place = _episode(_stop_process(job), tmp_path)
    assert task.check[0].command == "sleep 0.2"
    pid = int((place.home / "job.pid").read_text())
    try:
        verdict = judge(task, place)
        assert not verdict.success
        assert verdict.checks[0].passed
        assert f"the output has exclude 1: sh ./{job}" in verdict.checks[1].detail
    finally:
        os.kill(pid, signal.SIGKILL)
    assert judge(task, place).success


def test_file_checks_from_file_contains_check_json_and_check_list(tmp_path: Path) -> None:
    task, place = _episode(NOTES, tmp_path)
    files = [check.file for check in task.check]
    assert [f.path for f in files if f] == [
        "~/Desktop/notes.txt",
        "~/prefs.json",
        "~/prefs.json",
        "~/Desktop/notes.txt",
    ]
    assert files[1] is not None and files[1].json_subset == {"ui": {"theme": "dark"}}
    assert not judge(task, place).success
    (place.home / "Desktop" / "notes.txt").write_text("buy milk\n")
    (place.home / "prefs.json").write_text(json.dumps({"ui": {"theme": "dark", "scale": 1}}))
    verdict = judge(task, place)
    assert [c.passed for c in verdict.checks] == [True, True, False, True]
    assert "ui.scale is 1, not 2" in verdict.checks[2].detail
    (place.home / "prefs.json").write_text(json.dumps({"ui": {"theme": "dark", "scale": 2}}))
    assert judge(task, place).success


def test_output_lists_error_output_and_two_files(tmp_path: Path) -> None:
    item = {
        "id": "several",
        "instruction": "Do it.",
        "evaluator": {
            "func": ["match_in_list", "is_in_list", "check_include_exclude", "compare_text_file"],
            "result": [
                {"type": "vm_command_line", "command": "cat ~/colour", "shell": True},
                {"type": "vm_command_line", "command": ["ls", "/home/user"]},
                {"type": "vm_command_error", "command": "ls /home/user/missing", "shell": True},
                {"type": "vm_file", "path": "/home/user/out.txt", "dest": "out.txt"},
            ],
            "expected": [
                {"type": "rule", "rules": {"expected": ["red\n", "blue\n"]}},
                {"type": "rule", "rules": {"expected": "colour"}},
                {"type": "rule", "rules": {"include": ["No such file"]}},
                {"type": "vm_file", "path": "/home/user/gold.txt", "dest": "gold.txt"},
            ],
        },
    }
    task, place = _episode(item, tmp_path)
    (place.home / "colour").write_text("green\n")
    (place.home / "gold.txt").write_text("same\n")
    (place.home / "out.txt").write_text("other\n")
    verdict = judge(task, place)
    assert [c.passed for c in verdict.checks] == [False, True, True, False]
    assert "none of the expected: green" in verdict.checks[0].detail
    (place.home / "colour").write_text("blue\n")
    (place.home / "out.txt").write_text("same\n")
    assert judge(task, place).success


def test_launch_open_and_activate_window_become_awaited_launches() -> None:
    item = {
        "id": "editor",
        "instruction": "Edit it.",
        "config": [
            {"type": "launch", "parameters": {"command": ["mousepad", "/home/user/a (1).txt"]}},
            {"type": "activate_window", "parameters": {"window_name": "a (1).txt - Mousepad"}},
            {"type": "open", "parameters": {"path": "/home/user/Desktop/report.txt"}},
            {"type": "launch", "parameters": {"command": "xterm -T 'My term'"}},
            {"type": "activate_window", "parameters": {"window_name": "My term", "strict": True}},
            {
                "type": "execute",
                "parameters": {
                    "command": ["python", "-c", "import pyautogui; pyautogui.click(960, 540)"]
                },
            },
        ],
        "evaluator": {
            "func": "file_contains",
            "result": {"type": "vm_file", "path": "/home/user/a (1).txt"},
            "expected": {"type": "rule", "rules": {"expected": ["x"]}},
        },
    }
    setup = _translated(item)["setup"]
    assert setup[0] == {
        "launch": {"command": 'mousepad "${HOME}/a (1).txt"', "window": r"a \(1\)\.txt - Mousepad"}
    }
    assert setup[1] == {
        "launch": {"command": 'xdg-open "${HOME}/Desktop/report.txt"', "window": r"report\.txt"}
    }
    assert setup[2] == {"launch": {"command": "xterm -T 'My term'", "window": "^My term$"}}
    assert setup[3] == {
        "run": "\"$CRADLE_PYTHON\" -c 'import pyautogui; pyautogui.click(960, 540)'"
    }


@pytest.mark.parametrize("arg", ['/home/user/it\'s "here" $x `y`.txt', "~/dir/f", "/home/user"])
def test_home_in_an_argument_expands_and_the_rest_stays_literal(tmp_path: Path, arg: str) -> None:
    place = _place(tmp_path)
    code, output = place.shell(f"printf '%s' {shell_word(arg)}")
    assert code == 0
    expected = str(place.home) + arg.removeprefix("/home/user").removeprefix("~")
    assert output == expected


def test_home_in_a_shell_script_expands_inside_and_outside_quotes(tmp_path: Path) -> None:
    place = _place(tmp_path)
    script = shell_command(
        {
            "command": (
                "printf '%s|' /home/user/a \"/home/user/b c\" '/home/user/d e' /home/users "
                '"it\'s" \'say "/home/user"\''
            ),
            "shell": True,
        },
        "test",
    )
    code, output = place.shell(script)
    home = str(place.home)
    assert (code, output) == (0, f'{home}/a|{home}/b c|{home}/d e|/home/users|it\'s|say "{home}"|')


SKIPPED = [
    (
        {
            "config": [
                {
                    "type": "download",
                    "parameters": {
                        "files": [
                            {"url": "https://drive.google.com/uc?id=1", "path": "/home/user/a.docx"}
                        ]
                    },
                }
            ]
        },
        "config step 1 'download' needs the network",
    ),
    (
        {
            "evaluator": {
                "func": "compare_pptx_files",
                "result": {"type": "vm_file", "path": "/home/user/a.pptx"},
                "expected": {"type": "cloud_file", "path": "https://x/a.pptx"},
            }
        },
        "evaluator func 'compare_pptx_files' is not supported",
    ),
    ({"evaluator": {"func": "infeasible"}}, "evaluator 'infeasible'"),
    ({"evaluator": {"func": "", "result": {}, "expected": {}}}, "the evaluator has no func"),
    (
        {
            "evaluator": {
                "func": "exact_match",
                "result": {"type": "active_tab_info"},
                "expected": {"type": "rule", "rules": {"expected": "x"}},
            }
        },
        "evaluator result 'active_tab_info' reads Chrome through its DevTools connection",
    ),
    (
        {
            "evaluator": {
                "func": "compare_text_file",
                "result": {"type": "vm_file", "path": "/home/user/a.txt"},
                "expected": {"type": "cloud_file", "path": "https://x/gold.txt"},
            }
        },
        "evaluator expected 'cloud_file' needs the network",
    ),
    (
        {
            "evaluator": {
                "func": ["exact_match", "exact_match"],
                "conj": "or",
                "result": [{"type": "vm_command_line", "command": "true"}] * 2,
                "expected": [{"type": "rule", "rules": {"expected": ""}}] * 2,
            }
        },
        "evaluator conj 'or' is not supported",
    ),
    (
        {
            "evaluator": {
                "func": "exact_match",
                "postconfig": [{"type": "execute", "parameters": {"command": ["pkill", "chrome"]}}],
                "result": {"type": "vm_command_line", "command": "true"},
                "expected": {"type": "rule", "rules": {"expected": ""}},
            }
        },
        "postconfig step 1 'execute' is not supported: nothing runs between the episode and "
        "its checks",
    ),
    (
        {
            "config": [
                {
                    "type": "execute",
                    "parameters": {
                        "command": "echo password | sudo -S apt-get install -y jq",
                        "shell": True,
                    },
                }
            ]
        },
        "config step 1 'execute' needs root (sudo)",
    ),
    (
        {
            "evaluator": {
                "func": "file_contains",
                "result": {"type": "vm_file", "path": "/etc/hostname"},
                "expected": {"type": "rule", "rules": {"expected": ["x"]}},
            }
        },
        "evaluator result 'vm_file' reads /etc/hostname, outside the VM's home folder",
    ),
    (
        {"config": [{"type": "activate_window", "parameters": {"window_name": "Chrome"}}]},
        "config step 1 'activate_window' does not follow a launch or open step",
    ),
    (
        {"config": [{"type": "sleep", "parameters": {"seconds": 100}}]},
        "config step 1 'sleep' waits 100 s; at most 60 s is supported",
    ),
    (
        {"config": [{"type": "execute", "parameters": {"command": "ls", "stdout": "ls.out"}}]},
        "config step 1 'execute': parameter 'stdout' saves its output for the evaluator",
    ),
    (
        {
            "evaluator": {
                "func": "check_json",
                "result": {"type": "vm_file", "path": "/home/user/a.json"},
                "expected": {
                    "type": "rule",
                    "rules": {"expect": [{"key": ["a"], "method": "re", "ref": "x+"}]},
                },
            }
        },
        "evaluator func 'check_json': method 're' is not supported",
    ),
    (
        {
            "evaluator": {
                "func": "compare_text_file",
                "options": {"ignore_blanks": True},
                "result": {"type": "vm_file", "path": "/home/user/a.txt"},
                "expected": {"type": "vm_file", "path": "/home/user/b.txt"},
            }
        },
        "evaluator func 'compare_text_file': option 'ignore_blanks': True is not supported",
    ),
    (
        {
            "evaluator": {
                "func": "exact_match",
                "result": {"type": "vm_file", "path": "~/a"},
                "expected": {"type": "rule", "rules": {"expected": "x"}},
            }
        },
        "evaluator func 'exact_match' on result 'vm_file' is not supported",
    ),
    ({"id": "has spaces"}, "the translated task is not valid: id: String should match"),
    ({"id": None}, "it has no 'id'"),
]


@pytest.mark.parametrize(("change", "reason"), SKIPPED)
def test_what_cannot_be_judged_the_same_is_skipped_with_the_reason(
    change: dict[str, Any], reason: str
) -> None:
    item = {**IDLE_DELAY, **change}
    task, why = translate(item, source="x.json")
    assert task is None
    assert why.startswith(reason), why
    assert "\n" not in why


def test_the_loader_lists_translated_and_skipped_tasks_by_file(tmp_path: Path) -> None:
    (tmp_path / "own.yaml").write_text(
        "id: own\ninstruction: x\nenvironment: desktop\ncheck: [{command: 'true'}]\n"
    )
    (tmp_path / "os").mkdir()
    (tmp_path / "os" / "a.json").write_text(json.dumps(IDLE_DELAY))
    (tmp_path / "os" / "b.json").write_text(
        json.dumps(
            {
                **NOTES,
                "id": "chrome-1",
                "evaluator": {"func": "is_expected_tabs", "result": {"type": "open_tabs_info"}},
            }
        )
    )
    loaded = load_tasks([tmp_path])
    assert sorted(t.id for t in loaded.tasks) == sorted([IDLE_DELAY["id"], "own"])
    assert loaded.skipped == [
        (
            f"{tmp_path / 'os' / 'b.json'} (chrome-1)",
            "evaluator func 'is_expected_tabs' is not supported",
        )
    ]
    translated = next(t for t in loaded.tasks if t.id != "own")
    assert translated.source == str(tmp_path / "os" / "a.json")
