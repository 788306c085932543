"""Where full run logs go: Supabase Storage when configured, else files under the data dir."""

from __future__ import annotations

from bot.settings import Settings
from core.executors.logs import FileLogs
from core.policy import ExecutionPolicy
from core.ports import LogStore


def log_store(settings: Settings, policy: ExecutionPolicy) -> LogStore:
    """``SupabaseLogs`` with ``KAIROS_SUPABASE_URL`` and ``KAIROS_SUPABASE_KEY``, else
    ``FileLogs`` under ``KAIROS_DATA_DIR``."""
    if settings.supabase_url and settings.supabase_key is not None:
        from integrations.supabase.logs import SupabaseLogs

        return SupabaseLogs(
            url=settings.supabase_url,
            key=settings.supabase_key.get_secret_value(),
            bucket=settings.supabase_log_bucket,
            spool=policy.log_dir(),
            cap=policy.output_cap_bytes,
        )
    return FileLogs(policy.log_dir(), cap=policy.output_cap_bytes)
