"""Keeping request bodies out of the logs: a filter for bolt's loggers.

bolt logs whole request bodies in places (an invalid signature at INFO, an
unhandled request or a skipped middleware at WARNING). A body holds the
``response_url`` (a credential for answering as Kairos for 30 minutes), the
text people typed and ``trigger_id``s. ``RequestBodyFilter`` keeps each such
record, but cuts it at the point where the body would begin.
"""

from __future__ import annotations

import logging
import re

#: What gives a logged message away as carrying a request's content.
_BODY = re.compile(
    r"body|response_url|trigger_id|['\"]text['\"]\s*:|['\"]token['\"]\s*:|payload=",
    re.IGNORECASE,
)
_WITHHELD = " (request details withheld from the log)"


def _head(message: str) -> str:
    """The message up to where its details start (the first ``(``, ``{`` or ``:``)."""
    cut = min((i for i in (message.find(c) for c in "({:") if i > 0), default=len(message))
    return message[:cut].rstrip(" ,.")


class RequestBodyFilter(logging.Filter):
    """Rewrites log records that would carry a Slack request body."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: never let logging break the request
            return True
        if not _BODY.search(message):
            return True
        record.msg = _head(message)[:200] + _WITHHELD
        record.args = ()
        return True


def quiet_bodies(logger: logging.Logger) -> logging.Logger:
    """``logger`` with the filter (once). bolt copies the filters of the logger it is
    given to each of its middleware's loggers, so this covers them all."""
    if not any(isinstance(f, RequestBodyFilter) for f in logger.filters):
        logger.addFilter(RequestBodyFilter())
    for name in list(logging.Logger.manager.loggerDict):
        if name.startswith("slack_bolt"):
            child = logging.getLogger(name)
            if not any(isinstance(f, RequestBodyFilter) for f in child.filters):
                child.addFilter(RequestBodyFilter())
    return logger
