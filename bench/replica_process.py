"""One ``kairos run --no-console`` process of the chaos benchmark (``bench/replicas.py``)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Replica:
    """One ``kairos run --no-console`` process; its output goes to a log file.

    Output goes to a file, not a pipe: a killed child can never block on a full
    pipe, and the logs stay for inspection. ``kill`` signals the whole process
    group, as ``kill -9`` of a service would.
    """

    def __init__(self, index: int, *, token: str, env: dict[str, str], workdir: Path) -> None:
        self.index = index
        self.port = _free_port()
        self.token = token
        self.log_path = workdir / f"replica-{index}.log"
        self._env = {
            **env,
            "KAIROS_HTTP_PORT": str(self.port),
            "KAIROS_SLACK_BOT_TOKEN": self.token,
        }
        self._workdir = workdir
        self.proc: asyncio.subprocess.Process | None = None
        self.ready = False
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.ready = False
        self.starts += 1
        with self.log_path.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                "--no-console",
                env=self._env,
                cwd=self._workdir,  # no stray .env file
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )

    async def wait_ready(self, http: Any, *, within: float = 90.0) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.returncode is not None:
                raise RuntimeError(f"replica {self.index} exited; see {self.log_path}")
            with contextlib.suppress(Exception):
                async with http.get(f"{self.url}/healthz") as response:
                    if response.status == 200:
                        self.ready = True
                        return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"replica {self.index} not ready after {within:.0f} s")

    async def kill(self) -> None:
        self.ready = False
        if self.proc is None or self.proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> None:
        self.ready = False
        if self.proc is None or self.proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 15)
        except TimeoutError:
            await self.kill()
