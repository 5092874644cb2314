"""Editable text widgets: a single-line ``TextField`` and a wrapping, scrolling ``TextArea``.

Both keep the text as one string with a caret index and an optional selection anchor, so
typing, selection and hit-testing share one implementation. The caret never blinks: captures
must depend on the inputs only.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Any, ClassVar

from cradle.screen.mock.fonts import BODY_SIZE, fit_count, font, index_at, line_height, text_width
from cradle.screen.mock.toolkit import (
    ACCENT,
    FIELD_BG,
    FIELD_BORDER,
    SCROLL_THUMB,
    SCROLL_TRACK,
    SELECTION,
    TEXT,
    Action,
    Canvas,
    KeyPress,
    Rect,
    Widget,
    box,
)

WORD_CHAR = re.compile(r"\w")
SCROLL_LINES = 3
"""Lines moved per wheel notch, as on most desktops."""


class TextEditor(Widget):
    """Shared editing behaviour: caret, selection, typing, deletion, word selection."""

    focusable = True
    PAD: ClassVar[int] = 6

    def __init__(
        self,
        rect: Rect,
        *,
        text: str = "",
        label: str = "",
        name: str = "",
        size: int = BODY_SIZE,
        on_change: Action | None = None,
    ) -> None:
        super().__init__(rect, label=label, name=name)
        self._text = text
        self.caret = len(text)
        self.anchor: int | None = None
        self.size = size
        self.on_change = on_change

    @property
    def text(self) -> str:
        return self._text

    @text.setter
    def text(self, value: str) -> None:
        """Replace the whole content (app code, not typing): caret to the end, no selection."""
        self._text = value
        self.caret, self.anchor = len(value), None
        self.reveal()

    # Editing ----------------------------------------------------------------------------

    @property
    def selection(self) -> tuple[int, int] | None:
        """(start, end) of the selected range, or None when nothing is selected."""
        if self.anchor is None or self.anchor == self.caret:
            return None
        return min(self.anchor, self.caret), max(self.anchor, self.caret)

    def selected_text(self) -> str:
        sel = self.selection
        return self._text[sel[0] : sel[1]] if sel else ""

    def select(self, start: int, end: int) -> None:
        """Select ``[start, end)``; the caret ends at ``end``."""
        self.anchor, self.caret = self._clamp(start), self._clamp(end)
        self.reveal()

    def select_all(self) -> None:
        self.select(0, len(self._text))

    def insert(self, chars: str) -> None:
        """Type ``chars`` at the caret, replacing the selection."""
        start, end = self.selection or (self.caret, self.caret)
        self._replace(start, end, chars)

    def backspace(self) -> None:
        sel = self.selection
        if sel:
            self._replace(*sel, "")
        elif self.caret > 0:
            self._replace(self.caret - 1, self.caret, "")

    def delete(self) -> None:
        sel = self.selection
        if sel:
            self._replace(*sel, "")
        elif self.caret < len(self._text):
            self._replace(self.caret, self.caret + 1, "")

    def word_bounds(self, index: int) -> tuple[int, int]:
        """The word (run of letters, digits, _) touching ``index``; empty range if none."""
        text = self._text
        if index < len(text) and WORD_CHAR.match(text[index]):
            pass
        elif index > 0 and WORD_CHAR.match(text[index - 1]):
            index -= 1
        else:
            return index, index
        start, end = index, index
        while start > 0 and WORD_CHAR.match(text[start - 1]):
            start -= 1
        while end < len(text) and WORD_CHAR.match(text[end]):
            end += 1
        return start, end

    def _replace(self, start: int, end: int, chars: str) -> None:
        self._text = self._text[:start] + chars + self._text[end:]
        self.caret, self.anchor = start + len(chars), None
        self.reveal()
        if self.on_change is not None:
            self.on_change()

    def _clamp(self, index: int) -> int:
        return max(0, min(index, len(self._text)))

    def _move(self, index: int, extend: bool) -> None:
        if extend:
            if self.anchor is None:
                self.anchor = self.caret
        else:
            self.anchor = None
        self.caret = self._clamp(index)
        self.reveal()

    def _word_left(self) -> int:
        i = self.caret
        while i > 0 and not WORD_CHAR.match(self._text[i - 1]):
            i -= 1
        while i > 0 and WORD_CHAR.match(self._text[i - 1]):
            i -= 1
        return i

    def _word_right(self) -> int:
        i, n = self.caret, len(self._text)
        while i < n and not WORD_CHAR.match(self._text[i]):
            i += 1
        while i < n and WORD_CHAR.match(self._text[i]):
            i += 1
        return i

    # Layout hooks ---------------------------------------------------------------------------

    def line_bounds(self, index: int) -> tuple[int, int]:
        """Start and end of the displayed line holding ``index`` (Home/End targets)."""
        return 0, len(self._text)

    def index_at_point(self, x: int, y: int) -> int:
        """Caret index for a click at (x, y)."""
        raise NotImplementedError

    def reveal(self) -> None:
        """Scroll so the caret is visible (after typing or moving it)."""

    # Input ----------------------------------------------------------------------------------

    def key(self, press: KeyPress) -> bool:
        if press.char is not None:
            self.insert(press.char)
            return True
        extend = "shift" in press.mods
        ctrl = "ctrl" in press.mods
        name = press.key
        sel = self.selection
        if press.chord == "ctrl+a":
            self.select_all()
        elif name == "backspace" and not extend:
            self.backspace()
        elif name == "delete" and not extend:
            self.delete()
        elif name == "left":
            target = self._word_left() if ctrl else self.caret - 1
            self._move(sel[0] if sel and not extend and not ctrl else target, extend)
        elif name == "right":
            target = self._word_right() if ctrl else self.caret + 1
            self._move(sel[1] if sel and not extend and not ctrl else target, extend)
        elif name == "home":
            self._move(0 if ctrl else self.line_bounds(self.caret)[0], extend)
        elif name == "end":
            self._move(len(self._text) if ctrl else self.line_bounds(self.caret)[1], extend)
        else:
            return False
        return True

    def mouse_down(self, x: int, y: int, clicks: int) -> None:
        index = self.index_at_point(x, y)
        if clicks == 2:
            self.select(*self.word_bounds(index))
        elif clicks >= 3:
            self.select(*self.line_bounds(index))
        else:
            self.caret = self.anchor = index  # anchor kept for a drag; no selection yet
            self.reveal()

    def mouse_drag(self, x: int, y: int) -> None:
        self.caret = self.index_at_point(x, y)
        self.reveal()

    def mouse_up(self, x: int, y: int) -> None:
        if self.anchor == self.caret:
            self.anchor = None

    def paint_frame(self, canvas: Canvas) -> None:
        box(canvas, self.rect, FIELD_BG, ACCENT if canvas.focus is self else FIELD_BORDER)


class TextField(TextEditor):
    """A single-line input; Enter is left to the dialog (its default button)."""

    role = "textfield"

    def __init__(self, rect: Rect, **options: Any) -> None:
        super().__init__(rect, **options)
        self.first = 0
        """Index of the first visible character (horizontal scroll)."""

    @property
    def room(self) -> int:
        x0, _, x1, _ = self.rect
        return x1 - x0 - 2 * self.PAD - 2

    def reveal(self) -> None:
        self.first = min(self.first, self.caret)
        while self.first < self.caret and (
            text_width(self._text[self.first : self.caret], self.size) > self.room
        ):
            self.first += 1

    def index_at_point(self, x: int, y: int) -> int:
        offset = x - self.rect[0] - self.PAD
        return self.first + index_at(self._text[self.first :], offset, self.size)

    def _x(self, index: int) -> int:
        index = max(index, self.first)
        shown = self._text[self.first : index]
        return self.rect[0] + self.PAD + round(text_width(shown, self.size))

    def paint(self, canvas: Canvas) -> None:
        self.paint_frame(canvas)
        x0, y0, x1, y1 = self.rect
        shown = self._text[self.first :]
        shown = shown[: fit_count(shown, self.room, self.size)]
        last = self.first + len(shown)
        sel = self.selection
        if sel and sel[1] > self.first and sel[0] < last:
            a, b = self._x(sel[0]), self._x(min(sel[1], last))
            canvas.draw.rectangle((a, y0 + 5, b - 1, y1 - 6), fill=SELECTION)
        middle = (y0 + y1) // 2
        if shown:
            canvas.draw.text(
                (x0 + self.PAD, middle), shown, font=font(self.size), fill=TEXT, anchor="lm"
            )
        if canvas.focus is self:
            cx = min(self._x(self.caret), x1 - 3)
            canvas.draw.rectangle((cx, y0 + 5, cx + 1, y1 - 6), fill=TEXT)


def wrap_lines(text: str, width: float, size: int = BODY_SIZE) -> list[tuple[int, int]]:
    """Split ``text`` into displayed lines of at most ``width`` px: (start, end) index pairs.

    Lines break at newlines and, when too long, after the last space that fits (spaces hang
    at the end of a line) or mid-word when a word alone is too wide.
    """
    lines: list[tuple[int, int]] = []
    pos = 0
    for logical in text.split("\n"):
        start, end = pos, pos + len(logical)
        while True:
            rest = text[start:end]
            cut = start + fit_count(rest, width, size)
            if cut >= end:
                lines.append((start, end))
                break
            cut = max(cut, start + 1)
            while cut < end and text[cut] == " ":
                cut += 1
            if text[cut - 1] != " ":
                space = text.rfind(" ", start, cut)
                if space >= start:
                    cut = space + 1
            if cut >= end:
                lines.append((start, end))
                break
            lines.append((start, cut))
            start = cut
        pos = end + 1
    return lines


class TextArea(TextEditor):
    """A multi-line editor with word wrap, a vertical scrollbar and wheel scrolling."""

    role = "textarea"
    SCROLLBAR: ClassVar[int] = 14
    PAD = 8

    def __init__(self, rect: Rect, **options: Any) -> None:
        self._layout: tuple[str, list[tuple[int, int]]] = ("", [(0, 0)])
        self._top = 0
        self._reveal_pending = False
        super().__init__(rect, **options)

    # Layout ---------------------------------------------------------------------------------

    @property
    def lines(self) -> list[tuple[int, int]]:
        """Displayed lines as (start, end) indices into ``text``; recomputed when it changes."""
        if self._layout[0] != self._text:
            x0, _, x1, _ = self.rect
            width = x1 - x0 - 2 * self.PAD - self.SCROLLBAR
            self._layout = (self._text, wrap_lines(self._text, width, self.size))
        return self._layout[1]

    @property
    def line_height(self) -> int:
        return line_height(self.size)

    @property
    def rows_visible(self) -> int:
        """How many lines fit in the area at once."""
        _, y0, _, y1 = self.rect
        return max(1, (y1 - y0 - 2 * self.PAD) // self.line_height)

    @property
    def max_top(self) -> int:
        return max(0, len(self.lines) - self.rows_visible)

    @property
    def top(self) -> int:
        """Index of the first visible line; settled lazily so long typing stays fast."""
        if self._reveal_pending:
            self._reveal_pending = False
            row = self.row_of(self.caret)
            if row < self._top:
                self._top = row
            elif row >= self._top + self.rows_visible:
                self._top = row - self.rows_visible + 1
        self._top = max(0, min(self._top, self.max_top))
        return self._top

    def row_of(self, index: int) -> int:
        """The displayed line holding ``index`` (at a wrap point: the later line)."""
        starts = [start for start, _ in self.lines]
        return max(0, bisect_right(starts, index) - 1)

    def _row_end(self, row: int) -> int:
        """Last caret index on ``row``; before the hanging space when the line wraps."""
        lines = self.lines
        start, end = lines[row]
        if row + 1 < len(lines) and lines[row + 1][0] == end and end > start:
            return end - 1
        return end

    def _index_in_row(self, row: int, offset: float) -> int:
        start, _ = self.lines[row]
        end = self._row_end(row)
        return start + index_at(self._text[start:end], offset, self.size)

    def line_bounds(self, index: int) -> tuple[int, int]:
        row = self.row_of(index)
        return self.lines[row][0], self._row_end(row)

    def reveal(self) -> None:
        self._reveal_pending = True

    def index_at_point(self, x: int, y: int) -> int:
        x0, y0, _, _ = self.rect
        row = self.top + (y - y0 - self.PAD) // self.line_height
        row = max(0, min(row, len(self.lines) - 1))
        return self._index_in_row(row, x - x0 - self.PAD)

    def _caret_offset(self) -> float:
        start, _ = self.lines[self.row_of(self.caret)]
        return text_width(self._text[start : self.caret], self.size)

    # Input ----------------------------------------------------------------------------------

    def key(self, press: KeyPress) -> bool:
        name, extend = press.key, "shift" in press.mods
        rows = {"up": -1, "down": 1, "pageup": -self.rows_visible, "pagedown": self.rows_visible}
        if press.chord == "enter":
            self.insert("\n")
        elif press.chord == "tab":
            self.insert("    ")
        elif name in rows and not press.mods - {"shift"}:
            row = self.row_of(self.caret) + rows[name]
            if row < 0:
                self._move(0, extend)
            elif row >= len(self.lines):
                self._move(len(self._text), extend)
            else:
                self._move(self._index_in_row(row, self._caret_offset()), extend)
        else:
            return super().key(press)
        return True

    def scroll(self, amount: int) -> bool:
        self._top = max(0, min(self.top - amount * SCROLL_LINES, self.max_top))
        return True

    # Drawing --------------------------------------------------------------------------------

    def paint(self, canvas: Canvas) -> None:
        self.paint_frame(canvas)
        x0, y0, x1, y1 = self.rect
        right = x1 - self.SCROLLBAR - 2
        left = x0 + self.PAD
        lh, top, lines = self.line_height, self.top, self.lines
        sel = self.selection
        face = font(self.size)
        for row in range(top, min(len(lines), top + self.rows_visible)):
            start, end = lines[row]
            y = y0 + self.PAD + (row - top) * lh
            if sel and sel[0] <= end and sel[1] > start:
                a = left + text_width(self._text[start : max(sel[0], start)], self.size)
                b = left + text_width(self._text[start : min(sel[1], end)], self.size)
                if sel[1] > end:  # the selection runs on past this line's end
                    b += 6
                canvas.draw.rectangle(
                    (round(a), y, min(round(b), right) - 1, y + lh - 1), fill=SELECTION
                )
            if end > start:
                canvas.draw.text((left, y), self._text[start:end], font=face, fill=TEXT)
        if canvas.focus is self and top <= self.row_of(self.caret) < top + self.rows_visible:
            row = self.row_of(self.caret)
            cx = min(round(left + self._caret_offset()), right - 2)
            y = y0 + self.PAD + (row - top) * lh
            canvas.draw.rectangle((cx, y + 1, cx + 1, y + lh - 2), fill=TEXT)
        self._paint_scrollbar(canvas)

    def _paint_scrollbar(self, canvas: Canvas) -> None:
        if self.max_top == 0:
            return
        x0, y0, x1, y1 = self.rect
        track = (x1 - 1 - self.SCROLLBAR, y0 + 1, x1 - 1, y1 - 1)
        box(canvas, track, SCROLL_TRACK)
        height = track[3] - track[1]
        thumb = max(24, height * self.rows_visible // len(self.lines))
        offset = (height - thumb) * self.top // self.max_top
        thumb_rect = (track[0] + 3, track[1] + offset, track[2] - 3, track[1] + offset + thumb)
        box(canvas, thumb_rect, SCROLL_THUMB)
