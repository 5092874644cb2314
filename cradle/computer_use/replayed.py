"""A planner that answers with the replies recorded in a run (``cradle replay --model-replies``).

The planner's calls are recorded under module ``computer_use``: a computer-use API's reply
(``response_mode="computer_tool"``) is its native JSON, read again here with the same parser
(Anthropic's ``content``/``stop_reason``, or the Responses API's ``output``), so a replay also
checks that today's parser still reads yesterday's replies into the same plan. Other planners'
calls (open GUI models' text) replay the plan their step recorded. A recorded unusable reply
fails again the same way; one request more than recorded fails loudly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

from cradle.computer_use.base import PlanInput, PlanOutput
from cradle.computer_use.native import MODULE, RESPONSE_MODE, build_plan
from cradle.errors import ModelReplyError, ScriptExhaustedError
from cradle.types import ModelCall, StepRecord

if TYPE_CHECKING:
    from cradle.trajectory.loader import LoadedRun


class ReplayedPlanner:
    """An ``ActionPlanner`` playing back a recorded run's planner replies, in order."""

    def __init__(self, steps: Iterable[StepRecord], *, name: str = "replayed") -> None:
        self._recorded = [
            (record, call)
            for record in steps
            for call in record.model_calls
            if call.module == MODULE and not call.request_failed
        ]
        self._next = 0
        self.name = name

    @classmethod
    def from_run(cls, run: LoadedRun) -> ReplayedPlanner:
        return cls(run.steps, name=f"replayed:{run.info.model}")

    def remaining(self) -> int:
        return len(self._recorded) - self._next

    def plan(self, given: PlanInput) -> PlanOutput:
        if self._next >= len(self._recorded):
            raise ScriptExhaustedError(
                f"the recording has no planner reply left (all {len(self._recorded)} were used)"
            )
        record, recorded = self._recorded[self._next]
        self._next += 1
        call = ModelCall(
            module=MODULE,
            model=self.name,
            response_mode=recorded.response_mode,
            prompt=f"(replayed reply of step {record.step})",
            images=1,
            reply=recorded.reply,
            error=recorded.error,
        )
        if recorded.error:
            raise ModelReplyError(
                f"{MODULE}: {recorded.error} (replayed)", reply=recorded.reply, calls=(call,)
            )
        if recorded.response_mode != RESPONSE_MODE:
            if record.action_planning is None:
                raise ModelReplyError(
                    f"step {record.step} recorded no plan to replay", calls=(call,)
                )
            return PlanOutput(plan=record.action_planning, calls=(call,))
        try:
            reply = json.loads(recorded.reply)
        except json.JSONDecodeError:
            raise ModelReplyError(
                f"the recorded reply of step {record.step} is not whole JSON "
                "(cut to the record's size bound): it cannot be replayed",
                calls=(call,),
            ) from None
        if "output" in reply:
            from cradle.computer_use.openai_planner import parse_response as parse
        else:
            from cradle.computer_use.anthropic_planner import parse_message as parse
        plan, _pending, native = build_plan(parse(reply, given.image.size))
        return PlanOutput(plan=plan, calls=(call,), native=native)

    def close(self) -> None:
        return None
