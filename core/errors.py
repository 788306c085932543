"""The one error hierarchy of Kairos.

Every error a user can see says what was wrong and what to do about it. Library
errors are translated at the boundary (``raise InvalidInput(...) from exc``).
"""

from __future__ import annotations


class KairosError(Exception):
    """Root of every error Kairos raises on purpose.

    ``message`` is safe to show to a user: it never contains secrets.
    ``hint`` says what to do next, when there is something to say.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def user_message(self) -> str:
        """The text shown to a person: the problem, then what to do."""
        return f"{self.message} {self.hint}" if self.hint else self.message


class InvalidInput(KairosError):
    """The user (or a caller) gave a value Kairos cannot accept."""


class InvalidSchedule(InvalidInput):
    """A schedule (cron, rrule, interval, time zone, date) is malformed or unusable."""


class NotFound(KairosError):
    """A referenced object (task, run, member, workspace) does not exist."""


class PermissionDenied(KairosError):
    """The acting member may not do this."""


class Conflict(KairosError):
    """The change conflicts with the stored state (e.g. a dependency cycle)."""


class NotConfigured(KairosError):
    """A feature needs configuration (a token, an API key) that is not set."""


class StoreError(KairosError):
    """The database failed in a way the caller cannot fix by changing input."""


class JobFailed(KairosError):
    """A job ran and failed (non-zero exit, bad HTTP status, query error, a limit hit).

    Carries what the attempt produced, so history shows the exit or HTTP status
    even when the run failed.
    """

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        exit_code: int | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.exit_code = exit_code
        self.http_status = http_status


class ModelUnavailable(KairosError):
    """The language model gave no usable answer (timeout, overload, an error, bad output).

    Callers with an offline path (the rule parser, plain digests) fall back to it
    silently; others tell the person to try again.
    """


class BudgetExhausted(ModelUnavailable):
    """The workspace used its daily token budget (``KAIROS_LLM_DAILY_TOKENS``)."""
