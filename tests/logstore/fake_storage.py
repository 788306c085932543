"""A fake Supabase Storage REST API on port 0, in its own thread (so that CLI processes and
blocking calls can reach it): it keeps uploaded objects and records every request."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class FakeStorage:
    objects: dict[str, bytes] = field(default_factory=dict)  # "bucket/key" → content
    requests: list[Seen] = field(default_factory=list)
    fail_uploads: bool = False
    url: str = ""
    _loop: asyncio.AbstractEventLoop | None = None
    _runner: web.AppRunner | None = None
    _thread: threading.Thread | None = None

    async def _upload(self, request: web.Request) -> web.Response:
        self._seen(request)
        if self.fail_uploads:
            return web.json_response({"statusCode": "500", "error": "boom"}, status=500)
        bucket, key = request.match_info["bucket"], request.match_info["key"]
        form = await request.post()
        part = form["file"]
        assert isinstance(part, web.FileField)
        self.objects[f"{bucket}/{key}"] = part.file.read()
        return web.json_response({"Key": f"{bucket}/{key}", "Id": "1"})

    async def _download(self, request: web.Request) -> web.Response:
        self._seen(request)
        name = f"{request.match_info['bucket']}/{request.match_info['key']}"
        if name not in self.objects:
            return web.json_response({"statusCode": "404", "error": "not_found"}, status=404)
        return web.Response(body=self.objects[name], content_type="text/plain")

    def _seen(self, request: web.Request) -> None:
        self.requests.append(Seen(request.method, request.path, dict(request.headers)))

    def start(self) -> FakeStorage:
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            app = web.Application()
            app.router.add_post("/storage/v1/object/{bucket}/{key:.+}", self._upload)
            app.router.add_get("/storage/v1/object/{bucket}/{key:.+}", self._download)
            self._runner = web.AppRunner(app)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            self.url = f"http://127.0.0.1:{port}"
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, name="fake-supabase-storage", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
