"""Kairos configuration: ``KAIROS_*`` environment variables and ``.env``.

One ``Settings`` object is built by the composition root and passed down; no
module reads the environment on its own.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any, Literal

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.schedule import check_timezone

if TYPE_CHECKING:
    from core.policy import ExecutionPolicy


def default_data_dir() -> Path:
    """The user's data directory for Kairos (database, job logs, job working folders)."""
    return Path(user_data_dir("kairos", appauthor=False))


def default_database_url() -> str:
    """A SQLite file under the user's data directory."""
    return f"sqlite:///{default_data_dir() / 'kairos.db'}"


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
    date_order: Literal["DMY", "MDY"] | None = Field(
        default=None,
        description="How numeric dates are written (3/12): DMY or MDY; unset asks back",
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR")
    log_format: Literal["text", "json"] = Field(
        default="text", description="text, or json: one JSON object per line"
    )
    http_host: str = Field(default="127.0.0.1", description="Address of the local web server")
    http_port: int = Field(default=8080, ge=0, le=65535, description="Port of the web server")
    http_max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        le=64 * 1024 * 1024,
        description="Largest request body the web server reads (413 past it)",
    )
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
    anthropic_base_url: str | None = Field(
        default=None, description="Messages API base URL (default: Anthropic's)"
    )
    anthropic_model: str = Field(default="claude-sonnet-4-5", description="Claude model name")
    llm_daily_tokens: int | None = Field(
        default=None, ge=0, description="Claude tokens per workspace per UTC day; unset: no cap"
    )
    llm_timeout_seconds: float = Field(
        default=20, gt=0, description="Per Claude request; the rules answer past it"
    )
    llm_translate_timeout_seconds: float = Field(
        default=5,
        gt=0,
        description="Longest wait for a reply's translation into the speaker's language; "
        "then English",
    )
    llm_digest_summaries: bool = Field(
        default=False, description="Put Claude's short summary on top of digests (needs the key)"
    )
    llm_plan_tasks_per_hour: int = Field(
        default=20, ge=0, description="Tasks AI-planned workflows may create per workspace per hour"
    )
    llm_plan_dry_run: bool = Field(
        default=False, description="AI plans are checked and shown, never created"
    )
    llm_parser: Literal["auto", "rules", "claude"] = Field(
        default="auto", description="auto: rules first, Claude when unsure (needs the key)"
    )
    discord_token: SecretStr | None = Field(default=None, description="Discord bot token")
    discord_api_url: str = Field(
        default="https://discord.com/api/v10",
        description="Discord REST base URL; the gateway URL comes from its GET /gateway/bot",
    )
    discord_admin_permission: str = Field(
        default="manage_guild",
        description="Discord permission that makes someone a Kairos admin (e.g. administrator)",
    )
    discord_admin_roles: str = Field(
        default="", description="Comma-separated Discord role names or ids that are Kairos admins"
    )
    discord_dm_server: str | None = Field(
        default=None,
        description="Server id whose tasks DMs with Kairos belong to (default: a DM workspace)",
    )
    discord_defer_after_ms: int = Field(
        default=0,
        ge=0,
        le=2500,
        description="0: defer every interaction before its work (fastest first response); "
        "else answer it directly if ready this soon, and defer it then",
    )
    discord_rate_per_second: float = Field(
        default=40, gt=0, le=50, description="Discord REST calls a second (global limit is 50)"
    )

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        # The value itself is never repeated: it may hold a password.
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            backend = make_url(value).get_backend_name()
        except (ArgumentError, ValueError):
            raise ValueError(
                "not a database URL; use sqlite:///path/to/kairos.db or "
                "postgresql://user:password@host:5432/kairos"
            ) from None
        if backend not in {"sqlite", "postgresql"}:
            raise ValueError(
                f"Kairos stores its data in SQLite or PostgreSQL, not {backend!r}; use "
                "sqlite:///path/to/kairos.db or postgresql://user:password@host:5432/kairos"
            )
        return value

    data_dir: Path = Field(
        default_factory=default_data_dir, description="Job logs and job working folders"
    )
    run_output_cap_bytes: int = Field(
        default=64 * 1024, ge=1024, le=16 * 2**20, description="Output kept per run in the database"
    )
    secrets: dict[str, SecretStr] = Field(
        default_factory=dict, description="JSON name → value; jobs ask for secrets by name"
    )
    shell_allow: str = Field(
        default="", description="Comma-separated command patterns; empty: shell jobs refused"
    )
    shell_sandbox: Literal["none", "bwrap"] = Field(
        default="none", description="bwrap: run shell jobs in bubblewrap (must be installed)"
    )
    shell_user: str = Field(default="nobody", description="User of shell jobs when Kairos is root")
    supabase_url: str | None = Field(
        default=None, description="https://<project>.supabase.co: full run logs in its Storage"
    )
    supabase_key: SecretStr | None = Field(
        default=None, description="Supabase service-role key (Storage logs; Realtime events)"
    )
    supabase_log_bucket: str = Field(
        default="kairos-logs", description="Storage bucket for full run logs (must exist)"
    )
    event_retention_days: int = Field(
        default=30, ge=0, description="Delivered events older than this are pruned (0: kept)"
    )
    supabase_realtime: bool = Field(
        default=True,
        description="With the URL and key: table inserts come through Supabase Realtime "
        "(else through an installed trigger and LISTEN)",
    )
    shell_cpu_seconds: int = Field(default=60, ge=1, description="CPU time per shell job")
    shell_memory_mb: int = Field(default=1024, ge=16, description="Address space per shell job")
    shell_file_mb: int = Field(default=256, ge=1, description="Largest file a shell job writes")
    shell_open_files: int = Field(default=256, ge=16, description="Open files per shell job")
    shell_processes: int = Field(default=256, ge=4, description="Processes of the job user")
    shell_kill_grace_seconds: float = Field(default=3, gt=0, description="SIGTERM → SIGKILL")
    http_allow_private: bool = Field(
        default=False, description="Let HTTP jobs call private, loopback and link-local addresses"
    )
    http_timeout_seconds: float = Field(default=30, gt=0, description="Per HTTP request")
    http_max_redirects: int = Field(default=5, ge=0, le=20, description="Redirects followed")
    sql_connections: dict[str, str] = Field(
        default_factory=dict, description="JSON name → SQLAlchemy URL for SQL jobs"
    )
    sql_row_cap: int = Field(default=500, ge=1, le=100_000, description="Rows kept per query")
    sql_statement_timeout_seconds: float = Field(default=30, gt=0, description="Per SQL query")

    @field_validator("anthropic_api_key")
    @classmethod
    def _key(cls, value: SecretStr | None) -> SecretStr | None:
        # An empty KAIROS_ANTHROPIC_API_KEY= means "no key", not a key that fails.
        return value if value is not None and value.get_secret_value().strip() else None

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

    def secret_values(self) -> list[str]:
        """Every configured secret (and the database password), for masking in logs."""
        from sqlalchemy.engine import make_url

        found = [
            value.get_secret_value()
            for name in type(self).model_fields
            if isinstance(value := getattr(self, name), SecretStr)
        ]
        password = make_url(self.database_url).password
        return [s for s in [*found, str(password or "")] if s]

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
            elif name == "sql_connections":
                value = {k: _hide_password(v) for k, v in value.items()}
            elif name == "secrets":
                value = ", ".join(sorted(value))  # names only
            shown[name] = value
        return shown

    def execution_policy(self) -> ExecutionPolicy:
        """What jobs may do here (``core.policy``), from these settings."""
        from core.enums import Role
        from core.policy import ExecutionPolicy, ShellLimits

        return ExecutionPolicy(
            data_dir=self.data_dir,
            shell_allow=tuple(p.strip() for p in self.shell_allow.split(",") if p.strip()),
            shell_sandbox=self.shell_sandbox,
            shell_user=self.shell_user,
            shell_limits=ShellLimits(
                cpu_seconds=self.shell_cpu_seconds,
                memory_bytes=self.shell_memory_mb * 2**20,
                file_bytes=self.shell_file_mb * 2**20,
                open_files=self.shell_open_files,
                processes=self.shell_processes,
                kill_grace_seconds=self.shell_kill_grace_seconds,
            ),
            http_allow_private=self.http_allow_private,
            http_max_redirects=self.http_max_redirects,
            http_timeout_seconds=self.http_timeout_seconds,
            output_cap_bytes=self.run_output_cap_bytes,
            sql_connections=MappingProxyType(dict(self.sql_connections)),
            sql_row_cap=self.sql_row_cap,
            sql_statement_timeout_seconds=self.sql_statement_timeout_seconds,
            secrets=MappingProxyType({k: v.get_secret_value() for k, v in self.secrets.items()}),
            llm_configured=bool(
                self.anthropic_api_key and self.anthropic_api_key.get_secret_value()
            ),
            privileged_role=Role.ADMIN,
        )


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a valid SQLAlchemy URL)"
