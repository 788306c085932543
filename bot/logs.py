"""Kairos's log output: plain text for people, or one JSON object per line for machines.

``KAIROS_LOG_FORMAT=json`` gives lines like
``{"time": "2026-03-02T09:00:00.123Z", "level": "INFO", "logger": "bot.serve",
"message": "…", "exception": "Traceback …"}`` (``exception`` only when there is
one). Whatever the format, the values of configured secrets (tokens, signing
secrets, database passwords) are masked in every line, should a library echo one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MASK = "********"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, exception when present."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class Masking(logging.Formatter):
    """Wraps a formatter and masks secret values in what it produces."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str]) -> None:
        super().__init__()
        self.inner = inner
        # Longest first, so a secret containing another is masked whole.
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        line = self.inner.format(record)
        for secret in self.secrets:
            if secret in line:
                line = line.replace(secret, MASK)
        return line


def configure_logging(level: str, *, fmt: str = "text", secrets: Iterable[str] = ()) -> None:
    """Send Kairos's (and its libraries') logs to standard error in ``fmt``."""
    inner = JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT)
    handler = logging.StreamHandler()
    handler.setFormatter(Masking(inner, secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request at INFO: a line per HTTP job (Kairos records the run
    # itself) and per chat API call. Shown when debugging.
    quiet = logging.DEBUG if logging.getLevelName(level) == logging.DEBUG else logging.WARNING
    logging.getLogger("httpx").setLevel(quiet)
