"""Qwen-VL computer use: ``<tool_call>`` JSON function calls of the ``computer_use`` tool.

The system prompt declares the tool as Qwen's chat template does (its JSON schema inside
``<tools>``; calls come back as ``<tool_call>{"name": "computer_use", "arguments": {...}}
</tool_call>``), including the screen resolution the model should answer in: the
smart-resized image size for Qwen2.5-VL (absolute pixels, the default), 1000x1000 for Qwen3-VL
(``--coordinates relative-1000``). Several calls in one reply run in order; ``terminate``
ends the task (``success``) or stops it for a person (``failure``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from cradle.computer_use.actions import MAX_KEYS, NativeAction
from cradle.computer_use.base import PlanInput
from cradle.computer_use.calls import MAX_CALLS
from cradle.computer_use.coordinates import Coordinates
from cradle.computer_use.text_planner import ParsedReply, TextActionPlanner, chord
from cradle.errors import ModelReplyError

DEFAULT_COORDINATES = Coordinates("absolute", "smart-resize", "default of qwen")
ACTIONS = (
    "key",
    "type",
    "mouse_move",
    "left_click",
    "left_click_drag",
    "right_click",
    "middle_click",
    "double_click",
    "triple_click",
    "scroll",
    "hscroll",
    "wait",
    "terminate",
    "answer",
)
_CLICKS = {
    "left_click": "click",
    "right_click": "right_click",
    "middle_click": "middle_click",
    "double_click": "double_click",
    "triple_click": "triple_click",
    "mouse_move": "move",
}
_BLOCK = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.DOTALL)


def tool_schema(coordinates: Coordinates, image_size: tuple[int, int]) -> dict[str, Any]:
    """The ``computer_use`` function as the model is told about it."""
    width, height = coordinates.space(image_size)
    unit = (
        "fractions from 0 to 1 of the width and height"
        if coordinates.convention == "normalized"
        else "pixels from the left and top edges"
    )
    return {
        "type": "function",
        "function": {
            "name": "computer_use",
            "description": (
                "Use a mouse and keyboard to interact with a computer, and take screenshots.\n"
                "* This is an interface to a desktop GUI.\n"
                f"* The screen's resolution is {width}x{height}.\n"
                "* Consult the screenshot to find an element's coordinates before you click it; "
                "click the centre of buttons, links and icons, not their edges."
            ),
            "parameters": {
                "type": "object",
                "required": ["action"],
                "properties": {
                    "action": {
                        "type": "string",
                        "enum": list(ACTIONS),
                        "description": (
                            "The action to perform: key (press keys together), type (a string), "
                            "mouse_move, left_click, left_click_drag (drag from the cursor to the "
                            "coordinate), right_click, middle_click, double_click, triple_click "
                            "(at the coordinate), scroll and hscroll (by pixels), wait (seconds), "
                            "terminate (the task is finished: status success or failure), "
                            "answer (text)."
                        ),
                    },
                    "keys": {"type": "array", "description": "Required only by action=key."},
                    "text": {
                        "type": "string",
                        "description": "Required only by action=type and action=answer.",
                    },
                    "coordinate": {"type": "array", "description": f"(x, y) in {unit}."},
                    "pixels": {
                        "type": "number",
                        "description": "Scroll amount; positive scrolls up "
                        "(scroll) or right (hscroll).",
                    },
                    "time": {"type": "number", "description": "Seconds, for action=wait."},
                    "status": {
                        "type": "string",
                        "enum": ["success", "failure"],
                        "description": "Required only by action=terminate.",
                    },
                },
            },
        },
    }


def system_prompt(coordinates: Coordinates, image_size: tuple[int, int]) -> str:
    """Qwen's tool-calling system prompt with the ``computer_use`` function."""
    schema = json.dumps(tool_schema(coordinates, image_size), ensure_ascii=False)
    return (
        "You are a helpful assistant.\n\n# Tools\n\nYou may call one or more functions to "
        "assist with the user query.\n\nYou are provided with function signatures within "
        f"<tools></tools> XML tags:\n<tools>\n{schema}\n</tools>\n\nFor each function call, "
        "return a json object with function name and arguments within <tool_call></tool_call> "
        'XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n'
        "</tool_call>"
    )


def parse_qwen(text: str, coordinates: Coordinates, image_size: tuple[int, int]) -> ParsedReply:
    """A Qwen reply's tool calls as native actions in model-image pixels."""
    blocks = _BLOCK.findall(text)
    if not blocks:
        raise ModelReplyError(
            "no <tool_call> in the reply: call computer_use inside <tool_call></tool_call>"
        )
    if len(blocks) > MAX_CALLS:
        raise ModelReplyError(f"more than {MAX_CALLS} tool calls in one reply")
    thought = _BLOCK.sub("", text).strip()
    actions: list[NativeAction] = []
    for block in blocks:
        args = _arguments(block)
        action = str(args.get("action", ""))
        if action == "terminate":
            if args.get("status", "success") == "failure":
                return ParsedReply(
                    thought,
                    tuple(actions),
                    asks_user=thought or "it terminated the task with status failure",
                )
            return ParsedReply(thought, tuple(actions), done=True)
        if action == "answer":
            thought = f"{thought}\nAnswer: {args.get('text', '')}".strip()
            continue
        actions.extend(_actions(action, args, block.strip(), coordinates, image_size))
    return ParsedReply(thought, tuple(actions))


