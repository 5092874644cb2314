"""Information gathering: what is on the screen that matters for the task."""

from cradle.modules.base import Module
from cradle.types import InformationGathering


class InformationGatheringModule(Module):
    name = "information_gathering"
    template = "information_gathering.j2"
    output_model = InformationGathering
