"""Incremental perception gives exactly what a full pass gives, reading only what changed.

Frames recorded from mock-notepad (typing, a menu opening and closing, a dialog) go through
an incremental ``VisionPerceiver`` and one that reads every frame whole: text, words, boxes,
elements and the marked image must be identical at every frame. The pieces (line bands,
edge bands), the in-process tesseract against the command, the bounded cache, and the loop's
background perception are checked on their own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from benchmarks.frame_sequences import compare, mock_sequence
from cradle.agent import AgentSettings
from cradle.environment import Environment
from cradle.errors import EnvironmentFailure
from cradle.llm.images import downscale
from cradle.llm.scripted import ScriptedModel
from cradle.perception import Perception
from cradle.session import MemorySettings, Session, SessionSettings
from cradle.trajectory.loader import load_run
from cradle.types import Element
from cradle.vision.bands import BandSettings, line_bands
from cradle.vision.elements import DetectSettings, detect_boxes
from cradle.vision.ocr import TesseractOCR
from cradle.vision.perceiver import VisionPerceiver
from cradle.vision.pieces import PieceCache, PieceReader


@pytest.fixture(scope="module")
def recorded() -> dict:
    return compare(mock_sequence((1920, 1080)), repeats=1)


def test_incremental_equals_full_at_every_frame(recorded: dict) -> None:
    assert recorded["identical"], f"frames that differ: {recorded['differ']}"
    assert recorded["frames"] == 9


def test_typing_rereads_one_band_and_a_closed_dialog_none(recorded: dict) -> None:
    frames = {row["frame"]: row for row in recorded["per_frame"]}
    assert frames["start"]["ocr_bands_read"] == frames["start"]["ocr_bands"]  # first: all
    for name in ("typed Hello", "typed world", "typed again"):
        assert frames[name]["ocr_bands_read"] == 1 < frames[name]["ocr_bands"]
    # Back to a screen read before: every band is known.
    assert frames["menu closed"]["ocr_bands_read"] == 0
    assert frames["dialog open"]["ocr_bands_read"] < frames["dialog open"]["ocr_bands"]


def _gray(size: tuple[int, int] = (400, 120)) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("L", size, 255)
    return image, ImageDraw.Draw(image)


def test_lines_separate_into_bands_despite_a_window_edge() -> None:
    image, draw = _gray()
    draw.line((5, 0, 5, 119), fill=0)  # a window edge crossing every row
    draw.text((20, 10), "First line", fill=0)
    draw.text((20, 60), "Second line", fill=0)
    bands = line_bands(np.asarray(image))
    assert len(bands) == 2
    first, second = bands
    assert first.bottom <= 60 - 0 and second.top >= first.bottom - BandSettings().margin * 2
    assert first.left <= 20 and first.right < 200  # cut to the ink, plus a margin


def test_a_dot_above_a_stem_stays_with_it_and_a_blank_frame_has_no_band() -> None:
    image, draw = _gray()
    draw.rectangle((50, 40, 51, 41), fill=0)  # the dot of an i
    draw.rectangle((50, 43, 51, 52), fill=0)  # its stem, one blank row below
    assert [(b.top <= 40, b.bottom >= 53) for b in line_bands(np.asarray(image))] == [(True, True)]
    assert line_bands(np.full((50, 80), 200, np.uint8)) == []


def test_a_band_margin_never_reaches_its_neighbours_ink() -> None:
    image, draw = _gray()
    draw.rectangle((20, 10, 80, 20), fill=0)
    draw.rectangle((20, 23, 80, 33), fill=0)  # two blank rows between
    upper, lower = line_bands(np.asarray(image))
    assert upper.bottom <= 23 and lower.top >= 21


def test_equal_pixels_give_equal_digests_wherever_they_are() -> None:
    image, draw = _gray()
    draw.text((20, 10), "Same", fill=0)
    draw.text((20, 70), "Same", fill=0)
    upper, lower = line_bands(np.asarray(image))
    assert upper.digest == lower.digest and upper.top != lower.top


def test_the_library_and_the_command_read_the_same_words() -> None:
    frame = dict(mock_sequence((1280, 720)))["typed again"]
    gray = np.asarray(frame.convert("L"))
    crops = [gray[b.top : b.bottom, b.left : b.right] for b in line_bands(gray)]
    library = TesseractOCR(in_process=True).pages(crops)
    command = TesseractOCR(in_process=False).pages(crops)

    # tesserocr's wheel carries its own tesseract build: confidences differ in the decimals.
    def read(pages: list) -> list:
        return [[(w.text, w.box, w.line_key) for w in words] for words in pages]

    assert read(library) == read(command)
    assert any(w.text == "Hello" for words in library for w in words)


def test_bands_worked_out_around_the_change_equal_bands_worked_out_whole() -> None:
    reader = PieceReader(TesseractOCR(), DetectSettings())
    frames = [np.asarray(f.convert("L")) for _, f in mock_sequence((1280, 720))]
    rng = np.random.default_rng(5)
    edited = frames[-1].copy()
    for i in range(8):  # strokes, every other one with a pane edge (a long run) beside it
        edited = edited.copy()
        top, left = int(rng.integers(0, 690)), int(rng.integers(0, 1200))
        edited[top : top + int(rng.integers(1, 30)), left : left + 60] = rng.integers(0, 255)
        if i % 2:
            edited[max(0, top - 50) : top + 50, left + 10] = 0
        frames.append(edited)
    for gray in frames:
        assert reader._bands(gray, reuse=True) == line_bands(gray)


def _rows_of_buttons(shift: int = 0) -> Image.Image:
    image, draw = Image.new("RGB", (640, 360), (250, 250, 250)), None
    draw = ImageDraw.Draw(image)
    for row in range(4):
        for col in range(5):
            x, y = 20 + col * 120 + (shift if row == 2 else 0), 20 + row * 85
            draw.rectangle((x, y, x + 90, y + 40), outline=(40, 40, 40), width=2)
            draw.text((x + 10, y + 12), f"B{row}{col}", fill=(0, 0, 0))
    return image


def test_contours_band_by_band_equal_detect_boxes_and_trace_only_the_change() -> None:
    reader = PieceReader(TesseractOCR(), DetectSettings())
    before, after = _rows_of_buttons(), _rows_of_buttons(shift=7)
    boxes, work = reader.boxes(before)
    assert boxes == detect_boxes(before) and work["contour_bands"] == 4
    boxes, work = reader.boxes(after)
    assert boxes == detect_boxes(after)
    assert work["contour_bands_read"] == 1


def test_the_piece_cache_is_bounded_and_drops_the_oldest() -> None:
    cache: PieceCache[int] = PieceCache(limit=2)
    for key, value in (("a", 1), ("b", 2)):
        cache.put(key, value)
    assert cache.get("a") == 1  # now the most recent
    cache.put("c", 3)
    assert len(cache) == 2 and cache.get("b") is None and cache.get("a") == 1


def test_text_read_for_a_skill_is_not_read_again_for_the_marks() -> None:
    frame = mock_sequence((1280, 720))[0][1]
    perceiver = VisionPerceiver()
    text_only = perceiver.run(frame, frame, marks=False, ocr=True)
    both = perceiver.run(frame, frame, marks=True, ocr=True)
    assert text_only.work["ocr_bands_read"] > 0 and both.work["ocr_bands_read"] == 0
    assert both.text == text_only.text and both.marks_done and not text_only.marks_done


class _Recording:
    """A perceiver that notes the thread it runs on (or fails, when told to)."""

    def __init__(self, fail: bool = False) -> None:
        self.threads: list[str] = []
        self.fail = fail

    def perceive(
        self, frame: Image.Image, shown: Image.Image, mapping: object = None
    ) -> Perception:
        self.threads.append(threading.current_thread().name)
        if self.fail:
            raise EnvironmentFailure("tesseract failed: no model for 'eng'")
        element = Element(role="button", name="Seen", x=10, y=10, label="1")
        return Perception(image=downscale(frame, 640), elements=[element])


def _session(tmp_path: Path, perceiver: _Recording, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(
        Environment, "perceiver", lambda self, *, marks=True: perceiver
    )  # mock-notepad's
    fused = {
        "information_gathering": {"screen_description": "", "visible_text": [], "elements": []},
        "self_reflection": {"last_actions_succeeded": True, "analysis": "", "failure_reason": ""},
        "task_inference": {"subtask": "", "reasoning": ""},
        "skill_curation": {"relevant_skills": [], "new_skills": []},
        "action_planning": {"reasoning": "", "actions": [], "done": True},
    }
    settings = SessionSettings(
        env="mock-notepad",
        task="look",
        runs_dir=tmp_path / "runs",
        generated_skills_dir=None,
        memory=MemorySettings(enabled=False),
        stats_path=tmp_path / "stats.json",
        agent=AgentSettings(mode="fused", max_steps=2),
    )
    return Session(settings, model=ScriptedModel({"fused": [fused]})).run()


def test_the_loop_perceives_on_a_worker_thread_and_joins_before_the_prompt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    perceiver = _Recording()
    result = _session(tmp_path, perceiver, monkeypatch)
    assert result.status == "done"
    assert perceiver.threads == ["cradle-perceive"]
    step = load_run(result.run_dir).steps[0]
    assert [e.name for e in step.observation.elements] == ["Seen"]
    assert step.observation.image_size == (640, 480) and step.observation.marks_image


def test_a_perception_failure_on_the_worker_ends_the_run_with_its_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _session(tmp_path, _Recording(fail=True), monkeypatch)
    assert result.status == "environment_failure"
    assert "no model for 'eng'" in result.reason


def test_the_figure_is_not_met_when_a_frame_differs() -> None:
    from benchmarks.frame_sequences import figures

    row = {
        "frames": 3,
        "repeats": 1,
        "full_ms": 300.0,
        "incremental_ms": 90.0,
        "ratio": 0.3,
        "identical": False,
        "differ": ["menu open"],
    }
    figure = figures({"mock_1080p": row})["perception_incremental_vs_full"]
    assert figure["value"] == 0.3 and figure["met"] is False
    assert "NOT IDENTICAL at menu open" in figure["method"]
    figure = figures(
        {
            "mock_1080p": {**row, "identical": True, "differ": []},
            "xvfb_1080p_error": "EnvironmentFailure: Xvfb is not installed",
        }
    )
    assert figure["perception_incremental_vs_full"]["met"] is True
    assert "Xvfb is not installed" in figure["perception_incremental_vs_full"]["method"]


def test_the_typed_step_goal_is_twice_the_step_without_perception() -> None:
    from benchmarks.step_bench import desktop_figures

    def row(ms: float) -> dict:
        return {
            "median_ms_changed": ms,
            "median_ms_unchanged": 100.0,
            "stages_ms": {"changed": {"perceive": 12.0}},
        }

    met = desktop_figures({"xvfb_1080p": row(250.0), "xvfb_1080p_no_perception": row(130.0)})
    assert met["step_overhead_ms_1080p_xvfb_typed"]["met"] is True
    assert "12 ms waiting for the perception" in met["step_overhead_ms_1080p_xvfb_typed"]["method"]
    missed = desktop_figures({"xvfb_1080p": row(270.0), "xvfb_1080p_no_perception": row(130.0)})
    assert missed["step_overhead_ms_1080p_xvfb_typed"]["met"] is False
    failed = desktop_figures(
        {"xvfb_1080p": {"error": "no Xvfb"}, "xvfb_1080p_no_perception": {"error": "no Xvfb"}}
    )
    assert failed["step_overhead_ms_1080p_xvfb_typed"]["value"] is None


def test_tesseract_in_process_uses_one_thread_and_leaves_the_environment_alone() -> None:
    script = (
        "import os, numpy as np\n"
        "from cradle.vision import tesslib\n"
        "before = len(os.listdir('/proc/self/task'))\n"
        "tesslib.engine('eng', 11).tsv(np.full((200, 600), 255, np.uint8))\n"
        "print(len(os.listdir('/proc/self/task')) - before, 'OMP_THREAD_LIMIT' in os.environ)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OMP_THREAD_LIMIT"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=Path(__file__).parents[2],
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "False"]


def test_a_skill_gets_its_own_perceivers_reading_not_another_episodes() -> None:
    from cradle.environment import load_environment
    from cradle.screen.mapping import CoordinateMap
    from cradle.skills import SkillContext
    from cradle.skills.context import EpisodeView
    from cradle.vision.grounding import current_perception

    env = load_environment("mock-notepad")
    screen = env.start()

    def ctx(perceiver: VisionPerceiver) -> SkillContext:
        return SkillContext(
            screen=screen,
            mapping=CoordinateMap(screen.capture().size, screen.geometry),
            episode=EpisodeView(environment=env, perceiver=perceiver),
        )

    first, second = ctx(VisionPerceiver()), ctx(VisionPerceiver())
    read = current_perception(first, need="text")
    assert current_perception(first, need="text") is read  # same frame: not read again
    other = current_perception(second, need="text")
    assert other is not read and other.text == read.text
    assert current_perception(second, need="text") is other
