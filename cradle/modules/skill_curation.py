"""Skill curation: which skills fit the subtask, and new skills the model proposes as code."""

from cradle.modules.base import Module
from cradle.types import SkillCuration


class SkillCurationModule(Module):
    name = "skill_curation"
    template = "skill_curation.j2"
    output_model = SkillCuration
    sends_image = False
    max_output_tokens = 2048
