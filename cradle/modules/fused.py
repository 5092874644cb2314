"""All five model-facing modules in one request, for speed and cost.

The reply holds every module's output, so the step record has the same shape as in modular
mode; only the number of model calls differs.
"""

from cradle.modules.base import Module
from cradle.types import FusedStep


class FusedModule(Module):
    name = "fused"
    template = "fused.j2"
    output_model = FusedStep
    max_output_tokens = 2048
