"""What every recorded object shares: strict fields and aware UTC timestamps."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict


def utc_now() -> datetime:
    """Aware UTC timestamps everywhere, so runs from different machines line up."""
    return datetime.now(UTC)


class Record(BaseModel):
    """Base for recorded objects: unknown fields are errors, so typos in trajectories show."""

    model_config = ConfigDict(extra="forbid")
