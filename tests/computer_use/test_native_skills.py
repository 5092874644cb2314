"""The skills computer-use actions become (triple/middle click, held button and keys, sideways
scroll) on every screen: mapped like any skill on the mock, logged by the dry run, refused in
one line by a screen that cannot do them. And the planner factory's choices."""

from __future__ import annotations

import pytest

from cradle.computer_use.factory import PlannerOnlyModel, build_planner, planner_key_env
from cradle.computer_use.replayed import ReplayedPlanner
from cradle.errors import ModelError, ModelReplyError, ScriptExhaustedError, UsageError
from cradle.gate.executor import execute
from cradle.paths import shared_skills_dir
from cradle.runtime import RuntimeSettings
from cradle.screen.dry_run import DryRunScreen
from cradle.screen.mapping import CoordinateMap
from cradle.screen.mock import MockScreen
from cradle.skills import SkillContext, SkillRegistry, parse_action
from environments.mock_notepad.app import NotepadApp


@pytest.fixture(scope="module")
def registry() -> SkillRegistry:
    return SkillRegistry.load([shared_skills_dir()])


def _run(source: str, registry: SkillRegistry, screen, image=(512, 384)) -> object:
    ctx = SkillContext(screen=screen, mapping=CoordinateMap(image, screen.geometry))
    return execute(parse_action(source, registry), registry, ctx, timeout=5)


def test_new_skills_reach_the_mock_screen_through_the_mapping(registry) -> None:
    app = NotepadApp((1024, 768))
    screen = app.screen
    screen.type_text("one two")
    area = screen.find("Text").center
    x, y = area[0] // 2, area[1] // 2
    _run(f"triple_click(x={x}, y={y})", registry, screen)
    _run(f"middle_click(x={x}, y={y})", registry, screen)
    _run(f"mouse_down(x={x}, y={y})", registry, screen)
    _run("mouse_up(x=20, y=30)", registry, screen)
    _run("hold_key(keys=['shift'], seconds=0)", registry, screen)
    _run("hscroll(amount=2, x=10, y=10)", registry, screen)
    full = f"{x * 2},{y * 2}"
    assert screen.log[1:] == [
        f"click {full} left x3",
        f"click {full} middle x1",
        f"mouse_down {full} left",
        "mouse_up 40,60 left",
        "key_down shift",
        "key_up shift",
        "hscroll 2 at 20,20",
    ]
    assert app.text_area.selected_text()  # pressed in the text, released above it: a selection
    assert screen.held == []


def test_dry_run_logs_the_new_primitives(registry) -> None:
    screen = DryRunScreen(MockScreen((200, 100)))
    for source in (
        "mouse_down()",
        "mouse_up(x=4, y=4)",
        "hscroll(amount=-1)",
        "hold_key(keys=['ctrl', 'alt'], seconds=0)",
    ):
        _run(source, registry, screen, image=(200, 100))
    assert [name for name, _ in screen.suppressed] == [
        "mouse_down",
        "mouse_up",
        "hscroll",
        "key_down",
        "key_down",
        "key_up",
        "key_up",
    ]
    assert screen.inner.log == []  # nothing reached the screen


def test_a_screen_without_the_primitive_says_so(registry) -> None:
    from cradle.errors import SkillExecutionError
    from tests.skills.conftest import FakeScreen

    with pytest.raises(SkillExecutionError, match="cannot hold a key"):
        _run("hold_key(keys=['shift'], seconds=0)", registry, FakeScreen(), image=(400, 200))


def test_hold_key_bounds(registry) -> None:
    from cradle.errors import SkillExecutionError

    with pytest.raises(SkillExecutionError, match="between 0 and 10"):
        _run("hold_key(keys=['shift'], seconds=60)", registry, MockScreen((200, 100)))


# ---------------------------------------------------------------------- the factory


def _settings(**agent: object) -> RuntimeSettings:
    return RuntimeSettings.model_validate({"agent": agent, "memory": {"enabled": False}})


def test_no_planner_by_default() -> None:
    assert build_planner(_settings()) is None and planner_key_env(_settings()) is None


def test_the_planner_follows_the_provider() -> None:
    settings = _settings(mode="computer-use")
    with pytest.raises(UsageError, match="no computer-use tool"):
        build_planner(settings)
    settings.model.provider = "anthropic"  # type: ignore[misc]
    settings.model.base_url = "http://127.0.0.1:9"
    planner = build_planner(settings)
    assert planner is not None and planner.name == "anthropic-computer"
    with pytest.raises(UsageError, match="drop --no-vision"):
        build_planner(_settings(mode="computer-use", vision=False))


def test_a_planner_of_another_provider_reads_its_own_key() -> None:
    settings = _settings(mode="modular", planner={"kind": "computer-use", "provider": "anthropic"})
    assert planner_key_env(settings) == "ANTHROPIC_API_KEY"


def test_the_stand_in_model_is_never_asked() -> None:
    from cradle.llm.base import ModelRequest
    from cradle.types import ActionPlan

    model = PlannerOnlyModel("claude")
    assert model.model_name == "claude"
    with pytest.raises(ModelError, match="asks only the planner"):
        model.complete(ModelRequest(module="x", system="", user="", output_model=ActionPlan))


def test_replayed_planner_repeats_recorded_errors_and_runs_out() -> None:
    from datetime import UTC, datetime

    from PIL import Image

    from cradle.computer_use.base import PlanInput
    from cradle.types import ModelCall, Observation, StepRecord

    now = datetime(2026, 1, 1, tzinfo=UTC)
    bad = ModelCall(
        module="computer_use",
        model="m",
        response_mode="computer_tool",
        prompt="p",
        reply="{}",
        error="unknown computer action 'x'",
    )
    step = StepRecord(
        run_id="r",
        step=1,
        mode="computer-use",
        started_at=now,
        ended_at=now,
        observation=Observation(step=1, screenshot="", screen_size=(9, 9), image_size=(9, 9)),
        model_calls=[bad],
    )
    planner = ReplayedPlanner([step])
    given = PlanInput(task="t", step=1, image=Image.new("RGB", (9, 9)))
    with pytest.raises(ModelReplyError, match="unknown computer action 'x' \\(replayed\\)"):
        planner.plan(given)
    with pytest.raises(ScriptExhaustedError):
        planner.plan(given)
