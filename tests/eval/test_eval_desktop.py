"""`cradle eval` on real windows: each episode on its own display, in its own home.

Each worker slot starts its own Xvfb (whatever DISPLAY the test has), and each episode gets
its own HOME; the checks' output shows which display and home each one had.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.eval.helpers import cradle_eval, results
from tests.fakes.openai_server import FakeOpenAIServer

pytestmark = pytest.mark.desktop


def _xterm_task(name: str) -> dict[str, Any]:
    return {
        "id": f"xterm-{name}",
        "instruction": "In the terminal, write the display and home folder to ~/where.txt",
        "environment": "desktop",
        "env_options": {"window_title": name, "ocr": False, "marks": False, "stop_hotkey": "none"},
        "setup": [
            {"run": "rm -f ~/where.txt"},
            {"launch": {"command": f"xterm -T {name} -e sh", "window": name}},
        ],
        "check": [
            {"command": "cat ~/where.txt"},
            {"file": {"path": "~/where.txt", "regex": r"^:\d+ /"}},
        ],
        "max_steps": 3,
        "timeout": 90,
        "reference": [
            [
                "type_text(text='echo \"$DISPLAY $HOME\" > ~/where.txt')",
                "press_key(key='enter')",
                "wait(seconds=1)",
            ]
        ],
    }


def test_two_workers_never_share_a_display_or_home(tmp_path: Path) -> None:
    tasks = [_xterm_task("t1"), _xterm_task("t2")]
    (tmp_path / "xterm.yaml").write_text(yaml.safe_dump(tasks, sort_keys=False))
    out = tmp_path / "out"
    done = cradle_eval(
        tmp_path / "xterm.yaml", "--reference", "--workers", "2", "--out", out, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr + "".join(
        p.read_text() for p in (out / "logs").glob("*.log")
    )
    where = {}
    for tid, line in results(out).items():
        assert line["success"], line
        found = re.search(r"exited 0: (:\d+) (/\S+)", line["checks"][0]["detail"])
        assert found, line["checks"][0]
        where[tid] = found.groups()
    (display1, home1), (display2, home2) = where.values()
    assert display1 != display2 and home1 != home2
    assert os.environ.get("DISPLAY") not in (display1, display2)
    assert str(Path.home()) not in (home1, home2)
    assert not Path(home1).exists(), "an episode's home outlived it"


APP = """\
import pathlib, tkinter as tk
root = tk.Tk()
root.title("Never Seen Form")
root.geometry("400x120+50+50")
entry = tk.Entry(root)
entry.pack(padx=20, pady=40)
entry.focus_set()
entry.bind("<Return>", lambda _: (pathlib.Path.home() / "answer.txt").write_text(entry.get()))
root.mainloop()
"""


def _fused(actions: list[str], done: bool) -> dict[str, Any]:
    return {
        "information_gathering": {
            "screen_description": "A form.",
            "visible_text": [],
            "elements": [],
        },
        "self_reflection": {"last_actions_succeeded": True, "analysis": "ok", "failure_reason": ""},
        "task_inference": {"subtask": "answer", "reasoning": "next"},
        "skill_curation": {"relevant_skills": [], "new_skills": []},
        "action_planning": {"reasoning": "type it", "actions": actions, "done": done},
    }


def test_an_unknown_app_under_a_served_model(tmp_path: Path) -> None:
    """A task for an app cradle never saw, in the documented format; the model is served
    over HTTP and the checker reads the file the app wrote."""
    (tmp_path / "form.py").write_text(APP)
    task = {
        "id": "never-seen-form",
        "instruction": "Type 'hello' in the form and press Enter",
        "environment": "desktop",
        "env_options": {"window_title": "Never Seen Form", "stop_hotkey": "none"},
        "setup": [
            {
                "launch": {
                    "command": f"{sys.executable} {tmp_path / 'form.py'}",
                    "window": "Never Seen Form",
                }
            }
        ],
        "check": [
            {"command": "grep -qx hello ~/answer.txt"},
            {"file": {"path": "~/answer.txt", "equals": "hello"}},
        ],
        "max_steps": 3,
        "timeout": 90,
    }
    (tmp_path / "form.yaml").write_text(yaml.safe_dump(task))
    replies = [
        _fused(
            ["type_text(text='hello')", "press_key(key='enter')", "wait(seconds=0.5)"], done=True
        )
    ]
    with FakeOpenAIServer(replies=[json.dumps(r) for r in replies]) as server:
        done = cradle_eval(
            tmp_path / "form.yaml",
            "--base-url",
            server.base_url,
            "--out",
            tmp_path / "out",
            cwd=tmp_path,
        )
    assert done.returncode == 0, done.stderr
    line = results(tmp_path / "out")["never-seen-form"]
    assert line["success"] and line["model_calls"] == 1, line
