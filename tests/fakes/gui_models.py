"""Fake open GUI models (UI-TARS, Qwen-VL) and grounding models behind chat completions.

Handlers for :class:`tests.fakes.openai_server.FakeOpenAIServer`: like a real model they see
only the request (its text and the screenshot it carries) and answer in their own grammar and
coordinate convention. A target is given as a fraction of the screen (the centre of the
mock Notepad's File menu); each fake writes it as its model family would: pixels of the image
it received, of its smart-resized grid, thousandths, or fractions. The smart-resize grids are
written out here by hand from Qwen2.5-VL's rule (sides rounded to multiples of 28), so the
test does not check cradle against itself.
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any

from PIL import Image

from tests.fakes.openai_server import FakeResponse, completion

SMART_GRIDS = {(1280, 720): (1288, 728), (1024, 768): (1036, 756), (960, 720): (952, 728)}
FILE_MENU = (55.5, 64.0)
"""Centre of mock Notepad's File menu in screen pixels (its rect is 29..82 x 49..79)."""


def file_menu(screen: tuple[int, int]) -> tuple[float, float]:
    """The File menu's centre as fractions of the screen (and so of any image of it)."""
    return FILE_MENU[0] / screen[0], FILE_MENU[1] / screen[1]


def last_image_size(body: dict) -> tuple[int, int]:
    """Size of the last image in the request, as the model would see it."""
    for message in reversed(body.get("messages", [])):
        content = message.get("content")
        if isinstance(content, list):
            for part in reversed(content):
                if part.get("type") == "image_url":
                    data = part["image_url"]["url"].split(",", 1)[1]
                    with Image.open(io.BytesIO(base64.b64decode(data))) as image:
                        return image.size
    raise AssertionError("the request carries no image")


def request_text(body: dict) -> str:
    parts = []
    for message in body.get("messages", []):
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(p.get("text", "") for p in content if p.get("type") == "text")
    return "\n".join(parts)


def written(
    fraction: tuple[float, float],
    image: tuple[int, int],
    convention: str,
    grid: tuple[int, int] | None = None,
) -> tuple[float, float]:
    """A point as a model of ``convention`` writes it for an image of size ``image``."""
    fx, fy = fraction
    if convention == "relative-1000":
        return round(fx * 1000), round(fy * 1000)
    if convention == "normalized":
        return round(fx, 4), round(fy, 4)
    width, height = grid or image
    return round(fx * width), round(fy * height)


def reply(text: str, *, prompt_tokens: int = 100, completion_tokens: int = 20) -> FakeResponse:
    return FakeResponse(
        200, completion(text, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)
    )


class ScriptedGuiModel:
    """A planner model: step 1 types ``text`` and clicks the File menu, step 2 finishes."""

    def __init__(
        self,
        family: str,
        screen: tuple[int, int],
        *,
        text: str,
        convention: str = "absolute",
        smart: bool = True,
    ) -> None:
        self.family = family
        self.screen = screen
        self.text = text
        self.convention = convention
        self.smart = smart
        self.steps = 0

    def __call__(self, body: dict) -> FakeResponse:
        self.steps += 1
        size = last_image_size(body)
        grid = SMART_GRIDS[size] if self.smart and self.convention == "absolute" else None
        x, y = written(file_menu(self.screen), size, self.convention, grid)
        if self.family == "uitars":
            if self.steps == 1:
                return reply(
                    f"Thought: I type the text, then open the File menu.\n"
                    f"Action: type(content='{self.text}')\n\n"
                    f"click(start_box='<|box_start|>({x},{y})<|box_end|>')"
                )
            return reply(
                "Thought: The text is typed and the menu is open.\nAction: finished(content='done')"
            )
        if self.steps == 1:
            calls = [
                {"action": "type", "text": self.text},
                {"action": "left_click", "coordinate": [x, y]},
            ]
            return reply(
                "I type the text, then open the File menu.\n"
                + "\n".join(
                    f"<tool_call>\n{json.dumps({'name': 'computer_use', 'arguments': c})}\n"
                    "</tool_call>"
                    for c in calls
                )
            )
        return reply(
            '<tool_call>\n{"name": "computer_use", "arguments": '
            '{"action": "terminate", "status": "success"}}\n</tool_call>'
        )


class FakeGrounder:
    """A grounding model: finds the description in the prompt among ``targets`` (screen
    fractions) and answers its point in ``fmt`` and ``convention``."""

    def __init__(
        self,
        targets: dict[str, tuple[float, float]],
        *,
        fmt: str = "point",
        convention: str = "absolute",
        grid: tuple[int, int] | str | None = None,
        prompt_tokens: int = 1000,
    ) -> None:
        self.targets = targets
        self.fmt = fmt
        self.convention = convention
        self.grid = grid
        self.prompt_tokens = prompt_tokens
        self.asked: list[str] = []

    def __call__(self, body: dict) -> FakeResponse:
        text = request_text(body)
        size = last_image_size(body)
        found = [name for name in self.targets if name.lower() in text.lower()]
        if not found:
            return reply("I cannot find it.", prompt_tokens=self.prompt_tokens)
        self.asked.append(found[0])
        grid = SMART_GRIDS[size] if self.grid == "smart-resize" else self.grid
        x, y = written(
            self.targets[found[0]], size, self.convention, grid if isinstance(grid, tuple) else None
        )
        answer = {
            "point": f"({x}, {y})",
            "uitars": f"Action: click(start_box='<|box_start|>({x},{y})<|box_end|>')",
            "qwen": '<tool_call>\n{"name": "computer_use", "arguments": {"action": '
            f'"left_click", "coordinate": [{x}, {y}]}}}}\n</tool_call>',
        }[self.fmt]
        return reply(answer, prompt_tokens=self.prompt_tokens, completion_tokens=9)


def general_model(plans: list[dict[str, Any]]) -> Any:
    """A general model in fused mode answering ``plans`` in order (then done)."""
    state = {"n": 0}

    def handler(body: dict) -> dict:
        plan = (
            plans[state["n"]]
            if state["n"] < len(plans)
            else {"reasoning": "done", "actions": [], "done": True}
        )
        state["n"] += 1
        return {
            "information_gathering": {
                "screen_description": "Notepad.",
                "visible_text": [],
                "elements": [],
            },
            "self_reflection": {
                "last_actions_succeeded": True,
                "analysis": "ok",
                "failure_reason": "",
            },
            "task_inference": {
                "subtask": "open the File menu",
                "reasoning": "asked",
            },
            "skill_curation": {"relevant_skills": [], "new_skills": []},
            "action_planning": plan,
        }

    return handler


def support_model() -> Any:
    """The general model of a full loop whose actions a planner decides: it answers the
    other modules (information gathering, reflection, task inference, skill curation)."""
    replies = {
        "InformationGathering": {
            "screen_description": "Notepad.",
            "visible_text": [],
            "elements": [],
        },
        "SelfReflection": {"last_actions_succeeded": True, "analysis": "ok", "failure_reason": ""},
        "TaskInference": {
            "subtask": "type the text and open the File menu",
            "reasoning": "asked",
        },
        "SkillCuration": {"relevant_skills": [], "new_skills": []},
    }

    def handler(body: dict) -> dict:
        return replies[body["response_format"]["json_schema"]["name"]]

    return handler
