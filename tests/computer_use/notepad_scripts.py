"""Scripted computer-use models for mock-notepad: type text, then Help > About, then done.

Each script answers the fake server of its API (tests/fakes/anthropic_server.py,
tests/fakes/responses_server.py) with documented reply shapes, and checks each request the
way the API would use it: the tool declared at the size of the image sent, every earlier
call answered with its id and a screenshot of that size. Problems are collected in
``problems`` (a test asserts it is empty) rather than raised inside the server thread.
Clicks target the widgets' centres, computed on a local copy of the app and scaled to the
image the model was shown, so a wrong coordinate mapping misses the menu.
"""

from __future__ import annotations

import base64
import io
from typing import Any

from PIL import Image

from environments.mock_notepad.app import NotepadApp
from tests.fakes import anthropic_server as claude
from tests.fakes import responses_server as operator
from tests.fakes.openai_server import FakeResponse

SCREEN = (1024, 768)
IMAGE = (640, 480)
"""The screenshot sent with --max-image-side 640."""
TYPED = "Hello computer"


def targets(
    image: tuple[int, int] = IMAGE, screen: tuple[int, int] = SCREEN
) -> dict[str, tuple[int, int]]:
    """Centres of the Help menu and its About item, in pixels of the model's image."""
    app = NotepadApp(screen)
    help_title = app.screen.find("Help").center
    app.screen.click(*help_title)
    about = app.screen.find("About").center
    sx, sy = image[0] / screen[0], image[1] / screen[1]
    return {
        name: (round(x * sx), round(y * sy))
        for name, (x, y) in (("help", help_title), ("about", about))
    }


def expected_final(screen: tuple[int, int] = SCREEN) -> Image.Image:
    """The screen once the text is typed and Help > About is open."""
    app = NotepadApp(screen)
    app.screen.type_text(TYPED)
    app.screen.click(*app.screen.find("Help").center)
    app.screen.click(*app.screen.find("About").center)
    return app.screen.capture()


def _size_of(data: str) -> tuple[int, int]:
    return Image.open(io.BytesIO(base64.b64decode(data))).size


class ClaudeScript:
    """Claude with the computer tool: one tool_use per reply, then a closing text."""

    def __init__(self, image: tuple[int, int] = IMAGE, screen: tuple[int, int] = SCREEN) -> None:
        self.image = image
        self.screen = screen
        self.steps = 0
        self.problems: list[str] = []
        self.last_id = ""
        self.subtasks: list[str] = []

    def actions(self) -> list[dict[str, Any]]:
        spot = targets(self.image, self.screen)
        return [
            {"action": "type", "text": TYPED},
            {"action": "left_click", "coordinate": list(spot["help"])},
            {"action": "left_click", "coordinate": list(spot["about"])},
        ]

    def _check(self, body: dict) -> None:
        tool = (body.get("tools") or [{}])[0]
        if (tool.get("type"), tool.get("display_width_px"), tool.get("display_height_px")) != (
            "computer_20250124",
            *self.image,
        ):
            self.problems.append(f"step {self.steps}: tool {tool}")
        last = body["messages"][-1]["content"]
        images = [b["source"]["data"] for b in last if b.get("type") == "image"]
        results = [b for b in last if b.get("type") == "tool_result"]
        for block in results:
            images += [
                b["source"]["data"]
                for b in block.get("content") or []
                if isinstance(b, dict) and b.get("type") == "image"
            ]
        if self.steps and [b.get("tool_use_id") for b in results] != [self.last_id]:
            self.problems.append(f"step {self.steps}: results {results!r:.200}")
        if len(images) != 1 or _size_of(images[0]) != self.image:
            self.problems.append(f"step {self.steps}: {len(images)} image(s) in the last turn")
        self.subtasks += [
            b["text"] for b in last if b.get("type") == "text" and "subtask" in b.get("text", "")
        ]

    def __call__(self, body: dict) -> FakeResponse:
        self._check(body)
        actions = self.actions()
        step, self.steps = self.steps, self.steps + 1
        if step >= len(actions):
            return claude.message(
                [{"type": "text", "text": "The About box is open."}],
                input_tokens=1000,
                output_tokens=10,
            )
        block = claude.tool_use("computer", actions[step])
        self.last_id = block["id"]
        return claude.message(
            [{"type": "text", "text": f"step {step + 1}"}, block],
            stop_reason="tool_use",
            input_tokens=1000,
            output_tokens=50,
        )


class OperatorScript:
    """OpenAI's computer-use model: one computer_call per reply, then a message. With
    ``safety`` the first call carries a pending safety check."""

    def __init__(
        self,
        image: tuple[int, int] = IMAGE,
        screen: tuple[int, int] = SCREEN,
        *,
        safety: bool = False,
    ) -> None:
        self.image = image
        self.screen = screen
        self.safety = safety
        self.steps = 0
        self.problems: list[str] = []
        self.last = ("", "")
        """(response id, call id) of the last reply."""
        self.acknowledged: list[Any] = []

    def actions(self) -> list[dict[str, Any]]:
        spot = targets(self.image, self.screen)
        return [
            {"type": "type", "text": TYPED},
            {"type": "click", "button": "left", "x": spot["help"][0], "y": spot["help"][1]},
            {"type": "click", "button": "left", "x": spot["about"][0], "y": spot["about"][1]},
        ]

    def _check(self, body: dict) -> None:
        tool = (body.get("tools") or [{}])[0]
        if (
            tool.get("type"),
            tool.get("display_width"),
            tool.get("display_height"),
            tool.get("environment"),
        ) != ("computer_use_preview", *self.image, "linux"):
            self.problems.append(f"step {self.steps}: tool {tool}")
        if body.get("truncation") != "auto":
            self.problems.append(f"step {self.steps}: truncation {body.get('truncation')}")
        items = body["input"]
        outputs = [i for i in items if i.get("type") == "computer_call_output"]
        urls = [i["output"]["image_url"] for i in outputs]
        urls += [
            p["image_url"]
            for i in items
            for p in i.get("content") or []
            if isinstance(p, dict) and p.get("type") == "input_image"
        ]
        if self.steps:
            if body.get("previous_response_id") != self.last[0] or [
                o["call_id"] for o in outputs
            ] != [self.last[1]]:
                self.problems.append(
                    f"step {self.steps}: {body.get('previous_response_id')} {outputs!r:.200}"
                )
            self.acknowledged += [o.get("acknowledged_safety_checks") for o in outputs]
        if len(urls) != 1 or _size_of(urls[0].split(",", 1)[1]) != self.image:
            self.problems.append(f"step {self.steps}: {len(urls)} image(s)")

    def __call__(self, body: dict) -> FakeResponse:
        self._check(body)
        actions = self.actions()
        step, self.steps = self.steps, self.steps + 1
        if step >= len(actions):
            return operator.response(
                [operator.text_message("Done: the About box is open.")],
                input_tokens=900,
                output_tokens=10,
            )
        call_id = f"call_{step + 1}"
        checks = (
            [
                {
                    "id": "cu_sc_1",
                    "code": "malicious_instructions",
                    "message": "The screen may contain instructions.",
                }
            ]
            if self.safety and step == 0
            else []
        )
        reply = operator.response(
            [
                {"type": "reasoning", "id": f"rs_{step}", "summary": []},
                {
                    "type": "computer_call",
                    "id": f"cu_{step}",
                    "call_id": call_id,
                    "action": actions[step],
                    "pending_safety_checks": checks,
                    "status": "completed",
                },
            ],
            input_tokens=900,
            output_tokens=40,
        )
        self.last = (reply.body["id"], call_id)
        return reply
