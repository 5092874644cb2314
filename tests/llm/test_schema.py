"""Structured-output schemas and JSON extraction."""

from cradle.llm.schema import extract_json, schema_instructions, strict_schema
from cradle.types import ActionPlan, FusedStep, InformationGathering


def _objects(node):
    if isinstance(node, dict):
        if node.get("type") == "object":
            yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


def test_strict_schema_closes_and_requires_every_object():
    schema = strict_schema(FusedStep)
    objects = list(_objects(schema))
    assert len(objects) >= 6  # the step, five module outputs and the screen element
    for obj in objects:
        assert obj["additionalProperties"] is False
        assert set(obj["required"]) == set(obj["properties"])


def test_strict_schema_inlines_references():
    text = str(strict_schema(InformationGathering))
    assert "$ref" not in text and "$defs" not in text


def test_action_plan_schema_has_the_action_contract():
    props = strict_schema(ActionPlan)["properties"]
    assert props["actions"]["type"] == "array"
    assert props["done"]["type"] == "boolean"


def test_extract_json_from_fence_and_prose():
    assert extract_json('```json\n{"a": 1}\n```') == '{"a": 1}'
    assert extract_json('Sure! {"a": 1} hope that helps') == '{"a": 1}'
    assert extract_json('  {"a": 1}') == '{"a": 1}'


def test_schema_instructions_mention_every_field():
    text = schema_instructions(ActionPlan)
    for field in ("reasoning", "actions", "done"):
        assert field in text
