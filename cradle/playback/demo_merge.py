"""Raw input events of a person -> the skill calls an agent would have written.

This is the pure half of ``cradle record``: no listener, no screen, no clock of its own, so
every rule can be unit tested with hand-made event sequences. The live recorder
(:mod:`cradle.playback.demonstration`) feeds it events from pynput and turns the actions it
emits into steps.

Rules (coordinates stay in *input* coordinates here; the recorder maps them to model-image
pixels with the screen's ``CoordinateMap``):

* press and release of the left button at the same place (within ``drag_threshold``) ->
  ``click``; two such clicks within ``double_click_interval`` -> one ``double_click``;
  the right button -> ``right_click``; the middle button has no skill and is dropped;
* left press, move beyond ``drag_threshold``, release -> ``drag(x1, y1, x2, y2)``;
* wheel notches at about the same place within ``scroll_interval`` -> one ``scroll`` with the
  summed amount (positive is up), horizontal wheel ignored;
* printable characters (shift allowed) -> one ``type_text`` for a run of typing; backspace
  inside that run removes the last character instead of being pressed;
* ctrl, alt or the Windows key held with another key -> ``hotkey('ctrl', 's')`` (letters in
  lower case, shifted symbols back to their US-layout key); shift with a named key ->
  ``hotkey('shift', 'tab')``; any other named key -> ``press_key``; a lone tap of ctrl, alt or
  the Windows key -> ``press_key``; a lone shift is ignored;
* ``stop_chord`` (ctrl+shift+q by default) stops the recording and is not an action.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cradle.screen.base import normalize_key
from cradle.types import SkillCall

Point = tuple[int, int]

MODIFIER_ORDER = ("ctrl", "alt", "shift", "winleft")
"""Modifiers in the order hotkeys list them."""
_MODIFIER_NAMES = {
    "ctrl": "ctrl",
    "ctrlleft": "ctrl",
    "ctrlright": "ctrl",
    "control": "ctrl",
    "alt": "alt",
    "altleft": "alt",
    "altright": "alt",
    "option": "alt",
    "altgr": "alt",
    "shift": "shift",
    "shiftleft": "shift",
    "shiftright": "shift",
    "winleft": "winleft",
    "winright": "winleft",
    "win": "winleft",
    "command": "winleft",
    "cmd": "winleft",
    "super": "winleft",
}
_UNSHIFTED = dict(zip('~!@#$%^&*()_+{}|:"<>?', "`1234567890-=[]\\;',./", strict=True))
"""US layout: the key under each shifted symbol, so ctrl+shift+1 is hotkey('ctrl','shift','1')."""

DEFAULT_STOP_CHORD = ("ctrl", "shift", "q")


@dataclass(frozen=True)
class MouseEvent:
    """A button pressed or released at (x, y) in input coordinates."""

    t: float
    x: int
    y: int
    button: str
    pressed: bool


@dataclass(frozen=True)
class ScrollEvent:
    """Wheel notches at (x, y): ``dy`` positive is up."""

    t: float
    x: int
    y: int
    dx: int
    dy: int


@dataclass(frozen=True)
class KeyEvent:
    """A key pressed or released: a pyautogui key name, or the character it typed."""

    t: float
    key: str
    pressed: bool


InputEvent = MouseEvent | ScrollEvent | KeyEvent

_COORDINATE_PAIRS = (("x", "y"), ("x1", "y1"), ("x2", "y2"))


@dataclass(frozen=True)
class DemoAction:
    """One merged action; coordinates in input coordinates until :meth:`call` maps them."""

    skill: str
    t: float
    """When the gesture started: the screen just before this moment is the step's screenshot."""
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    points: tuple[Point, ...] = ()

    def call(self, to_image: Callable[[int, int], Point] | None = None) -> SkillCall:
        """The skill call, with coordinates mapped by ``to_image`` (input -> model image)."""
        kwargs = dict(self.kwargs)
        if to_image is not None:
            for kx, ky in _COORDINATE_PAIRS:
                if kx in kwargs and kwargs[kx] is not None:
                    kwargs[kx], kwargs[ky] = to_image(kwargs[kx], kwargs[ky])
        return SkillCall(skill=self.skill, args=list(self.args), kwargs=kwargs)

    def render(self, to_image: Callable[[int, int], Point] | None = None) -> str:
        return self.call(to_image).render()


