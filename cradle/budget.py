"""Run budgets: steps, wall time, tokens and money, checked between steps.

Prices are US dollars per million tokens. The built-in table covers common OpenAI models;
``--price-in/--price-out`` or a JSON file (``{"model": [in, out]}``) override it. A model
with no known price has no cost (and a cost budget then refuses to start, rather than never
stopping).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

from cradle.errors import ConfigError
from cradle.inputs import read_text_file

DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
}


def load_prices(path: Path) -> dict[str, tuple[float, float]]:
    """A price table from JSON: ``{"model": [input_per_million, output_per_million]}``."""
    text = read_text_file(path, "price table")
    try:
        raw = json.loads(text)
        return {str(k): (float(v[0]), float(v[1])) for k, v in raw.items()}
    except (ValueError, TypeError, IndexError, KeyError, AttributeError):
        raise ConfigError(
            f'{path}: expected {{"model": [input_per_million, output_per_million]}}'
        ) from None


@dataclass(frozen=True)
class Price:
    input_per_million: float
    output_per_million: float

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (
            input_tokens * self.input_per_million + output_tokens * self.output_per_million
        ) / 1_000_000


def price_for(
    model: str,
    *,
    table: dict[str, tuple[float, float]] | None = None,
    price_in: float | None = None,
    price_out: float | None = None,
) -> Price | None:
    """The price of ``model``: explicit prices, else the table (exact, then longest prefix)."""
    if price_in is not None or price_out is not None:
        return Price(price_in or 0.0, price_out or 0.0)
    prices = {**DEFAULT_PRICES, **(table or {})}
    if model in prices:
        return Price(*prices[model])
    for name in sorted(prices, key=len, reverse=True):
        if model.startswith(name):
            return Price(*prices[name])
    return None


@dataclass
class Budget:
    """Limits of one run; ``exceeded`` names the first one hit, or returns ''."""

    max_seconds: float | None = None
    max_tokens: int | None = None
    max_cost: float | None = None
    price: Price | None = None
    started: float = field(default_factory=time.monotonic)
    tokens: int = 0
    cost: float = 0.0

    def __post_init__(self) -> None:
        if self.max_cost is not None and self.price is None:
            raise ConfigError(
                "--max-cost needs a price for this model: pass --price-in/--price-out "
                "(dollars per million tokens) or --prices FILE"
            )

    def add(self, input_tokens: int, output_tokens: int) -> None:
        self.tokens += input_tokens + output_tokens
        if self.price is not None:
            self.cost += self.price.cost(input_tokens, output_tokens)

    def deadline(self) -> float:
        """The ``time.monotonic()`` value at which the wall-time budget runs out (inf if none);
        running skills are stopped there, not only between steps."""
        return math.inf if self.max_seconds is None else self.started + self.max_seconds

    def exceeded(self) -> str:
        elapsed = time.monotonic() - self.started
        if self.max_seconds is not None and elapsed >= self.max_seconds:
            return f"max wall time ({self.max_seconds:g} s) reached"
        if self.max_tokens is not None and self.tokens >= self.max_tokens:
            return f"max tokens ({self.max_tokens:,}) reached: {self.tokens:,} used"
        if self.max_cost is not None and self.cost >= self.max_cost:
            return f"max cost (${self.max_cost:.4f}) reached: ${self.cost:.4f} spent"
        return ""
