"""The grounding benchmark measures what it says: targets from the tree, found and hit.

The scoring is checked on hand-made nodes and elements; the whole measurement once on the
GTK window with icon-only buttons, where the answer is known: the tree names every widget,
the merged elements cover the buttons, and OCR, which sees no text on them, does not.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from benchmarks.grounding_apps import Widget, app_named
from benchmarks.grounding_bench import bench_app, found, hit, score, tree_targets, write_results
from benchmarks.markdown import ELSEWHERE
from cradle.elements.base import AccessibleNode
from cradle.errors import EnvironmentFailure
from cradle.paths import project_dir
from cradle.types import Element

AREA = (100, 100, 500, 400)
PROJECT = project_dir()


def node(role: str, box: tuple[int, int, int, int] | None, showing: bool = True) -> AccessibleNode:
    return AccessibleNode(
        role=role, name=role, box=box, states=frozenset({"showing"} if showing else set())
    )


def element(box: tuple[int, int, int, int], source: str = "ocr") -> Element:
    return Element(role="text", name="w", x=0, y=0, box=box, source=source)  # type: ignore[arg-type]


def test_targets_are_showing_interactive_nodes_centred_in_the_window_one_per_box() -> None:
    nodes = [
        node("push button", (110, 110, 150, 140)),
        node("toggle button", (110, 110, 150, 140)),  # same box: the same place to click
        node("panel", (100, 100, 500, 400)),  # a container is no target
        node("menu item", (120, 200, 200, 220), showing=False),  # a closed menu's item
        node("entry", (480, 380, 600, 420)),  # centre outside the captured window
        node("check box", (300, 300, 301, 320)),  # degenerate box
        node("entry", None),
        node("link", (200, 300, 260, 320)),
    ]
    assert [(t.role, t.box) for t in tree_targets(nodes, AREA)] == [
        ("push button", (110, 110, 150, 140)),
        ("link", (200, 300, 260, 320)),
    ]


def test_found_needs_the_centre_in_a_box_and_hit_needs_a_centre_in_the_target() -> None:
    button = Widget("push button", "OK", (100, 100, 140, 120))  # centre (120, 110)
    line = element((50, 105, 400, 115))  # a long OCR line across the button
    assert found(button, [line]) and not hit(button, [line])
    word = element((110, 102, 130, 118))
    assert found(button, [word]) and hit(button, [word])
    beside = element((141, 100, 180, 120))
    assert not found(button, [beside]) and not hit(button, [beside])
    assert not found(button, [Element(role="text", name="w", x=120, y=110, source="ocr")])


def test_score_counts_each_provider_and_lists_who_found_what() -> None:
    targets = [Widget("push button", "A", (0, 0, 10, 10)), Widget("entry", "B", (20, 0, 40, 10))]
    observed = {
        "a11y": (1.0, [element((0, 0, 10, 10), "a11y"), element((20, 0, 40, 10), "a11y")]),
        "ocr": (2.0, [element((1, 1, 9, 9))]),
    }
    result = score(targets, observed)
    assert result["targets"] == 2
    assert result["providers"]["a11y"]["found_pct"] == 100.0
    assert result["providers"]["ocr"] == {
        "found": 1,
        "found_pct": 50.0,
        "hit": 1,
        "hit_pct": 50.0,
        "elements": 1,
        "ms": 2.0,
    }
    assert [row["found_by"] for row in result["target_list"]] == [["a11y", "ocr"], ["a11y"]]


def test_an_unknown_app_or_a_broken_results_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentFailure, match="no app 'gimp'"):
        app_named("gimp")
    bad = tmp_path / "results.json"
    bad.write_text("[1, 2")
    with pytest.raises(EnvironmentFailure, match="not a cradle bench report"):
        write_results({"apps": {}}, bad, None)


def fake_report() -> dict:
    providers = {
        name: {
            "found": n,
            "found_pct": 25.0 * n,
            "hit": n,
            "hit_pct": 25.0 * n,
            "elements": 5,
            "ms": 10.0 * n,
        }
        for name, n in (("a11y", 4), ("ocr", 1), ("contours", 3), ("merged", 4))
    }
    return {
        "repeat": 1,
        "command": "python -m benchmarks.grounding_bench",
        "apps": {"gtk_icons": {"targets": 4, "providers": providers, "target_list": []}},
    }


def test_results_get_the_grounding_figures_and_keep_every_other_one(tmp_path: Path) -> None:
    results, markdown = tmp_path / "results.json", tmp_path / "BENCHMARKS.md"
    shutil.copy(PROJECT / "benchmarks" / "results.json", results)
    before = json.loads(results.read_text())
    markdown.write_text(f"old\n{ELSEWHERE}\nkept by hand\n")
    write_results(fake_report(), results, markdown)
    after = json.loads(results.read_text())
    fig = after["figures"].pop("grounding_found_pct_gtk_icons")
    assert (fig["value"], fig["unit"], fig["met"]) == (100.0, "% of 4", True)
    assert "ocr 25%" in fig["method"]
    assert after["figures"] == {
        k: v for k, v in before["figures"].items() if not k.startswith("grounding_")
    }
    text = markdown.read_text()
    assert "| gtk_icons | 4 | 100% (100%) | 25% (25%) | 75% (75%) | 100% (100%) |" in text
    assert "python -m benchmarks.grounding_bench" in text
    assert text.endswith("kept by hand\n") and not text.startswith("old")


@pytest.mark.desktop
def test_gtk_window_tree_and_merged_cover_the_icon_buttons_ocr_misses_them(
    desktop_env: dict[str, str],
) -> None:
    result = bench_app(app_named("gtk_icons"), repeat=1)
    rows = {row["name"]: row for row in result["target_list"]}
    assert {"Zoom in", "Zoom out", "Comment", "File"} <= set(rows), rows
    assert rows["Zoom in"]["role"] == rows["Zoom out"]["role"] == "push button"
    providers = result["providers"]
    assert providers["a11y"]["found_pct"] == 100.0, result
    for name in ("Zoom in", "Zoom out", "Comment"):
        assert {"a11y", "merged"} <= set(rows[name]["found_by"]), rows[name]
    for name in ("Zoom in", "Zoom out"):
        assert "ocr" not in rows[name]["found_by"], rows[name]
    assert "ocr" in rows["File"]["found_by"], rows["File"]  # drawn text is still read
    assert providers["merged"]["found"] > providers["ocr"]["found"]
    assert all(p["ms"] > 0 for p in providers.values())
