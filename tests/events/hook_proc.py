"""A Kairos-like process for the durability tests: webhooks over HTTP, events, workers.

``python hook_proc.py DATABASE_URL PORT_FILE [--no-delivery]`` serves
``POST /hooks/{name}`` on a free port (written to PORT_FILE), records events and —
unless ``--no-delivery`` (a process killed between storing and delivering) —
delivers them to subscribed tasks, whose ``noop`` runs the workers execute.
Prints ``ready`` once serving; runs until killed.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

import uvicorn

from bot.web import build_web_app
from bot.web.hooks import hook_routes
from core.clock import SystemClock
from core.db import Database
from core.events.layer import EventLayer
from core.executors import ExecutorRegistry, NoopExecutor
from core.scheduler.workers import PoolSettings, WorkerPool
from core.store.runs import RunStore


async def main(url: str, port_file: Path, deliver: bool) -> None:
    db = Database(url)
    clock = SystemClock()
    pool = WorkerPool(
        store=RunStore(db),
        executors=ExecutorRegistry({"noop": NoopExecutor()}),
        clock=clock,
        settings=PoolSettings(concurrency=4, poll_seconds=0.5),
    )
    layer = EventLayer(db=db, clock=clock, pool=pool, rescan_seconds=0.2)
    if deliver:
        await pool.start()
        await layer.start()
    listener = socket.create_server(("127.0.0.1", 0))
    await asyncio.to_thread(port_file.write_text, str(listener.getsockname()[1]))
    server = uvicorn.Server(
        uvicorn.Config(
            build_web_app(hook_routes(layer.webhooks)),
            lifespan="off",
            log_level="warning",
            access_log=False,
        )
    )
    task = asyncio.create_task(server.serve(sockets=[listener]))
    while not server.started:  # noqa: ASYNC110  (uvicorn offers no event to wait on)
        await asyncio.sleep(0.01)
    print("ready", flush=True)
    await task


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]), "--no-delivery" not in sys.argv))
