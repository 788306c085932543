"""Driving ``node_proc.py`` processes from a test: spawn, command, kill -9, read deliveries."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

NODE = Path(__file__).with_name("node_proc.py")
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Delivery:
    task_id: int
    scheduled_for: str
    attempt: int
    pid: int


@dataclass
class Node:
    """One ``node_proc.py`` process (its own process group, stderr in a file)."""

    proc: asyncio.subprocess.Process
    stderr: Path

    @classmethod
    async def spawn(
        cls,
        url: str,
        log: Path,
        *,
        engine: bool = True,
        name: str = "node",
        lookahead: float | None = None,
    ) -> Node:
        stderr = log.with_name(f"{name}-{os.getpid()}-{id(log)}.stderr")
        args = [sys.executable, str(NODE), url, str(log)] + ([] if engine else ["--no-engine"])
        if lookahead is not None:
            args += ["--lookahead", str(lookahead)]
        with stderr.open("wb") as err:
            proc = await asyncio.create_subprocess_exec(
                *args,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=err,
                start_new_session=True,
            )
        node = cls(proc, stderr)
        ready = await node._line(60)
        assert ready == "ready", f"{ready!r}; stderr: {stderr.read_text()[-2000:]}"
        return node

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def _line(self, limit: float = 30) -> str:
        assert self.proc.stdout is not None
        raw = await asyncio.wait_for(self.proc.stdout.readline(), limit)
        if not raw:
            raise AssertionError(f"node exited; stderr: {self.stderr.read_text()[-2000:]}")
        return raw.decode().strip()

    async def ask(self, command: str) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command.encode() + b"\n")
        await self.proc.stdin.drain()
        return await self._line()

    async def add(self, at: datetime) -> int:
        word, task_id = (await self.ask(f"add {at.isoformat()}")).split()
        assert word == "added"
        return int(task_id)

    async def kill(self) -> None:
        """``kill -9`` the whole group; pipes closed before waiting (CPython 119710)."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self._close_pipes()
        await asyncio.wait_for(self.proc.wait(), 30)

    async def stop(self) -> None:
        if self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 30)
        except TimeoutError:
            await self.kill()
        self._close_pipes()

    def _close_pipes(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        transport = getattr(self.proc, "_transport", None)
        if transport is not None:
            transport.close()


def deliveries(log: Path) -> list[Delivery]:
    """Every ``start`` line the nodes wrote to ``log``."""
    if not log.exists():
        return []
    out = []
    for line in log.read_text().splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[0] == "start":
            out.append(Delivery(int(parts[1]), parts[2], int(parts[3]), int(parts[4])))
    return out


_ROOT = Path(__file__).resolve().parents[2]


async def spawn_ready(script: Path, *args: str, within: float = 60) -> asyncio.subprocess.Process:
    """Start ``python script args…`` with the repository importable; wait for its ``ready`` line."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        *args,
        env={**os.environ, "PYTHONPATH": str(_ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), within)
    assert line.strip() == b"ready"
    return proc


async def kairos_run(
    env: dict[str, str], cwd: Path, stderr: Path, flags: tuple[str, ...] = ("--no-console",)
) -> asyncio.subprocess.Process:
    """The real server, ``kairos run --no-console`` (or ``flags``), its input not a
    terminal, in its own process group (stderr in a file)."""
    with stderr.open("wb") as err:
        return await asyncio.create_subprocess_exec(
            str(Path(sys.executable).with_name("kairos")),
            "run",
            *flags,
            cwd=cwd,  # no .env from the checkout
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )


async def stop_server(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM, then ``kill -9`` of the group if it has not stopped within 30 s."""
    if proc.returncode is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), 30)
    except TimeoutError:
        os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()
