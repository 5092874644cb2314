"""From the planner's action strings to effects on the screen, and from proposals to skills.

The planner writes Python call expressions. Each goes through one pipeline,
:meth:`ActionRunner._attempt`: parsed (never evaluated), admitted by the policy and the
secrets gate (:mod:`cradle.gate.admission`), run with its context under a time limit
(:mod:`cradle.gate.executor`), and recorded as an outcome (:mod:`cradle.gate.recording`).
A rejected action is reported back to the model and the next action still runs; an action
that *fails* while running stops the rest of the step, because the screen is no longer in
the state the plan assumed.

What cuts across every action is composed around that pipeline, not branched inside it:
the screen the runner is given may be a :class:`~cradle.screen.dry_run.DryRunScreen` (input
logged, not sent) and an environment's screen may keep its app focused before input (the
desktop's focus keeper); the context carries the perception of the frame the model saw, so
skills reuse it instead of perceiving again; redaction applies to every reason the model
reads and to calls shown for confirmation.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cradle.computer_use.grounding import GROUNDED_SKILLS
from cradle.errors import ActionRejected, SkillBug, SkillExecutionError, SkillKilled
from cradle.gate.admission import admit, nested_guard
from cradle.gate.executor import execute
from cradle.gate.policy import ActionPolicy
from cradle.gate.recording import Attempt
from cradle.gate.secrets import SecretStore
from cradle.perception import Perception
from cradle.screen.base import Screen
from cradle.screen.mapping import CoordinateMap
from cradle.skills import SkillContext, SkillRegistry, parse_action, save_generated
from cradle.skills.context import EpisodeView
from cradle.skills.parser import plan_cap_reason
from cradle.skills.ranking import SkillRanker
from cradle.skills.stats import SkillStats
from cradle.types import ActionOutcome, ModelCall, SelfReflection, utc_now

MAX_NEW_SKILLS = 5
"""Proposed skills checked in one step; more are refused unread (each costs a check and a
declaration load, and a model that sends hundreds is not writing skills)."""


class ActionRunner:
    """Owns the skill registry of a run and executes actions against its screen."""

    def __init__(
        self,
        *,
        registry: SkillRegistry,
        screen: Screen,
        generated_dir: Path | None,
        run_id: str,
        stats: SkillStats | None = None,
        policy: ActionPolicy | None = None,
        secrets: SecretStore | None = None,
        ranker: SkillRanker | None = None,
        dry_run: bool = False,
        episode: EpisodeView | None = None,
    ) -> None:
        self.registry = registry
        self.episode = episode or EpisodeView()
        self.stats = stats
        self.policy = policy or ActionPolicy(confirm="never")
        self.secrets = secrets or SecretStore()
        self.ranker = ranker
        self.dry_run = dry_run
        self.screen = screen
        self.generated_dir = generated_dir
        self.run_id = run_id
        self._reported: set[str] = set()
        self.unavailable = frozenset() if self.episode.grounder is not None else GROUNDED_SKILLS
        """Skills not offered to the model: they need a grounder and none is configured."""
        self._saved: dict[str, Path] = {}
        """Files this run wrote to the generated-skills folder, by skill name."""

    @classmethod
    def load(
        cls,
        *,
        screen: Screen,
        folders: Sequence[Path],
        generated_dir: Path | None,
        run_id: str,
        **options: Any,
    ) -> ActionRunner:
        """Load trusted skill folders, plus the generated-skills folder as untrusted."""
        untrusted = []
        if generated_dir is not None:
            generated_dir.mkdir(parents=True, exist_ok=True)
            untrusted.append(generated_dir)
        registry = SkillRegistry.load(trusted=list(folders), untrusted=untrusted)
        return cls(
            registry=registry,
            screen=screen,
            generated_dir=generated_dir,
            run_id=run_id,
            **options,
        )

    # ------------------------------------------------------------------ between steps

    def refresh(self) -> list[str]:
        """Pick up edited skill files; returns problems not reported before."""
        self.registry.reload_changed()
        fresh = [str(p) for p in self.registry.problems if str(p) not in self._reported]
        self._reported.update(fresh)
        return fresh

    def describe(self, query: str = "") -> str:
        """Skill signatures for the prompt: the always-on skills plus the top-ranked others.

        ``query`` is the task and subtask; with a ranker, only the ``top_k`` skills most
        similar to it are shown besides the common ones, so a large library does not flood
        the prompt.
        """
        allowed = [
            name for name in self.policy.visible(self.registry) if name not in self.unavailable
        ]
        if self.ranker is not None:
            allowed = self.ranker.select(self.registry, allowed, query)
        return self.registry.describe(allowed)

    # ------------------------------------------------------------------ actions

    def run(
        self,
        actions: Sequence[str],
        *,
        mapping: CoordinateMap,
        timeout: float,
        deadline: float = math.inf,
        max_actions: int | None = None,
        perception: Perception | None = None,
    ) -> list[ActionOutcome]:
        """Parse and run each action in order; returns one outcome per action string.

        Each action may take ``timeout`` seconds, and none runs past ``deadline`` (the run's
        wall-time budget, a ``time.monotonic()`` value); skills read ``perception`` (of the
        frame the model saw) from their context. Only the first ``max_actions`` run:
        one ``rejected`` outcome, on the first action left out, stands for all the rest.
        """
        kept = len(actions) if max_actions is None else min(len(actions), max_actions)
        outcomes: list[ActionOutcome] = []
        for source in actions[:kept]:
            skip = _skip_reason(outcomes, deadline)
            if skip:
                outcomes.append(ActionOutcome(source=source, status="skipped", error=skip))
                continue
            ctx = SkillContext(
                screen=self.screen,
                mapping=mapping,
                episode=self.episode,
                perception=perception,
                secrets=self.secrets,
                guard=nested_guard(self.policy, self.secrets),
                deadline=deadline,
            )
            outcomes.append(self._attempt(source, ctx, timeout))
        if kept < len(actions):
            error = plan_cap_reason(len(actions), kept)
            outcomes.append(ActionOutcome(source=actions[kept], status="rejected", error=error))
        if self.stats is not None:
            self.stats.record_executed(outcomes)
        return outcomes

    def _attempt(self, source: str, ctx: SkillContext, timeout: float) -> ActionOutcome:
        """One action through the gate: parse, admit (policy, then secrets), execute. Each
        way it can end is recorded as its outcome, the model's reason redacted."""
        attempt = Attempt(source, redact=self.secrets.redact)
        try:
            call = attempt.call = parse_action(source, self.registry)
            target = self.registry.require(call.skill)
            live = admit(call, target, policy=self.policy, secrets=self.secrets)
            result = execute(live, self.registry, ctx, timeout=timeout)
        except ActionRejected as exc:
            return attempt.refused(exc)
        except SkillKilled as exc:
            self._retire(call.skill)
            return attempt.failed(exc, note=" (the skill was removed)")
        except SkillExecutionError as exc:
            return attempt.failed(exc)
        except SkillBug as exc:
            return attempt.broke(exc)
        return attempt.done(result, ctx.clicks, planned=self.dry_run)

    def _retire(self, name: str) -> None:
        """A model-written skill hit a process limit: it would again, so it goes, from the
        registry and from the generated-skills folder."""
        files = {self.registry.retire(name), self._saved.pop(name, None)}
        for path in files - {None}:
            try:
                path.unlink(missing_ok=True)  # type: ignore[union-attr]
            except OSError:
                pass  # an unloadable leftover is reported on the next load, not fatal now

    def take_model_calls(self) -> list[ModelCall]:
        """Model requests the skills made since the last take (the grounder's), for the
        step's records and the budget."""
        grounder = self.episode.grounder
        return grounder.take_calls() if grounder is not None else []

    # ------------------------------------------------------------------ curation

    def curate(self, sources: Sequence[str], *, task: str) -> list[dict[str, Any]]:
        """Check, load and save model-written skills; returns one verdict per source."""
        verdicts: list[dict[str, Any]] = []
        for index, source in enumerate(sources):
            if index >= MAX_NEW_SKILLS:
                verdicts.append(
                    {
                        "accepted": False,
                        "source": source,
                        "reason": f"at most {MAX_NEW_SKILLS} new skills are checked per step; "
                        f"{len(sources) - MAX_NEW_SKILLS} were not read; propose them later",
                    }
                )
                break
            origin = {"run_id": self.run_id, "task": task}
            try:
                skills = self.registry.add_untrusted(source, origin=origin)
            except ActionRejected as exc:
                verdicts.append({"accepted": False, "reason": str(exc), "source": source})
                continue
            verdict: dict[str, Any] = {
                "accepted": True,
                "names": [s.name for s in skills],
                "source": source,
            }
            if self.generated_dir is not None:
                try:
                    path = save_generated(
                        source,
                        self.generated_dir,
                        run_id=self.run_id,
                        task=task,
                        when=utc_now(),
                    )
                except OSError as exc:
                    verdict["file_error"] = f"not saved to {self.generated_dir}: {exc}"
                else:
                    verdict["file"] = str(path)
                    self._saved.update(dict.fromkeys(verdict["names"], path))
            verdicts.append(verdict)
        return verdicts

    def judge(self, outcomes: Sequence[ActionOutcome], reflection: SelfReflection) -> None:
        """Self-reflection judged the previous step's actions: update and save the statistics."""
        if self.stats is None:
            return
        self.stats.record_judged(outcomes, reflection.last_actions_succeeded)
        self.stats.save()

    def flush_stats(self) -> None:
        """Save counts not yet judged (the run is ending)."""
        if self.stats is not None:
            self.stats.save()


def _skip_reason(earlier: Sequence[ActionOutcome], deadline: float) -> str:
    """Why the next action does not run: an earlier one failed, so the screen is not in the
    state the plan assumed; or the run's time is up. Empty when it runs."""
    if any(o.status == "failed" for o in earlier):
        return "not run: an earlier action in this step failed"
    if time.monotonic() >= deadline:
        return "not run: the run's time budget is spent"
    return ""
