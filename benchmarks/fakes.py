"""Zero-latency models for the benchmarks: the framework's cost with the model taken out.

``InstantClient`` stands in for the ``openai`` client inside the real ``OpenAIProvider``: the
provider still renders, encodes the screenshot, builds the schema and parses the reply, and
the request body is serialised as the client would, but the answer comes back at once. The
answers are what a model would plausibly say on the mocked notepad: type some text on one
step (the screen changes), then wait with no action (the screen does not).
"""

from __future__ import annotations

import json
import time
from types import SimpleNamespace
from typing import Any

from cradle.llm.openai_provider import OpenAIProvider


def module_replies(step: int, waiting: bool = False) -> dict[str, dict[str, Any]]:
    """Every module's answer at ``step``: odd steps type a word, even steps plan nothing
    (or, ``waiting``, plan ``wait(seconds=0.1)``, as while an app loads)."""
    typing = step % 2 == 1
    idle = ["wait(seconds=0.1)"] if waiting else []
    actions = [f"type_text(text='word{step} ')"] if typing else idle
    return {
        "InformationGathering": {
            "screen_description": "A notepad window titled 'Untitled - Notepad'.",
            "visible_text": ["Untitled - Notepad", "File", "Edit"],
            "elements": [{"label": "File", "role": "menu", "x": 40, "y": 40}],
        },
        "SelfReflection": {
            "last_actions_succeeded": True,
            "analysis": "The text appeared.",
            "failure_reason": "",
        },
        "TaskInference": {
            "subtask": "Type the words",
            "reasoning": "They are not all there.",
        },
        "SkillCuration": {"relevant_skills": ["type_text"], "new_skills": []},
        "ActionPlan": {
            "reasoning": "Type the next word." if typing else "Let it settle.",
            "actions": actions,
            "done": False,
        },
    }


def fused_reply(step: int, waiting: bool = False) -> dict[str, Any]:
    r = module_replies(step, waiting)
    return {
        "information_gathering": r["InformationGathering"],
        "self_reflection": r["SelfReflection"],
        "task_inference": r["TaskInference"],
        "skill_curation": r["SkillCuration"],
        "action_planning": r["ActionPlan"],
    }


class ScriptedAnswers:
    """Answers a request body by the schema it asks for; counts plans to know the step."""

    def __init__(self, waiting: bool = False) -> None:
        self.plans = 0
        self.waiting = waiting

    def __call__(self, body: dict[str, Any]) -> dict[str, Any]:
        fmt = body.get("response_format") or {}
        name = fmt.get("json_schema", {}).get("name", "FusedStep")
        if name in ("ActionPlan", "FusedStep"):
            self.plans += 1
        if name == "FusedStep":
            return fused_reply(self.plans, self.waiting)
        return module_replies(self.plans + (name != "ActionPlan"), self.waiting)[name]


class InstantClient:
    """The part of ``openai.OpenAI`` the provider uses, answering at once."""

    def __init__(self) -> None:
        self.answers = ScriptedAnswers()
        self.own_ms: list[float] = []
        self.chat = SimpleNamespace(completions=SimpleNamespace(create=self._create))

    def _create(self, **body: Any) -> Any:
        json.dumps(body)  # the client serialises the body: framework time, not the model's
        started = time.perf_counter()
        text = json.dumps(self.answers(body))
        self.own_ms.append((time.perf_counter() - started) * 1000)
        message = SimpleNamespace(content=text, refusal=None)
        return SimpleNamespace(
            choices=[SimpleNamespace(message=message)],
            usage=SimpleNamespace(prompt_tokens=0, completion_tokens=0),
        )

    def close(self) -> None:
        return None


def instant_provider(image_format: str = "jpeg") -> tuple[OpenAIProvider, InstantClient]:
    client = InstantClient()
    return OpenAIProvider(model="instant", client=client, image_format=image_format), client
