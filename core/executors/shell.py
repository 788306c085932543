"""Shell jobs: a child process in its own group, scrubbed, resource-limited, timed out.

Guarantee: at most once per attempt — a command is never started twice by one
attempt, but a retried or crash-recovered attempt runs it again (make scripts
idempotent). The child gets argv (a shell only when the action asks), a fresh
environment (a small allowlist plus the secrets it names), the workspace's
working directory, and ``setrlimit`` limits — inherited from a spawn server
(``core.executors.spawner``) that set them on itself, so the child is started
without ``preexec_fn`` or an extra program; when no server can run, a
``prlimit``/``setpriv`` prefix or, lacking those, ``preexec_fn``. Its output is read concurrently
from pipes Kairos owns, so a full pipe never blocks it and a lingering
grandchild holding a pipe never blocks Kairos (CPython issue 119710). On the
wall-clock limit the whole group gets SIGTERM, then SIGKILL after a grace
period; no process of the job outlives it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
import os
import pwd
import resource
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.actions import ShellAction, action_as
from core.errors import JobFailed
from core.executors.logs import CappedText
from core.executors.spawner import Spawned, SpawnServer, SpawnUnavailable
from core.jobs import Job
from core.policy import (
    JOB_PATH,
    ExecutionPolicy,
    ShellLimits,
    find_program,
    program_missing,
)
from core.ports import ExecutionResult
from core.services.actions import check_shell

log = logging.getLogger(__name__)

#: Environment variables a job inherits from Kairos (everything else is dropped).
_ENV_ALLOW = ("LANG", "LC_ALL", "TZ")  # and PATH: ``ExecutionPolicy.job_path``
_CHUNK = 64 * 1024
#: How long to wait for the pipes to close after the process ended (a grandchild
#: that left the group may hold them open).
_DRAIN_SECONDS = 1.0


class ShellExecutor:
    """Runs ``ShellAction`` jobs (see the module docstring for the guarantees)."""

    action_model = ShellAction

    def __init__(self, policy: ExecutionPolicy) -> None:
        self._policy = policy
        self._servers: dict[tuple[ShellLimits, int | None], SpawnServer] = {}
        self._lock = asyncio.Lock()
        self._retry_servers_at = 0.0
        #: Checked once per workspace (and again if the folder disappears): the
        #: checks (mkdir, chown, every parent's mode, the user lookup) cost more
        #: than starting ``/bin/true``.
        self._workdirs: dict[int, tuple[Path, pwd.struct_passwd | None]] = {}

    def _workdir(self, workspace_id: int) -> tuple[Path, pwd.struct_passwd | None]:
        known = self._workdirs.get(workspace_id)
        if known is not None and os.path.isdir(known[0]):
            return known
        policy = self._policy
        known = policy.reachable_workdir(workspace_id), policy.job_user()
        self._workdirs[workspace_id] = known
        return known

    async def execute(self, job: Job) -> ExecutionResult:
        action = action_as(job.action, ShellAction)
        policy = self._policy
        argv = check_shell(action, policy)  # the policy may have changed since creation
        workdir, user = self._workdir(job.workspace_id)
        env = _environment(action, policy, job, workdir, user)
        argv = _resolve(argv, workdir, env["PATH"])
        if policy.bwrap_path is not None:
            argv = _bwrap(policy.bwrap_path, workdir) + argv
        limit = job.timeout_seconds
        limits = policy.shell_limits
        # Leave the worker's own timeout room for the grace period and the record.
        term_after = max(limit * 0.5, limit - limits.kill_grace_seconds - 0.5)
        run = _Child(
            argv,
            workdir=workdir,
            env=env,
            limits=limits,
            user=user,
            job=job,
            label=action.command,
            server=await self._server(limits, user),
        )
        return await run.run(term_after=term_after)

    async def _server(
        self, limits: ShellLimits, user: pwd.struct_passwd | None
    ) -> SpawnServer | None:
        """The spawn server for these limits and this user, started on first use; ``None``
        when none can run here (the job is then started with ``prlimit`` or ``preexec_fn``)."""
        key = (limits, None if user is None else user.pw_uid)
        async with self._lock:
            server = self._servers.get(key)
            if server is not None and server.usable:
                return server
            if time.monotonic() < self._retry_servers_at:
                return None
            fresh = await _spawn_server(limits, user)
            if fresh is None:
                self._retry_servers_at = time.monotonic() + 60
                self._servers.pop(key, None)
                return None
            self._servers[key] = fresh  # a retiring one closes itself after its last job
            return fresh

    async def aclose(self) -> None:
        """Stop the spawn servers (at shutdown, after the workers drained)."""
        servers, self._servers = list(self._servers.values()), {}
        for server in servers:
            await server.aclose()


async def _spawn_server(limits: ShellLimits, user: pwd.struct_passwd | None) -> SpawnServer | None:
    try:
        return await SpawnServer.start(limits, None if user is None else (user.pw_uid, user.pw_gid))
    except SpawnUnavailable as exc:
        log.warning("shell jobs start without a spawn server (slower): %s", exc)
        return None


class _Child:
    def __init__(
        self,
        argv: list[str],
        *,
        workdir: Path,
        env: dict[str, str],
        limits: ShellLimits,
        user: pwd.struct_passwd | None,
        job: Job,
        label: str,
        server: SpawnServer | None,
    ) -> None:
        self.server = server
        self.label = label
        self.argv = argv
        self.workdir = workdir
        self.env = env
        self.limits = limits
        self.user = user
        self.job = job
        self.stderr = CappedText(8 * 1024)
        self.output_bytes = 0
        #: Set when the output passed ``output_kill_bytes`` (the job is then stopped).
        self.overflow: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        #: Output read but not yet in the log, written in order by one task that
        #: exists only while there is some (a job without output costs no task).
        self._pending: collections.deque[tuple[str, bytes]] = collections.deque()
        self._pending_bytes = 0
        self._writer: asyncio.Task[None] | None = None
        self._outputs: list[_Output] = []

    async def run(self, *, term_after: float) -> ExecutionResult:
        loop = asyncio.get_running_loop()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        started = time.perf_counter()
        try:
            spawned = await self._spawn(out_w, err_w)
        except OSError as exc:
            for fd in (out_r, err_r):
                os.close(fd)
            raise self._cannot_start(exc) from exc
        finally:
            os.close(out_w)
            os.close(err_w)
        self._outputs = [_Output(self, out_r, "stdout", loop), _Output(self, err_r, "stderr", loop)]
        killed: str | None = None
        try:
            either: set[asyncio.Future[Any]] = {spawned.exit, self.overflow}
            done, _ = await asyncio.wait(
                either, timeout=term_after, return_when=asyncio.FIRST_COMPLETED
            )
            if spawned.exit not in done:
                killed = (
                    f"output exceeded {self.limits.output_kill_bytes // 2**20} MiB"
                    if self.overflow.done()
                    else f"timed out after {term_after:g} s"
                )
                await self._stop(spawned)
            code = await spawned.exit
        except asyncio.CancelledError:
            spawned.kill(signal.SIGKILL)
            raise
        finally:
            spawned.kill(signal.SIGKILL)  # leftovers of the group (`cmd &`)
            await self._close()
        seconds = time.perf_counter() - started
        if isinstance(code, OSError):
            raise self._cannot_start(code) from code
        if code is None:
            raise JobFailed(
                f"{self.label!r} was killed: Kairos lost its spawn server while the job ran."
                f"{self._stderr_tail()}",
                hint="Run it again; check Kairos's log for why the spawn server ended.",
            )
        if killed is not None:
            raise JobFailed(
                f"{self.label!r} was killed: {killed}.{self._stderr_tail()}",
                hint="Make it finish sooner, or raise the task's timeout_seconds.",
                exit_code=code,
            )
        if code != 0:
            raise JobFailed(
                f"exit status {_status(code)}.{self._stderr_tail()}",
                exit_code=code,
            )
        return ExecutionResult(
            output=f"exit 0 in {seconds:.1f} s, {self.output_bytes} bytes of output",
            exit_code=0,
        )

    def _cannot_start(self, exc: OSError) -> JobFailed:
        return JobFailed(
            f"Cannot start {self.argv[0]!r}: {exc.strerror or exc}.",
            hint="Check the command's path and that it is executable.",
            exit_code=127,
        )

    def _stderr_tail(self) -> str:
        tail = self.stderr.tail(5).strip()
        return f"\nstderr:\n{tail}" if tail else ""

    def received(self, stream: str, chunk: bytes) -> None:
        """Output from the child (``_Output`` calls this as it arrives)."""
        self.output_bytes += len(chunk)
        if stream == "stderr":
            self.stderr.add(chunk)
        if self.output_bytes > self.limits.output_kill_bytes:
            if not self.overflow.done():
                self.overflow.set_result(None)
            return  # keep draining so the child never blocks on a full pipe
        self._pending.append((stream, chunk))
        self._pending_bytes += len(chunk)
        if self._pending_bytes > _CHUNK * 4:  # the log is slower than the job: hold the pipes
            for output in self._outputs:
                output.pause()
        if self._writer is None:
            self._writer = asyncio.create_task(
                self._write_pending(), name=f"kairos-shell-{self.job.run_id}-log"
            )

    async def _write_pending(self) -> None:
        try:
            while self._pending:
                stream, chunk = self._pending.popleft()
                self._pending_bytes -= len(chunk)
                await self.job.log.write(stream, chunk.decode("utf-8", "replace"))
                if self._pending_bytes <= _CHUNK:
                    for output in self._outputs:
                        output.resume()
        finally:
            self._writer = None

    async def _spawn(self, out_w: int, err_w: int) -> Spawned:
        """Start the child: through the spawn server (limits inherited), else directly with
        the limits set by a ``prlimit``/``setpriv`` prefix or, lacking those, ``preexec_fn``."""
        if self.server is not None:
            try:
                return await self.server.spawn(
                    self.argv, env=self.env, cwd=self.workdir, stdout=out_w, stderr=err_w
                )
            except SpawnUnavailable:
                pass  # ended meanwhile (nothing was started): start this one directly
        prefix = _limit_prefix(self.limits, self.user)
        proc = await asyncio.create_subprocess_exec(
            *(prefix or []),
            *self.argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out_w,
            stderr=err_w,
            cwd=self.workdir,
            env=self.env,
            start_new_session=True,  # its own process group, killed as a whole
            preexec_fn=None if prefix is not None else _preexec(self.limits, self.user),
        )
        pid: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        pid.set_result(proc.pid)
        return Spawned(pid, asyncio.ensure_future(_exit_status(proc)))

    async def _stop(self, spawned: Spawned) -> None:
        """SIGTERM to the group, SIGKILL after the grace period."""
        spawned.kill(signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.shield(spawned.exit), self.limits.kill_grace_seconds)
        except TimeoutError:
            spawned.kill(signal.SIGKILL)

    async def _close(self) -> None:
        closed = [output.closed for output in self._outputs if not output.closed.done()]
        if closed:  # usually both are: the job's end closed them before it was reported
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*closed), _DRAIN_SECONDS)
        for output in self._outputs:
            output.close()  # our pipes: closing them never waits on the child
        writer = self._writer
        if writer is not None:  # output still on its way to the log
            _done, pending = await asyncio.wait({writer}, timeout=_DRAIN_SECONDS)
            for task in pending:
                task.cancel()
            await asyncio.gather(writer, return_exceptions=True)


class _Output:
    """One of the child's pipes, read as data arrives and handed to its ``_Child``."""

    def __init__(
        self, child: _Child, fd: int, stream: str, loop: asyncio.AbstractEventLoop
    ) -> None:
        self.child = child
        self.stream = stream
        self.closed: asyncio.Future[None] = loop.create_future()
        self._fd = fd
        self._loop = loop
        self._paused = False
        os.set_blocking(fd, False)
        loop.add_reader(fd, self._readable)

    def _readable(self) -> None:
        try:
            chunk = os.read(self._fd, _CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if chunk:
            self.child.received(self.stream, chunk)
        else:  # every writer closed it: the job and anything it left behind
            self.close()

    def pause(self) -> None:
        if self._fd >= 0 and not self._paused:
            self._paused = True
            self._loop.remove_reader(self._fd)

    def resume(self) -> None:
        if self._fd >= 0 and self._paused:
            self._paused = False
            self._loop.add_reader(self._fd, self._readable)

    def close(self) -> None:
        if self._fd >= 0:
            self._loop.remove_reader(self._fd)
            os.close(self._fd)
            self._fd = -1
        if not self.closed.done():
            self.closed.set_result(None)


async def _exit_status(proc: asyncio.subprocess.Process) -> int | OSError | None:
    return await proc.wait()


def _status(code: int) -> str:
    if code < 0:
        try:
            return f"{code} (killed by {signal.Signals(-code).name})"
        except ValueError:
            return str(code)
    return str(code)


def _killpg(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


@functools.cache
def _tool(name: str) -> str | None:
    return shutil.which(name, path=JOB_PATH)


def _limit_prefix(limits: ShellLimits, user: pwd.struct_passwd | None) -> list[str] | None:
    """``prlimit … [setpriv …] --``: the same limits and user as ``_preexec``, set by small
    programs that then exec the job; ``None`` when they are not installed."""
    prlimit = _tool("prlimit")
    setpriv = _tool("setpriv") if user is not None else None
    if prlimit is None or (user is not None and setpriv is None):
        return None
    prefix = [
        prlimit,
        f"--cpu={limits.cpu_seconds}",
        f"--as={limits.memory_bytes}",
        f"--fsize={limits.file_bytes}",
        f"--nofile={limits.open_files}",
        f"--nproc={limits.processes}",
        "--core=0",
        "--",
    ]
    if user is not None and setpriv is not None:
        prefix += [
            setpriv,
            f"--reuid={user.pw_uid}",
            f"--regid={user.pw_gid}",
            "--clear-groups",
            "--",
        ]
    return prefix


def _preexec(limits: ShellLimits, user: pwd.struct_passwd | None) -> Callable[[], None]:
    def apply() -> None:  # runs in the child between fork and exec: no logging, no locks
        for which, value in (
            (resource.RLIMIT_CPU, limits.cpu_seconds),
            (resource.RLIMIT_AS, limits.memory_bytes),
            (resource.RLIMIT_FSIZE, limits.file_bytes),
            (resource.RLIMIT_NOFILE, limits.open_files),
            (resource.RLIMIT_NPROC, limits.processes),
            (resource.RLIMIT_CORE, 0),
        ):
            resource.setrlimit(which, (value, value))
        if user is not None:
            os.setgroups([])
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)

    return apply


def _resolve(argv: list[str], workdir: Path, path: str) -> list[str]:
    """The program as a full path (``find_program``); ``JobFailed`` (exit status 127)
    when there is none."""
    found = find_program(argv[0], workdir, path)
    if found is not None:
        return [found, *argv[1:]]
    raise JobFailed(
        f"Cannot start {argv[0]!r}: {program_missing(argv[0], workdir, path)}.",
        hint="Check the command's name, that the script is there and that it is executable.",
        exit_code=127,
    )


def _environment(
    action: ShellAction,
    policy: ExecutionPolicy,
    job: Job,
    workdir: Path,
    user: pwd.struct_passwd | None,
) -> dict[str, str]:
    env = {name: os.environ[name] for name in _ENV_ALLOW if name in os.environ}
    env["HOME"] = str(workdir)
    env.update(action.env)
    env.update({name: policy.secrets[name] for name in action.secrets})
    env.update(
        KAIROS_TASK_ID=str(job.task_id),
        KAIROS_RUN_ID=str(job.run_id),
        KAIROS_SCHEDULED_FOR=job.scheduled_for.isoformat(),
        KAIROS_ATTEMPT=str(job.attempt),
    )
    env["PATH"] = policy.job_path(action.env, user)
    if user is not None:
        env["USER"] = user.pw_name
    return env


def _bwrap(binary: str, workdir: Path) -> list[str]:
    """Bubblewrap: read-only system, a private /tmp, only the workdir writable, no network."""
    return [
        binary,
        "--ro-bind", "/usr", "/usr",
        "--ro-bind-try", "/bin", "/bin",
        "--ro-bind-try", "/lib", "/lib",
        "--ro-bind-try", "/lib64", "/lib64",
        "--ro-bind-try", "/etc", "/etc",
        "--proc", "/proc",
        "--dev", "/dev",
        "--tmpfs", "/tmp",
        "--bind", str(workdir), str(workdir),
        "--chdir", str(workdir),
        "--unshare-all",
        "--die-with-parent",
        "--",
    ]  # fmt: skip
