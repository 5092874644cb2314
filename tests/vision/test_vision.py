"""Element boxes, marks, OCR, text matching and template matching on generated frames."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw, ImageFont

from cradle.perception import TextSpan
from cradle.vision.elements import detect_boxes, iou, merge_boxes
from cradle.vision.marks import draw_marks
from cradle.vision.match import TextAmbiguous, TextNotFound, find_text, normalize
from cradle.vision.ocr import TesseractOCR, group_lines, parse_tsv
from cradle.vision.perceiver import VisionPerceiver
from cradle.vision.templates import ImageNotFound, find_template, load_template

BUTTONS = {
    "Open": (100, 100, 260, 150),
    "Save": (400, 100, 560, 150),
    "Cancel": (700, 400, 900, 460),
}


def form(size: tuple[int, int] = (1280, 720)) -> Image.Image:
    """A light form with three buttons and a title, drawn with Pillow's bundled font."""
    image = Image.new("RGB", size, (235, 235, 235))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=28)
    draw.text((100, 30), "Settings and preferences", fill=(0, 0, 0), font=font)
    for text, (x0, y0, x1, y1) in BUTTONS.items():
        draw.rectangle((x0, y0, x1, y1), fill=(250, 250, 250), outline=(60, 60, 60), width=2)
        draw.text(((x0 + x1) // 2, (y0 + y1) // 2), text, fill=(0, 0, 0), font=font, anchor="mm")
    return image


def test_detect_boxes_finds_each_button() -> None:
    boxes = detect_boxes(form())
    for rect in BUTTONS.values():
        assert max(iou(rect, b) for b in boxes) > 0.8, (rect, boxes)
    assert len(boxes) < 20


def test_merge_and_drop_nested() -> None:
    merged = merge_boxes(
        [(0, 0, 100, 50), (2, 2, 98, 48), (300, 300, 320, 320)], merge_iou=0.5, nested_ratio=3.0
    )
    assert len(merged) == 2


def test_marks_are_drawn_and_listed() -> None:
    boxes = [(100, 100, 260, 150), (400, 100, 560, 150)]
    image = form()
    marked = draw_marks(image, boxes)
    assert marked.size == image.size and marked.tobytes() != image.tobytes()


def test_parse_and_group_tsv_splits_far_words() -> None:
    header = (
        "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\t"
        "height\tconf\ttext"
    )
    rows = [
        "5\t1\t1\t1\t1\t1\t10\t10\t40\t16\t95\tSave",
        "5\t1\t1\t1\t1\t2\t300\t10\t60\t16\t90\tCtrl+S",
        "5\t1\t1\t1\t2\t1\t10\t40\t40\t16\t95\tSave",
        "5\t1\t1\t1\t2\t2\t55\t40\t40\t16\t95\tAs...",
        "5\t1\t1\t1\t2\t3\t100\t40\t40\t16\t5\tjunk",
    ]
    words = parse_tsv("\n".join([header, *rows]))
    assert [w.text for w in words] == ["Save", "Ctrl+S", "Save", "As..."]
    lines = [" ".join(w.text for w in line) for line in group_lines(words)]
    assert lines == ["Save", "Ctrl+S", "Save As..."]


def test_ocr_reads_the_form_in_model_pixels() -> None:
    frame = form((1920, 1080))
    result = TesseractOCR().read(frame, scale=(0.5, 0.5))
    texts = [s.text for s in result.lines]
    assert "Open" in texts and "Cancel" in texts, texts
    cancel = next(s for s in result.lines if s.text == "Cancel")
    x, y = cancel.center
    x0, y0, x1, y1 = BUTTONS["Cancel"]  # frame pixels; the boxes come back halved
    assert abs(x - (x0 + x1) / 4) <= 3 and abs(y - (y0 + y1) / 4) <= 3


def spans(*items: tuple[str, tuple[int, int, int, int]]) -> list[TextSpan]:
    return [TextSpan(text, box) for text, box in items]


def test_match_exact_case_space_and_fuzzy() -> None:
    lines = spans(("File  Edit", (0, 0, 80, 20)), ("Untitled - Notepad", (200, 0, 400, 20)))
    words = [
        spans(("File", (0, 0, 30, 20)), ("Edit", (50, 0, 80, 20))),
        spans(
            ("Untitled", (200, 0, 280, 20)),
            ("-", (285, 0, 290, 20)),
            ("Notepad", (300, 0, 400, 20)),
        ),
    ]
    assert find_text("edit", lines, words).box == (50, 0, 80, 20)
    assert find_text("  FILE ", lines, words).box == (0, 0, 30, 20)
    assert find_text("Notepd", lines, words).text == "Notepad"  # an OCR-like slip
    assert find_text("untitled - notepad", lines, words).box == (200, 0, 400, 20)
    assert normalize(" Save  As... ") == "save as"


def test_match_prefers_whole_line_and_reports_ambiguity() -> None:
    lines = spans(
        ("Save", (0, 30, 40, 50)),
        ("Save As...", (0, 60, 90, 80)),
        ("OK", (10, 100, 30, 120)),
        ("OK", (210, 100, 230, 120)),
    )
    words = [
        [lines[0]],
        spans(("Save", (0, 60, 40, 80)), ("As...", (45, 60, 90, 80))),
        [lines[2]],
        [lines[3]],
    ]
    assert find_text("Save", lines, words).box == (0, 30, 40, 50)
    with pytest.raises(TextAmbiguous, match=r"'OK' at \(20, 110\), 'OK' at \(220, 110\)"):
        find_text("ok", lines, words)
    assert find_text("ok", lines, words, nth=2).box == (210, 100, 230, 120)
    with pytest.raises(TextNotFound, match="closest texts: 'Save As...'"):
        find_text("Save All Files", lines, words)
    with pytest.raises(TextNotFound, match="no text was read"):
        find_text("x", [], [])


def test_template_found_at_other_scales_and_rejected_when_absent(tmp_path) -> None:
    frame = form((1920, 1080))
    icon = Image.new("RGB", (48, 48), (255, 255, 255))
    d = ImageDraw.Draw(icon)
    d.ellipse((4, 4, 44, 44), fill=(200, 30, 30))
    d.rectangle((18, 10, 30, 38), fill=(20, 20, 160))
    frame.paste(icon.resize((60, 60)), (1500, 800))  # shown 1.25x larger than stored
    icon.save(tmp_path / "stop.png")
    template = load_template("stop", [tmp_path])
    found = find_template(frame, template)
    assert abs(found.center[0] - 1530) <= 3 and abs(found.center[1] - 830) <= 3
    assert 1.1 <= found.scale <= 1.4 and found.score >= 0.8
    with pytest.raises(ImageNotFound, match="under the threshold"):
        find_template(form((1920, 1080)), template, name="stop")
    with pytest.raises(ImageNotFound, match="this environment has: stop"):
        load_template("missing", [tmp_path])
    with pytest.raises(ImageNotFound, match="plain file name"):
        load_template("../etc/passwd", [tmp_path])


def test_perceiver_timings_marks_and_text() -> None:
    frame = form((1920, 1080))
    shown = frame.resize((1280, 720))
    perception = VisionPerceiver().perceive(frame, shown)
    assert {"ocr", "detect", "marks", "total"} <= set(perception.timings_ms)
    assert perception.image.size == shown.size and perception.image is not shown
    assert perception.elements and perception.elements[0].label == "1"
    assert any(s.text == "Save" for s in perception.text)
    plain = VisionPerceiver(marks=False, ocr=False).perceive(frame, shown)
    assert plain.image is shown and not plain.elements and not plain.text
