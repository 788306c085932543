"""``ClaudeClient``: every request Kairos makes to Claude goes through here.

It owns one ``AsyncAnthropic`` (base URL, timeout and the SDK's own retries of
429/529/5xx), an ``instructor`` client over it for structured answers, the
per-workspace daily token budget, and the usage ledger: one row per HTTP request
(retries after invalid output included), with tokens in/out, cache reads and
writes, latency and model. The system prompt is always sent as a block marked
``cache_control: ephemeral`` so that repeated calls read it from Anthropic's
prompt cache (billed at a tenth of normal input tokens).

The API key is a ``SecretStr`` until the SDK client is built and is never logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from datetime import time as dtime
from typing import Any, Protocol, TypeVar

import anthropic
import instructor
from pydantic import BaseModel, SecretStr

from core.errors import BudgetExhausted, ModelUnavailable
from core.models_llm import LlmCall
from core.ports import Clock, Completion

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

DEFAULT_MODEL = "claude-sonnet-4-5"


class UsageLedger(Protocol):
    """Where usage rows go (``core.store.SqlStore`` implements it)."""

    async def record_llm_call(self, call: LlmCall) -> int: ...

    async def llm_tokens_since(self, *, workspace_id: int | None, since: datetime) -> int: ...


@dataclass(frozen=True, slots=True)
class ClaudeConfig:
    """How to reach Claude (from ``KAIROS_ANTHROPIC_*`` and ``KAIROS_LLM_*``)."""

    api_key: SecretStr
    model: str = DEFAULT_MODEL
    base_url: str | None = None
    #: Tokens (in + out + cache) one workspace may use per UTC day; ``None``: no cap.
    daily_tokens: int | None = None
    #: Seconds per HTTP request; the conversation falls back to the rules past it.
    timeout_seconds: float = 20.0
    #: The SDK's retries of 429, 529 and 5xx answers (with its backoff).
    max_retries: int = 2
    #: Times an answer that fails validation is sent back to the model to correct.
    validation_retries: int = 2


@dataclass
class _Attempts:
    """The requests of one logical call, collected by instructor's hooks."""

    started: float = field(default_factory=time.monotonic)
    calls: list[tuple[Any, int, str]] = field(default_factory=list)

    def response(self, response: Any) -> None:
        now = time.monotonic()
        # A copy: instructor later adds the retries' usage into this same object.
        usage = getattr(response, "usage", None)
        counted = {name: _count(usage, name) for name in _USAGE_FIELDS}
        self.calls.append((counted, int((now - self.started) * 1000), ""))
        self.started = now

    def parse_error(self, error: Exception, **_: Any) -> None:
        if self.calls:  # the last response did not validate
            usage, latency, _outcome = self.calls[-1]
            self.calls[-1] = (usage, latency, "invalid")


