"""A light start: heavy libraries load where first used, and the long-term memory opens on a
thread while the run starts, waited for at its first use (the first recall or skill ranking,
not while the episode is built), its errors surfacing there, unchanged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from cradle import runtime as runtime_module
from cradle.background import Opening
from cradle.errors import MemoryUnavailableError
from cradle.llm.scripted import ScriptedModel
from cradle.runtime import MemorySettings, Runtime, RuntimeSettings
from tests.fakes.openai_server import FakeOpenAIServer

PROJECT = Path(__file__).resolve().parents[1]
HEAVY = (
    "openai",
    "anthropic",
    "chromadb",
    "onnxruntime",
    "tokenizers",
    "cv2",
    "pynput",
    "pyautogui",
)


def test_importing_the_entry_points_loads_no_heavy_library() -> None:
    code = (
        "import sys, cradle.session, cradle.runtime, cradle.episode, cradle.cli.app\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=PROJECT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_listing_the_commands_loads_neither_numpy_nor_the_memory_store() -> None:
    """``cradle --help`` imports the command modules only: ~0.3 s instead of ~0.7 s."""
    code = (
        "import sys, cradle.cli.app, cradle.memory\n"
        "print(','.join(m for m in ('numpy', 'cradle.memory.store', 'cradle.types')"
        " if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=PROJECT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


class FakeStore:
    skills = None

    def __init__(self) -> None:
        self.environment = ""
        self.closed = 0
        self.recalled: list[tuple[str, str]] = []
        self.remembered: list[str] = []

    def recall(self, query: str, *, k: int) -> list[Any]:
        self.recalled.append((self.environment, query))
        return []

    def remember_step(self, task: str, record: Any) -> None:
        self.remembered.append(f"step of {task}")

    def remember_run(self, task: str, run_id: str, summary: str, success: bool) -> None:
        self.remembered.append(f"run of {task}")

    def close(self) -> None:
        self.closed += 1


def settings(tmp_path: Path, **memory: Any) -> RuntimeSettings:
    return RuntimeSettings(
        memory=MemorySettings(memory_dir=tmp_path / "memory", **memory),
        skill_stats=False,
        generated_skills_dir=tmp_path / "skills",
    )


def test_the_store_opens_on_a_thread_and_is_waited_for_at_first_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, started, release = FakeStore(), threading.Event(), threading.Event()
    where: list[str] = []

    def slow_open(
        memory: MemorySettings, environment: str = "", *, load: bool = False
    ) -> tuple[Any, str]:
        where.append(threading.current_thread().name)
        started.set()
        release.wait(30)
        return store, ""

    monkeypatch.setattr(runtime_module, "open_long_term", slow_open)
    runtime = Runtime(settings(tmp_path), model=ScriptedModel([]))
    assert started.wait(30) and not release.is_set()  # created while the store still opens
    assert where == ["cradle-memory-open"]
    # What an episode is built with does not wait for the store...
    pending = runtime.long_term_for("mock-notepad")
    assert pending is not None and runtime.skill_ranker([]) is not None
    assert runtime.store is None and not release.is_set()
    # ... its first use does.
    recalled: list[list[Any]] = []
    user = threading.Thread(target=lambda: recalled.append(pending.recall("task", k=3)))
    user.start()
    user.join(0.3)
    assert user.is_alive() and recalled == []  # waiting for the store
    release.set()
    user.join(30)
    assert recalled == [[]] and store.recalled == [("mock-notepad", "task")]
    view = runtime.long_term_for("mock-notepad")  # opened: the view itself from now on
    assert view is not None and view is not store and view.environment == "mock-notepad"
    assert runtime.store is store and runtime.long_term is store
    runtime.close()
    assert store.closed == 1


class ManySkills:
    """A registry for ranking: more skills than the ranker shows, so it asks its index."""

    def get(self, name: str) -> None:
        return None


def test_an_episode_is_built_and_captures_its_first_screen_while_the_store_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store opening is held until the first screen capture: an episode that waited for
    it while being built would wait in vain until ``slow_open`` gives up."""
    from cradle.episode import Episode, EpisodeSettings
    from cradle.screen.mock.screen import MockScreen

    store, captured, events = FakeStore(), threading.Event(), []

    def slow_open(*args: Any, **kwargs: Any) -> tuple[Any, str]:
        events.append("opened" if captured.wait(20) else "gave up waiting for a capture")
        return store, ""

    real_capture = MockScreen.capture

    def capture(self: MockScreen) -> Any:
        if not captured.is_set():
            events.append("captured")
            captured.set()
        return real_capture(self)

    monkeypatch.setattr(runtime_module, "open_long_term", slow_open)
    monkeypatch.setattr(MockScreen, "capture", capture)
    episode_settings = EpisodeSettings(
        env="mock-notepad",
        task="type",
        runs_dir=tmp_path / "runs",
        **settings(tmp_path).model_dump(),
    )
    reply = {
        "information_gathering": {"screen_description": "", "visible_text": [], "elements": []},
        "self_reflection": {"last_actions_succeeded": True, "analysis": "", "failure_reason": ""},
        "task_inference": {"subtask": "type", "reasoning": ""},
        "skill_curation": {"relevant_skills": [], "new_skills": []},
        "action_planning": {"reasoning": "", "actions": ["type_text(text='x')"], "done": True},
    }
    model = ScriptedModel({"fused": [reply]})
    with Runtime(episode_settings, model=model) as runtime:
        episode = Episode(runtime, episode_settings)
        assert events == []  # built: nothing captured, the store still opening
        result = episode.loop(episode.create_recorder())
        episode.close()
    assert result.status == "done"
    assert events == ["captured", "opened"]
    assert store.recalled and store.remembered  # the memory was used once opened


