"""Skills: plain typed Python functions the model calls by name.

* :func:`skill` marks a function; its schema comes from type hints and the docstring.
* :class:`SkillRegistry` loads skill files from folders (trusted, or untrusted = checked).
* :func:`parse_action` turns one action string from the model into a :class:`SkillCall`
  without evaluating anything; :func:`cradle.gate.executor.execute` runs it with the
  :class:`SkillContext`.
* :func:`check_untrusted` / :func:`load_untrusted` / :func:`save_generated` handle skills the
  model writes itself.

A skill file imports what it uses, as any Python file does::

    from cradle.skills import SkillContext, skill
    from skills.keyboard import hotkey


    @skill
    def save(ctx: SkillContext) -> None:
        \"\"\"Save the document.\"\"\"
        ctx.call(hotkey, "ctrl", "s")   # validated and gated like the model's own actions

Typical use by the agent loop::

    registry = SkillRegistry.load(trusted=[shared_skills_dir(), env_skills],
                                  untrusted=[generated_dir])
    prompt_part = registry.describe()            # or registry.describe(relevant_names)
    call = parse_action("click(x=120, y=40)", registry)   # ActionRejected -> tell the model
    result = execute(call, registry, ctx, timeout=30)      # SkillExecutionError -> tell it
    registry.reload_changed()                               # between steps
"""

from cradle.skills.calls import current_context, skill_context
from cradle.skills.checker import Problem, check_untrusted, load_untrusted
from cradle.skills.context import SkillContext, SkillLibrary
from cradle.skills.curated import save_generated
from cradle.skills.decorator import Skill, SkillParam, skill
from cradle.skills.parser import parse_action
from cradle.skills.registry import SkillRegistry

__all__ = [
    "Problem",
    "Skill",
    "SkillContext",
    "SkillLibrary",
    "SkillParam",
    "SkillRegistry",
    "check_untrusted",
    "current_context",
    "load_untrusted",
    "parse_action",
    "save_generated",
    "skill",
    "skill_context",
]
