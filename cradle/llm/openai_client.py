"""The OpenAI SDK's client, and the settings both OpenAI providers share.

Chat completions (``cradle.llm.openai_provider``) and the Responses API
(``cradle.llm.responses_provider``) reach the same servers through the same client: the base
URL (``OPENAI_BASE_URL`` when none is given), the key (only OpenAI itself and Azure insist on
one), Azure's endpoint and version, timeouts and retries, and how images and sampling are
sent. :class:`OpenAIClientProvider` holds them once; the two providers differ only in the
request they build and how their reply says it was cut off.
"""

from __future__ import annotations

import os
from typing import Any

import openai

from cradle.llm.images import ImageFormat
from cradle.llm.sdk_provider import SdkProvider, resolve_key

DEFAULT_BASE_URL = "https://api.openai.com/v1"


def openai_client(
    base_url: str | None,
    api_key: str | None,
    api_key_env: str,
    azure_endpoint: str | None,
    azure_api_version: str | None,
    timeout: float,
    max_retries: int,
) -> tuple[Any, str]:
    """An OpenAI (or Azure OpenAI) client and the key it holds ("" for a local server, which
    needs none: only OpenAI itself and Azure insist on a key)."""
    needed = bool(azure_endpoint) or not base_url or base_url.rstrip("/") == DEFAULT_BASE_URL
    key = resolve_key(
        api_key,
        api_key_env,
        needed=needed,
        local_hint="or point --base-url at a local OpenAI-compatible server",
    )
    sent_key = key or "not-needed"  # local servers accept any key; the client insists on one
    if azure_endpoint:
        return openai.AzureOpenAI(
            azure_endpoint=azure_endpoint,
            api_version=azure_api_version or "2024-10-21",
            api_key=sent_key,
            timeout=timeout,
            max_retries=max_retries,
        ), key
    return openai.OpenAI(
        base_url=base_url, api_key=sent_key, timeout=timeout, max_retries=max_retries
    ), key


class OpenAIClientProvider(SdkProvider):
    """An SDK provider on the ``openai`` client: connection, key, image and sampling settings.
    A ``client`` given (a test double, a benchmark's) is used as is and no key is looked up."""

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        azure_endpoint: str | None = None,
        azure_api_version: str | None = None,
        timeout: float = 120.0,
        max_retries: int = 2,
        repair_attempts: int = 1,
        image_format: ImageFormat = "jpeg",
        image_detail: str = "auto",
        temperature: float | None = 0.0,
        max_output_tokens: int | None = None,
        client: Any = None,
    ) -> None:
        base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        super().__init__(
            model=model,
            base_url=base_url or (azure_endpoint or DEFAULT_BASE_URL),
            api_key_env=api_key_env,
            repair_attempts=repair_attempts,
            max_output_tokens=max_output_tokens,
        )
        self._sdk = openai
        self.image_format = image_format
        self.image_detail = image_detail
        self.temperature = temperature
        self._max_retries = max_retries
        if client is None:
            client, key = openai_client(
                base_url,
                api_key,
                api_key_env,
                azure_endpoint,
                azure_api_version,
                timeout,
                max_retries,
            )
            self._keep_key(key)
        self._client = client
