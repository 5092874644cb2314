"""The AT-SPI reader on real apps under Xvfb, in a private D-Bus session of the test's own.

Mousepad and galculator (Debian), a GTK window with icon-only buttons the project writes
(apps/gtk_icons.py) and Chromium on the suite's form page: elements are found with their
roles, names and boxes; the icon button is clicked by ``click_text`` through its accessible
name, pressed through the tree, a menu item is reached, a field's text is set; Chromium's form
is found by field names and filled. Limits cut a walk in time, and without a bus the
provider turns itself off with a note while perception goes on.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from cradle.elements.accessibility import AccessibilityProvider
from cradle.elements.atspi import AtspiReader
from cradle.elements.base import AccessibleNode, TreeSnapshot, WalkLimits
from cradle.elements.platform import app_accessibility_env
from cradle.environment import load_environment
from cradle.errors import AccessibilityUnavailable, SkillExecutionError
from cradle.eval.pool import EPISODE_MARK, kill_group, sweep
from cradle.paths import shared_skills_dir
from cradle.screen.dbus_session import private_session
from cradle.screen.mapping import CoordinateMap
from cradle.skills import SkillContext
from cradle.skills.context import EpisodeView
from cradle.types import Element
from tests.desktop.helpers import APPS, centre, read_state, xdotool

pytestmark = pytest.mark.desktop

WEBAPP = Path(__file__).resolve().parents[2] / "environments/desktop/tasks/webapp/formapp.py"
SCREEN = (0, 0, 1920, 1080)


def _skills(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"{name}_skills_a11y", shared_skills_dir() / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


grounding = _skills("grounding")
accessibility = _skills("accessibility")


@pytest.fixture
def bus(desktop_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A private session bus (its AT-SPI bus started on demand), exported to this process."""
    with private_session(desktop_env) as found:
        for key, value in found.items():
            monkeypatch.setenv(key, value)
        yield {**desktop_env, **found}


@pytest.fixture
def reader() -> Iterator[AtspiReader]:
    tree = AtspiReader()
    yield tree
    tree.close()


