"""The spawn server: a small process that starts shell jobs with their limits already in place.

Run by ``core.executors.spawner`` as ``python -I -S spawn_server.py CONFIG`` (standard
library only, nothing from Kairos). At start it lowers its own resource limits
(soft = hard, so they cannot be raised again), drops to the job user when one
is given, and then only spawns: every job it starts inherits exactly those
limits and that user, so the child needs neither ``preexec_fn`` (which forces
CPython's slow fork path) nor an extra program such as ``prlimit`` in front of
it — the child is started with ``vfork`` and exec'd directly.

Protocol over the ``SOCK_SEQPACKET`` socket it is given (one JSON object per
message): a request ``{"id", "argv", "env", "cwd"}`` carries the child's stdout
and stderr descriptors (``SCM_RIGHTS``); the answer is ``{"id", "pid", "cpu"}``
(``cpu``: this server's own CPU seconds, which count against its CPU limit) or
``{"id", "errno", "error"}``, and later ``{"id", "exit"}`` with the status as
``asyncio`` reports it (negative: killed by that signal). It exits when Kairos
closes the socket.
"""

from __future__ import annotations

import json
import os
import resource
import selectors
import signal
import socket
import sys
from typing import Any

_MAX_MESSAGE = 4 * 2**20


def _apply(config: dict[str, Any]) -> None:
    for name, value in config["limits"].items():
        resource.setrlimit(getattr(resource, name), (value, value))
    user = config.get("user")
    if user is not None:
        uid, gid = user
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.sendall(json.dumps(message).encode())


#: Signals a job starts with at their default action (this server ignores or handles them).
_DEFAULT_SIGNALS = (signal.SIGCHLD, signal.SIGINT, signal.SIGPIPE, signal.SIGXFSZ)


def _start(sock: socket.socket, request: dict[str, Any], fds: list[int]) -> int | None:
    """``posix_spawn`` (vfork-like, no Python in the child): this process is single-threaded,
    so changing its own directory first is how the child gets its working directory."""
    try:
        os.chdir(request["cwd"])
        pid = os.posix_spawn(
            request["argv"][0],
            request["argv"],
            request["env"],
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, fds[0], 1),
                (os.POSIX_SPAWN_DUP2, fds[1], 2),
                (os.POSIX_SPAWN_CLOSE, fds[0]),
                (os.POSIX_SPAWN_CLOSE, fds[1]),
            ],
            setsid=True,  # its own session and process group, killed as a whole by Kairos
            setsigmask=(),
            setsigdef=_DEFAULT_SIGNALS,
        )
    except OSError as exc:
        error = {"id": request["id"], "errno": exc.errno or 0, "error": exc.strerror or str(exc)}
        _send(sock, error)
        return None
    finally:
        for fd in fds:
            os.close(fd)
        os.chdir("/")
    times = os.times()
    _send(sock, {"id": request["id"], "pid": pid, "cpu": times.user + times.system})
    return pid


def serve(sock: socket.socket) -> None:
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda _signum, _frame: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Kairos decides when this ends
    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)
    children: dict[int, int] = {}  # pid → request id
    _send(sock, {"ready": True})
    while True:
        for key, _ in selector.select():
            if key.fileobj is sock:
                data, fds, _flags, _addr = socket.recv_fds(sock, _MAX_MESSAGE, 2)
                if not data:
                    return  # Kairos closed its end: nobody is waiting for anything
                request = json.loads(data)
                pid = _start(sock, request, fds)
                if pid is not None:
                    children[pid] = request["id"]
            else:
                while True:
                    try:
                        if not os.read(wake_r, 4096):
                            break
                    except BlockingIOError:
                        break
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            ident = children.pop(pid, None)
            if ident is not None:
                _send(sock, {"id": ident, "exit": os.waitstatus_to_exitcode(status)})


def main() -> None:
    config = json.loads(sys.argv[1])
    sock = socket.socket(fileno=config["fd"])
    sock.set_inheritable(False)  # jobs get their three descriptors and nothing else
    try:
        _apply(config)
    except OSError as exc:
        _send(sock, {"ready": False, "error": f"{exc.strerror or exc}"})
        return
    serve(sock)


if __name__ == "__main__":
    main()