@pytest.mark.parametrize(
    "error",
    [
        MemoryUnavailableError(
            "cannot reach the memory server at http://127.0.0.1:9: is `chroma run` running?"
        ),
        RuntimeError("a bug while opening"),
    ],
)
def test_what_failed_while_opening_is_raised_at_first_use_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    def failing_open(*args: Any, **kwargs: Any) -> tuple[Any, str]:
        raise error

    monkeypatch.setattr(runtime_module, "open_long_term", failing_open)
    with Runtime(settings(tmp_path), model=ScriptedModel([])) as runtime:
        memory = runtime.long_term_for("mock-notepad")  # built while opening: no error yet
        ranker = runtime.skill_ranker([])
        assert memory is not None and ranker is not None
        with pytest.raises(type(error)) as caught:
            memory.recall("task", k=3)
        assert caught.value is error
        if isinstance(error, MemoryUnavailableError):  # used again, or by a later episode
            skills = [f"skill_{n}" for n in range(ranker.top_k + 1)]
            with pytest.raises(MemoryUnavailableError, match="cannot reach"):
                ranker.select(ManySkills(), skills, "task")  # type: ignore[arg-type]
            with pytest.raises(MemoryUnavailableError, match="cannot reach"):
                memory.recall("task", k=3)
            memory.remember_run("task", "run", "summary", True)  # the run ended with it
            with pytest.raises(MemoryUnavailableError, match="cannot reach"):
                runtime.long_term_for("mock-notepad")
            with pytest.raises(MemoryUnavailableError, match="cannot reach"):
                runtime.skill_ranker([])


def test_the_first_ranking_waits_for_the_store_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release, ranked = threading.Event(), []

    class Index:
        def sync(self, skills: dict[str, str]) -> None:
            self.names = list(skills)

        def rank(self, query: str, k: int = 5) -> list[str]:
            return self.names[:k]

    store = FakeStore()
    store.skills = Index()  # type: ignore[assignment]

    def slow_open(*args: Any, **kwargs: Any) -> tuple[Any, str]:
        release.wait(30)
        return store, ""

    monkeypatch.setattr(runtime_module, "open_long_term", slow_open)
    with Runtime(settings(tmp_path), model=ScriptedModel([])) as runtime:
        ranker = runtime.skill_ranker(["click"])
        assert ranker is not None
        skills = ["click", *(f"skill_{n}" for n in range(ranker.top_k + 2))]
        user = threading.Thread(
            target=lambda: ranked.append(ranker.select(ManySkills(), skills, "task"))  # type: ignore[arg-type]
        )
        user.start()
        user.join(0.3)
        assert user.is_alive() and ranked == []
        release.set()
        user.join(30)
    assert ranked == [skills[: ranker.top_k + 1]]  # click, and the index's best


