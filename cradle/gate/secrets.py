"""Secrets the model may use but never see, and redaction of everything recorded.

The model writes ``{secret:NAME}`` where a password or token belongs, for example
``type_text(text="{secret:MAIL_PASSWORD}")``. The value is filled in only when the skill runs.
Values come from environment variables ``CRADLE_SECRET_<NAME>`` or from a secrets file (JSON
object or ``NAME=value`` lines). Every string the run records or prints passes through
``redact``, which replaces each known value (and the API key) with ``[redacted:NAME]``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cradle.errors import ActionRejected, ConfigError
from cradle.inputs import check_text, read_text_file

PLACEHOLDER = re.compile(r"\{secret:([A-Za-z_][A-Za-z0-9_]*)\}")
ENV_PREFIX = "CRADLE_SECRET_"
_MIN_REDACT_LENGTH = 4


def read_secrets_file(path: Path) -> dict[str, str]:
    """NAME -> value from a JSON object or ``NAME=value`` lines (``#`` comments allowed)."""
    text = read_text_file(path, "secrets file")
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
            raise ConfigError(f"{path}: secrets must be a JSON object of strings")
        return dict(data)
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        name, sep, value = stripped.partition("=")
        if not sep or not PLACEHOLDER.fullmatch("{secret:" + name.strip() + "}"):
            raise ConfigError(f"{path}:{number}: expected NAME=value")
        values[name.strip()] = value.strip()
    return values


class SecretStore:
    """Known secret values by name; fills placeholders and redacts values."""

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self._values: dict[str, str] = dict(values or {})
        self._extra: dict[str, str] = {}

    @classmethod
    def from_sources(
        cls, *, environ: Mapping[str, str] | None = None, file: Path | None = None
    ) -> SecretStore:
        env = os.environ if environ is None else environ
        values = {k[len(ENV_PREFIX) :]: v for k, v in env.items() if k.startswith(ENV_PREFIX) and v}
        if file is not None:
            values.update(read_secrets_file(file))
        for name, value in values.items():  # JSON "\udcff" or a non-UTF-8 variable
            check_text(value, f"secret {name}", "use UTF-8 text (no lone \\udXXX escapes)")
        short = sorted(name for name, value in values.items() if len(value) < _MIN_REDACT_LENGTH)
        if short:
            raise ConfigError(
                f"secret(s) {', '.join(short)} shorter than {_MIN_REDACT_LENGTH} characters "
                "cannot be told apart from ordinary text, so they could not be redacted; "
                "use longer values"
            )
        return cls(values)

    def names(self) -> list[str]:
        return sorted(self._values)

    def also_redact(self, label: str, value: str | None) -> None:
        """Redact ``value`` too (the API key), without making it usable as a placeholder."""
        if value:
            self._extra[label] = value

    def fill(self, value: Any) -> Any:
        """``value`` with placeholders replaced by secret values (recursively in lists)."""
        if isinstance(value, str):

            def replace(match: re.Match[str]) -> str:
                name = match.group(1)
                if name not in self._values:
                    known = ", ".join(self.names()) or "none"
                    raise ActionRejected(
                        f"unknown secret {name!r} (known: {known}); set {ENV_PREFIX}{name}"
                    )
                return self._values[name]

            return PLACEHOLDER.sub(replace, value)
        if isinstance(value, list):
            return [self.fill(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.fill(v) for v in value)
        if isinstance(value, dict):
            return {k: self.fill(v) for k, v in value.items()}
        return value

    def mentioned(self, *values: Any) -> bool:
        """Whether any string in ``values`` (recursively) holds a ``{secret:NAME}``."""
        for value in values:
            if isinstance(value, str) and PLACEHOLDER.search(value):
                return True
            if isinstance(value, list | tuple) and self.mentioned(*value):
                return True
            if isinstance(value, dict) and self.mentioned(*value.values()):
                return True
        return False

    def redact(self, text: str) -> str:
        """``text`` with every known secret value replaced by ``[redacted:NAME]``."""
        pairs = [*self._values.items(), *self._extra.items()]
        for name, value in sorted(pairs, key=lambda p: -len(p[1])):
            if len(value) < _MIN_REDACT_LENGTH:
                continue
            # Records are redacted as JSON text, where quotes, backslashes and control
            # characters of a value appear escaped: replace those spellings too.
            for form in dict.fromkeys(
                (value, json.dumps(value, ensure_ascii=False)[1:-1], json.dumps(value)[1:-1])
            ):
                if form in text:
                    text = text.replace(form, f"[redacted:{name}]")
        return text

    def __bool__(self) -> bool:
        return bool(self._values or self._extra)
