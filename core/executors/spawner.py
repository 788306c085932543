"""Kairos's end of a spawn server (``core.executors.spawn_server``).

Why: the limits of a shell job (CPU, address space, file size, open files,
processes) and its user must be in place before the job's program runs. Setting
them in the child with ``preexec_fn`` makes CPython fork the whole Kairos process
(and run Python between fork and exec); putting ``prlimit``/``setpriv`` in front
of the job execs two more programs per run. A spawn server applies the limits
to *itself* once, drops to the job user, and then starts each job directly
(``vfork`` + exec): the job inherits the limits, and a run costs what a bare
``create_subprocess_exec`` costs plus one message each way.

A server whose own CPU time nears its CPU limit is retired (it keeps reporting
the jobs it started, then exits) and a fresh one takes the next jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import itertools
import json
import os
import socket
import sys
from pathlib import Path

from core.policy import ShellLimits

_SERVER = Path(__file__).with_name("spawn_server.py")
_START_SECONDS = 10.0


class SpawnUnavailable(Exception):
    """The server cannot take this job (not started, gone, message too large)."""


class Spawned:
    """A job's process, started directly or by the server.

    Nobody waits for ``pid`` (= its process group) on the way: it arrives while the
    job runs and is used only to signal the group (``kill``). ``exit`` holds the exit
    status (negative: killed by that signal), the ``OSError`` that kept it from
    starting, or ``None`` if the server died first.
    """

    __slots__ = ("exit", "pid")

    def __init__(
        self, pid: asyncio.Future[int], exit: asyncio.Future[int | OSError | None]
    ) -> None:
        self.pid = pid
        self.exit = exit

    def kill(self, signum: int) -> None:
        """Signal the job's group now, or once its pid is known (never if it did not start)."""
        if not self.pid.done():
            self.pid.add_done_callback(lambda _pid: self.kill(signum))
        elif not self.pid.cancelled():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid.result(), signum)


def _rlimits(limits: ShellLimits) -> dict[str, int]:
    return {
        "RLIMIT_CPU": limits.cpu_seconds,
        "RLIMIT_AS": limits.memory_bytes,
        "RLIMIT_FSIZE": limits.file_bytes,
        "RLIMIT_NOFILE": limits.open_files,
        "RLIMIT_NPROC": limits.processes,
        "RLIMIT_CORE": 0,
    }


def _request(ident: int, argv: list[str], env: dict[str, str], cwd: str) -> bytes:
    """A request as the server reads it: NUL-separated ``id, cwd, argc, argv…, NAME=VALUE…``.

    ``OSError`` (as exec would raise it) for what no program can receive: a NUL byte
    anywhere, a variable name that is empty or holds ``=``."""
    if any(not name or "=" in name for name in env):
        raise OSError(errno.EINVAL, "invalid environment variable name")
    fields = [str(ident), cwd, str(len(argv)), *argv]
    fields += [f"{name}={value}" for name, value in env.items()]
    text = "\0".join(fields)
    if text.count("\0") != len(fields) - 1:
        raise OSError(errno.EINVAL, "embedded null byte")
    return text.encode("utf-8", "surrogateescape")