def _arguments(block: str) -> dict[str, Any]:
    try:
        call = json.loads(block.strip())
        args = call.get("arguments", {})
        if isinstance(args, str):  # some servers send the arguments as a JSON string
            args = json.loads(args)
    except (ValueError, AttributeError):
        raise ModelReplyError(f"a <tool_call> is not JSON: {block.strip()[:120]!r}") from None
    if call.get("name") != "computer_use" or not isinstance(args, dict):
        raise ModelReplyError(
            f"call the computer_use function with an arguments object, not {block.strip()[:120]!r}"
        )
    return args


def _point(
    args: dict[str, Any], action: str, coordinates: Coordinates, size: tuple[int, int]
) -> tuple[int, int]:
    point = args.get("coordinate")
    if (
        not isinstance(point, list | tuple)
        or len(point) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in point)
    ):
        raise ModelReplyError(f"{action} needs coordinate [x, y], got {point!r}")
    return coordinates.to_image(point[0], point[1], size)


def _number(args: dict[str, Any], name: str, action: str) -> float:
    value = args.get(name)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ModelReplyError(f"{action} needs a number {name}, got {value!r}")
    return float(value)


def _actions(
    action: str, args: dict[str, Any], raw: str, coordinates: Coordinates, size: tuple[int, int]
) -> list[NativeAction]:
    if action in _CLICKS:
        x, y = _point(args, action, coordinates, size)
        return [NativeAction(_CLICKS[action], x=x, y=y, raw=raw)]  # type: ignore[arg-type]
    if action == "left_click_drag":
        # From wherever the cursor is: press there, move, release at the coordinate.
        x, y = _point(args, action, coordinates, size)
        return [
            NativeAction("mouse_down", raw=raw),
            NativeAction("move", x=x, y=y, raw=raw),
            NativeAction("mouse_up", x=x, y=y, raw=raw),
        ]
    if action == "key":
        keys = args.get("keys")
        if isinstance(keys, str):
            keys = re.split(r"[\s+]+", keys.strip())
        if (
            not isinstance(keys, list)
            or not 1 <= len(keys) <= MAX_KEYS
            or not all(isinstance(k, str) and k for k in keys)
        ):
            raise ModelReplyError(f"key needs keys: a list of 1 to {MAX_KEYS} key names")
        names = chord(part for key in keys for part in (key.split("+") if len(key) > 1 else [key]))
        return [NativeAction("key", keys=names, raw=raw)]
    if action == "type":
        if not isinstance(args.get("text"), str):
            raise ModelReplyError("type needs text")
        return [NativeAction("type", text=args["text"], raw=raw)]
    if action in ("scroll", "hscroll"):
        pixels = round(_number(args, "pixels", action))
        where: dict[str, int] = {}
        if args.get("coordinate") is not None:
            where["x"], where["y"] = _point(args, action, coordinates, size)
        if action == "scroll":  # Qwen: positive scrolls up; a NativeAction: positive is down
            return [NativeAction("scroll", scroll_y=-pixels, raw=raw, **where)]
        return [NativeAction("scroll", scroll_x=pixels, raw=raw, **where)]
    if action == "wait":
        seconds = _number(args, "time", action) if "time" in args else 1.0
        return [NativeAction("wait", seconds=seconds, raw=raw)]
    raise ModelReplyError(f"unknown action {action!r}: use one of {', '.join(ACTIONS)}")


class QwenPlanner(TextActionPlanner):
    """Qwen2.5-VL / Qwen3-VL served by an OpenAI-compatible server, planning each step."""

    name = "qwen"
    family = "Qwen-VL"
    repair_hint = (
        'Answer again with <tool_call>{"name": "computer_use", "arguments": {...}}</tool_call>.'
    )

    def opening(self, given: PlanInput) -> list[dict[str, Any]]:
        task = given.task if not given.subtask else f"{given.task}\nNow: {given.subtask}"
        return [
            {"role": "system", "content": system_prompt(self.coordinates, given.image.size)},
            {
                "role": "user",
                "content": f"The task: {task}\nEach message brings the current "
                "screenshot; answer with the next actions.",
            },
        ]

    def parse(self, text: str, image_size: tuple[int, int]) -> ParsedReply:
        return parse_qwen(text, self.coordinates, image_size)
