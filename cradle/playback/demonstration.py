"""``cradle record``: a person's demonstration written as a run, in the run format.

Listeners (pynput: X RECORD on Linux, hooks on Windows/macOS) deliver raw input events; the
pure :class:`~cradle.playback.demo_merge.DemoMerger` turns them into skill calls; this module
adds what needs a screen: the screenshot before each action and the mapping from input
coordinates to model-image pixels, using the same ``CoordinateMap`` the agent uses. Each action
becomes one step (``action_planning.actions=[call]``, outcome ok, ``model_calls=[]``); a last
step with no action records the final screen, so a replay can check where it should end up.

"The screen before an action": frames are captured whenever input has been quiet for
``quiet`` seconds, so the newest frame older than an action's first event shows the screen as
the person saw it when they started that action.
"""

from __future__ import annotations

import queue
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image

from cradle.errors import EXIT_DONE, EnvironmentFailure, UsageError
from cradle.playback.demo_merge import DemoAction, DemoMerger, InputEvent
from cradle.screen.base import Screen
from cradle.screen.mapping import CoordinateMap, fit_within
from cradle.signals import Stopped, deferred, stop_of, stop_signals
from cradle.trajectory.format import RunInfo
from cradle.trajectory.recorder import RunRecorder, new_run_id
from cradle.types import ActionOutcome, ActionPlan, Observation, RunResult, StepRecord, utc_now

HUMAN_MODEL = "human"
DEMONSTRATION_MODE = "demonstration"


class DemonstrationRecorder:
    """Writes a run folder from a stream of input events (thread-safe ``on_event``)."""

    def __init__(
        self,
        recorder: RunRecorder,
        screen: Screen,
        *,
        max_image_side: int = 1280,
        merger: DemoMerger | None = None,
        quiet: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
        on_action: Callable[[str], None] | None = None,
    ) -> None:
        self.recorder = recorder
        self.screen = screen
        self.max_image_side = max_image_side
        self.merger = merger or DemoMerger()
        self.quiet = quiet
        self.clock = clock
        self._on_action = on_action or (lambda source: None)
        self._events: queue.Queue[InputEvent] = queue.Queue()
        self._frames: list[tuple[float, Image.Image]] = []
        self._last_event = 0.0
        self._held: DemoAction | None = None
        self._step = 0
        self._wall_offset = datetime.now(UTC) - timedelta(seconds=clock())
        self.actions = 0
        self.skipped = 0

    # ------------------------------------------------------------------ input side

    def on_event(self, event: InputEvent) -> None:
        """Called from listener threads; the work happens in :meth:`process`."""
        self._events.put(event)

    @property
    def stopped(self) -> bool:
        return self.merger.stopped

    # ------------------------------------------------------------------ frames

    def capture(self) -> None:
        """Remember the screen as it is now (stamped before the capture starts)."""
        stamp = self.clock()
        self._frames.append((stamp, self.screen.capture()))
        del self._frames[:-50]  # a frame older than the 50 newest can no longer be needed

    def _frame_before(self, t: float) -> Image.Image:
        earlier = [frame for stamp, frame in self._frames if stamp <= t]
        if earlier:
            return earlier[-1]
        return self._frames[0][1] if self._frames else self.screen.capture()

    # ------------------------------------------------------------------ the loop

    def start(self) -> None:
        self.capture()

    def process(self, wait: float = 0.05) -> None:
        """Handle queued events, capture a frame after a quiet spell, write finished actions."""
        try:
            event: InputEvent | None = self._events.get(timeout=wait)
        except queue.Empty:
            event = None
        while event is not None:
            self._last_event = max(self._last_event, event.t)
            for action in [*self.merger.poll(event.t), *self.merger.feed(event)]:
                self._emit(action)
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                event = None
        now = self.clock()
        for action in self.merger.poll(now):
            self._emit(action)
        newest = self._frames[-1][0] if self._frames else -1.0
        if now - self._last_event >= self.quiet and newest < self._last_event:
            self.capture()

    def _emit(self, action: DemoAction) -> None:
        """Write the previous held action; hold ctrl+c (it may be the Ctrl+C that stops us)."""
        if self._held is not None:
            self._write(self._held)
            self._held = None
        if action.skill == "hotkey" and tuple(action.args) == ("ctrl", "c"):
            self._held = action
        else:
            self._write(action)

    def _wall(self, t: float) -> datetime:
        return self._wall_offset + timedelta(seconds=t)

    def _observe(self, frame: Image.Image) -> tuple[Observation, CoordinateMap]:
        self._step += 1
        path = self.recorder.save_screenshot(f"step-{self._step:04d}", frame)
        image_size = fit_within(frame.size, self.max_image_side)
        observation = Observation(
            step=self._step,
            screenshot=path,
            screen_size=frame.size,
            image_size=image_size,
        )
        return observation, CoordinateMap(image_size, self.screen.geometry)

    def _write(self, action: DemoAction) -> None:
        when = self._wall(action.t)
        observation, mapping = self._observe(self._frame_before(action.t))
        clicks = [mapping.to_image(x, y) for x, y in action.points]
        call = action.call(mapping.to_image)
        source = call.render()
        inside = all(mapping.contains(x, y) for x, y in clicks)
        outcome = ActionOutcome(
            source=source,
            call=call,
            status="ok" if inside else "skipped",
            error="" if inside else "outside the recorded screen area; not replayed",
            clicks=clicks if inside else [],
            started_at=when,
        )
        self.actions += inside
        self.skipped += not inside
        self.recorder.append_step(
            StepRecord(
                run_id=self.recorder.run_id,
                step=self._step,
                mode="fused",
                started_at=when,
                ended_at=when,
                observation=observation,
                action_planning=ActionPlan(
                    reasoning="human demonstration", actions=[source], done=False
                ),
                actions=[outcome],
            )
        )
        self._on_action(source if inside else f"(skipped) {source}")

    def stop(
        self, *, interrupted: bool = False, settle: float | None = None, ended_by: str = ""
    ) -> RunResult:
        """Write what is pending and the final screen; ``interrupted`` drops a final ctrl+c.

        ``ended_by`` (e.g. "stopped by SIGTERM") is added to the recorded reason.
        """
        self.process(0)
        for action in self.merger.finish():
            self._emit(action)
        if self._held is not None and not interrupted:
            self._write(self._held)
        self._held = None
        time.sleep(self.quiet if settle is None else settle)
        frame = self.screen.capture()
        observation, _ = self._observe(frame)
        now = utc_now()
        self.recorder.append_step(
            StepRecord(
                run_id=self.recorder.run_id,
                step=self._step,
                mode="fused",
                started_at=now,
                ended_at=now,
                observation=observation,
                action_planning=ActionPlan(
                    reasoning="end of the demonstration", actions=[], done=True
                ),
                done=True,
            )
        )
        reason = (
            f"demonstration recorded: {self.actions} action(s)"
            + (f", {self.skipped} outside the screen skipped" if self.skipped else "")
            + (f"; {ended_by}" if ended_by else "")
        )
        self.recorder.finish("done", EXIT_DONE, reason)
        return RunResult(
            "done", EXIT_DONE, reason, self.recorder.info.totals.steps, str(self.recorder.folder)
        )


