"""Extractors: what decides which memories a conversation turn holds.

``observe`` asks an extractor for the memories in a turn, after it has already dropped
secrets, private turns, forget requests and filler (so every extractor gets those guarantees,
and a secret is never sent to a remote model). Two are built in:

* :class:`AsyncRuleExtractor` (the default): offline and deterministic, see
  :mod:`persona_memory.capture_rules`.
* :class:`AsyncLLMExtractor`: any OpenAI-compatible chat-completions endpoint (URL + key).

Write your own by giving a class a ``name`` and an ``extract`` method::

    class MyExtractor:
        name = "mine"

        async def extract(self, turn: Turn) -> list[Extraction]:
            ...   # [] means "nothing worth remembering"

Raise :class:`~persona_memory.errors.ProviderError` when the extractor cannot answer:
``observe`` then falls back to the rules, with a :class:`~persona_memory.errors.FallbackWarning`.
"""

from __future__ import annotations

import json
from typing import Any, Protocol, runtime_checkable

from .. import capture_rules, validation
from ..errors import ConfigError, InvalidInputError, ProviderError
from ..models import Extraction, Turn

LLM_SYSTEM_PROMPT = """\
You decide what a personal assistant should remember about its user from one chat turn.
Remember: preferences (diet, likes, dislikes), personal facts (names, relationships, job,
places, birthdays, health), emotional moments (breakthroughs, frustrations, celebrations),
milestones (engagements, promotions, graduations, moves), subjects the user keeps coming back
to, and anything the user explicitly asks you to remember.
Do not remember: small talk, anything marked private, passwords, keys or other credentials.
Write each memory as one short third-person sentence about the speaker.
Answer with JSON only: {"memories": [{"content": str, "type": one of "preference",
"personal_fact", "interest_signal", "emotional_moment", "milestone", "general",
"importance": number 0.0-1.0 (0.8-1.0 core identity, 0.5-0.7 meaningful, 0.2-0.4 contextual),
"tags": [short lowercase topic words]}]}. Use {"memories": []} when nothing is worth keeping."""


@runtime_checkable
class AsyncExtractor(Protocol):
    """Finds the memories worth keeping in one turn."""

    name: str

    async def extract(self, turn: Turn) -> list[Extraction]: ...


class AsyncRuleExtractor:
    """The offline, deterministic default (see :mod:`persona_memory.capture_rules`)."""

    name = "rules"

    async def extract(self, turn: Turn) -> list[Extraction]:
        return capture_rules.extract(turn)

    async def aclose(self) -> None:
        pass


class AsyncLLMExtractor:
    """Asks an OpenAI-compatible chat-completions endpoint what to remember.

    >>> extractor = AsyncLLMExtractor("http://localhost:8080/v1", api_key="...", model="llama3")
    >>> store = AsyncPersonaStore("ada", extractor=extractor)

    ``url`` is the API base (``.../v1``); the request goes to ``<url>/chat/completions`` with
    ``temperature`` 0 and a JSON-object response format. Needs the ``llm`` extra
    (``pip install 'persona-memory[llm]'``). Errors (unreachable, HTTP error, an answer that is
    not the expected JSON) raise :class:`~persona_memory.errors.ProviderError`; the API key is
    never part of a message.
    """

    name = "llm"

    def __init__(
        self,
        url: str,
        api_key: str | None = None,
        *,
        model: str = "gpt-4o-mini",
        timeout: float = 30.0,
        system_prompt: str = LLM_SYSTEM_PROMPT,
    ) -> None:
        try:
            import httpx
        except ImportError as exc:
            raise ConfigError(
                "the LLM extractor needs pip install 'persona-memory[llm]'"
            ) from exc
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise InvalidInputError("url", url, "expected the http(s) base URL of an OpenAI-compatible API")
        self.url = url.rstrip("/") + "/chat/completions"
        self.model = model
        self.system_prompt = system_prompt
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(timeout=timeout, headers=headers)

    async def extract(self, turn: Turn) -> list[Extraction]:
        import httpx

        known = "\n".join(f"- {c}" for c in turn.related) or "(nothing yet)"
        payload = {
            "model": self.model,
            "temperature": 0,
            "response_format": {"type": "json_object"},
            "messages": [
                {"role": "system", "content": self.system_prompt},
                {"role": "user", "content": (
                    f"Already remembered about this:\n{known}\n\n"
                    f"Turn by {turn.speaker} at {turn.at.isoformat()}:\n{turn.text}"
                )},
            ],
        }
        try:
            response = await self._client.post(self.url, json=payload)
        except httpx.HTTPError as exc:
            raise ProviderError(f"LLM extractor: {self.url} did not answer ({type(exc).__name__})") from exc
        if response.status_code != 200:
            raise ProviderError(f"LLM extractor: {self.url} answered HTTP {response.status_code}")
        return parse_llm_answer(response.content, turn)

    async def aclose(self) -> None:
        await self._client.aclose()


def parse_llm_answer(body: bytes, turn: Turn) -> list[Extraction]:
    """The extractions in a chat-completions response body; ProviderError if malformed."""
    try:
        message = json.loads(body)["choices"][0]["message"]["content"]
        answer = json.loads(message)
        items = answer["memories"]
        if not isinstance(items, list):
            raise TypeError("'memories' is not a list")
        return [_extraction(item, turn) for item in items]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ProviderError(f"LLM extractor: unexpected answer ({type(exc).__name__}: {exc})") from exc


def _extraction(item: Any, turn: Turn) -> Extraction:
    if not isinstance(item, dict):
        raise TypeError("a memory is not an object")
    kind = validation.memory_type(item.get("type", "general"))
    importance = item.get("importance")
    return Extraction(
        content=validation.content(item["content"]),
        type=kind,
        importance=validation.importance(importance, kind) if importance is not None else 0.5,
        tags=validation.tags(item.get("tags") or ()),
        rule="llm",
        metadata={},
    )
