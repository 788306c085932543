"""The spawn server: a small process that starts shell jobs with their limits already in place.

Run by ``core.executors.spawner`` as ``python -I -S spawn_server.py CONFIG`` (standard
library only, nothing from Kairos). At start it lowers its own resource limits
(soft = hard, so they cannot be raised again), drops to the job user when one
is given, and then only spawns: every job it starts inherits exactly those
limits and that user, so the child needs neither ``preexec_fn`` (which forces
CPython's slow fork path) nor an extra program such as ``prlimit`` in front of
it — the child is started with ``vfork`` and exec'd directly.

Protocol over the ``SOCK_SEQPACKET`` socket it is given (one message per job
event, compact because it is paid on every run). A request is NUL-separated
fields ``id, cwd, argc, argv…, NAME=VALUE…`` and carries the child's stdout and
stderr descriptors (``SCM_RIGHTS``). The answers are space-separated:
``ID pid PID CPU`` (``CPU``: this server's own CPU seconds, which count against
its CPU limit) or ``ID errno ERRNO MESSAGE``, and later ``ID exit STATUS`` with
the status as ``asyncio`` reports it (negative: killed by that signal). At
start it says ``ready`` or ``failed MESSAGE``. It exits when Kairos closes the
socket.
"""

from __future__ import annotations

import array
import json
import os
import resource
import selectors
import signal
import socket
import sys
from typing import Any

_MAX_MESSAGE = 4 * 2**20
_FDS_SPACE = socket.CMSG_SPACE(2 * 4)  # room for two descriptors


def _apply(config: dict[str, Any]) -> None:
    for name, value in config["limits"].items():
        resource.setrlimit(getattr(resource, name), (value, value))
    user = config.get("user")
    if user is not None:
        uid, gid = user
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)


#: Signals a job starts with at their default action (this server ignores or handles them).
_DEFAULT_SIGNALS = (signal.SIGCHLD, signal.SIGINT, signal.SIGPIPE, signal.SIGXFSZ)


class _Spawner:
    """Reads requests and starts jobs; one per server (it is single-threaded)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray(_MAX_MESSAGE)  # allocated once, not per request
        # Held open (close-on-exec) and duplicated onto each job's stdin.
        self.devnull = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)

    def receive(self) -> tuple[bytes, list[int]] | None:
        """The next request and its descriptors (close-on-exec); ``None`` when Kairos left."""
        size, ancillary, _flags, _addr = self.sock.recvmsg_into(
            [self.buffer], _FDS_SPACE, socket.MSG_CMSG_CLOEXEC
        )
        fds = array.array("i")
        for level, kind, data in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
        if not size and not fds:
            return None
        return bytes(memoryview(self.buffer)[:size]), list(fds)

    def start(self, request: bytes, fds: list[int]) -> tuple[int, int] | None:
        """``(request id, pid)`` of the started job; ``None`` (and the error sent) when it
        could not start. ``posix_spawn`` is vfork-like with no Python in the child; this
        process is single-threaded, so its own directory is how the child gets its own."""
        fields = request.split(b"\0")
        ident = int(fields[0])
        try:
            if len(fds) != 2:
                raise OSError(0, f"expected 2 descriptors, got {len(fds)}")
            cwd, argc = fields[1], int(fields[2])
            argv = fields[3 : 3 + argc]
            env = dict(field.split(b"=", 1) for field in fields[3 + argc :])
            os.chdir(cwd)  # by path every time: the folder may have been made anew
            pid = os.posix_spawn(
                argv[0],
                argv,
                env,
                file_actions=[
                    (os.POSIX_SPAWN_DUP2, self.devnull, 0),
                    (os.POSIX_SPAWN_DUP2, fds[0], 1),
                    (os.POSIX_SPAWN_DUP2, fds[1], 2),
                ],  # the originals are close-on-exec: the job gets these three and no more
                setsid=True,  # its own session and process group, killed as a whole by Kairos
                setsigmask=(),
                setsigdef=_DEFAULT_SIGNALS,
            )
        except (OSError, ValueError) as exc:
            errno = getattr(exc, "errno", 0) or 0
            reason = getattr(exc, "strerror", None) or str(exc)
            self.sock.sendall(b"%d errno %d %s" % (ident, errno, reason.encode()))
            return None
        finally:
            for fd in fds:
                os.close(fd)
        times = os.times()
        self.sock.sendall(b"%d pid %d %.3f" % (ident, pid, times.user + times.system))
        return ident, pid


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
    spawner = _Spawner(sock)
    children: dict[int, int] = {}  # pid → request id
    sock.sendall(b"ready")
    while True:
        for key, _ in selector.select():
            if key.fileobj is sock:
                received = spawner.receive()
                if received is None:
                    return  # Kairos closed its end: nobody is waiting for anything
                started = spawner.start(*received)
                if started is not None:
                    children[started[1]] = started[0]
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
                sock.sendall(b"%d exit %d" % (ident, os.waitstatus_to_exitcode(status)))


def main() -> None:
    config = json.loads(sys.argv[1])
    sock = socket.socket(fileno=config["fd"])
    sock.set_inheritable(False)  # jobs get their three descriptors and nothing else
    try:
        _apply(config)
    except OSError as exc:
        sock.sendall(b"failed " + f"{exc.strerror or exc}".encode())
        return
    serve(sock)


if __name__ == "__main__":
    main()