def demonstration_info(env: str, task: str, settings: dict[str, Any]) -> RunInfo:
    from cradle.versions import versions

    return RunInfo(
        run_id=new_run_id(env, task or "demonstration"),
        task=task or "human demonstration",
        environment=env,
        model=HUMAN_MODEL,
        mode=DEMONSTRATION_MODE,
        settings=settings,
        versions=versions(),
    )


def open_recorder(out: Path | None, runs_dir: Path, info: RunInfo) -> RunRecorder:
    """The run folder: ``out`` itself when given (must be new or empty), else runs_dir/<id>."""
    if out is None:
        return RunRecorder.create(runs_dir, info)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"{out} already exists and is not an empty folder; choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    (out / "screenshots").mkdir(exist_ok=True)
    recorder = RunRecorder(out, info)
    recorder.write_info()
    return recorder


# ---------------------------------------------------------------------- pynput adapter


_PYNPUT_NAMES = {
    "ctrl_l": "ctrl",
    "ctrl_r": "ctrl",
    "alt_l": "alt",
    "alt_r": "alt",
    "alt_gr": "alt",
    "shift_l": "shift",
    "shift_r": "shift",
    "cmd_l": "winleft",
    "cmd_r": "winleft",
    "cmd": "winleft",
    "page_up": "pageup",
    "page_down": "pagedown",
    "caps_lock": "capslock",
    "num_lock": "numlock",
    "scroll_lock": "scrolllock",
    "print_screen": "printscreen",
    "media_play_pause": "playpause",
    "media_volume_up": "volumeup",
    "media_volume_down": "volumedown",
    "media_volume_mute": "volumemute",
    "media_next": "nexttrack",
    "media_previous": "prevtrack",
}


