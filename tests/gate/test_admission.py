"""admit: the policy first, then secrets filled in only where a value cannot leak."""

from __future__ import annotations

import pytest

from cradle.errors import ActionRejected
from cradle.gate.admission import admit, nested_guard
from cradle.gate.policy import ActionPolicy
from cradle.gate.secrets import SecretStore
from cradle.paths import shared_skills_dir
from cradle.skills import SkillRegistry
from cradle.types import SkillCall

SECRET = "hunter2secret"
SECRETS = SecretStore({"PW": SECRET})
ALLOW_ALL = ActionPolicy(confirm="never")


@pytest.fixture(scope="module")
def registry() -> SkillRegistry:
    return SkillRegistry.load([shared_skills_dir()])


def test_secrets_are_filled_in_for_a_trusted_skill(registry: SkillRegistry) -> None:
    call = SkillCall(skill="type_text", kwargs={"text": "pw: {secret:PW}"})
    live = admit(call, registry.require("type_text"), policy=ALLOW_ALL, secrets=SECRETS)
    assert live.kwargs == {"text": f"pw: {SECRET}"}
    assert call.kwargs == {"text": "pw: {secret:PW}"}  # the recorded call keeps the placeholder


def test_the_policy_refuses_before_any_secret_is_filled_in(registry: SkillRegistry) -> None:
    deny = ActionPolicy(confirm="never", deny=frozenset({"type_text"}))
    call = SkillCall(skill="type_text", kwargs={"text": "{secret:NOPE}"})
    with pytest.raises(ActionRejected, match="not allowed"):
        admit(call, registry.require("type_text"), policy=deny, secrets=SECRETS)
    with pytest.raises(ActionRejected, match="unknown secret 'NOPE'"):
        admit(call, registry.require("type_text"), policy=ALLOW_ALL, secrets=SECRETS)


def test_a_description_for_the_grounding_model_never_holds_a_secret(
    registry: SkillRegistry,
) -> None:
    target = registry.require("type_into")
    call = SkillCall(skill="type_into", kwargs={"description": "{secret:PW}", "text": "x"})
    with pytest.raises(ActionRejected, match="grounding model"):
        admit(call, target, policy=ALLOW_ALL, secrets=SECRETS)


def test_a_nested_call_is_shown_for_confirmation_with_its_secrets_redacted(
    registry: SkillRegistry,
) -> None:
    asked: list[str] = []
    policy = ActionPolicy(
        confirm="risky",
        risky_skills=frozenset({"type_text"}),
        confirmer=lambda prompt: asked.append(prompt) or False,
    )
    guard = nested_guard(policy, SECRETS)
    call = SkillCall(skill="type_text", kwargs={"text": SECRET})
    assert "declined" in guard(registry.require("type_text"), call)
    assert asked == ["type_text(text='[redacted:PW]')"]
