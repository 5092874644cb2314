"""One line for a task that pydantic refused, shared by every reader of task files.

The loader, the OSWorld translation and the batch reader all report a bad task as
``field.path: what is wrong``; this module sits below all three so none imports another for it.
"""

from __future__ import annotations

from pydantic import ValidationError


def validation_problem(exc: ValidationError) -> str:
    """The first problem pydantic found, as ``field.path: what is wrong``."""
    first = exc.errors()[0]
    loc = ".".join(str(part) for part in first["loc"]) or "(task)"
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "unknown key; check its spelling (see the README's task format)"
    return f"{loc}: {message}"
