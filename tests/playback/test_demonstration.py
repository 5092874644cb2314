"""A demonstration recorded from input events replays onto a fresh app to the same state.

The person is simulated on the mocked notepad: each gesture is fed to the recorder as raw
events (as pynput would deliver them) and performed on the screen, in that order, with a fake
clock, so the screenshot before each action is the one the person saw.
"""

from __future__ import annotations

from pathlib import Path

from cradle.environment import load_environment
from cradle.playback.demo_merge import KeyEvent, MouseEvent
from cradle.playback.demonstration import (
    DemonstrationRecorder,
    demonstration_info,
    open_recorder,
    pynput_key_name,
)
from cradle.playback.replay import Replayer, load_actions
from cradle.trajectory.loader import load_run


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_recorded_demonstration_replays_to_the_same_state(tmp_path: Path) -> None:
    environment = load_environment("mock-notepad")
    screen = environment.start()
    clock = Clock()
    info = demonstration_info("mock-notepad", "save a note", {"env_options": {}})
    recorder = open_recorder(tmp_path / "demo", tmp_path, info)
    demo = DemonstrationRecorder(recorder, screen, clock=clock, max_image_side=512)
    demo.start()

    def gesture(events: list, effect) -> None:
        for event in events:
            demo.on_event(event)
        effect()
        clock.now += 1.0
        demo.process(0)  # quiet for a second: pending actions are written, a frame taken

    def click(x: int, y: int) -> None:
        t = clock.now
        gesture(
            [MouseEvent(t, x, y, "left", True), MouseEvent(t + 0.05, x, y, "left", False)],
            lambda: screen.click(x, y),
        )

    def typing(text: str) -> None:
        t = clock.now
        events = []
        for i, char in enumerate(text):
            events += [KeyEvent(t + i * 0.01, char, True), KeyEvent(t + i * 0.01, char, False)]
        gesture(events, lambda: screen.type_text(text))

    typing("A demonstrated note")
    click(55, 64)  # File
    click(165, 163)  # Save As...
    typing("demo.txt")
    t = clock.now
    gesture(
        [KeyEvent(t, "enter", True), KeyEvent(t + 0.01, "enter", False)],
        lambda: screen.press("enter"),
    )
    recorded_state = environment.state()
    result = demo.stop(settle=0)
    assert result.exit_code == 0 and recorded_state["files"] == {"demo.txt": "A demonstrated note"}

    run = load_run(tmp_path / "demo")
    assert run.info.model == "human" and run.info.status == "done"
    assert [a.source for _, a in run.ok_actions()] == [
        "type_text(text='A demonstrated note')",
        "click(x=27, y=32)",  # model-image pixels of the 512x384 image
        "click(x=82, y=81)",
        "type_text(text='demo.txt')",
        "press_key(key='enter')",
    ]
    assert run.steps[1].actions[0].clicks == [(27, 32)]
    assert run.steps[-1].done and run.steps[-1].actions == []
    assert all(s.model_calls == [] for s in run.steps)
    assert all(s.observation.image_size == (512, 384) for s in run.steps)

    fresh = load_environment("mock-notepad")
    fresh_screen = fresh.start()
    report = Replayer(run, fresh_screen, load_actions(run, fresh_screen, fresh)).replay()
    assert report.ok, report.reason()
    assert fresh.state() == recorded_state


def test_interrupt_drops_the_ctrl_c_that_stopped_the_recording(tmp_path: Path) -> None:
    environment = load_environment("mock-notepad")
    screen = environment.start()
    clock = Clock()
    recorder = open_recorder(None, tmp_path / "runs", demonstration_info("mock-notepad", "", {}))
    demo = DemonstrationRecorder(recorder, screen, clock=clock)
    demo.start()
    for event in [
        KeyEvent(100.0, "x", True),
        KeyEvent(100.01, "x", False),
        KeyEvent(101.0, "ctrl", True),
        KeyEvent(101.01, "c", True),
    ]:
        demo.on_event(event)
    result = demo.stop(interrupted=True, settle=0)
    run = load_run(result.run_dir)
    assert [a.source for _, a in run.ok_actions()] == ["type_text(text='x')"]


def test_pynput_key_names() -> None:
    class Code:
        def __init__(self, char=None, name=None) -> None:
            self.char, self.name = char, name

    assert pynput_key_name(Code(char="a")) == "a"
    assert pynput_key_name(Code(char="\x13")) == "s"  # ctrl+s as a control character
    assert pynput_key_name(Code(name="ctrl_l")) == "ctrl"
    assert pynput_key_name(Code(name="page_down")) == "pagedown"
    assert pynput_key_name(Code(name="enter")) == "enter"
    assert pynput_key_name(Code()) is None
