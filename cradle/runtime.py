"""What outlives one episode: the model, prompts, skill library and index, long-term memory.

A :class:`Runtime` is built once (``cradle run`` builds one for its single episode; ``cradle
eval`` one per worker process) and several episodes run from it, one after another. It holds
what is costly to set up or must be shared across episodes: the model provider (its client and
connection pool), the secrets, the prompt libraries, the skill index with its embedder, and
the long-term memory store. It holds nothing about a particular run: the task, environment,
screen, recorder, budget and the skills an episode writes belong to the
:class:`~cradle.episode.Episode`, so nothing an episode does leaks into another one running at
the same time. Close it explicitly (``close()``, or use it as a context manager).

Skill files are read per episode: each episode gets its own registry whose trusted modules
run in fresh namespaces (so module-level state of a skill file cannot carry over from one
episode to the next), which costs ~7 ms once Python has imported what the files import. The
costly part of the skill library, the index that ranks skills by meaning (an embedding model,
or the memory store's skill collection), is built once here and shared.
"""

from __future__ import annotations

import copy
import os
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from cradle.agent import AgentSettings
from cradle.background import Opening, PendingMemory, PendingSkillIndex
from cradle.budget import Price, load_prices, price_for
from cradle.computer_use.factory import planner_key_env, planner_only
from cradle.computer_use.grounding import Grounder, GroundingSettings
from cradle.errors import CradleError, MemoryUnavailableError
from cradle.gate.policy import Confirmer, ConfirmMode, default_confirmer
from cradle.gate.secrets import SecretStore
from cradle.llm.base import ModelProvider
from cradle.modules import LongTermMemory
from cradle.prompts import PromptLibrary

if TYPE_CHECKING:
    from cradle.environment import Environment
    from cradle.memory.skill_index import SkillIndexLike
    from cradle.skills.ranking import SkillRanker

ProviderName = Literal["openai", "openai-responses", "anthropic"]
KEY_VARIABLES: dict[str, str] = {
    "openai": "OPENAI_API_KEY",
    "openai-responses": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
}
"""The variable each provider's key is read from unless --api-key-env names another."""


class ModelSettings(BaseModel):
    """Where the model is served. Holds the *name* of the key variable, never the key."""

    provider: ProviderName = Field(
        default="openai",
        description="The API spoken: openai (chat completions, also every "
        "OpenAI-compatible server), openai-responses, anthropic (Messages)",
    )
    model: str = "gpt-4o"
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    azure_endpoint: str | None = None
    azure_api_version: str | None = None
    timeout: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=2, ge=0)
    image_format: Literal["jpeg", "png"] = "jpeg"
    max_output_tokens: int | None = Field(
        default=None, ge=1, description="max_tokens of every request; None: sized per reply"
    )
    response_mode: Literal["json_schema", "json_object_schema", "json_object", "prompt"] | None = (
        Field(default=None, description="Force one structured-output mode; None: fall back")
    )
    price_in: float | None = Field(default=None, ge=0, description="$ per 1M input tokens")
    price_out: float | None = Field(default=None, ge=0, description="$ per 1M output tokens")
    prices_file: Path | None = None

    @model_validator(mode="before")
    @classmethod
    def _key_variable(cls, data: Any) -> Any:
        """With no key variable named, the provider's usual one (ANTHROPIC_API_KEY ...)."""
        if isinstance(data, dict) and not data.get("api_key_env"):
            name = KEY_VARIABLES.get(str(data.get("provider") or "openai"), "OPENAI_API_KEY")
            data = {**data, "api_key_env": name}
        return data

    def build_provider(self) -> ModelProvider:
        """The provider for these settings (the SDKs take ~1 s to import: scripted runs, the
        demo and eval --reference/--noop, never build one)."""
        common: dict[str, Any] = dict(
            model=self.model,
            base_url=self.base_url,
            api_key_env=self.api_key_env,
            timeout=self.timeout,
            max_retries=self.max_retries,
            image_format=self.image_format,
            max_output_tokens=self.max_output_tokens,
        )
        if self.provider == "anthropic":
            from cradle.llm.anthropic_provider import AnthropicProvider

            return AnthropicProvider(**common)
        azure = dict(azure_endpoint=self.azure_endpoint, azure_api_version=self.azure_api_version)
        if self.provider == "openai-responses":
            from cradle.llm.responses_provider import ResponsesProvider

            return ResponsesProvider(**common, **azure)
        from cradle.llm.openai_provider import OpenAIProvider

        return OpenAIProvider(**common, **azure, response_mode=self.response_mode)


