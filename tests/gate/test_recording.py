"""Attempt: every way an action ends becomes an outcome; what the model reads is redacted first."""

from __future__ import annotations

from cradle.errors import ActionRejected, SkillBug, SkillExecutionError
from cradle.gate.recording import MAX_ERROR_CHARS, MAX_TRACEBACK_CHARS, Attempt, jsonable
from cradle.gate.secrets import SecretStore
from cradle.types import SkillCall

SECRET = "hunter2secret"
redact = SecretStore({"PW": SECRET}).redact


def test_a_refusal_before_parsing_has_no_call_and_a_failure_keeps_its_call() -> None:
    refused = Attempt("click(", redact=redact).refused(ActionRejected("not a call"))
    assert (refused.status, refused.call, refused.error) == ("rejected", None, "not a call")
    attempt = Attempt("wait(1)", redact=redact)
    attempt.call = SkillCall(skill="wait", args=[1])
    failed = attempt.failed(SkillExecutionError("wait: too long"), note=" (note)")
    assert (failed.status, failed.call, failed.error) == (
        "failed",
        attempt.call,
        "wait: too long (note)",
    )
    assert failed.duration_ms >= 0 and failed.traceback == ""


def test_the_reason_is_redacted_before_it_is_shortened() -> None:
    reason = "A" * (MAX_ERROR_CHARS - 5) + SECRET
    outcome = Attempt("x()", redact=redact).failed(SkillExecutionError(reason))
    assert len(outcome.error) <= MAX_ERROR_CHARS and "hunt" not in outcome.error


def test_a_bugs_traceback_is_redacted_and_keeps_its_last_lines() -> None:
    trace = "Traceback (most recent call last):\n" + "  frame\n" * 2000 + f"KeyError: {SECRET!r}\n"
    outcome = Attempt("x()", redact=redact).broke(SkillBug("x: broke", traceback=trace))
    assert outcome.status == "failed" and outcome.error == "x: broke"
    assert len(outcome.traceback) <= MAX_TRACEBACK_CHARS
    assert outcome.traceback.startswith("Traceback") and SECRET not in outcome.traceback
    assert outcome.traceback.rstrip().endswith("KeyError: '[redacted:PW]'")


def test_done_and_planned_keep_the_points_and_a_json_friendly_result() -> None:
    done = Attempt("click(1, 2)", redact=redact).done({"n": 1}, [(1, 2)], planned=False)
    assert (done.status, done.result, done.clicks) == ("ok", {"n": 1}, [(1, 2)])
    planned = Attempt("click(1, 2)", redact=redact).done(None, [], planned=True)
    assert planned.status == "planned"


def test_jsonable_keeps_plain_values_and_describes_the_rest() -> None:
    assert jsonable((1, "a")) == [1, "a"]
    assert jsonable({"text": "x" * 600})["text"].startswith("x" * 100)
    assert len(jsonable({"text": "x" * 600})["text"]) <= 500
    assert jsonable(object()).startswith("<object object")
