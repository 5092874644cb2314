"""The checks a parsed call passes before it runs: the policy, then the secrets.

The policy decides whether the skill may run at all (allow/deny lists, a person's yes for
risky skills). Secrets are filled in last, and only where a value cannot leak: never into a
model-written skill (it could spell the value out past redaction) and never into a
description the grounding model reads.
"""

from __future__ import annotations

from collections.abc import Callable

from cradle.computer_use.grounding import GROUNDED_SKILLS
from cradle.errors import ActionRejected
from cradle.gate.policy import ActionPolicy
from cradle.gate.secrets import SecretStore
from cradle.skills import Skill
from cradle.types import SkillCall


def admit(
    call: SkillCall, target: Skill, *, policy: ActionPolicy, secrets: SecretStore
) -> SkillCall:
    """``call`` as it may run, its ``{secret:NAME}`` placeholders filled in.

    Raises ``ActionRejected`` with the reason the model reads when the call may not run.
    """
    refusal = policy.refusal(target, call)
    if refusal:
        raise ActionRejected(refusal)
    if target.generated and secrets.mentioned(call.args, call.kwargs):
        raise ActionRejected(
            f"{{secret:...}} values can be given to trusted skills only, not to "
            f"the generated skill {call.skill!r}; call type_text directly"
        )
    if call.skill in GROUNDED_SKILLS and secrets.mentioned(
        call.kwargs.get("description"), call.args[:1]
    ):
        raise ActionRejected(
            "{secret:...} values cannot be part of a description sent to the "
            "grounding model; describe the field and give the secret as text"
        )
    return call.model_copy(
        update={"args": secrets.fill(call.args), "kwargs": secrets.fill(call.kwargs)}
    )


def nested_guard(policy: ActionPolicy, secrets: SecretStore) -> Callable[[Skill, SkillCall], str]:
    """The policy for a skill called by a running skill. Its arguments hold filled-in
    secrets: they are redacted before a confirmation prompt shows the call."""

    def refusal(skill: Skill, call: SkillCall) -> str:
        shown = SkillCall.model_validate_json(secrets.redact(call.model_dump_json()))
        return policy.refusal(skill, shown, nested=True)

    return refusal
