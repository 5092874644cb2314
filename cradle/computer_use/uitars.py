"""UI-TARS: "Thought: ... Action: ..." text replies, as the model was trained to write them.

The prompt lists the action space in UI-TARS's own grammar (``click(start_box='(x1,y1)')``,
``left_double``, ``right_single``, ``drag``, ``hotkey(key='ctrl c')``, ``type(content='...')``,
``scroll``, ``wait()``, ``finished(content='...')``, ``call_user()``). Replies may hold several
actions separated by blank lines; boxes come as ``(x,y)``, ``<|box_start|>(x,y)<|box_end|>``,
``<point>x y</point>`` or ``[x1,y1,x2,y2]`` (its centre). Points are read in the convention the
user declared: UI-TARS-1.5 answers in pixels of its smart-resized image (the default),
UI-TARS 1.0 in thousandths (``--coordinates relative-1000``).
"""

from __future__ import annotations

import re
from typing import Any

from cradle.computer_use.actions import MAX_KEYS, NativeAction
from cradle.computer_use.base import PlanInput
from cradle.computer_use.calls import TextCall, read_calls
from cradle.computer_use.coordinates import Coordinates
from cradle.computer_use.text_planner import ParsedReply, TextActionPlanner, chord
from cradle.errors import ModelReplyError

DEFAULT_COORDINATES = Coordinates("absolute", "smart-resize", "default of uitars")
SCROLL_CLICKS = 5
WAIT_SECONDS = 5.0
"""What the prompt promises for ``wait()``, as UI-TARS was trained."""

PROMPT = """You are a GUI agent. You are given a task and your action history, with screenshots. \
You need to perform the next action to complete the task.

## Output Format
```
Thought: ...
Action: ...
```

## Action Space

click(start_box='<|box_start|>(x1,y1)<|box_end|>')
left_double(start_box='<|box_start|>(x1,y1)<|box_end|>')
right_single(start_box='<|box_start|>(x1,y1)<|box_end|>')
drag(start_box='<|box_start|>(x1,y1)<|box_end|>', end_box='<|box_start|>(x3,y3)<|box_end|>')
hotkey(key='') # Split keys with a space and use lowercase, e.g. hotkey(key='ctrl c').
type(content='') # Escape \\', \\" and \\n in content. To submit your input, end it with \\n.
scroll(start_box='<|box_start|>(x1,y1)<|box_end|>', direction='down or up or right or left')
wait() # Sleep for 5s and take a screenshot to check for any changes.
finished(content='') # The task is complete; say what was done.
call_user() # Submit the task and call the user when the task is unsolvable, or when you \
need the user's help.

## Note
- Use English in `Thought` part.
- Write a small plan and finally summarize your next action (with its target element) in one \
sentence in `Thought` part.

## User Instruction
{instruction}
"""

_CLICKS = {
    "click": "click",
    "left_single": "click",
    "left_double": "double_click",
    "right_single": "right_click",
    "left_triple": "triple_click",
    "hover": "move",
}
KNOWN = (
    *_CLICKS,
    "drag",
    "select",
    "hotkey",
    "press",
    "type",
    "scroll",
    "wait",
    "finished",
    "call_user",
)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def read_point(box: str, coordinates: Coordinates, image_size: tuple[int, int]) -> tuple[int, int]:
    """A box or point in any UI-TARS spelling, as a pixel of the model image."""
    cleaned = re.sub(r"<\|box_(?:start|end)\|>|</?point>|</?bbox>", " ", box)
    numbers = [float(n) for n in _NUMBER.findall(cleaned)]
    if len(numbers) == 4:
        numbers = [(numbers[0] + numbers[2]) / 2, (numbers[1] + numbers[3]) / 2]
    if len(numbers) != 2:
        raise ModelReplyError(f"malformed box {box[:80]!r}: expected (x,y) or [x1,y1,x2,y2]")
    return coordinates.to_image(numbers[0], numbers[1], image_size)


def split_reply(text: str) -> tuple[str, str]:
    """(thought, action text) of a reply; ``ModelReplyError`` when there is no action."""
    text = text.replace("[EOS]", "").strip()
    # The first "Action:" that starts a line (typed text may say "Action:" too), else the
    # last one anywhere (a reply on one line).
    found = re.search(r"(?m)^[ \t]*Action:", text)
    index = found.end() - len("Action:") if found else text.rfind("Action:")
    if index < 0:
        raise ModelReplyError("no 'Action:' in the reply: answer as 'Thought: ... Action: ...'")
    head, actions = text[:index], text[index + len("Action:") :]
    thought = re.sub(r"^\s*(Thought|Reflection|Action_Summary):\s*", "", head.strip())
    return thought.strip(), actions.strip().strip("`").strip()


