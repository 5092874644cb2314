"""Action planning: the skill calls to run now, in the pixel space of the screenshot."""

from cradle.modules.base import Module
from cradle.types import ActionPlan


class ActionPlanningModule(Module):
    name = "action_planning"
    template = "action_planning.j2"
    output_model = ActionPlan
