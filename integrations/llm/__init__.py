"""Claude in Kairos (``anthropic`` + ``instructor``), all optional.

* ``client``: ``ClaudeClient`` — one ``AsyncAnthropic`` with Kairos's base URL,
  timeouts and retries; the daily token budget; one usage row per request.
* ``parser``: ``ClaudeParser`` — what a message says, as a ``core.intents.said.Said``.
* ``build``: ``build_llm(settings, store, clock)`` — the pieces, or ``None`` with no key.
"""