def pynput_key_name(key: Any) -> str | None:
    """A pynput key as a pyautogui name or typed character; None for keys with no name."""
    char = getattr(key, "char", None)
    if isinstance(char, str) and char:
        if len(char) == 1 and 1 <= ord(char) <= 26:
            return chr(ord("a") + ord(char) - 1)  # ctrl+letter arrives as a control character
        return char if len(char) == 1 else None
    name = getattr(key, "name", None)
    if not isinstance(name, str):
        return None
    return _PYNPUT_NAMES.get(name, name)


def start_listeners(sink: Callable[[InputEvent], None], clock: Callable[[], float]) -> list[Any]:
    """Start pynput mouse and keyboard listeners that send events to ``sink``."""
    try:
        from pynput import keyboard, mouse
    except Exception as exc:  # noqa: BLE001 - ImportError, or no display backend
        raise EnvironmentFailure(
            f"cannot listen to input ({type(exc).__name__}: {exc}); install pynput and run "
            "under a display that supports it (X with RECORD, Windows, macOS)"
        ) from None
    from cradle.playback.demo_merge import KeyEvent, MouseEvent, ScrollEvent

    def on_click(x: float, y: float, button: Any, pressed: bool) -> None:
        sink(MouseEvent(clock(), int(x), int(y), getattr(button, "name", str(button)), pressed))

    def on_scroll(x: float, y: float, dx: int, dy: int) -> None:
        sink(ScrollEvent(clock(), int(x), int(y), int(dx), int(dy)))

    def on_key(pressed: bool) -> Callable[[Any], None]:
        def handler(key: Any, *_: Any) -> None:
            name = pynput_key_name(key)
            if name is not None:
                sink(KeyEvent(clock(), name, pressed))

        return handler

    listeners = [
        mouse.Listener(on_click=on_click, on_scroll=on_scroll),
        keyboard.Listener(on_press=on_key(True), on_release=on_key(False)),
    ]
    for listener in listeners:
        listener.start()
    for listener in listeners:
        listener.wait()
    return listeners


@stop_signals()
def record_demonstration(
    env: str,
    *,
    out: Path | None = None,
    runs_dir: Path = Path("runs"),
    task: str = "",
    max_image_side: int = 1280,
    stop_chord: tuple[str, ...] | None = None,
    env_options: dict[str, Any] | None = None,
    on_action: Callable[[str], None] | None = None,
    on_ready: Callable[[], None] | None = None,
) -> RunResult:
    """Record until the stop chord, Ctrl+C, SIGTERM or SIGHUP; returns the result (status done).

    A stop signal ends the recording like the stop chord: the listeners stop, pending actions
    and the final screen are written, run.json is final; the reason names the signal.
    """
    from cradle.environment import load_environment

    environment = load_environment(env, **(env_options or {}))
    screen = environment.start()
    try:
        settings = {"env_options": env_options or {}, "agent": {"max_image_side": max_image_side}}
        recorder = open_recorder(out, runs_dir, demonstration_info(env, task, settings))
        merger = DemoMerger(stop_chord=stop_chord) if stop_chord else DemoMerger()
        demo = DemonstrationRecorder(
            recorder, screen, max_image_side=max_image_side, merger=merger, on_action=on_action
        )
        stop = _record_until_stopped(demo, on_ready)
        with deferred():  # the recording is finished whatever arrives now
            return demo.stop(
                interrupted=stop is not None and stop.signum == signal.SIGINT,
                ended_by=stop.reason if stop is not None else "",
            )
    finally:
        with deferred():
            environment.close()


def _record_until_stopped(
    demo: DemonstrationRecorder, on_ready: Callable[[], None] | None
) -> Stopped | None:
    """Listen and record until the stop chord (None) or a stop signal (returned)."""
    listeners: list[Any] = []
    try:
        demo.start()
        listeners = start_listeners(demo.on_event, demo.clock)
        if on_ready is not None:
            on_ready()  # listeners are live: the person (or a test) may start
        while not demo.stopped:
            demo.process(0.05)
    except KeyboardInterrupt as exc:  # Ctrl+C, SIGTERM, SIGHUP (cradle/signals.py)
        return stop_of(exc)
    finally:
        with deferred():
            for listener in listeners:
                listener.stop()
    return None