class MemorySettings(BaseModel):
    """Long-term memory: embedded folder (default), a Chroma server, or none."""

    enabled: bool = True
    memory_dir: Path | None = None
    memory_url: str | None = None
    continue_without: bool = Field(
        default=False, description="Run without long-term memory when the store is unusable"
    )
    recall_k: int = Field(default=3, ge=0)
    window: int = Field(default=5, ge=0)


class SafetySettings(BaseModel):
    dry_run: bool = False
    confirm: ConfirmMode = "risky"
    allow_skills: list[str] | None = None
    deny_skills: list[str] = Field(default_factory=list)
    secrets_file: Path | None = None


class RuntimeSettings(BaseModel):
    """Everything that is not about one task; an episode's settings add the task's own."""

    model: ModelSettings = Field(default_factory=ModelSettings)
    agent: AgentSettings = Field(default_factory=AgentSettings)
    memory: MemorySettings = Field(default_factory=MemorySettings)
    safety: SafetySettings = Field(default_factory=SafetySettings)
    generated_skills_dir: Path | None = Path("generated_skills")
    """The shared folder of accepted model-written skills: every episode loads it, and an
    episode's own skills are promoted into it when it ends. None: nothing is promoted."""
    stats_path: Path | None = None
    """Skill statistics file; None means the default under the user's data folder."""
    skill_stats: bool = True
    """Count skill calls and successes across runs (off for the demo's canned run)."""
    skills_top_k: int = Field(default=8, ge=1)
    grounding: GroundingSettings = Field(default_factory=GroundingSettings)
    """A grounding model for the skills that act on described widgets (click_target ...)."""

    @field_validator("generated_skills_dir")
    @classmethod
    def _anchored(cls, folder: Path | None) -> Path | None:
        """Absolute, so run.json names the folder a replay or resume from another working
        directory must load (a relative one recorded by older runs still resolves here)."""
        return folder.absolute() if folder is not None else None


def open_long_term(
    settings: MemorySettings, environment: str = "", *, load: bool = False
) -> tuple[Any, str]:
    """The vector store (or None) and a warning to show when running without it, or a note on
    the embedder chosen for it; ``load`` also loads its embedding model now (the runtime does
    both on a thread)."""
    if not settings.enabled:
        return None, ""
    from cradle.memory import open_memory

    notes: list[str] = []
    try:
        store = open_memory(
            settings.memory_dir, settings.memory_url, environment=environment, on_note=notes.append
        )
        if load:
            _load_embedder(store)
        return store, "; ".join(notes)
    except Exception as exc:  # noqa: BLE001 - chromadb, onnxruntime or the disk: one line
        if isinstance(exc, CradleError):
            failure: CradleError = exc
        else:
            failure = _unopened(exc)
        if not settings.continue_without:
            if failure is exc:
                raise
            raise failure from exc
        return None, f"running without long-term memory: {failure}"


def _unopened(exc: Exception) -> MemoryUnavailableError:
    """A failure the memory libraries raised in their own terms, said in one line."""
    return MemoryUnavailableError(
        f"long-term memory could not be opened ({type(exc).__name__}: {exc}); "
        "use --no-memory, or --memory-optional to run without it when it fails"
    )


