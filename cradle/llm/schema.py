"""JSON schemas for structured outputs; tolerant extraction and validation of model replies.

OpenAI's strict structured outputs accept a subset of JSON Schema: every object closed
(``additionalProperties: false``), every property required, no ``$ref`` with sibling keywords.
Local servers (vLLM, llama.cpp) turn schemas into grammars and also prefer simple, inlined
schemas. ``strict_schema`` produces that form from any pydantic model used as a module output.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ValidationError

from cradle.errors import ModelReplyError

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def strict_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema, with ``$ref``s inlined and every object closed and required."""
    raw = model.model_json_schema()
    defs = raw.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                target = defs[node["$ref"].rsplit("/", 1)[-1]]
                merged = {**resolve(target), **{k: v for k, v in node.items() if k != "$ref"}}
                return resolve(merged)
            out = {k: resolve(v) for k, v in node.items() if k not in ("default", "title")}
            if out.get("type") == "object" and "properties" in out:
                out["additionalProperties"] = False
                out["required"] = list(out["properties"])
            return out
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    return resolve(raw)


def schema_name(model: type[BaseModel]) -> str:
    """A name OpenAI accepts for ``json_schema.name`` (letters, digits, _ and -)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", model.__name__)[:64]


def extract_json(text: str) -> str:
    """The JSON object in a reply that may wrap it in prose or a ``` fence."""
    stripped = text.strip()
    if stripped.startswith("{"):
        return stripped
    fenced = _FENCE.search(stripped)
    if fenced:
        return fenced.group(1).strip()
    start, end = stripped.find("{"), stripped.rfind("}")
    if start != -1 and end > start:
        return stripped[start : end + 1]
    return stripped


def schema_instructions(model: type[BaseModel]) -> str:
    """Text that asks for JSON of ``model``'s shape, for servers without structured outputs."""
    schema = json.dumps(strict_schema(model), separators=(",", ":"))
    return (
        "Reply with one JSON object and nothing else (no prose, no code fence). "
        f"It must match this JSON schema:\n{schema}"
    )


def validation_summary(error: ValidationError, limit: int = 5) -> str:
    """A short, model-readable list of what did not fit (field path and message)."""
    parts = []
    for item in error.errors()[:limit]:
        where = ".".join(str(p) for p in item["loc"]) or "(root)"
        parts.append(f"{where}: {item['msg']}")
    more = error.error_count() - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def parse_reply(text: str, output_model: type[BaseModel]) -> BaseModel:
    """Validate a reply against the module's output model or raise ``ModelReplyError``."""
    if not text.strip():
        raise ModelReplyError("the model returned an empty reply", reply=text)
    try:
        return output_model.model_validate_json(extract_json(text))
    except ValidationError as exc:
        raise ModelReplyError(
            f"reply does not fit {output_model.__name__}: {validation_summary(exc)}", reply=text
        ) from None
