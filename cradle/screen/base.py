"""The screen contract every environment implements: pixels out, input primitives in.

A ``Screen`` speaks in its own *input* coordinates (what the input library expects). Its
``geometry`` says how captured pixels relate to those coordinates, so that the one mapping in
``cradle.screen.mapping`` can turn a point on the image the model saw into a point the input
library understands, on any monitor layout or HiDPI factor.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Literal

from PIL import Image

MouseButton = Literal["left", "right", "middle"]


@dataclass(frozen=True)
class ScreenGeometry:
    """How captured pixels map to input coordinates.

    ``input = origin + captured_pixel / scale``. ``scale`` is captured pixels per input point:
    1.0 on ordinary screens, 2.0 on a macOS Retina display, 1.25 on Windows at 125% when the
    process is not DPI-aware. ``origin`` is where the captured area starts in input
    coordinates (negative for a monitor left of or above the primary one).
    """

    capture_size: tuple[int, int]
    origin: tuple[int, int] = (0, 0)
    scale: float = 1.0


class Screen(ABC):
    """Pixels and input for one display (real or mocked). Coordinates are input coordinates."""

    settle_interval: float = 0.05
    """Seconds between captures while waiting for the screen to come to rest after input
    (``cradle.screen.settle``); 0 for screens that draw before input returns (mocked)."""

    @property
    @abstractmethod
    def geometry(self) -> ScreenGeometry:
        """Captured size, origin and HiDPI scale of what ``capture`` returns."""

    @abstractmethod
    def capture(self) -> Image.Image:
        """An RGB image of the screen (or the chosen monitor/window)."""

    @abstractmethod
    def click(self, x: int, y: int, *, button: MouseButton = "left", clicks: int = 1) -> None:
        """Press and release ``button`` ``clicks`` times at (x, y)."""

    @abstractmethod
    def move(self, x: int, y: int) -> None:
        """Move the pointer to (x, y) without clicking."""

    @abstractmethod
    def drag(self, x1: int, y1: int, x2: int, y2: int, *, button: MouseButton = "left") -> None:
        """Press at (x1, y1), move to (x2, y2) and release."""

    @abstractmethod
    def scroll(self, amount: int, x: int | None = None, y: int | None = None) -> None:
        """Scroll by ``amount`` notches (positive is up), at (x, y) when given."""

    @abstractmethod
    def type_text(self, text: str) -> None:
        """Type ``text`` as key presses (newlines become Enter)."""

    @abstractmethod
    def press(self, key: str) -> None:
        """Press and release one key by its pyautogui name (enter, tab, esc, f5, a, ...)."""

    @abstractmethod
    def hotkey(self, *keys: str) -> None:
        """Press ``keys`` in order, then release them in reverse (ctrl+s is hotkey('ctrl', 's'))."""

    # Primitives some models ask for (computer-use APIs): optional, so a screen that cannot
    # do them says so when asked instead of every screen having to implement them.

    def mouse_down(
        self, x: int | None = None, y: int | None = None, *, button: MouseButton = "left"
    ) -> None:
        """Press ``button`` (at (x, y) when given) and keep it down."""
        raise self._unsupported("hold a mouse button")

    def mouse_up(
        self, x: int | None = None, y: int | None = None, *, button: MouseButton = "left"
    ) -> None:
        """Release ``button`` (at (x, y) when given)."""
        raise self._unsupported("release a mouse button")

    def key_down(self, key: str) -> None:
        """Press ``key`` and keep it down (``release_all`` lifts it if the run stops)."""
        raise self._unsupported("hold a key")

    def key_up(self, key: str) -> None:
        """Release ``key``."""
        raise self._unsupported("release a key")

    def hscroll(self, amount: int, x: int | None = None, y: int | None = None) -> None:
        """Scroll sideways by ``amount`` notches (positive is right), at (x, y) when given."""
        raise self._unsupported("scroll sideways")

    def _unsupported(self, what: str) -> Exception:
        from cradle.errors import SkillExecutionError

        return SkillExecutionError(f"this screen ({type(self).__name__}) cannot {what}")

    def release_all(self) -> None:
        """Release any key or button still held; called when a run stops for any reason."""
        return None

    def close(self) -> None:
        """Free the display connection or other resources."""
        return None


KEY_ALIASES: dict[str, str] = {
    "return": "enter",
    "escape": "esc",
    "control": "ctrl",
    "del": "delete",
    "cmd": "command",
    "win": "winleft",
    "super": "winleft",
    "pgup": "pageup",
    "pgdn": "pagedown",
    "spacebar": "space",
    " ": "space",
}


def normalize_key(key: str) -> str:
    """One spelling per key, so skills, the mock screen and replay agree on names."""
    lowered = key.strip().lower() if len(key) > 1 else key
    return KEY_ALIASES.get(lowered, lowered)