def _load_embedder(store: Any) -> None:
    """Load the store's embedding model and make one search, so that the first step's
    recall finds the model's buffers and the store's index ready."""
    try:
        load = getattr(store.embedder, "load", None)
        if load is not None:
            load()
            store.search("recent steps", 1)
    except BaseException:
        store.close()
        raise


def _close_opened(opened: tuple[Any, str]) -> None:
    if opened[0] is not None:
        opened[0].close()


OPEN_WAIT_ON_CLOSE_S = 10.0
"""How long closing waits for a memory store still opening, to close it too."""


class _SharedSkillIndex:
    """One skill index for every episode of a runtime; re-synced only when the set changes."""

    def __init__(self, index: SkillIndexLike) -> None:
        self.index = index
        self._texts: dict[str, str] | None = None

    def sync(self, skills: dict[str, str]) -> None:
        if skills != self._texts:
            self.index.sync(skills)
            self._texts = dict(skills)

    def rank(self, query: str, k: int = 5) -> list[str]:
        return self.index.rank(query, k)


class _EpisodeSkillIndex:
    """An episode's view of the shared index: it ranks over *its* skills even when another
    episode of the same runtime synced a different set in between."""

    def __init__(self, shared: _SharedSkillIndex) -> None:
        self._shared = shared
        self._texts: dict[str, str] | None = None

    def sync(self, skills: dict[str, str]) -> None:
        self._texts = dict(skills)
        self._shared.sync(self._texts)

    def rank(self, query: str, k: int = 5) -> list[str]:
        if self._texts is not None:
            self._shared.sync(self._texts)
        return self._shared.rank(query, k)


