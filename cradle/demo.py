"""The offline demo: every module runs for real on the mocked notepad, the model is scripted.

The script is what a good model would answer for "write a note and save it as hello.txt".
Coordinates are pixels of the mocked notepad's 1024x768 screen (sent without downscaling).
It also proposes one new skill, so the demo shows curation of model-written code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cradle.agent import AgentSettings
from cradle.episode import EpisodeSettings, open_episode
from cradle.llm.scripted import ScriptedModel
from cradle.progress import Progress
from cradle.runtime import MemorySettings
from cradle.types import RunResult

DEMO_TASK = "Write a short note and save it as hello.txt"
NOTE = "Hello from cradle!\nThis note was typed by an agent on a mocked screen."

SAVE_AS_SKILL = '''from cradle.skills import skill


@skill
def save_document_as(screen, name: str) -> None:
    """Save the current document under a new file name.

    Args:
        name: The file name to save as.
    """
    hotkey("ctrl", "shift", "s")
    wait(seconds=0.2)
    type_text(text=name)
    press_key(key="enter")
'''


def _element(label: str, role: str, x: int, y: int) -> dict[str, Any]:
    return {"label": label, "role": role, "x": x, "y": y}


_MENU = [_element("File", "menu", 55, 64), _element("Edit", "menu", 110, 64)]

# One entry per step: what each module answers.
_STEPS: list[dict[str, Any]] = [
    {
        "screen": "An empty Notepad window titled 'Untitled - Notepad' with a menu bar.",
        "text": ["Untitled - Notepad", "File", "Edit", "Help", "Ready"],
        "elements": [*_MENU, _element("text area", "text field", 512, 400)],
        "reflection": None,
        "subtask": "Type the note into the text area",
        "relevant": ["type_text"],
        "new_skills": [SAVE_AS_SKILL],
        "actions": [f"type_text(text={NOTE!r})"],
        "done": False,
    },
    {
        "screen": "Notepad shows the typed note; the document is not saved yet.",
        "text": ["Hello from cradle!", "Untitled - Notepad"],
        "elements": _MENU,
        "reflection": "The note appears in the text area as typed.",
        "subtask": "Open the File menu",
        "relevant": ["click"],
        "new_skills": [],
        "actions": ["click(x=55, y=64)"],
        "done": False,
    },
    {
        "screen": "The File menu is open: New, Save, Save As..., Exit.",
        "text": ["New", "Save", "Save As...", "Exit"],
        "elements": [_element("Save As...", "menu item", 165, 163)],
        "reflection": "The File menu opened.",
        "subtask": "Choose Save As...",
        "relevant": ["click"],
        "new_skills": [],
        "actions": ["click(x=165, y=163)"],
        "done": False,
    },
    {
        "screen": "A 'Save As' dialog with a File name field, Save and Cancel buttons.",
        "text": ["Save As", "File name", "Save", "Cancel"],
        "elements": [
            _element("File name", "text field", 562, 362),
            _element("Save", "button", 564, 443),
        ],
        "reflection": "The Save As dialog is open and its file name field has focus.",
        "subtask": "Enter the file name and save",
        "relevant": ["type_text", "click"],
        "new_skills": [],
        "actions": ["type_text(text='hello.txt')", "click(x=564, y=443)"],
        "done": False,
    },
    {
        "screen": "Notepad titled 'hello.txt - Notepad'; the status bar says 'Saved hello.txt'.",
        "text": ["hello.txt - Notepad", "Saved hello.txt"],
        "elements": _MENU,
        "reflection": "The dialog closed and the title shows hello.txt: the file was saved.",
        "subtask": "Confirm the note is saved",
        "relevant": [],
        "new_skills": [],
        "actions": [],
        "done": True,
    },
]


def _module_replies(step: dict[str, Any]) -> dict[str, dict[str, Any]]:
    replies = {
        "information_gathering": {
            "screen_description": step["screen"],
            "visible_text": step["text"],
            "elements": step["elements"],
        },
        "self_reflection": {
            "last_actions_succeeded": True,
            "analysis": step["reflection"] or "First step: nothing to judge yet.",
            "failure_reason": "",
        },
        "task_inference": {
            "subtask": step["subtask"],
            "reasoning": f"Next: {step['subtask'].lower()}.",
        },
        "skill_curation": {"relevant_skills": step["relevant"], "new_skills": step["new_skills"]},
        "action_planning": {
            "reasoning": f"To {step['subtask'].lower()}.",
            "actions": step["actions"],
            "done": step["done"],
        },
    }
    return replies


def demo_model(mode: str) -> ScriptedModel:
    """The scripted replies for ``mode``: per-module queues, or one fused reply per step."""
    per_step = [_module_replies(step) for step in _STEPS]
    if mode == "fused":
        return ScriptedModel({"fused": per_step}, name="scripted-demo")
    queues: dict[str, list[Any]] = {}
    for index, replies in enumerate(per_step):
        for module, reply in replies.items():
            if module == "self_reflection" and index == 0:
                continue  # self-reflection does not run on the first step
            queues.setdefault(module, []).append(reply)
    return ScriptedModel(queues, name="scripted-demo")


def run_demo(
    *, runs_dir: Path, mode: str = "modular", progress: Progress | None = None
) -> RunResult:
    """Run the demo task on ``mock-notepad`` and return the result."""
    settings = EpisodeSettings(
        env="mock-notepad",
        task=DEMO_TASK,
        runs_dir=runs_dir,
        generated_skills_dir=None,
        # Canned replies must not become memories or skill statistics of real runs.
        memory=MemorySettings(enabled=False),
        skill_stats=False,
        agent=AgentSettings(mode="fused" if mode == "fused" else "modular", max_steps=len(_STEPS)),
    )
    return open_episode(settings, model=demo_model(mode), progress=progress).run()