@contextlib.contextmanager
def started(argv: list[str], title: str, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """An app with the accessibility variables, its window awaited, its group ended after.

    It gets a home of its own: an app ended by SIGTERM may greet the next start with a
    dialog ("restore the session?") read from a shared home."""
    home = Path(tempfile.mkdtemp(prefix="cradle-a11y-home-"))
    own = {key: value for key, value in os.environ.items() if not key.startswith("XDG_")}
    own["XDG_RUNTIME_DIR"] = env.get("XDG_RUNTIME_DIR", os.environ.get("XDG_RUNTIME_DIR", ""))
    full = {**own, **env}
    proc = subprocess.Popen(
        argv,
        env={**full, **app_accessibility_env(full), "HOME": str(home)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not xdotool(env, "search", "--onlyvisible", "--name", title):
            assert proc.poll() is None and time.monotonic() < deadline, f"no window {title!r}"
            time.sleep(0.1)
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        shutil.rmtree(home, ignore_errors=True)


def find(
    tree: AtspiReader,
    match: Callable[[AccessibleNode], bool],
    timeout: float = 20.0,
    area: tuple[int, int, int, int] = SCREEN,
) -> tuple[AccessibleNode, TreeSnapshot]:
    """The first node ``match`` accepts, reading again until the app has published it."""
    deadline = time.monotonic() + timeout
    while True:
        snapshot = tree.read(area, WalkLimits())
        hits = [n for n in snapshot.nodes if match(n)]
        if hits:
            return hits[0], snapshot
        assert time.monotonic() < deadline, [(n.role, n.name) for n in snapshot.nodes][:80]
        time.sleep(0.2)


def named(role: str, name: str) -> Callable[[AccessibleNode], bool]:
    return lambda n: n.role == role and n.name == name


def inside(point: tuple[float, float], box: tuple[int, int, int, int] | None) -> bool:
    return box is not None and box[0] <= point[0] < box[2] and box[1] <= point[1] < box[3]


def test_galculator_buttons_have_roles_names_and_boxes_that_clicks_hit(
    bus: dict[str, str], reader: AtspiReader
) -> None:
    with started(["galculator"], "galculator", bus):
        seven, snapshot = find(reader, named("toggle button", "7"))
        assert snapshot.truncated == "" and 30 < len(snapshot.nodes) < 200
        assert "click" in [a.casefold() for a in seven.actions]
        assert {"sensitive", "showing"} <= seven.states
        x0, y0, x1, y1 = seven.box
        assert 20 < x1 - x0 < 120 and 15 < y1 - y0 < 80, seven.box
        for n in ("8", "9", "+", "="):
            assert any(named("toggle button", n)(node) for node in snapshot.nodes), n
        assert all(n.box is not None and n.box[0] > -1000 for n in snapshot.nodes)
        # The box is where the button is: a click at its centre types 7 into the display.
        xdotool(bus, "mousemove", str((x0 + x1) // 2), str((y0 + y1) // 2), "click", "1")
        display, _ = find(reader, lambda n: n.role == "text" and n.value == "7", timeout=10)
        assert display.box[1] < y0  # the display is above the keypad


def test_mousepad_menus_through_the_tree(bus: dict[str, str], reader: AtspiReader) -> None:
    with started(["mousepad"], "Mousepad", bus):
        file_menu, snapshot = find(reader, named("menu", "File"))
        assert file_menu.box[1] < 60 and file_menu.box[0] < 200, file_menu.box
        editor = [n for n in snapshot.nodes if n.role == "text" and "editable" in n.states]
        assert editor and editor[0].box[3] - editor[0].box[1] > 100
        assert not [n for n in snapshot.nodes if n.role == "menu item"], "menus are closed"
        x0, y0, x1, y1 = file_menu.box
        xdotool(bus, "mousemove", str((x0 + x1) // 2), str((y0 + y1) // 2), "click", "1")
        item, _ = find(reader, lambda n: n.role == "menu item" and "Save" in n.name)
        assert item.box[1] >= y1 - 2, (item.box, file_menu.box)  # below the menu bar


def test_walk_limits_cut_the_walk_in_time(bus: dict[str, str], reader: AtspiReader) -> None:
    with started(["galculator"], "galculator", bus):
        find(reader, named("toggle button", "7"))
        started_at = time.monotonic()
        few = reader.read(SCREEN, WalkLimits(max_nodes=5))
        assert few.truncated == "nodes" and len(few.nodes) <= 5
        shallow = reader.read(SCREEN, WalkLimits(max_depth=2))
        assert shallow.truncated == "depth" and max(n.depth for n in shallow.nodes) <= 2
        narrow = reader.read(SCREEN, WalkLimits(max_children=3))
        assert narrow.truncated == "children"
        brief = reader.read(SCREEN, WalkLimits(seconds=0.005))
        assert brief.truncated == "time" and brief.seconds < 1.0
        assert time.monotonic() - started_at < 5
        nowhere = reader.read((3000, 3000, 3100, 3100), WalkLimits())
        assert nowhere.nodes == [], "no window meets that area"


def test_a_dead_bus_left_on_the_display_does_not_hide_a_new_apps_tree(
    bus: dict[str, str], reader: AtspiReader, tmp_path: Path
) -> None:
    """An AT-SPI bus killed earlier leaves its address on the X root window; a GTK app reads
    that first. Launched apps get the live bus's address, so their tree still shows."""
    stale = "unix:path=/nonexistent/at-spi-bus"
    subprocess.run(
        ["xprop", "-root", "-f", "AT_SPI_BUS", "8s", "-set", "AT_SPI_BUS", stale],
        env={**os.environ, **bus},
        check=True,
        timeout=10,
    )
    try:
        argv = [
            "/usr/bin/python3",
            str(APPS / "gtk_icons.py"),
            "--state",
            str(tmp_path / "s.json"),
            "--title",
            "Cradle Stale Bus",
        ]
        with started(argv, "Cradle Stale Bus", bus):
            node, _ = find(reader, named("push button", "Zoom in"))
            assert node.box is not None
    finally:
        subprocess.run(
            ["xprop", "-root", "-remove", "AT_SPI_BUS"], env={**os.environ, **bus}, timeout=10
        )


def gtk_icons(state: Path, title: str) -> str:
    return (
        f"/usr/bin/python3 {APPS / 'gtk_icons.py'} --state {state} --title '{title}' "
        "--x 400 --y 300"
    )


def desktop_ctx(env) -> tuple[SkillContext, object]:
    """A skill context on the desktop's screen with its perceiver (tree, OCR, contours)."""
    screen = env.start()
    perceiver = env.perceiver()
    frame = screen.capture()
    mapping = CoordinateMap(frame.size, screen.geometry)
    perception = perceiver.perceive(frame, frame, mapping)
    ctx = SkillContext(
        screen=screen,
        mapping=mapping,
        perception=perception,
        episode=EpisodeView(environment=env, perceiver=perceiver),
    )
    return ctx, perception


def element(perception, role: str, name: str) -> Element:
    found = [e for e in perception.accessible if e.role == role and e.name == name]
    assert found, [(e.role, e.name) for e in perception.accessible]
    return found[0]


def test_icon_only_button_clicked_by_name_pressed_and_menu_and_field_through_the_tree(
    tmp_path: Path, bus: dict[str, str]
) -> None:
    state_file, title = tmp_path / "icons.json", "Cradle GTK Icons"
    env = load_environment(
        "desktop",
        launch=gtk_icons(state_file, title),
        window_title=f"^{title}$",
        stop_hotkey="none",
    )
    try:
        ctx, perception = desktop_ctx(env)
        widgets = read_state(state_file, lambda s: s.get("widgets"))["widgets"]
        zoom_in = element(perception, "push button", "Zoom in")
        assert list(zoom_in.box) == widgets["zoom_in"], (zoom_in.box, widgets)
        assert "Zoom" not in " ".join(
            e.name
            for e in perception.elements
            if e.source == "ocr" and inside(centre(widgets["zoom_in"]), e.box)
        )
        assert "clicked 'Zoom in'" in grounding.click_text(ctx, text="Zoom in")
        assert read_state(state_file, lambda s: s["zoom"] == 110)["zoom"] == 110

        ctx.perception = None
        result = accessibility.press_element(ctx, name="Zoom out")
        assert "through the accessibility tree" in result
        state = read_state(state_file, lambda s: len(s["clicks"]) == 2)
        assert state["clicks"] == ["Zoom in", "Zoom out"] and state["zoom"] == 100
        accessibility.press_element(ctx, name="Zoom in")
        read_state(state_file, lambda s: s["zoom"] == 110)

        accessibility.set_field_text(ctx, name="Comment", text="seen by the tree")
        assert read_state(state_file, lambda s: s["comment"])["comment"] == "seen by the tree"
        with pytest.raises(SkillExecutionError, match="click it and type instead"):
            accessibility.set_field_text(ctx, name="Zoom in", text="x")

        grounding.click_text(ctx, text="File")
        deadline = time.monotonic() + 10
        while True:  # the menu opens on the next frames
            try:
                grounding.click_text(ctx, text="Reset zoom")
                break
            except SkillExecutionError:
                assert time.monotonic() < deadline, "the File menu never showed Reset zoom"
                time.sleep(0.2)
        state = read_state(state_file, lambda s: s["clicks"][-1] == "Reset zoom")
        assert state["zoom"] == 100 and state["clicks"][-1] == "Reset zoom", state
    finally:
        env.close()


def test_chromium_form_fields_found_by_name_and_filled(tmp_path: Path, bus: dict[str, str]) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = load_environment(
        "desktop",
        launch=f"/usr/bin/python3 {WEBAPP} --home {home} --browser contact",
        window_title="^Contact us$",
        window_timeout=60,
        stop_hotkey="none",
    )
    try:
        ctx, perception = desktop_ctx(env)
        deadline = time.monotonic() + 30
        while not any(e.role == "entry" for e in perception.accessible):
            assert time.monotonic() < deadline, "the page never joined the tree"
            time.sleep(0.5)
            ctx.perception = None
            perception = grounding.current_perception(ctx, need="tree")
        for name, text in (
            ("Name", "Ada Lovelace"),
            ("Email", "ada@example.org"),
            ("Message", "Through the tree"),
        ):
            # The drawn label and the field share the name: the field (the tree's) wins.
            assert "clicked" in grounding.click_text(ctx, text=name)
            ctx.type_text(text)
        assert element(perception, "combo box", "Topic")
        assert element(perception, "check box", "Send me the newsletter")
        ctx.perception = None
        assert "press" in accessibility.press_element(ctx, name="Send", action="press")
        record = home / "form-submissions" / "contact.json"
        deadline = time.monotonic() + 15
        while not record.is_file():
            assert time.monotonic() < deadline, "the form was not submitted"
            time.sleep(0.2)
        fields = json.loads(record.read_text())["fields"]
        assert fields["name"] == "Ada Lovelace" and fields["email"] == "ada@example.org"
        assert fields["message"] == "Through the tree"
    finally:
        env.close()


def test_no_bus_turns_the_tree_off_with_a_note_and_perception_goes_on(
    tmp_path: Path, desktop_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/no-such-bus")
    tree = AtspiReader()
    try:
        with pytest.raises(AccessibilityUnavailable, match="dbus-run-session"):
            tree.read(SCREEN, WalkLimits())
    finally:
        tree.close()
    state_file, title = tmp_path / "icons.json", "Cradle GTK No Bus"
    env = load_environment(
        "desktop",
        launch=gtk_icons(state_file, title),
        window_title=f"^{title}$",
        stop_hotkey="none",
    )
    try:
        ctx, perception = desktop_ctx(env)
        assert isinstance(env.accessibility, AccessibilityProvider)
        assert "dbus-run-session" in env.accessibility.unavailable
        assert perception.accessible == [] and perception.elements, "OCR/contours go on"
        assert any("accessibility tree unavailable" in note for note in env.notes())
        with pytest.raises(SkillExecutionError):
            accessibility.press_element(ctx, name="Zoom in")
    finally:
        env.close()


def marked(token: str) -> list[str]:
    """Command names of the live processes whose environment carries the episode's mark."""
    mark, found = f"{EPISODE_MARK}={token}".encode(), []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and mark in (entry / "environ").read_bytes().split(b"\0"):
                if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                    found.append((entry / "comm").read_text().strip())
        except OSError:
            continue
    return found


def test_an_eval_episode_leaves_no_atspi_helpers_behind(display: dict[str, str]) -> None:
    """As ``cradle eval`` runs an episode: dbus-run-session, a private runtime folder, the
    episode's mark. When the session wrapper dies abruptly, the session bus and the AT-SPI
    helpers live on; they carry the mark, so the pool's sweep after the episode ends them."""
    token, runtime = secrets.token_hex(8), tempfile.mkdtemp(prefix="a11y-")
    env = {**os.environ, **display, EPISODE_MARK: token, "XDG_RUNTIME_DIR": runtime}
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    worker = subprocess.Popen(
        [
            "dbus-run-session",
            "--",
            "/usr/bin/python3",
            str(APPS / "gtk_icons.py"),
            "--state",
            str(Path(runtime) / "state.json"),
        ],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while "at-spi2-registr" not in marked(token):
            assert time.monotonic() < deadline, marked(token)
            time.sleep(0.1)
        worker.kill()
        worker.wait(timeout=10)
        time.sleep(0.3)
        assert {"at-spi-bus-laun", "at-spi2-registr"} <= set(marked(token))
    finally:
        kill_group(worker, grace=0.5)  # what the pool does: the group, then the marked rest
        sweep(token)
        shutil.rmtree(runtime, ignore_errors=True)
    deadline = time.monotonic() + 5
    while marked(token):
        assert time.monotonic() < deadline, f"left behind: {marked(token)}"
        time.sleep(0.1)
