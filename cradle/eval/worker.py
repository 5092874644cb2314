"""``python -m cradle.eval.worker``: one episode in its own process.

The harness starts one worker per task with the episode's environment already in place
(``HOME``, ``TMPDIR`` and the XDG folders of its :class:`~cradle.tasks.EpisodePlace`, the slot's
``DISPLAY``, often inside ``dbus-run-session``), writes an :class:`~cradle.eval.jobs.EvalJob`
as JSON on stdin and reads one :class:`~cradle.eval.jobs.EvalResult` line from stdout. The
real stdout is kept for that line alone: whatever the episode prints (or its children write
to file descriptor 1) goes to stderr, which the harness keeps as the task's log.

A worker that crashes or hangs costs its task, never the harness: the harness kills it.
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from pathlib import Path
from typing import IO, Any

# The episode's own modules, imported before its clock starts (a worker runs one episode).
from cradle.agent import AgentSettings
from cradle.episode_parts import GENERATED_DIR
from cradle.errors import CradleError
from cradle.eval.fleet import MAX_PROPOSED_BYTES, MAX_PROPOSED_SKILLS, bounded, write_sources
from cradle.eval.jobs import EvalJob, EvalResult
from cradle.runtime import MemorySettings, ModelSettings, Runtime, RuntimeSettings
from cradle.signals import last_stop, stop_of, stop_signals
from cradle.skills.promotion import skill_sources
from cradle.task_episode import run_task
from cradle.tasks.setup import EpisodePlace
from cradle.types import Task, TaskResult

MAX_JOB_BYTES = 2_000_000


def episode(task: Task, place: EpisodePlace, job: EvalJob) -> TaskResult:
    """Setup, the episode, the final screen and state, the verdict (cradle.task_episode.run_task),
    from a runtime of this worker's own: the suite's long-term memory when the job names
    one, no skill statistics (a file of this machine's), and the promoted skills the job
    carries in a folder of this worker's own. The episode's own skills go back to the driver,
    which alone promotes them (cradle.eval.fleet)."""
    model = _scripted(task, job)
    agent: dict[str, Any] = dict(job.agent)
    if model is not None:
        agent.update(mode="fused", idle_skips=0)  # the script answers every step, in order
    memory = (
        MemorySettings.model_validate(job.memory) if job.memory else MemorySettings(enabled=False)
    )
    with tempfile.TemporaryDirectory(prefix="cradle-promoted-skills-") as scratch:
        settings = RuntimeSettings(
            model=ModelSettings.model_validate(job.model),
            agent=AgentSettings.model_validate(agent),
            memory=memory,
            skill_stats=False,
            generated_skills_dir=write_sources(job.skills, Path(scratch)) if job.skills else None,
        )
        with Runtime(settings, model=model) as runtime:
            return run_task(runtime, task, runs_dir=Path(job.runs_dir), place=place, model=model)


def proposed_skills(run_dir: str) -> list[str]:
    """The sources of the skills the episode accepted, within what a result line carries
    (the rest stay in the run folder)."""
    if not run_dir:
        return []
    sources, dropped = bounded(
        skill_sources(Path(run_dir) / GENERATED_DIR),
        count=MAX_PROPOSED_SKILLS,
        size=MAX_PROPOSED_BYTES,
    )
    if dropped:
        print(
            f"cradle eval worker: {dropped} skill(s) not sent to the driver (more than "
            f"{MAX_PROPOSED_SKILLS} or {MAX_PROPOSED_BYTES:,} bytes); they stay in {run_dir}",
            file=sys.stderr,
        )
    return sources


def _scripted(task: Task, job: EvalJob) -> Any:
    from cradle.eval.scripted import noop_model, reference_model

    if job.mode == "reference":
        return reference_model(task)
    return noop_model() if job.mode == "noop" else None


def run_job(job: EvalJob) -> EvalResult:
    """The job's result line: judged, or failed with the reason it could not be."""
    task = job.full_task()
    if job.mode == "reference" and not task.reference:
        return EvalResult.failed(task, "no reference solution")
    if job.mode == "reference" and len(task.reference) > task.max_steps:
        return EvalResult.failed(
            task,
            f"the reference has {len(task.reference)} steps, more "
            f"than max_steps ({task.max_steps})",
        )
    try:
        result = episode(task, episode_place(job), job)
    except CradleError as exc:  # no runtime (an unreachable memory server, ...): no episode
        return EvalResult.failed(task, f"runtime: {exc}")
    _write_report(result.run_dir)
    return as_line(result).model_copy(update={"skills": proposed_skills(result.run_dir)})


def episode_place(job: EvalJob) -> EpisodePlace:
    """This process's home and environment, set up by the harness, minus the API key: setup
    commands and launched apps are the model's to drive and must not hold it."""
    env = dict(os.environ)
    env.pop(str(job.model.get("api_key_env") or "OPENAI_API_KEY"), None)
    return EpisodePlace(home=Path(env.get("HOME") or Path.home()), env=env)


def as_line(result: TaskResult) -> EvalResult:
    """The results.jsonl line of a task result: where and why it failed folds into ``error``
    (None when the model declared done and the checker judged); the run folder's
    verdict.json keeps the full result."""
    error = result.error
    if error and result.stage in ("setup", "episode"):
        error = f"{result.stage}: {error}"
    elif error is None and result.status != "done":
        error = f"{result.status}: {result.reason}" if result.reason else result.status
    fields = result.model_dump(include=set(EvalResult.model_fields))
    return EvalResult.model_validate({**fields, "error": error})


def _write_report(run_dir: str) -> None:
    """The run's own report.html, which the suite's report links to (best effort)."""
    if not run_dir:
        return
    try:
        from cradle.trajectory.loader import load_run
        from cradle.trajectory.report import write_report

        write_report(load_run(run_dir))
    except Exception as exc:  # noqa: BLE001 - a report is not worth the task's verdict
        print(f"cradle eval: no report for {run_dir}: {exc}", file=sys.stderr)


def _claim_stdout() -> IO[str]:
    """The real stdout for the result line; file descriptor 1 becomes stderr for the rest."""
    sys.stdout.flush()
    kept = os.dup(1)
    os.dup2(2, 1)
    return os.fdopen(kept, "w", encoding="utf-8")


def main() -> int:
    out = _claim_stdout()
    raw = sys.stdin.buffer.read(MAX_JOB_BYTES + 1)
    try:
        if len(raw) > MAX_JOB_BYTES:
            raise ValueError(f"the job is larger than {MAX_JOB_BYTES:,} bytes")
        job = EvalJob.model_validate_json(raw)
    except ValueError as exc:
        print(f"cradle eval worker: unusable job: {exc}", file=sys.stderr)
        return 2
    code, stop = 0, None
    with stop_signals():
        try:
            result = run_job(job)
        except KeyboardInterrupt as exc:
            result, stop = EvalResult.failed(job.task, ""), stop_of(exc)
        except Exception as exc:  # noqa: BLE001 - a bug fails this task, with its traceback
            traceback.print_exc()
            result = EvalResult.failed(job.task, f"internal error: {type(exc).__name__}: {exc}")
    stop = stop or last_stop()
    if stop is not None:  # the harness stopped this episode: not a result of the task
        result = result.model_copy(
            update={"success": False, "error": f"interrupted: {stop.reason}"}
        )
        code = stop.exit_code
    out.write(result.wire_json() + "\n")
    out.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
