"""Kairos configuration: ``KAIROS_*`` environment variables and ``.env``.

One ``Settings`` object is built by the composition root and passed down; no
module reads the environment on its own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.schedule import check_timezone


def default_database_url() -> str:
    """A SQLite file under the user's data directory."""
    data_dir = Path(user_data_dir("kairos", appauthor=False))
    return f"sqlite:///{data_dir / 'kairos.db'}"


class Settings(BaseSettings):
    """Every setting Kairos reads. Secrets are ``SecretStr`` and never printed."""

    model_config = SettingsConfigDict(
        env_prefix="KAIROS_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(
        default_factory=default_database_url,
        description="SQLAlchemy URL: sqlite:///path.db (default) or postgresql://…",
    )
    default_timezone: str = Field(default="UTC", description="IANA zone for new workspaces")
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR")
    http_host: str = Field(default="127.0.0.1", description="Address of the local web server")
    http_port: int = Field(default=8080, ge=0, le=65535, description="Port of the web server")
    console_user: str = Field(default="me", description="Your name in `kairos chat`")
    confidence_threshold: float = Field(
        default=0.6, ge=0, le=1, description="Below this the bot asks back instead of acting"
    )
    workers: int = Field(
        default=16,
        ge=1,
        le=1024,
        description="Concurrent runs of each executor type not named in KAIROS_CONCURRENCY",
    )
    concurrency: Annotated[dict[str, int], NoDecode] = Field(
        default_factory=dict,
        description='Concurrent runs per executor type, JSON, e.g. {"shell": 2, "notify": 100} '
        "(defaults: notify 256, http 256, shell 4; others KAIROS_WORKERS)",
    )
    run_timeout_seconds: float = Field(default=300, gt=0, description="Per-run time limit")

    slack_bot_token: SecretStr | None = Field(default=None, description="xoxb-… bot token")
    slack_signing_secret: SecretStr | None = Field(default=None, description="Request signing")
    slack_app_token: SecretStr | None = Field(default=None, description="xapp-… (Socket Mode)")
    slack_client_id: str | None = Field(default=None, description="OAuth client id")
    slack_client_secret: SecretStr | None = Field(default=None, description="OAuth secret")
    slack_api_url: str = Field(
        default="https://slack.com/api/", description="Slack Web API base URL"
    )
    anthropic_api_key: SecretStr | None = Field(default=None, description="Claude API key")

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_timezone(value)

    @field_validator("concurrency", mode="before")
    @classmethod
    def _limits(cls, value: Any) -> dict[str, int]:
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else {}
            except ValueError:
                value = None
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(n, int) and not isinstance(n, bool)
            for k, n in value.items()
        ):
            raise ValueError(
                'must be a JSON object of executor type → whole number, e.g. {"shell": 2}'
            )
        bad = {kind: n for kind, n in value.items() if not 1 <= n <= 4096}
        if bad:
            raise ValueError(
                f"each executor type's limit must be between 1 and 4096 (got {bad}); "
                'write it as JSON, e.g. {"shell": 2}'
            )
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("log level must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    def masked(self) -> dict[str, Any]:
        """Every setting with secrets (and database passwords) masked, for display."""
        from sqlalchemy.engine import make_url

        shown: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "********" if value.get_secret_value() else ""
            elif name == "database_url":
                value = make_url(value).render_as_string(hide_password=True)
            shown[name] = value
        return shown