class Runtime:
    """The long-lived half of a run; see the module docstring."""

    def __init__(
        self,
        settings: RuntimeSettings,
        *,
        model: ModelProvider | None = None,
        long_term: LongTermMemory | None = None,
        confirmer: Confirmer | None = None,
        grounder: Grounder | None = None,
        on_warning: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.closed = False
        self.warnings: list[str] = []
        self.store: Any = None
        self.on_warning = on_warning
        """Told each warning that comes up after creation (the memory's, opened meanwhile)."""
        self.grounder: Grounder | None = None
        # Opened on a thread while the model client and the environment start; waited for
        # where it is first used (Runtime._memory_ready).
        self._opening: Opening[tuple[Any, str]] | None = None
        self._memory_error: CradleError | None = None
        if long_term is None and settings.memory.enabled:
            self._opening = Opening(
                partial(open_long_term, settings.memory, load=True),
                name="cradle-memory-open",
                close=_close_opened,
            )
        try:
            self.model: ModelProvider = (
                model or planner_only(settings) or settings.model.build_provider()
            )
            self.grounder = grounder if grounder is not None else settings.grounding.build()
            self.secrets = SecretStore.from_sources(file=settings.safety.secrets_file)
            self.secrets.also_redact("api_key", os.environ.get(settings.model.api_key_env))
            planner_env = planner_key_env(settings)
            if planner_env:
                self.secrets.also_redact("planner_api_key", os.environ.get(planner_env))
            self.price: Price | None = self._price()
            self.confirmer = confirmer if confirmer is not None else default_confirmer()
        except BaseException:
            self.close()
            raise
        self.long_term: LongTermMemory | None = long_term or self.store
        self._prompts: dict[tuple[str, ...], PromptLibrary] = {}
        self._index: _SharedSkillIndex | None = None
        self._index_built = False
        self._memories: dict[str, LongTermMemory | None] = {}

    def _memory_ready(self) -> None:
        """Wait for the store opening in the background; what failed there is raised here,
        and again to every later episode of this runtime (none runs without its memory)."""
        if self._memory_error is not None:
            raise self._memory_error
        opening, self._opening = self._opening, None
        if opening is None:
            return
        try:
            self.store, warning = opening.result()
        except CradleError as exc:
            self._memory_error = exc
            raise
        self.long_term = self.long_term or self.store
        if warning:
            self.warnings.append(warning)
            if self.on_warning is not None:
                self.on_warning(warning)

    def _price(self) -> Price | None:
        s = self.settings.model
        table = load_prices(s.prices_file) if s.prices_file else None
        return price_for(
            self.model.model_name, table=table, price_in=s.price_in, price_out=s.price_out
        )

    # ------------------------------------------------------------------ per environment

    def prompts(self, environment: Environment) -> PromptLibrary:
        """The prompt library with ``environment``'s overrides (built once per set)."""
        folders = [p for p in [environment.prompt_folder()] if p]
        key = tuple(str(p) for p in folders)
        if key not in self._prompts:
            self._prompts[key] = PromptLibrary(folders)
        return self._prompts[key]

    def long_term_for(self, environment: str) -> LongTermMemory | None:
        """The long-term memory an episode in ``environment`` reads and writes.

        The store is opened once; each environment gets a view of it that tags what it
        remembers with that environment (the store keeps the tag per object). While the store
        is still opening, a stand-in that waits for it at its first use (see cradle.background).
        """
        if self._opening is not None:
            return PendingMemory(partial(self._long_term_now, environment))
        return self._long_term_now(environment)

    def _long_term_now(self, environment: str, *, writing: bool = False) -> LongTermMemory | None:
        """The memory of ``environment``, once the store is open; None for a write after the
        opening failed, as that error is already recorded where it was first met."""
        if writing and self._memory_error is not None:
            return None
        self._memory_ready()
        if environment not in self._memories:
            memory = self.long_term
            if memory is not None and memory is self.store and hasattr(memory, "environment"):
                memory = copy.copy(memory)  # shares the client and collections
                memory.environment = environment  # type: ignore[attr-defined]
            self._memories[environment] = memory
        return self._memories[environment]

    def skill_ranker(self, always_on: list[str]) -> SkillRanker | None:
        """A ranker for one episode over the shared index; None when no index can be built
        (no embedder installed). While the store is still opening, its index waits for it at
        the first ranking (see cradle.background)."""
        from cradle.skills.ranking import SkillRanker

        index: SkillIndexLike | None
        if self._opening is not None:
            index = PendingSkillIndex(self._episode_index)
        else:
            index = self._episode_index()
        if index is None:
            return None
        return SkillRanker(index, always_on=always_on, top_k=self.settings.skills_top_k)

    def _episode_index(self) -> _EpisodeSkillIndex | None:
        shared = self._skill_index()
        return _EpisodeSkillIndex(shared) if shared is not None else None

    def _skill_index(self) -> _SharedSkillIndex | None:
        if not self._index_built:
            self._memory_ready()
            self._index_built = True
            index: Any = self.store.skills if self.store is not None else None
            if index is None:
                try:
                    from cradle.memory import default_embedder
                    from cradle.memory.skill_index import InMemorySkillIndex

                    index = InMemorySkillIndex(default_embedder("auto"))
                except CradleError:
                    index = None
            self._index = _SharedSkillIndex(index) if index is not None else None
        return self._index

    # ------------------------------------------------------------------ lifetime

    def close(self) -> None:
        """Close the model client and the memory store; safe to call twice. Problems are
        printed, not raised: tearing down must not hide how the run ended."""
        if self.closed:
            return
        self.closed = True
        if self._opening is not None:
            self._opening.discard(timeout=OPEN_WAIT_ON_CLOSE_S)
            self._opening = None
        for closer in (
            getattr(getattr(self, "model", None), "close", None),
            getattr(self.store, "close", None),
            getattr(self.grounder, "close", None),
        ):
            if closer is None:
                continue
            try:
                closer()
            except Exception as exc:  # noqa: BLE001 - see the docstring
                print(f"cradle: while closing: {exc}", file=sys.stderr)
        self.store = None

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
