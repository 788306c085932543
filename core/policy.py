"""What jobs may do here: the execution policy, built from settings by the composition root.

One frozen value read by the task service (refusals at creation) and by the
executors (limits while running), so both agree on what "allowed" means.
"""

from __future__ import annotations

import fnmatch
import os
import pwd
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from core.enums import Role
from core.errors import NotConfigured

#: Action types whose creation needs an admin unless the policy says otherwise.
PRIVILEGED_ACTIONS = frozenset({"shell", "http", "sql"})


#: The PATH of a job run as another user (root's PATH may name folders it cannot enter),
#: or when Kairos has none.
JOB_PATH = "/usr/local/bin:/usr/bin:/bin"


def find_program(name: str, workdir: Path, path: str) -> str | None:
    """Where a shell job's program is: on ``path`` (a bare name), else the workspace's
    script of that name (``backup.sh``) if it is an executable file; ``None``: nowhere."""
    if "/" not in name:
        found = shutil.which(name, path=path)
        if found is not None:
            return found
    candidate = os.path.join(workdir, name)  # plain strings: pathlib costs more per run
    if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
        return candidate
    return None


def program_missing(name: str, workdir: Path, path: str) -> str:
    """What to say when ``find_program`` found nothing."""
    where = f"in {workdir}" if "/" in name else f"on PATH ({path}) or in {workdir}"
    return f"no executable named {name!r} {where}"


@dataclass(frozen=True, slots=True)
class ShellLimits:
    """Resource limits applied in the child (``resource.setrlimit``) and the kill grace."""

    cpu_seconds: int = 60
    memory_bytes: int = 1024 * 1024 * 1024
    file_bytes: int = 256 * 1024 * 1024
    open_files: int = 256
    processes: int = 256
    kill_grace_seconds: float = 3.0
    #: Output beyond this many bytes kills the job (a runaway writer).
    output_kill_bytes: int = 16 * 2**20


@dataclass(frozen=True, slots=True)
class ExecutionPolicy:
    """Everything that decides whether and how a job runs on this installation.

    ``shell_allow`` holds fnmatch patterns matched against the whole command
    line; empty means shell jobs are refused. ``secrets`` are the named values
    a job may ask for (never logged). ``sql_connections`` maps a name to a
    SQLAlchemy URL.
    """

    data_dir: Path
    shell_allow: tuple[str, ...] = ()
    shell_sandbox: str = "none"
    #: When Kairos runs as root, shell jobs run as this user (rlimits bind only non-root).
    shell_user: str = "nobody"
    shell_limits: ShellLimits = field(default_factory=ShellLimits)
    http_allow_private: bool = False
    http_max_redirects: int = 5
    http_timeout_seconds: float = 30.0
    output_cap_bytes: int = 64 * 1024
    sql_connections: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    sql_row_cap: int = 500
    sql_statement_timeout_seconds: float = 30.0
    secrets: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    llm_configured: bool = False
    privileged_role: Role = Role.ADMIN

    def shell_allowed(self, command: str) -> bool:
        """Whether ``command`` (the whole command line) matches an allow pattern."""
        line = " ".join(command.split())
        return any(fnmatch.fnmatchcase(line, pattern) for pattern in self.shell_allow)

    @property
    def bwrap_path(self) -> str | None:
        """The bubblewrap binary when the bwrap sandbox is asked for and installed."""
        return shutil.which("bwrap") if self.shell_sandbox == "bwrap" else None

    def isolation(self) -> str:
        """A one-line description of how shell jobs are isolated here (``kairos config``)."""
        if not self.shell_allow:
            return "shell jobs disabled (KAIROS_SHELL_ALLOW is empty)"
        limits = self.shell_limits
        base = (
            f"own process group, scrubbed environment, rlimits (cpu {limits.cpu_seconds}s, "
            f"memory {limits.memory_bytes // 2**20} MiB, processes {limits.processes}; "
            "set on a spawn server the jobs inherit them from)"
        )
        if self.shell_sandbox == "bwrap":
            if self.bwrap_path is None:
                return f"bwrap asked for but not installed: shell jobs refused; {base}"
            return f"bubblewrap sandbox ({self.bwrap_path}) + {base}"
        return base

    def workdir(self, workspace_id: int) -> Path:
        """The working directory of a workspace's shell jobs (created on first use)."""
        path = self.data_dir / "work" / f"workspace-{workspace_id}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def job_user(self) -> pwd.struct_passwd | None:
        """The user shell jobs run as when Kairos is root (rlimits such as NPROC do not
        bind root); ``None``: they run as Kairos's own user."""
        if os.geteuid() != 0 or not self.shell_user:
            return None
        try:
            return pwd.getpwnam(self.shell_user)
        except KeyError:
            return None

    def job_path(self, action_env: Mapping[str, str], user: pwd.struct_passwd | None) -> str:
        """The PATH a shell job gets: Kairos's own (or the action's), ``JOB_PATH`` for a
        job run as another user."""
        if user is not None:
            return JOB_PATH
        return action_env.get("PATH") or os.environ.get("PATH") or JOB_PATH

    def reachable_workdir(self, workspace_id: int) -> Path:
        """The workspace's working folder, or ``NotConfigured`` when the job user cannot
        enter it (a root Kairos keeping its data under /root, which is private)."""
        path = self.workdir(workspace_id)
        user = self.job_user()
        if user is None:
            return path
        os.chown(path, user.pw_uid, user.pw_gid)
        for parent in path.parents:
            info = parent.stat()
            if not (info.st_mode & 0o001 or info.st_uid == user.pw_uid):
                raise NotConfigured(
                    f"Shell jobs run as {user.pw_name!r}, who cannot enter {parent}.",
                    hint="Set KAIROS_DATA_DIR to a folder other users can reach "
                    "(e.g. /var/lib/kairos), or choose KAIROS_SHELL_USER.",
                )
        return path

    def log_dir(self) -> Path:
        return self.data_dir / "logs"