def modifier_name(key: str) -> str | None:
    """The canonical modifier a key name stands for, or None for other keys."""
    return _MODIFIER_NAMES.get(key.lower() if len(key) > 1 else key)


def _is_text(key: str) -> bool:
    return len(key) == 1 and key.isprintable()


@dataclass
class _Press:
    t: float
    x: int
    y: int
    button: str


class DemoMerger:
    """Feeds on events in time order; returns finished actions as soon as they are known."""

    def __init__(
        self,
        *,
        drag_threshold: int = 5,
        double_click_interval: float = 0.4,
        scroll_interval: float = 0.6,
        stop_chord: tuple[str, ...] = DEFAULT_STOP_CHORD,
    ) -> None:
        self.drag_threshold = drag_threshold
        self.double_click_interval = double_click_interval
        self.scroll_interval = scroll_interval
        self.stop_chord = tuple(sorted(stop_chord))
        self.stopped = False
        self._held: dict[str, bool] = {}  # modifier -> used with another input since pressed
        self._held_t: dict[str, float] = {}  # modifier -> when it was pressed
        self._press: _Press | None = None
        self._pending_click: tuple[_Press, float] | None = None  # (press, release time)
        self._text = ""
        self._text_t = 0.0
        self._scroll: tuple[float, float, int, int, int] | None = None  # t0, t_last, x, y, dy

    # ------------------------------------------------------------------ flushing

    def _flush_text(self) -> list[DemoAction]:
        if not self._text:
            return []
        action = DemoAction("type_text", self._text_t, kwargs={"text": self._text})
        self._text = ""
        return [action]

    def _flush_click(self) -> list[DemoAction]:
        if self._pending_click is None:
            return []
        press, _ = self._pending_click
        self._pending_click = None
        return [
            DemoAction(
                "click", press.t, kwargs={"x": press.x, "y": press.y}, points=((press.x, press.y),)
            )
        ]

    def _flush_scroll(self) -> list[DemoAction]:
        if self._scroll is None:
            return []
        t0, _, x, y, dy = self._scroll
        self._scroll = None
        if dy == 0:
            return []
        return [DemoAction("scroll", t0, kwargs={"amount": dy, "x": x, "y": y}, points=((x, y),))]

    def _flush_all(self) -> list[DemoAction]:
        return [*self._flush_text(), *self._flush_click(), *self._flush_scroll()]

    def _use_modifiers(self) -> None:
        for name in self._held:
            self._held[name] = True

    # ------------------------------------------------------------------ events

    def feed(self, event: InputEvent) -> list[DemoAction]:
        """Take one event; return the actions it completed (usually none or one)."""
        if self.stopped:
            return []
        if isinstance(event, MouseEvent):
            return self._mouse(event)
        if isinstance(event, ScrollEvent):
            return self._wheel(event)
        return self._key(event)

    def poll(self, now: float) -> list[DemoAction]:
        """Actions that are complete because time passed (a click not followed by another)."""
        done: list[DemoAction] = []
        if self._pending_click is not None and self._press is None:
            if now - self._pending_click[1] > self.double_click_interval:
                done += self._flush_click()
        if self._scroll is not None and now - self._scroll[1] > self.scroll_interval:
            done += self._flush_scroll()
        return done

    def finish(self) -> list[DemoAction]:
        """Everything still pending, at the end of the recording."""
        self._press = None
        return self._flush_all()

    def _near(self, a: tuple[int, int], b: tuple[int, int]) -> bool:
        return abs(a[0] - b[0]) <= self.drag_threshold and abs(a[1] - b[1]) <= self.drag_threshold

    def _mouse(self, event: MouseEvent) -> list[DemoAction]:
        done: list[DemoAction] = [*self._flush_text(), *self._flush_scroll()]
        self._use_modifiers()
        if event.pressed:
            if self._pending_click is not None:
                first, released = self._pending_click
                second_click = (
                    event.button == "left"
                    and event.t - released <= self.double_click_interval
                    and self._near((first.x, first.y), (event.x, event.y))
                )
                if not second_click:
                    done += self._flush_click()
            self._press = _Press(event.t, event.x, event.y, event.button)
            return done
        press, self._press = self._press, None
        if press is None or press.button != event.button:
            return done  # a release without its press (the recording started mid-click)
        moved = not self._near((press.x, press.y), (event.x, event.y))
        if press.button == "left" and moved:
            done += self._flush_click()
            done.append(
                DemoAction(
                    "drag",
                    press.t,
                    kwargs={"x1": press.x, "y1": press.y, "x2": event.x, "y2": event.y},
                    points=((press.x, press.y), (event.x, event.y)),
                )
            )
        elif press.button == "left":
            if self._pending_click is not None:
                first, _ = self._pending_click
                self._pending_click = None
                done.append(
                    DemoAction(
                        "double_click",
                        first.t,
                        kwargs={"x": first.x, "y": first.y},
                        points=((first.x, first.y),),
                    )
                )
            else:
                self._pending_click = (press, event.t)
        elif press.button == "right":
            done += self._flush_click()
            done.append(
                DemoAction(
                    "right_click",
                    press.t,
                    kwargs={"x": press.x, "y": press.y},
                    points=((press.x, press.y),),
                )
            )
        return done

    def _wheel(self, event: ScrollEvent) -> list[DemoAction]:
        done = [*self._flush_text(), *self._flush_click()]
        if event.dy == 0:
            return done
        if self._scroll is not None:
            t0, last, x, y, dy = self._scroll
            same_place = self._near((x, y), (event.x, event.y))
            same_direction = (dy > 0) == (event.dy > 0)
            if same_place and same_direction and event.t - last <= self.scroll_interval:
                self._scroll = (t0, event.t, x, y, dy + event.dy)
                return done
            done += self._flush_scroll()
        self._scroll = (event.t, event.t, event.x, event.y, event.dy)
        return done

    def _key(self, event: KeyEvent) -> list[DemoAction]:
        key = event.key if _is_text(event.key) else normalize_key(event.key)
        modifier = modifier_name(key)
        if modifier is not None:
            if event.pressed:
                if modifier not in self._held:
                    self._held[modifier] = False
                    self._held_t[modifier] = event.t
                return []
            used = self._held.pop(modifier, True)
            self._held_t.pop(modifier, None)
            if used or modifier == "shift":
                return []
            done = self._flush_all()
            done.append(DemoAction("press_key", event.t, kwargs={"key": modifier}))
            return done
        if not event.pressed:
            return []
        if key == "space":
            key = " "
        chord_mods = [m for m in MODIFIER_ORDER if m in self._held and m != "shift"]
        self._use_modifiers()
        if chord_mods:
            base = key
            if "shift" in self._held and base in _UNSHIFTED:
                base = _UNSHIFTED[base]
            base = base.lower() if _is_text(base) else base
            if base == " ":
                base = "space"
            mods = [m for m in MODIFIER_ORDER if m in self._held]
            if tuple(sorted([*mods, base])) == self.stop_chord:
                self.stopped = True
                return self._flush_all()
            done = self._flush_all()
            started = min([event.t, *(self._held_t.get(m, event.t) for m in mods)])
            done.append(DemoAction("hotkey", started, args=(*mods, base)))
            return done
        if _is_text(key):
            done = [*self._flush_click(), *self._flush_scroll()]
            if not self._text:
                self._text_t = event.t
            self._text += key
            return done
        if key == "backspace" and self._text:
            self._text = self._text[:-1]
            return []
        done = self._flush_all()
        if "shift" in self._held:
            done.append(DemoAction("hotkey", event.t, args=("shift", key)))
        else:
            done.append(DemoAction("press_key", event.t, kwargs={"key": key}))
        return done


def merge_events(events: list[InputEvent], **options: Any) -> list[DemoAction]:
    """All actions of a finished event sequence (for tests and offline conversion)."""
    merger = DemoMerger(**options)
    actions: list[DemoAction] = []
    for event in events:
        actions += merger.poll(event.t)
        actions += merger.feed(event)
    actions += merger.finish()
    return actions
