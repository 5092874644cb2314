"""The gate's tests use the skills tests' fake screen and registries."""

from tests.skills.conftest import common_registry, ctx, registry, screen  # noqa: F401