def parse_uitars(text: str, coordinates: Coordinates, image_size: tuple[int, int]) -> ParsedReply:
    """A UI-TARS reply as native actions in model-image pixels."""
    thought, action_text = split_reply(text)
    calls = read_calls(action_text)
    if not calls:
        raise ModelReplyError("'Action:' is empty: give one action such as click(...)")
    actions: list[NativeAction] = []
    for call in calls:
        if call.name == "call_user":
            return ParsedReply(thought, tuple(actions), asks_user=thought or "(no reason given)")
        action = _action(call, coordinates, image_size)
        actions.append(action)
        if action.kind == "done":
            break
    done = bool(actions) and actions[-1].kind == "done"
    return ParsedReply(thought or (actions[-1].text if done else ""), tuple(actions), done=done)


def _box(
    call: TextCall, coordinates: Coordinates, size: tuple[int, int], *names: str
) -> tuple[int, int]:
    for name in names:
        if call.kwargs.get(name):
            return read_point(call.kwargs[name], coordinates, size)
    raise ModelReplyError(f"{call.name} needs {names[0]}: {call.source[:120]!r}")


def _action(call: TextCall, coordinates: Coordinates, size: tuple[int, int]) -> NativeAction:
    name, raw, kw = call.name, call.source, call.kwargs
    if name in _CLICKS:
        x, y = _box(call, coordinates, size, "start_box", "point")
        return NativeAction(_CLICKS[name], x=x, y=y, raw=raw)  # type: ignore[arg-type]
    if name in ("drag", "select"):
        start = _box(call, coordinates, size, "start_box", "start_point")
        end = _box(call, coordinates, size, "end_box", "end_point")
        return NativeAction("drag", path=(start, end), raw=raw)
    if name in ("hotkey", "press"):
        keys = chord(re.split(r"\s+|(?<=.)\+(?=.)", kw.get("key", "")))
        if not 1 <= len(keys) <= MAX_KEYS:
            raise ModelReplyError(f"{name} needs key='ctrl c' (1 to {MAX_KEYS} keys): {raw!r}")
        return NativeAction("key", keys=keys, raw=raw)
    if name == "type":
        return NativeAction("type", text=kw.get("content", ""), raw=raw)
    if name == "scroll":
        return _scroll(call, coordinates, size)
    if name == "wait":
        return NativeAction("wait", seconds=WAIT_SECONDS, raw=raw)
    if name == "finished":
        return NativeAction("done", text=kw.get("content", ""), raw=raw)
    raise ModelReplyError(f"unknown action {name!r}: use one of {', '.join(KNOWN)}")


def _scroll(call: TextCall, coordinates: Coordinates, size: tuple[int, int]) -> NativeAction:
    direction = call.kwargs.get("direction", "").strip().lower()
    steps = {
        "down": (0, SCROLL_CLICKS),
        "up": (0, -SCROLL_CLICKS),
        "right": (SCROLL_CLICKS, 0),
        "left": (-SCROLL_CLICKS, 0),
    }
    if direction not in steps:
        raise ModelReplyError(
            f"scroll needs direction='down', 'up', 'left' or 'right': {call.source[:120]!r}"
        )
    where: dict[str, Any] = {}
    if call.kwargs.get("start_box") or call.kwargs.get("point"):
        where["x"], where["y"] = _box(call, coordinates, size, "start_box", "point")
    dx, dy = steps[direction]
    return NativeAction("scroll", scroll_x=dx, scroll_y=dy, raw=call.source, **where)


class UITarsPlanner(TextActionPlanner):
    """UI-TARS (1.0, 1.5) served by an OpenAI-compatible server, planning each step."""

    name = "uitars"
    family = "UI-TARS"
    repair_hint = (
        "Answer again as 'Thought: ...' then 'Action: ...' with actions from the action space."
    )

    def opening(self, given: PlanInput) -> list[dict[str, Any]]:
        task = given.task if not given.subtask else f"{given.task}\nNow: {given.subtask}"
        return [{"role": "user", "content": PROMPT.format(instruction=task)}]

    def parse(self, text: str, image_size: tuple[int, int]) -> ParsedReply:
        return parse_uitars(text, self.coordinates, image_size)