class SpawnServer:
    """One running spawn server for one set of limits and one job user."""

    def __init__(
        self,
        process: asyncio.subprocess.Process,
        sock: socket.socket,
        *,
        cpu_seconds: int,
    ) -> None:
        self._process = process
        self._sock = sock
        self._cpu_budget = cpu_seconds * 0.5
        self._ids = itertools.count(1)
        self._jobs: dict[int, Spawned] = {}  # request id → job not ended yet
        #: ``ready``, or ``failed`` and why.
        self._ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.alive = True
        self.retiring = False

    @classmethod
    async def start(cls, limits: ShellLimits, user: tuple[int, int] | None) -> SpawnServer:
        """Start a server with ``limits`` and (when Kairos is root) ``user`` = (uid, gid)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        config = {"fd": theirs.fileno(), "limits": _rlimits(limits), "user": user}
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-I",
                "-S",
                str(_SERVER),
                json.dumps(config),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),),
                start_new_session=True,
                cwd="/",
                env={"PATH": "/usr/local/bin:/usr/bin:/bin"},
            )
        except OSError as exc:
            ours.close()
            raise SpawnUnavailable(f"cannot start the spawn server: {exc}") from exc
        finally:
            theirs.close()
        ours.setblocking(False)
        server = cls(process, ours, cpu_seconds=limits.cpu_seconds)
        asyncio.get_running_loop().add_reader(ours.fileno(), server._readable)
        try:
            hello = await asyncio.wait_for(asyncio.shield(server._ready), _START_SECONDS)
        except TimeoutError:
            hello = f"failed no answer in {_START_SECONDS:g} s"
        if hello != "ready":
            await server.aclose()
            reason = hello.removeprefix("failed ")
            raise SpawnUnavailable(f"the spawn server did not start: {reason}")
        return server

    @property
    def usable(self) -> bool:
        return self.alive and not self.retiring

    async def spawn(
        self, argv: list[str], *, env: dict[str, str], cwd: Path, stdout: int, stderr: int
    ) -> Spawned:
        """Ask for ``argv`` to be started; whether it did is in ``Spawned.exit``.

        ``OSError`` at once for a request no program can receive (a NUL byte);
        ``SpawnUnavailable`` when the server cannot be reached (nothing was started)."""
        if not self.alive:
            raise SpawnUnavailable("the spawn server has ended")
        ident = next(self._ids)
        payload = _request(ident, argv, env, str(cwd))
        loop = asyncio.get_running_loop()
        spawned = Spawned(loop.create_future(), loop.create_future())
        await self._send(payload, [stdout, stderr])
        self._jobs[ident] = spawned  # before any answer: nothing awaits in between
        return spawned

    async def _send(self, payload: bytes, fds: list[int]) -> None:
        for _ in range(1000):  # a full socket buffer drains as the server reads
            try:
                socket.send_fds(self._sock, [payload], fds)
                return
            except BlockingIOError:
                await asyncio.sleep(0.001)
            except OSError as exc:  # EMSGSIZE (a huge environment), EPIPE (server gone)
                raise SpawnUnavailable(f"cannot reach the spawn server: {exc}") from exc
        raise SpawnUnavailable("the spawn server does not read its requests")

    def _readable(self) -> None:
        while True:
            try:
                data = self._sock.recv(4096)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._lost()
                return
            self._dispatch(data)

    def _dispatch(self, message: bytes) -> None:
        """One answer of the server (the protocol is in ``spawn_server``'s docstring)."""
        if message == b"ready" or message.startswith(b"failed "):
            if not self._ready.done():
                self._ready.set_result(message.decode(errors="replace"))
            return
        ident_text, kind, *rest = message.split(b" ", 3)
        ident = int(ident_text)
        if kind == b"pid":
            spawned = self._jobs.get(ident)
            if spawned is not None and not spawned.pid.done():
                spawned.pid.set_result(int(rest[0]))
            if float(rest[1]) > self._cpu_budget:
                self.retiring = True
            return
        spawned = self._jobs.pop(ident, None)
        if spawned is not None and not spawned.exit.done():
            if kind == b"exit":
                spawned.exit.set_result(int(rest[0]))
            else:  # errno: it did not start
                spawned.pid.cancel()
                spawned.exit.set_result(OSError(int(rest[0]), rest[1].decode(errors="replace")))
        if self.retiring and not self._jobs:
            self._close_socket()

    def _lost(self) -> None:
        self._close_socket()
        if not self._ready.done():
            self._ready.set_result("failed it exited")
        jobs, self._jobs = self._jobs, {}
        for spawned in jobs.values():
            spawned.pid.cancel()  # no-op when it arrived before the server ended
            if not spawned.exit.done():
                spawned.exit.set_result(None)

    def _close_socket(self) -> None:
        if self.alive:
            self.alive = False
            asyncio.get_running_loop().remove_reader(self._sock.fileno())
            self._sock.close()

    async def aclose(self) -> None:
        """Stop the server (jobs it started keep running: their owners kill them)."""
        self._lost()
        with contextlib.suppress(TimeoutError, ProcessLookupError):
            await asyncio.wait_for(self._process.wait(), 5)
