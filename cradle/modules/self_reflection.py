"""Self-reflection: did the last actions do what was intended, and if not, why."""

from cradle.modules.base import Module, StepContext
from cradle.types import SelfReflection


class SelfReflectionModule(Module):
    name = "self_reflection"
    template = "self_reflection.j2"
    output_model = SelfReflection
    max_output_tokens = 512

    def should_run(self, ctx: StepContext) -> bool:
        # On the first step nothing has been done yet, so there is nothing to judge.
        return ctx.previous is not None
