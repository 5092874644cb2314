"""Text the user hands to cradle (flags, secrets, price tables): UTF-8, bounded, or one line.

Everything a run records is UTF-8 JSON, so text that is not UTF-8 cannot be kept. Caught at
the door it is a clear ``ConfigError`` naming the flag or file; caught later it was a
traceback from deep inside a JSON encoder, after a run folder had been made.

On POSIX, Python hands over command-line bytes that are not UTF-8 as lone surrogates
(``"\\udcff"``, PEP 383), so a non-UTF-8 ``--task`` arrives as a ``str`` that only fails when
it is encoded; :func:`check_text` finds those.
"""

from __future__ import annotations

from pathlib import Path

from cradle.errors import ConfigError, CradleError

MAX_INPUT_FILE_BYTES = 1_000_000
"""Largest secrets file or price table read (both are a few lines in practice)."""


def not_utf8(text: str) -> int | None:
    """Index of the first character that cannot be encoded as UTF-8, or None when all can."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None


def check_text(
    text: str, what: str, hint: str = "pass UTF-8 (check the terminal's locale, e.g. LANG=C.UTF-8)"
) -> str:
    """``text`` unchanged, or ``ConfigError`` when it holds bytes that were not UTF-8."""
    at = not_utf8(text)
    if at is not None:
        raise ConfigError(
            f"{what} is not UTF-8 text (undecodable byte at character {at + 1}); {hint}"
        )
    return text


def read_text_file(
    path: Path,
    what: str,
    *,
    max_bytes: int | None = MAX_INPUT_FILE_BYTES,
    error: type[CradleError] = ConfigError,
    hint: str = "save it as UTF-8",
) -> str:
    """The UTF-8 text of ``path``; ``error`` (one line naming ``what`` and the file) otherwise.

    ``max_bytes`` bounds what is read (None: no bound, for files cradle wrote itself);
    ``hint`` says what to do about text that is not UTF-8.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1) if max_bytes is not None else handle.read()
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    if max_bytes is not None and len(data) > max_bytes:
        raise error(f"{what} {path} is larger than {max_bytes:,} bytes; is it the right file?")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise error(
            f"{what} {path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); {hint}"
        ) from None
