"""`cradle run` end to end with open GUI models and a grounding model (real processes, the
real openai client, local fake servers): a 1920x1080 mock Notepad is shown to the models as
1280x720; the text must be typed and the File menu opened, judged on the app's final state."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.gui_models import (
    FakeGrounder,
    ScriptedGuiModel,
    file_menu,
    general_model,
    support_model,
)
from tests.fakes.openai_server import FakeOpenAIServer

SCREEN = (1920, 1080)
TYPED = "Hello from a GUI model"


def _task_file(folder: Path) -> Path:
    path = folder / "task.json"
    path.write_text(
        json.dumps(
            [
                {
                    "id": "type-and-open-file",
                    "instruction": f"Type '{TYPED}' and open the File menu",
                    "environment": "mock-notepad",
                    "env_options": {"size": f"{SCREEN[0]}x{SCREEN[1]}"},
                    "check": [{"state": {"text": TYPED, "menu": "File"}}],
                    "max_steps": 4,
                }
            ]
        )
    )
    return path


def _cradle(folder: Path, *args: str) -> tuple[subprocess.CompletedProcess, Path]:
    env = {**os.environ, "OPENAI_API_KEY": "sk-e2e-gui-secret"}
    env.pop("OPENAI_BASE_URL", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cradle",
            "run",
            "--task-file",
            str(_task_file(folder)),
            "--runs-dir",
            str(folder / "runs"),
            "--max-image-side",
            "1280",
            "--settle",
            "0",
            "--no-memory",
            *args,
        ],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    runs = [p for p in (folder / "runs").iterdir() if p.is_dir()]
    assert len(runs) == 1, result.stderr
    return result, runs[0]


def _steps(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "trajectory.jsonl").read_text().splitlines()]


@pytest.mark.parametrize(
    ("family", "convention", "flags"),
    [
        ("uitars", "absolute", []),
        ("uitars", "relative-1000", ["--coordinates", "relative-1000"]),
        ("qwen", "absolute", []),
        ("qwen", "relative-1000", ["--coordinates", "relative-1000"]),
    ],
)
def test_open_gui_model_drives_the_run_alone(
    tmp_path: Path, family: str, convention: str, flags: list[str]
) -> None:
    model = ScriptedGuiModel(family, SCREEN, text=TYPED, convention=convention)
    with FakeOpenAIServer(model) as server:
        result, run = _cradle(
            tmp_path,
            "--mode",
            "computer-use",
            "--action-format",
            family,
            "--base-url",
            server.base_url,
            "--model",
            f"{family}-fake",
            *flags,
        )
    assert result.returncode == 0, result.stderr
    assert json.loads((run / "verdict.json").read_text())["success"] is True
    steps = _steps(run)
    assert len(steps) == 2 and steps[-1]["done"]
    first = steps[0]
    assert first["observation"]["image_size"] == [1280, 720]
    assert first["observation"]["screen_size"] == list(SCREEN)
    assert [a["status"] for a in first["actions"]] == ["ok", "ok"]
    [call] = first["model_calls"]
    assert call["module"] == "computer_use" and convention in call["coordinates"]
    assert "1280x720 image" in call["coordinates"]
    assert len(server.requests) == 2 and all("response_format" not in b for b in server.requests)
    info = json.loads((run / "run.json").read_text())
    assert info["settings"]["agent"]["planner"]["action_format"]["format"] == family


def test_open_gui_model_plans_inside_the_full_loop(tmp_path: Path) -> None:
    model = ScriptedGuiModel("uitars", SCREEN, text=TYPED)
    with FakeOpenAIServer(support_model()) as general, FakeOpenAIServer(model) as gui_server:
        result, run = _cradle(
            tmp_path,
            "--mode",
            "modular",
            "--planner",
            "computer-use",
            "--action-format",
            "uitars",
            "--base-url",
            general.base_url,
            "--planner-base-url",
            gui_server.base_url,
        )
    assert result.returncode == 0, result.stderr
    assert json.loads((run / "verdict.json").read_text())["success"] is True
    first = _steps(run)[0]
    modules = [c["module"] for c in first["model_calls"]]
    assert modules[-1] == "computer_use" and "task_inference" in modules
    assert "Now: type the text and open the File menu" in str(gui_server.requests[0])


GROUNDING = [
    ("point", "absolute", None, []),
    ("point", "relative-1000", None, ["--grounding-coordinates", "relative-1000"]),
    ("point", "normalized", None, ["--grounding-coordinates", "normalized"]),
    ("point", "absolute", (640, 360), ["--grounding-coordinates-grid", "640x360"]),
    ("uitars", "absolute", "smart-resize", []),
    ("qwen", "absolute", "smart-resize", []),
]


@pytest.mark.parametrize(("fmt", "convention", "grid", "flags"), GROUNDING)
def test_planner_names_the_widget_and_the_grounder_places_the_click(
    tmp_path: Path, fmt: str, convention: str, grid, flags: list[str]
) -> None:
    plan = {
        "reasoning": "type, then open File",
        "done": False,
        "actions": [f"type_text(text={TYPED!r})", "click_target(description='the File menu')"],
    }
    grounder = FakeGrounder(
        {"the File menu": file_menu(SCREEN)},
        fmt=fmt,
        convention=convention,
        grid=grid,
        prompt_tokens=1000,
    )
    with FakeOpenAIServer(general_model([plan])) as general, FakeOpenAIServer(grounder) as g:
        result, run = _cradle(
            tmp_path,
            "--base-url",
            general.base_url,
            "--model",
            "planner",
            "--grounding-base-url",
            g.base_url,
            "--grounding-model",
            "ground",
            "--grounding-format",
            fmt,
            *flags,
        )
    assert result.returncode == 0, result.stderr
    assert json.loads((run / "verdict.json").read_text())["success"] is True
    assert grounder.asked == ["the File menu"]
    first = _steps(run)[0]
    click = first["actions"][1]
    assert click["status"] == "ok" and click["result"]["target"] == "the File menu"
    x, y = click["result"]["point"]
    assert click["clicks"] == [[x, y]] and 19 <= x < 55 and 33 <= y < 53  # File, at 1280x720
    assert click["result"]["reply"] and click["result"]["latency_ms"] > 0
    modules = [c["module"] for c in first["model_calls"]]
    assert modules == ["fused", "grounding"]
    call = first["model_calls"][1]
    assert call["input_tokens"] == 1000 and convention in call["coordinates"]
    info = json.loads((run / "run.json").read_text())
    assert info["totals"]["input_tokens"] == 100 * len(general.requests) + 1000
    report = subprocess.run(
        [sys.executable, "-m", "cradle", "report", str(run)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    html = (run / "report.html").read_text()
    assert report.returncode == 0, report.stderr
    assert 'class="target"' in html and ">the File menu</text>" in html
    assert f"grounded <q>the File menu</q> at ({x}, {y})" in html
    assert f"coordinates: {call['coordinates']}" in html


def test_grounder_tokens_count_against_the_budget(tmp_path: Path) -> None:
    plan = {
        "reasoning": "open File",
        "done": False,
        "actions": ["click_target(description='the File menu')"],
    }
    grounder = FakeGrounder({"the File menu": file_menu(SCREEN)}, prompt_tokens=5000)
    with FakeOpenAIServer(general_model([plan])) as general, FakeOpenAIServer(grounder) as g:
        result, run = _cradle(
            tmp_path,
            "--base-url",
            general.base_url,
            "--max-tokens",
            "2000",
            "--grounding-base-url",
            g.base_url,
            "--grounding-model",
            "g",
        )
    # The general model alone used 120 tokens: only the grounder's 5009 exhaust the budget.
    assert result.returncode == 3, result.stderr
    info = json.loads((run / "run.json").read_text())
    assert "max tokens" in info["reason"] and info["totals"]["input_tokens"] == 5100


def test_grounded_skill_without_a_grounder_tells_the_flags(tmp_path: Path) -> None:
    plans = [
        {
            "reasoning": "open File",
            "done": False,
            "actions": ["click_target(description='the File menu')"],
        }
    ]
    with FakeOpenAIServer(general_model(plans)) as general:
        result, run = _cradle(tmp_path, "--base-url", general.base_url)
    prompt = general.requests[0]["messages"][0]["content"] + str(
        general.requests[0]["messages"][1]["content"]
    )
    assert "click_target(" not in prompt and "click_text(" in prompt
    error = _steps(run)[0]["actions"][0]["error"]
    assert "--grounding-base-url URL and --grounding-model NAME" in error
    assert result.returncode == 1  # the checks fail: the menu never opened


def test_action_format_needs_a_planner_mode(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cradle",
            "run",
            "--env",
            "mock-notepad",
            "--task",
            "x",
            "--action-format",
            "uitars",
            "--base-url",
            "http://127.0.0.1:9/v1",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "250"},
    )
    assert result.returncode == 2
    assert "needs --mode computer-use or --planner computer-use" in result.stderr
    assert not (tmp_path / "runs").exists()


def test_replay_with_recorded_replies_clicks_where_the_grounder_said(tmp_path: Path) -> None:
    plan = {
        "reasoning": "type, then open File",
        "done": False,
        "actions": [f"type_text(text={TYPED!r})", "click_target(description='the File menu')"],
    }
    grounder = FakeGrounder(
        {"the File menu": file_menu(SCREEN)}, fmt="uitars", convention="relative-1000"
    )
    with FakeOpenAIServer(general_model([plan])) as general, FakeOpenAIServer(grounder) as g:
        result, run = _cradle(
            tmp_path,
            "--base-url",
            general.base_url,
            "--grounding-base-url",
            g.base_url,
            "--grounding-model",
            "ground",
            "--grounding-format",
            "uitars",
            "--grounding-coordinates",
            "relative-1000",
        )
    assert result.returncode == 0, result.stderr
    # Both servers are gone: only the recording can answer.
    replayed = subprocess.run(
        [
            sys.executable,
            "-m",
            "cradle",
            "replay",
            str(run),
            "--model-replies",
            "--runs-dir",
            str(tmp_path / "replays"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"},
    )
    assert replayed.returncode == 0, replayed.stderr + replayed.stdout
    [again] = [p for p in (tmp_path / "replays").iterdir() if p.is_dir()]
    original, repeat = _steps(run)[0], _steps(again)[0]
    assert repeat["actions"][1]["status"] == "ok"
    assert repeat["actions"][1]["result"]["point"] == original["actions"][1]["result"]["point"]
    assert [c["module"] for c in repeat["model_calls"]] == ["fused", "grounding"]


def test_batch_refuses_a_grounder_it_cannot_pass_on(tmp_path: Path) -> None:
    (tmp_path / "tasks.txt").write_text("open the File menu\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cradle",
            "run",
            "--env",
            "mock-notepad",
            "--tasks-file",
            str(tmp_path / "tasks.txt"),
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--grounding-base-url",
            "http://127.0.0.1:9/v1",
            "--grounding-model",
            "g",
            "--out",
            str(tmp_path / "out"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "--grounding-base-url: not with --tasks-file" in result.stderr
    assert not (tmp_path / "out").exists()