def test_closing_before_first_use_closes_the_store_opened_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FakeStore()
    monkeypatch.setattr(runtime_module, "open_long_term", lambda *a, **k: (store, ""))
    Runtime(settings(tmp_path), model=ScriptedModel([])).close()
    assert store.closed == 1


def test_closing_does_not_wait_for_a_store_that_hangs_and_it_is_closed_when_it_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release, closed = threading.Event(), threading.Event()

    class ClosingStore(FakeStore):
        def close(self) -> None:
            super().close()
            closed.set()

    def hung_open(*args: Any, **kwargs: Any) -> tuple[Any, str]:
        release.wait(30)
        return ClosingStore(), ""

    monkeypatch.setattr(runtime_module, "open_long_term", hung_open)
    monkeypatch.setattr(runtime_module, "OPEN_WAIT_ON_CLOSE_S", 0.01)
    Runtime(settings(tmp_path), model=ScriptedModel([])).close()
    assert not closed.is_set()  # close returned while the store was still opening
    release.set()
    assert closed.wait(30)  # the thread closed what it opened once it was done


def test_running_without_the_memory_is_told_when_it_is_known(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cradle.memory

    def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise MemoryUnavailableError("cannot reach the memory server at http://h:1")

    monkeypatch.setattr(cradle.memory, "open_memory", unreachable)
    told: list[str] = []
    with Runtime(
        settings(tmp_path, continue_without=True), model=ScriptedModel([]), on_warning=told.append
    ) as runtime:
        memory = runtime.long_term_for("mock-notepad")
        assert memory is not None and told == []  # not known yet: still opening
        assert memory.recall("task", k=3) == []  # known now, and told (below)
        memory.remember_run("task", "run", "summary", True)  # nowhere to write: nothing done
        assert runtime.long_term_for("mock-notepad") is None
    assert (
        told
        == runtime.warnings
        == ["running without long-term memory: cannot reach the memory server at http://h:1"]
    )


def test_the_opened_store_loads_its_embedding_model_on_the_thread(tmp_path: Path) -> None:
    with Runtime(settings(tmp_path), model=ScriptedModel([])) as runtime:
        runtime.long_term_for("mock-notepad").recall("anything", k=1)  # type: ignore[union-attr]
        memory = runtime.long_term_for("mock-notepad")
        embedder = getattr(memory, "embedder", None)
        assert embedder is not None and getattr(embedder, "_session", None) is not None


def test_an_opening_hands_its_result_once() -> None:
    opening = Opening(lambda: 42, name="t")
    assert opening.result() == 42
    with pytest.raises(RuntimeError, match="already taken"):
        opening.result()
    closed: list[int] = []
    Opening(lambda: 7, name="t", close=closed.append).discard(timeout=30)
    assert closed == [7]


def test_cradle_run_with_an_unreachable_memory_server_is_one_line(tmp_path: Path) -> None:
    """The error of the store opened in the background ends the run at its first use, the
    first step's recall: one line, the memory error's exit code, recorded in run.json once
    (no "memory not updated" repeating it), and no model request made."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with FakeOpenAIServer() as server:
        env = dict(os.environ, OPENAI_API_KEY="sk-test", CRADLE_DATA_DIR=str(tmp_path / "d"))
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "cradle",
                "run",
                "--env",
                "mock-notepad",
                "--task",
                "t",
                "--base-url",
                server.base_url,
                "--memory-url",
                url,
                "--runs-dir",
                str(tmp_path / "runs"),
                "--generated-skills-dir",
                str(tmp_path / "gen"),
                "--max-steps",
                "1",
                "--confirm",
                "never",
            ],
            capture_output=True,
            text=True,
            timeout=180,
            env=env,
            cwd=PROJECT,
            stdin=subprocess.DEVNULL,
        )
        assert server.requests == []
    message = f"cannot reach the memory server at {url}: is `chroma run` running?"
    code = MemoryUnavailableError.exit_code
    (line,) = [line for line in done.stderr.splitlines() if message in line]
    assert line.startswith(f"failed after 0 step(s): {message} (exit {code}:"), done.stderr
    assert "Traceback" not in done.stderr
    assert done.returncode == MemoryUnavailableError.exit_code
    (run_json,) = (tmp_path / "runs").glob("*/run.json")
    info = json.loads(run_json.read_text())
    assert (info["status"], info["reason"]) == ("failed", message)


def test_the_startup_figures_and_their_goals(tmp_path: Path) -> None:
    import shutil

    from benchmarks import startup_bench, suite
    from benchmarks.markdown import update_results

    report = {
        "startup": {
            "memory": {"median_s": 2.4},
            "no_memory": {"median_s": 2.0},
            "ratio_median": 1.2,
            "runs": 3,
        },
        "footprint": {
            "steps": 20,
            "memory": {"peak_rss_mb": 262.5},
            "no_memory": {"peak_rss_mb": 150.0},
        },
    }
    found = startup_bench.figures(report)
    assert (found["startup_s_memory"]["value"], found["startup_s_memory"]["met"]) == (2.4, True)
    assert "1.2x startup_s_no_memory" in found["startup_s_memory"]["method"]
    assert (
        found["peak_rss_mb_20_steps"]["met"] is False
        and "150 MB" in (found["peak_rss_mb_20_steps"]["method"])
    )
    slow = {**report, "startup": {**report["startup"], "ratio_median": 1.6}}
    assert startup_bench.figures(slow)["startup_s_memory"]["met"] is False
    check = suite._against_baseline({"step_overhead_ms_1080p / baseline": 0.35})
    assert check["step_overhead_1080p_vs_baseline"]["met"] is True
    results = tmp_path / "results.json"
    shutil.copy(PROJECT / "benchmarks" / "results.json", results)
    before = json.loads(results.read_text())["figures"]
    update_results(results, None, found, "startup", report)
    after = json.loads(results.read_text())
    assert after["figures"] == {**before, **found} and after["details"]["startup"] == report


def test_an_opening_error_met_first_by_the_skill_ranker_is_the_runs_reason_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With more skills than the ranker shows, ranking is the first use of the store: the
    run ends with its error, and the final write does not repeat it in the reason."""
    from cradle.environment import Environment
    from cradle.episode import Episode, EpisodeSettings

    folder = tmp_path / "env-skills"
    folder.mkdir()
    for n in range(12):
        (folder / f"extra_{n}.py").write_text(
            "from cradle.skills import SkillContext, skill\n\n\n"
            f"@skill\ndef extra_{n}(ctx: SkillContext) -> None:\n"
            '    """Do nothing, for ranking."""\n'
        )
    error = MemoryUnavailableError("cannot reach the memory server at http://127.0.0.1:9")

    def failing_open(*args: Any, **kwargs: Any) -> tuple[Any, str]:
        raise error

    monkeypatch.setattr(runtime_module, "open_long_term", failing_open)
    monkeypatch.setattr(Environment, "skill_folders", lambda self: [folder])
    episode_settings = EpisodeSettings(
        env="mock-notepad",
        task="type",
        runs_dir=tmp_path / "runs",
        **settings(tmp_path).model_dump(),
    )
    with Runtime(episode_settings, model=ScriptedModel({"fused": []})) as runtime:
        episode = Episode(runtime, episode_settings)
        result = episode.loop(episode.create_recorder())
        episode.close()
    assert result.exit_code == error.exit_code and result.steps <= 1
    recorded = json.loads((Path(result.run_dir) / "run.json").read_text())["reason"]
    assert recorded.count("cannot reach the memory server") == 1, recorded
    assert result.reason == recorded


@pytest.mark.parametrize("optional", [False, True])
def test_a_library_failure_while_opening_is_one_line_and_honours_memory_optional(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, optional: bool
) -> None:
    """chromadb or onnxruntime failing in their own terms (not a cradle error) is said in one
    line, so the runtime keeps it for every later use and --memory-optional applies."""
    import cradle.memory

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("sqlite3.OperationalError: disk I/O error")

    monkeypatch.setattr(cradle.memory, "open_memory", broken)
    memory = settings(tmp_path).memory.model_copy(update={"continue_without": optional})
    if optional:
        store, warning = runtime_module.open_long_term(memory)
        assert store is None and warning.startswith("running without long-term memory: ")
        assert "disk I/O error" in warning
        return
    with pytest.raises(MemoryUnavailableError) as raised:
        runtime_module.open_long_term(memory)
    assert "disk I/O error" in str(raised.value) and "\n" not in str(raised.value)
    assert isinstance(raised.value.__cause__, RuntimeError)
