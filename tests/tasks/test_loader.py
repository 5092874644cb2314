"""Task files: YAML or JSON, one task or a list per file, every problem one line naming the
file, the task and the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cradle.errors import EXIT_USAGE, UsageError
from cradle.tasks import TaskFileError, load_tasks, loader

TASK = """\
id: editor-save-note
instruction: "Write 'hello' in the editor and save it as note.txt in the home folder"
environment: desktop
env_options: {window_title: "Mousepad"}
setup:
  - run: "rm -f ~/note.txt"
  - file: {path: "~/draft.txt", content: "draft"}
  - launch: {command: "mousepad", window: "Mousepad"}
  - sleep: 0.5
check:
  - command: "grep -qx hello ~/note.txt"
  - file: {path: "~/note.txt", contains: "hello", regex: "^hel+o$", json: {a: 1}}
  - screen_text: "note.txt"
  - state: {saved: true}
max_steps: 15
timeout: 300
reference:
  - ["type_text(text='hello')"]
  - ["hotkey('ctrl', 's')"]
"""


def _write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _error(paths: list[Path]) -> str:
    with pytest.raises(TaskFileError) as caught:
        load_tasks(paths)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_the_documented_example_loads_with_every_key(tmp_path: Path) -> None:
    path = _write(tmp_path, "editor.yaml", TASK)
    loaded = load_tasks([path])
    assert loaded.skipped == []
    [task] = loaded.tasks
    assert (task.id, task.environment, task.env_options) == (
        "editor-save-note",
        "desktop",
        {"window_title": "Mousepad"},
    )
    assert [step.kind for step in task.setup] == ["run", "file", "launch", "sleep"]
    assert task.setup[2].launch is not None and task.setup[2].launch.timeout == 20.0
    assert [check.kind for check in task.check] == ["command", "file", "screen_text", "state"]
    assert task.check[1].file is not None and task.check[1].file.json_subset == {"a": 1}
    assert (task.max_steps, task.timeout) == (15, 300.0)
    assert task.reference == [["type_text(text='hello')"], ["hotkey('ctrl', 's')"]]
    assert task.source == str(path)


def test_defaults_a_list_per_file_and_json(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "b/two.yml",
        "- {id: a, instruction: x, environment: e, check: "
        "[{command: 'true'}]}\n- {id: b, instruction: y, "
        "environment: e, check: [{command: 'true'}]}\n",
    )
    _write(
        tmp_path,
        "a.json",
        json.dumps(
            {
                "id": "c",
                "instruction": "z",
                "environment": "e",
                "check": [{"file": {"path": "~/x"}}],
            }
        ),
    )
    _write(tmp_path, "notes.txt", "not a task file")
    tasks = load_tasks([tmp_path]).tasks
    assert [t.id for t in tasks] == ["c", "a", "b"]  # files sorted, items in order
    assert (tasks[0].max_steps, tasks[0].timeout, tasks[0].setup, tasks[0].reference) == (
        15,
        300.0,
        [],
        [],
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "id: t\ninstruction: x\nenvironment: e\ncheck: [{command: 'true'}]\nchek: []\n",
            "task 't': chek: unknown key; check its spelling",
        ),
        (
            "id: t\ninstruction: x\nenvironment: e\ncheck: [{file: {pth: '~/a'}}]\n",
            "task 't': check.0.file.path: Field required",
        ),
        (
            "id: t\ninstruction: x\nenvironment: e\ncheck: [{file: {path: '~/a', regex: '(a'}}]\n",
            "task 't': check.0.file.regex: Value error, not a regular expression",
        ),
        (
            "id: t\ninstruction: x\nenvironment: e\ncheck: [{command: 'true'}]\nsetup: "
            "[{launch: {command: xterm, window: '[x'}}]\n",
            "task 't': setup.0.launch.window: Value error, not a regular expression",
        ),
        (
            "id: t\ninstruction: x\nenvironment: e\ncheck: [{command: 'true'}]\n"
            "setup: [{run: a, sleep: 1}]\n",
            "task 't': setup.0: Value error, give exactly one of run, file, launch, sleep",
        ),
        (
            "id: t\ninstruction: x\nenvironment: e\ncheck: []\n",
            "task 't': check: give at least one check",
        ),
        (
            "id: t\ninstruction: x\nenvironment: e\ncheck: [{command: 'true'}]\nneeds: {cpus: 0}\n",
            "task 't': needs.cpus: Input should be greater than 0",
        ),
        (
            "id: t\ninstruction: x\nenvironment: e\ncheck: [{command: 'true'}]\nmax_steps: 0\n",
            "task 't': max_steps: Input should be greater than or equal to 1",
        ),
        (
            "id: 'bad id'\ninstruction: x\nenvironment: e\ncheck: [{command: 'true'}]\n",
            "task 'bad id': id: String should match pattern",
        ),
        (
            "instruction: x\nenvironment: e\ncheck: [{command: 'true'}]\n",
            "a task without an id: id: Field required",
        ),
    ],
)
def test_a_bad_task_names_file_task_and_field(tmp_path: Path, text: str, expected: str) -> None:
    path = _write(tmp_path, "t.yaml", text)
    assert _error([path]).startswith(f"{path}: {expected}")


def test_an_item_of_a_list_is_named_by_its_number(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "l.yaml",
        "- {id: a, instruction: x, environment: e, check: [{command: 'true'}]}\n- just text\n",
    )
    assert _error([path]) == f"{path}: item 2: a task is a mapping of keys, not str"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"id: caf\xe9\n", "not UTF-8 text"),
        ("a: &x [1]\nb: *x\n", "YAML aliases (*name) are not supported"),
        ("id: [unclosed\n", "not valid YAML/JSON"),
        ("", "no task in it"),
        ("[]\n", "no task in it"),
    ],
)
def test_unreadable_files_are_one_line_errors(
    tmp_path: Path, content: str | bytes, expected: str
) -> None:
    path = _write(tmp_path, "t.yaml", content)
    assert _error([path]).startswith(f"{path}")
    assert expected in _error([path])


def test_bad_yaml_says_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.yaml", "id: a\ninstruction: x\n  bad: [indent\n")
    assert _error([path]).startswith(f"{path}: line ")


def test_sizes_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = _write(tmp_path, "big.yaml", "#" * (loader.MAX_FILE_BYTES + 1))
    assert _error([big]) == f"{big}: larger than {loader.MAX_FILE_BYTES:,} bytes; split it"
    monkeypatch.setattr(loader, "MAX_TASKS", 2)
    many = _write(
        tmp_path,
        "many/m.yaml",
        "".join(
            f"- {{id: t{n}, instruction: x, environment: e, check: [{{command: 'true'}}]}}\n"
            for n in range(3)
        ),
    )
    assert "more than 2 tasks" in _error([many])


def test_two_tasks_may_not_share_an_id(tmp_path: Path) -> None:
    body = "id: same\ninstruction: x\nenvironment: e\ncheck: [{command: 'true'}]\n"
    first, second = _write(tmp_path, "a.yaml", body), _write(tmp_path, "b.yaml", body)
    assert _error([tmp_path]) == f"{second}: task 'same': id already used in {first}"


def test_missing_paths_and_empty_folders(tmp_path: Path) -> None:
    assert _error([tmp_path / "nope"]) == f"{tmp_path / 'nope'}: no such task file or folder"
    (tmp_path / "empty").mkdir()
    assert "no task files (*.yaml, *.yml, *.json)" in _error([tmp_path / "empty"])


def test_a_task_file_error_is_a_usage_error() -> None:
    assert issubclass(TaskFileError, UsageError)
    assert TaskFileError("x").exit_code == EXIT_USAGE


def test_the_readme_example_is_a_valid_task(tmp_path: Path) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("\n## Tasks\n") :]
    start = section.index("```yaml\n") + len("```yaml\n")
    example = section[start : section.index("\n```", start)]
    [task] = load_tasks([_write(tmp_path, "readme.yaml", example)]).tasks
    assert [s.kind for s in task.setup] == ["run", "file", "launch", "sleep"]
    assert [c.kind for c in task.check] == ["command", "file", "screen_text"]
    assert len(task.reference) == 2


def test_deeply_nested_brackets_are_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("[" * 400_000 + "]" * 400_000)
    with pytest.raises(TaskFileError, match="deep.yaml: line 1: not valid YAML/JSON: exceeded"):
        load_tasks([path])


def test_an_integer_too_long_to_convert_is_a_task_file_error(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(
        "id: a\ninstruction: b\nenvironment: mock-notepad\nmax_steps: "
        + "9" * 5_000
        + "\ncheck: [{command: 'true'}]\n"
    )
    with pytest.raises(TaskFileError, match="big.yaml: unusable value"):
        load_tasks([path])
