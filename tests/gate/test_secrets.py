"""Secrets: the API key and ``{secret:NAME}`` values never reach a record, a report or the model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from cradle.errors import ActionRejected, ConfigError
from cradle.gate.secrets import SecretStore, read_secrets_file
from cradle.llm.openai_provider import OpenAIProvider
from cradle.paths import shared_skills_dir
from cradle.session import ModelSettings, SafetySettings, Session, SessionSettings
from tests.fakes.openai_server import FakeOpenAIServer
from tests.ocr import ocr_text
from tests.reliability.helpers import API_KEY, Plans, cradle_env, cradle_run, leaks

SECRET = "purple tulips 42"


def test_secret_is_typed_but_never_recorded_reported_or_sent(tmp_path: Path) -> None:
    plans = Plans(["type_text(text='{secret:NOTE_PW}')"], ["wait(seconds=0)"])
    with FakeOpenAIServer(plans) as server:
        result = cradle_run(tmp_path, server.base_url, env={"CRADLE_SECRET_NOTE_PW": SECRET})
        sent = json.dumps(server.requests)
    assert result.code == 0, result.stderr
    steps = result.steps()
    assert steps[0]["actions"][0]["status"] == "ok"
    assert steps[0]["actions"][0]["source"] == "type_text(text='{secret:NOTE_PW}')"

    # the value was typed: it is on the screen (tesseract reads the final screenshot)
    final = Image.open(result.run_dir / steps[-1]["observation"]["screenshot"])
    assert SECRET in " ".join(ocr_text(final).split())

    report = subprocess.run(
        [sys.executable, "-m", "cradle", "report", str(result.run_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        env=cradle_env(),
    )
    assert report.returncode == 0, report.stderr
    assert (result.run_dir / "report.html").is_file()
    for needle in (SECRET, API_KEY):
        assert not leaks(result.runs, needle)
        assert needle not in result.stdout + result.stderr + report.stdout + report.stderr
    assert SECRET not in sent  # the model only ever saw the placeholder
    assert "{secret:NOTE_PW}" in sent
    assert "NOTE_PW" in (result.run_dir / "report.html").read_text()


def test_in_process_the_notepad_holds_the_value_records_the_placeholder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    secrets = tmp_path / "secrets.env"
    secrets.write_text('# test secrets\nNOTE_PW=say "hi" \\ back\n')
    value = 'say "hi" \\ back'
    plans = Plans(
        ["type_text(text='pw: {secret:NOTE_PW}')"], ["type_text(text='{secret:MISSING}')"]
    )
    with FakeOpenAIServer(plans) as server:
        settings = SessionSettings(
            env="mock-notepad",
            task="type it",
            runs_dir=tmp_path / "runs",
            generated_skills_dir=None,
            model=ModelSettings(model="fake-vlm", base_url=server.base_url, timeout=5),
            safety=SafetySettings(secrets_file=secrets),
        )
        settings.memory.enabled = False
        session = Session(settings)
        result = session.run()
        sent = json.dumps(server.requests)
    assert result.exit_code == 0, result.reason
    assert session.environment.state()["text"] == f"pw: {value}"
    run_dir = Path(result.run_dir)
    text = (run_dir / "trajectory.jsonl").read_text() + (run_dir / "run.json").read_text()
    steps = [json.loads(line) for line in (run_dir / "trajectory.jsonl").read_text().splitlines()]
    second = steps[1]["actions"][0]
    assert second["status"] == "rejected" and "unknown secret 'MISSING'" in second["error"]
    for form in (value, json.dumps(value)[1:-1]):
        assert form not in text and form not in sent
    assert API_KEY not in text


def test_redact_handles_json_escaped_values() -> None:
    value = 'a"b\\c\tdé'
    store = SecretStore({"PW": value})
    store.also_redact("api_key", API_KEY)
    record = json.dumps({"t": "x" + value + "y", "k": API_KEY}, ensure_ascii=False)
    redacted = store.redact(record)
    assert json.loads(redacted) == {"t": "x[redacted:PW]y", "k": "[redacted:api_key]"}
    assert store.redact(json.dumps({"t": 'a"b\\c\tdé'}))  # ASCII-escaped spelling too
    assert "[redacted:PW]" in store.redact(json.dumps({"t": 'a"b\\c\tdé'}))
    assert store.fill(["{secret:PW}", ("{secret:PW}",), {"k": "{secret:PW}"}]) == [
        'a"b\\c\tdé',
        ('a"b\\c\tdé',),
        {"k": 'a"b\\c\tdé'},
    ]
    with pytest.raises(ActionRejected, match="unknown secret 'NOPE'"):
        store.fill("{secret:NOPE}")


def test_secret_sources(tmp_path: Path) -> None:
    store = SecretStore.from_sources(environ={"CRADLE_SECRET_A": "alpha-1", "OTHER": "x"})
    assert store.names() == ["A"]
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"B": "beta-2"}))
    assert read_secrets_file(path) == {"B": "beta-2"}
    path.write_text("not a pair\n")
    with pytest.raises(ConfigError, match="expected NAME=value"):
        read_secrets_file(path)
    with pytest.raises(ConfigError, match="cannot read"):
        read_secrets_file(tmp_path / "missing")


def test_api_key_is_not_in_the_provider_repr_or_settings(tmp_path: Path) -> None:
    provider = OpenAIProvider(model="m", base_url="http://127.0.0.1:9/v1", api_key=API_KEY)
    assert API_KEY not in repr(provider.__dict__.get("base_url"))
    dumped = SessionSettings(env="mock-notepad", task="t").model_dump_json()
    assert API_KEY not in dumped and "OPENAI_API_KEY" in dumped


def test_short_secrets_are_refused_because_they_cannot_be_redacted() -> None:
    with pytest.raises(ConfigError, match="shorter than 4"):
        SecretStore.from_sources(environ={"CRADLE_SECRET_PIN": "123"})


def test_generated_skills_never_receive_secret_values(tmp_path: Path) -> None:
    from cradle.gate.runner import ActionRunner
    from cradle.screen.mapping import CoordinateMap
    from cradle.screen.mock import MockScreen

    spell = '''from cradle.skills import skill


@skill
def spell(screen, s: str) -> str:
    """Spell a word out.

    Args:
        s: The word.
    """
    out = ""
    for c in s:
        out = out + c + " "
    return out
'''
    screen = MockScreen()
    runner = ActionRunner.load(
        screen=screen,
        folders=[shared_skills_dir()],
        generated_dir=tmp_path / "generated",
        run_id="r",
        secrets=SecretStore({"PW": "hunter2secret"}),
    )
    assert runner.curate([spell], task="t")[0]["accepted"]
    mapping = CoordinateMap(screen.geometry.capture_size, screen.geometry)
    (outcome,) = runner.run(["spell(s='{secret:PW}')"], mapping=mapping, timeout=5)
    assert outcome.status == "rejected" and "trusted skills only" in outcome.error
    assert "h u n" not in outcome.model_dump_json()


def test_long_errors_are_redacted_before_they_are_shortened(tmp_path: Path) -> None:
    from cradle.gate.runner import ActionRunner
    from cradle.screen.mapping import CoordinateMap
    from cradle.screen.mock import MockScreen

    screen = MockScreen()
    runner = ActionRunner.load(
        screen=screen,
        folders=[shared_skills_dir()],
        generated_dir=None,
        run_id="r",
        secrets=SecretStore({"PW": "hunter2secret"}),
    )
    mapping = CoordinateMap(screen.geometry.capture_size, screen.geometry)
    # click_text fails naming the text it looked for; the secret sits across the 500th char.
    text = "A" * 470 + "{secret:PW}"
    (outcome,) = runner.run([f"click_text(text={text!r})"], mapping=mapping, timeout=30)
    assert outcome.status == "failed"
    assert "AAAAAAAAAA" in outcome.error  # the error does quote the text it looked for
    assert "hunt" not in outcome.error and len(outcome.error) <= 500