class ClaudeClient:
    """Claude for Kairos: structured answers, text answers, tool use; budgeted and recorded."""

    def __init__(self, *, config: ClaudeConfig, ledger: UsageLedger, clock: Clock) -> None:
        self.config = config
        self._ledger = ledger
        self._clock = clock
        self._sdk = anthropic.AsyncAnthropic(
            api_key=config.api_key.get_secret_value(),
            base_url=config.base_url,
            timeout=config.timeout_seconds,
            max_retries=config.max_retries,
        )
        self._structured = instructor.from_anthropic(self._sdk, mode=instructor.Mode.TOOLS)
        self._quick: dict[float, Any] = {}

    @property
    def model(self) -> str:
        return self.config.model

    async def close(self) -> None:
        await self._sdk.close()

    # --- the budget ----------------------------------------------------------------

    async def tokens_left(self, workspace_id: int | None) -> int | None:
        """Tokens ``workspace_id`` may still use today (UTC), ``None`` when uncapped."""
        cap = self.config.daily_tokens
        if cap is None:
            return None
        now = self._clock.now().astimezone(UTC)
        midnight = datetime.combine(now.date(), dtime(0), tzinfo=now.tzinfo)
        used = await self._ledger.llm_tokens_since(workspace_id=workspace_id, since=midnight)
        return max(cap - used, 0)

    async def _check_budget(self, workspace_id: int | None) -> None:
        left = await self.tokens_left(workspace_id)
        if left is not None and left <= 0:
            raise BudgetExhausted(
                "Today's Claude token budget of this workspace is used up.",
                hint="It resets at midnight UTC; raise KAIROS_LLM_DAILY_TOKENS to allow more.",
            )

    # --- calls -----------------------------------------------------------------------

    def system_blocks(self, system: str) -> list[dict[str, Any]]:
        """The system prompt as one cacheable block (tools + system form the cached prefix)."""
        return [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}]

    async def structured(
        self,
        *,
        purpose: str,
        system: str,
        prompt: str,
        response_model: type[M],
        workspace_id: int | None,
        max_tokens: int = 1024,
        quick_seconds: float | None = None,
    ) -> M:
        """Claude's answer as ``response_model``; invalid answers are sent back (bounded).

        ``quick_seconds``: for a person waiting on the answer — one HTTP attempt with
        that timeout and no SDK retries, and at most one correction round.
        """
        await self._check_budget(workspace_id)
        attempts = _Attempts()
        hooks = instructor.hooks.Hooks()
        hooks.on("completion:response", attempts.response)
        hooks.on("parse:error", attempts.parse_error)
        structured = (
            self._structured if quick_seconds is None else self._quick_client(quick_seconds)
        )
        retries = self.config.validation_retries if quick_seconds is None else 1
        try:
            result: M = await structured.create(
                model=self.config.model,
                max_tokens=max_tokens,
                system=self.system_blocks(system),
                messages=[{"role": "user", "content": prompt}],
                response_model=response_model,
                max_retries=min(retries, self.config.validation_retries),
                hooks=hooks,
            )
        except Exception as exc:
            await self._record(purpose, workspace_id, attempts.calls, failed=True)
            raise _unavailable(exc) from exc
        await self._record(purpose, workspace_id, attempts.calls, failed=False)
        return result

    def _quick_client(self, seconds: float) -> Any:
        """An instructor client over the same connection pool: one attempt, ``seconds`` long."""
        if seconds not in self._quick:
            sdk = self._sdk.with_options(timeout=seconds, max_retries=0)
            self._quick[seconds] = instructor.from_anthropic(sdk, mode=instructor.Mode.TOOLS)
        return self._quick[seconds]

    async def complete(
        self,
        *,
        purpose: str,
        system: str,
        prompt: str,
        workspace_id: int | None,
        max_tokens: int = 1024,
    ) -> Completion:
        """A text answer (implements ``core.ports.LanguageModel``)."""
        message = await self.message(
            purpose=purpose,
            system=system,
            messages=[{"role": "user", "content": prompt}],
            workspace_id=workspace_id,
            max_tokens=max_tokens,
        )
        text = "".join(b.text for b in message.content if b.type == "text").strip()
        return Completion(
            text=text,
            model=message.model,
            input_tokens=message.usage.input_tokens,
            output_tokens=message.usage.output_tokens,
        )

    async def message(
        self,
        *,
        purpose: str,
        system: str,
        messages: Sequence[dict[str, Any]],
        workspace_id: int | None,
        tools: Sequence[dict[str, Any]] | None = None,
        max_tokens: int = 1024,
    ) -> anthropic.types.Message:
        """One raw Messages API call (tool use for plans), budgeted and recorded."""
        await self._check_budget(workspace_id)
        started = time.monotonic()
        extra: dict[str, Any] = {"tools": list(tools)} if tools else {}
        try:
            message = await self._sdk.messages.create(
                model=self.config.model,
                max_tokens=max_tokens,
                system=self.system_blocks(system),  # type: ignore[arg-type]
                messages=list(messages),  # type: ignore[arg-type]
                **extra,
            )
        except Exception as exc:
            await self._record(purpose, workspace_id, [(None, _ms(started), "error")], failed=True)
            raise _unavailable(exc) from exc
        await self._record(purpose, workspace_id, [(message.usage, _ms(started), "")], failed=False)
        return message

    async def _record(
        self,
        purpose: str,
        workspace_id: int | None,
        calls: list[tuple[Any, int, str]],
        *,
        failed: bool,
    ) -> None:
        if not calls and failed:
            calls = [(None, 0, "error")]
        for i, (usage, latency, outcome) in enumerate(calls):
            last = i == len(calls) - 1
            call = LlmCall(
                workspace_id=workspace_id,
                at=self._clock.now(),
                purpose=purpose,
                model=self.config.model,
                outcome=outcome or ("error" if failed and last else "ok"),
                input_tokens=_count(usage, "input_tokens"),
                output_tokens=_count(usage, "output_tokens"),
                cache_read_tokens=_count(usage, "cache_read_input_tokens"),
                cache_write_tokens=_count(usage, "cache_creation_input_tokens"),
                latency_ms=latency,
            )
            try:
                await self._ledger.record_llm_call(call)
            except Exception:  # losing a usage row must not lose the answer
                log.exception("could not record an LLM call")


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


_USAGE_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
)


def _count(usage: Any, name: str) -> int:
    if isinstance(usage, dict):
        value = usage.get(name)
    else:
        value = getattr(usage, name, None) if usage is not None else None
    return int(value) if isinstance(value, int) else 0


def _unavailable(exc: Exception) -> ModelUnavailable:
    if isinstance(exc, ModelUnavailable):
        return exc
    reason = {
        anthropic.APITimeoutError: "it did not answer in time",
        anthropic.RateLimitError: "it is rate limiting this key (429)",
        anthropic.AuthenticationError: "the API key was refused (check KAIROS_ANTHROPIC_API_KEY)",
        anthropic.InternalServerError: "it is overloaded or failing (5xx)",
        anthropic.APIConnectionError: "it could not be reached (check KAIROS_ANTHROPIC_BASE_URL)",
    }
    for kind, text in reason.items():
        if isinstance(exc, kind):
            return ModelUnavailable(f"Claude is unavailable: {text}.", hint="Try again later.")
    log.warning("Claude call failed: %s", type(exc).__name__)
    return ModelUnavailable(
        "Claude gave no usable answer.", hint="Try again, or say it more simply."
    )
