"""Chaos benchmark: reminders through several ``kairos run`` replicas on one PostgreSQL.

What it does (issue 8, "Measure"):

1. creates a fresh PostgreSQL database (dropped at the end) and starts a fake
   Slack Web API (``bench/slack_api.py``: random 100–300 ms latency, records
   every ``chat.postMessage`` with its arrival time and the replica's token);
2. starts ``--replicas`` real ``kairos run --no-console`` processes on that
   database, each on its own HTTP port with Slack in HTTP mode and its own bot
   token;
3. **chaos phase** (``--duration`` s): creates reminders at ``--rate`` a minute,
   half as really signed ``/kairos remind me to … in N seconds`` slash commands
   posted to a random live replica's ``/slack/events``, half from outside
   through ``TaskService`` in this process (no engine here: only another
   process can fire those), each due 3–15 s after creation; every
   ``--kill-interval`` s a random replica gets ``kill -9`` (its whole process
   group) and is restarted at once;
4. drains (no more kills) until every reminder is posted or ``--drain`` s after
   the last due time;
5. **outage phase**: more reminders due over the next ~30 s, then the database
   refuses every connection for ``--outage`` s (``ALLOW_CONNECTIONS false`` and
   every backend terminated), then comes back; drains again.

It prints, per phase: reminders created, delivered, lost, delivered twice,
lateness (first post − due time) p50/p99/max, and for reminders created
*elsewhere* (from outside, or on a replica killed before the due time) the share
delivered within 1 s (in the outage phase: of max(due, the database's return));
for kills, the runs in flight on the killed replica and the duplicates as a share
of them; the replicas' log volume. Nothing asserts:
targets are printed beside the figures.

    .venv/bin/python bench/replicas.py [--duration 60] [--rate 1500] [--json]
    kairos bench replicas [same options]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: ``bench`` and the app from the checkout
    sys.path.insert(0, str(ROOT))

from bench.chaos_report import pct, render  # noqa: E402
from bench.replica_process import Replica  # noqa: E402
from bench.slack_api import BenchSlack, Post  # noqa: E402

SECRET = "bench-signing-secret"
TEAM = "T0001"
PG_ADMIN_DSN = os.environ.get(
    "KAIROS_BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
_TAG = re.compile(r"\bbx(\d+)\b")
#: "Seen by the other replicas within one second" (issue 8): a reminder created
#: elsewhere counts as seen in time when its first post is at most this late.
WITHIN_SECONDS = 1.0

Progress = Callable[[str], None]


@dataclass
class Options:
    """What to run; every figure of the issue's scenario is a parameter."""

    replicas: int = 3
    duration: float = 60.0  # chaos phase, seconds
    rate: float = 1500.0  # reminders created per minute
    kill_interval: float = 10.0  # 0: no kills
    latency: tuple[float, float] = (0.1, 0.3)
    lead: tuple[float, float] = (3.0, 15.0)  # due this long after creation
    outside_share: float = 0.5  # created through TaskService here, not a replica
    outage: float = 15.0  # 0: no outage phase
    outage_reminders: int = 300
    drain: float = 30.0
    #: Seconds to keep watching after the outage phase drained: a run whose
    #: outcome write was lost is retried when its lease expires (60 s), and
    #: that duplicate comes late. 0: do not wait for it.
    watch: float = 0.0
    channels: int = 1000
    users: int = 50
    seed: int | None = None
    pg_dsn: str = PG_ADMIN_DSN
    keep_logs: bool = False
    details: str | None = None  # a JSON-lines file: one line per reminder


@dataclass
class Reminder:
    """One reminder the bench asked for, and what became of it."""

    number: int
    phase: str
    origin: str  # "outside" or "r<i>"
    asked_at: float
    channel: str
    accepted: bool = False  # slash command answered 200 / service returned
    working: bool = False  # acked "Working on it…" (received, not yet done)


@dataclass
class Kill:
    at: float
    replica: int
    running_runs: int  # runs 'running' under the killed process's worker id
    posts_in_flight: int  # its requests the fake Slack had not answered yet


def _sign(body: str) -> dict[str, str]:
    """Slack's request signing (v0:timestamp:body, HMAC-SHA256 with the signing secret)."""
    timestamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256)
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": f"v0={digest.hexdigest()}",
    }


class Bench:
    """One run of the scenario; ``run()`` returns the figures."""

    def __init__(self, options: Options, progress: Progress) -> None:
        self.o = options
        self.say = progress
        self.rng = random.Random(options.seed)
        self.reminders: dict[int, Reminder] = {}
        self.kills: list[Kill] = []
        self.outage_window: tuple[float, float] | None = None
        self._numbers = iter(range(1, 10**9))
        self._pending: set[asyncio.Task[None]] = set()
        self.create_errors: defaultdict[str, int] = defaultdict(int)

    # --- setup -------------------------------------------------------------------

    async def run(self) -> dict[str, Any]:
        import aiohttp
        import asyncpg
        from sqlalchemy.engine import make_url

        admin = make_url(self.o.pg_dsn)
        self.db_name = f"kairos_bench_{uuid.uuid4().hex[:10]}"
        self.admin_dsn = admin.render_as_string(hide_password=False)
        self.db_dsn = admin.set(database=self.db_name).render_as_string(hide_password=False)
        workdir = Path(tempfile.mkdtemp(prefix="kairos-bench-"))
        conn = await asyncpg.connect(self.admin_dsn)
        await conn.execute(f'CREATE DATABASE "{self.db_name}"')
        await conn.close()
        self.slack = BenchSlack(latency=self.o.latency, seed=self.o.seed)
        api_url = await self.slack.start()
        env = {k: v for k, v in os.environ.items() if not k.startswith("KAIROS_")}
        env |= {
            "KAIROS_DATABASE_URL": self.db_dsn,
            "KAIROS_SLACK_SIGNING_SECRET": SECRET,
            "KAIROS_SLACK_API_URL": api_url,
            "KAIROS_DEFAULT_TIMEZONE": "UTC",
            "KAIROS_LOG_LEVEL": "INFO",
            "PYTHONPATH": str(ROOT),
        }
        self.replicas = [
            Replica(i, token=f"xoxb-r{i}-{TEAM}", env=env, workdir=workdir)
            for i in range(self.o.replicas)
        ]
        timeout = aiohttp.ClientTimeout(total=10)
        connector = aiohttp.TCPConnector(limit=128)
        try:
            async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
                self.http = http
                await self._open_outside()
                # One at a time at first: the first one applies the migrations.
                for replica in self.replicas:
                    await replica.start()
                    await replica.wait_ready(http)
                self.say(f"{len(self.replicas)} replicas up on database {self.db_name}")
                return await self._scenario()
        finally:
            for task in self._pending:
                task.cancel()
            await asyncio.gather(*self._pending, return_exceptions=True)
            for replica in self.replicas:
                await replica.stop()
            await self._close_outside()
            await self.slack.stop()
            conn = await asyncpg.connect(self.admin_dsn)
            await conn.execute(f'ALTER DATABASE "{self.db_name}" WITH ALLOW_CONNECTIONS true')
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            await conn.close()
            if self.o.keep_logs:
                self.say(f"replica logs kept in {workdir}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)

    async def _open_outside(self) -> None:
        """TaskService in this process: the 'outside' writer (like the CLI or a web form)."""
        from core.clock import SystemClock
        from core.db import Database
        from core.enums import Platform
        from core.migrate import upgrade
        from core.services.tasks import TaskService
        from core.store import SqlStore

        await upgrade(self.db_dsn)
        self.outside_db = Database(self.db_dsn)
        store = SqlStore(self.outside_db)
        workspace = await store.ensure_workspace(Platform.SLACK, TEAM, default_timezone="UTC")
        assert workspace.id is not None
        self.actor = await store.ensure_member(workspace.id, "U9999", display_name="bench")
        self.service = TaskService(store=store, clock=SystemClock())  # no engine here

    async def _close_outside(self) -> None:
        await self.outside_db.dispose()

    # --- creating reminders ----------------------------------------------------------

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _create(self, phase: str, lead: tuple[float, float]) -> None:
        number = next(self._numbers)
        live = [r for r in self.replicas if r.ready]
        outside = self.rng.random() < self.o.outside_share or not live
        channel = f"C{self.rng.randrange(self.o.channels):05d}"
        seconds = self.rng.uniform(*lead)
        if outside:
            reminder = Reminder(number, phase, "outside", time.time(), channel)
            self.reminders[number] = reminder
            # Whole seconds, like a person's "at 09:00:05": Kairos's triggers work
            # to the second (they floor), so a fractional due would read as early.
            at = (datetime.now(UTC) + timedelta(seconds=seconds)).replace(microsecond=0)
            try:
                await self.service.create(
                    {
                        "title": f"check bx{number}",
                        "schedule": {"kind": "once", "at": at.isoformat(), "timezone": "UTC"},
                        "channel_ref": channel,
                    },
                    actor=self.actor,
                )
                reminder.accepted = True
            except Exception as exc:  # counted, not fatal: the database may be down
                self.create_errors[f"outside: {type(exc).__name__}"] += 1
            return
        replica = self.rng.choice(live)
        reminder = Reminder(number, phase, f"r{replica.index}", time.time(), channel)
        self.reminders[number] = reminder
        body = urlencode(
            {
                "team_id": TEAM,
                "channel_id": channel,
                "user_id": f"U{self.rng.randrange(self.o.users):04d}",
                "user_name": "bench",
                "command": "/kairos",
                "text": f"remind me to check bx{number} in {round(seconds)} seconds",
                "response_url": f"{self.slack.url}/response/{number}",
                "trigger_id": f"t{number}",
            }
        )
        try:
            async with self.http.post(
                f"{replica.url}/slack/events", data=body, headers=_sign(body)
            ) as response:
                answer = await response.read()
                reminder.accepted = response.status == 200
                reminder.working = b"Working on it" in answer
                if response.status != 200:
                    self.create_errors[f"slash: HTTP {response.status}"] += 1
        except Exception as exc:  # the replica was killed under the request
            self.create_errors[f"slash: {type(exc).__name__}"] += 1

    async def _create_at_rate(
        self, phase: str, seconds: float, lead: tuple[float, float], *, rate: float
    ) -> int:
        """Create reminders at ``rate``/min for ``seconds``, paced on the clock (no drift)."""
        interval = 60.0 / rate
        started = time.monotonic()
        made = 0
        while (elapsed := time.monotonic() - started) < seconds:
            due = int(elapsed / interval) + 1 - made
            for _ in range(max(0, due)):
                self._spawn(self._create(phase, lead))
                made += 1
            await asyncio.sleep(interval)
        return made

    # --- faults ------------------------------------------------------------------

    async def _running_runs_of(self, pid: int) -> int:
        import asyncpg

        try:
            conn = await asyncpg.connect(self.db_dsn, timeout=2)
        except Exception:
            return -1
        try:
            value = await conn.fetchval(
                "SELECT count(*) FROM runs WHERE status = 'running' AND lease_owner LIKE $1",
                f"%:{pid}:%",
            )
            return int(value)
        finally:
            await conn.close()

    async def _kill_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.o.kill_interval)
                return
            candidates = [r for r in self.replicas if r.proc and r.proc.returncode is None]
            if not candidates:
                continue
            victim = self.rng.choice(candidates)
            assert victim.proc is not None
            running = await self._running_runs_of(victim.proc.pid)
            in_flight = self.slack.in_flight[victim.token]
            await victim.kill()
            self.kills.append(Kill(time.time(), victim.index, running, in_flight))
            self.say(f"kill -9 replica {victim.index} ({running} runs running) and restart")
            await victim.start()
            self._spawn(self._ready_quietly(victim))

    async def _ready_quietly(self, replica: Replica) -> None:
        try:
            await replica.wait_ready(self.http)
        except RuntimeError as exc:
            self.say(str(exc))

    async def _database_outage(self, seconds: float) -> None:
        """Every connection refused and every existing one cut, for ``seconds``."""
        import asyncpg

        conn = await asyncpg.connect(self.admin_dsn)
        try:
            await conn.execute(f'ALTER DATABASE "{self.db_name}" WITH ALLOW_CONNECTIONS false')
            started = time.time()
            terminate = (
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()"
            )
            cut = await conn.fetchval(terminate, self.db_name)
            self.say(f"database outage: {cut} connections cut, refusing new ones for {seconds} s")
            await asyncio.sleep(seconds)  # the outage itself: a fixed length by definition
            await conn.execute(f'ALTER DATABASE "{self.db_name}" WITH ALLOW_CONNECTIONS true')
            self.outage_window = (started, time.time())
            self.say("database back")
        finally:
            await conn.close()

    # --- the scenario ----------------------------------------------------------------

    async def _scenario(self) -> dict[str, Any]:
        o = self.o
        started = time.time()
        stop_kills = asyncio.Event()
        killer = (
            asyncio.create_task(self._kill_loop(stop_kills), name="bench-kills")
            if o.kill_interval > 0 and len(self.replicas) > 0
            else None
        )
        self.say(f"chaos phase: {o.duration:.0f} s at {o.rate:.0f} reminders/min")
        made = await self._create_at_rate("chaos", o.duration, o.lead, rate=o.rate)
        stop_kills.set()
        if killer is not None:
            await killer
        await self._settle_creations()
        self.say(f"chaos phase: {made} reminders asked for; draining")
        for replica in self.replicas:
            if not replica.ready:
                await replica.wait_ready(self.http)
        await self._drain("chaos")
        if o.outage > 0:
            self.say(
                f"outage phase: {o.outage_reminders} reminders, then a {o.outage:.0f} s outage"
            )
            outage_lead = (5.0, 5.0 + o.outage + 10.0)
            spread = max(1.0, o.outage_reminders * 60.0 / o.rate)
            rate = o.outage_reminders * 60.0 / spread
            await self._create_at_rate("outage", spread, outage_lead, rate=rate)
            await self._settle_creations()
            await self._database_outage(o.outage)
            for replica in self.replicas:
                if replica.proc is not None and replica.proc.returncode is not None:
                    self.say(f"replica {replica.index} died during the outage; restarting")
                    await replica.start()
                with contextlib.suppress(RuntimeError):
                    await replica.wait_ready(self.http, within=60)
            await self._drain("outage")
            if o.watch > 0:
                self.say(f"watching {o.watch:.0f} s more for late duplicates")
                await asyncio.sleep(o.watch)  # an observation window, not a wait for a condition
        return await self._figures(time.time() - started)

    async def _settle_creations(self) -> None:
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def _fetch(self, query: str) -> list[Any]:
        """The rows of one query on the bench's database (its own short connection)."""
        import asyncpg

        conn = await asyncpg.connect(self.db_dsn, timeout=5)
        try:
            return list(await conn.fetch(query))
        finally:
            await conn.close()

    async def _due_times(self) -> dict[int, tuple[datetime, datetime]]:
        """Bench number → (due, created_at) of every stored reminder (from the database)."""
        rows = await self._fetch("SELECT title, schedule, created_at FROM tasks")
        found: dict[int, tuple[datetime, datetime]] = {}
        for row in rows:
            match = _TAG.search(row["title"])
            schedule = row["schedule"]
            if isinstance(schedule, str):
                schedule = json.loads(schedule)
            if not match or not schedule or "at" not in schedule:
                continue
            due = datetime.fromisoformat(str(schedule["at"]).replace("Z", "+00:00"))
            found[int(match.group(1))] = (due, _aware(row["created_at"]))
        return found

    def _posts_by_number(self) -> dict[int, list[Post]]:
        posts: defaultdict[int, list[Post]] = defaultdict(list)
        for post in self.slack.posts:
            if not post.text.startswith("Reminder"):
                continue  # task cards posted by slash commands
            match = _TAG.search(post.text)
            if match:
                posts[int(match.group(1))].append(post)
        return posts

    async def _drain(self, phase: str) -> None:
        """Wait until every reminder of ``phase`` is posted, or ``drain`` s past the last due."""
        while True:
            stored = await self._due_times()
            due = {n: d for n, d in stored.items() if self.reminders[n].phase == phase}
            posted = self._posts_by_number()
            missing = [n for n in due if n not in posted]
            last_due = max((d for d, _c in due.values()), default=datetime.now(UTC))
            if not missing:
                return
            if datetime.now(UTC) > last_due + timedelta(seconds=self.o.drain):
                self.say(f"{phase}: {len(missing)} reminders still not posted; giving up")
                return
            await asyncio.sleep(0.5)

    # --- figures -------------------------------------------------------------------

    def _replica_of(self, token: str) -> str:
        return "r" + token.split("-")[1][1:]

    async def _figures(self, wall: float) -> dict[str, Any]:
        stored = await self._due_times()
        posts = self._posts_by_number()
        figures: dict[str, Any] = {
            "replicas": self.o.replicas,
            "rate_per_min": self.o.rate,
            "duration_s": self.o.duration,
            "kill_interval_s": self.o.kill_interval,
            "latency_ms": [round(x * 1000) for x in self.o.latency],
            "wall_s": round(wall, 1),
            "watch_s": self.o.watch,
            "load_avg_1m": round(os.getloadavg()[0], 2),
        }
        for phase in ("chaos", "outage"):
            asked = [r for r in self.reminders.values() if r.phase == phase]
            if not asked:
                continue
            figures[phase] = self._phase_figures(phase, asked, stored, posts)
        in_flight = sum(max(0, k.running_runs) for k in self.kills)
        chaos = figures.get("chaos", {})
        figures["kills"] = {
            "count": len(self.kills),
            "runs_running_at_kills": in_flight,
            "posts_in_flight_at_kills": sum(k.posts_in_flight for k in self.kills),
            "duplicates_pct_of_in_flight": (
                round(100 * chaos.get("delivered_twice", 0) / in_flight, 2) if in_flight else None
            ),
        }
        if self.o.details:
            self._write_details(Path(self.o.details), stored, posts, await self._run_rows())
        figures["create_errors"] = dict(self.create_errors)
        figures["logs"] = self._log_figures()
        figures["slack_calls"] = dict(self.slack.calls)
        return figures

    def _phase_figures(
        self,
        phase: str,
        asked: list[Reminder],
        stored: dict[int, tuple[datetime, datetime]],
        posts: dict[int, list[Post]],
    ) -> dict[str, Any]:
        mine = {r.number: r for r in asked if r.number in stored}
        late: list[float] = []
        # Outage phase: how long after max(due, database back) the first post came —
        # a reminder due while the database refused everyone cannot be on time.
        back = self.outage_window[1] if phase == "outage" and self.outage_window else None
        after_back: list[float] = []
        elsewhere: list[float | None] = []
        by_other = 0
        lost = twice = 0
        for number, reminder in mine.items():
            due, created = stored[number]
            got = sorted(posts.get(number, []), key=lambda p: p.at)
            lateness = got[0].at - due.timestamp() if got else None
            if lateness is not None:
                late.append(lateness)
                if back is not None:
                    after_back.append(got[0].at - max(due.timestamp(), back))
            else:
                lost += 1
            if len(got) > 1:
                twice += 1
            if got and self._replica_of(got[0].token) != reminder.origin:
                by_other += 1
            creator_killed = any(
                f"r{k.replica}" == reminder.origin
                and created.timestamp() <= k.at <= due.timestamp()
                for k in self.kills
            )
            if reminder.origin == "outside" or creator_killed:
                # Nobody can see anything while the database refuses everyone: in the
                # outage phase, "in time" counts from max(due, the database's return).
                since = max(due.timestamp(), back) if back is not None else due.timestamp()
                elsewhere.append(got[0].at - since if got else None)
        on_time = sum(1 for x in elsewhere if x is not None and x <= WITHIN_SECONDS)

        def ms(value: float | None) -> float | None:
            return None if value is None else round(value * 1000)

        return {
            "asked": len(asked),
            "stored": len(mine),
            "asked_not_stored": sum(1 for r in asked if r.accepted and r.number not in stored),
            # Of those, acked only as "Working on it…" (then the replica died or the write failed).
            "asked_not_stored_acked_working": sum(
                1 for r in asked if r.accepted and r.working and r.number not in stored
            ),
            "delivered": len(late),
            "lost": lost,
            "delivered_twice": twice,
            "posted_by_another_process": by_other,
            "created_elsewhere": len(elsewhere),
            "created_elsewhere_within_1s_pct": (
                round(100 * on_time / len(elsewhere), 1) if elsewhere else None
            ),
            "lateness_p50_ms": ms(pct(late, 0.5)),
            "lateness_p99_ms": ms(pct(late, 0.99)),
            "lateness_max_ms": ms(max(late) if late else None),
            # Negative: posted before it was due (an engine firing early).
            "lateness_min_ms": ms(min(late) if late else None),
            "after_database_back_p50_ms": ms(pct(after_back, 0.5)) if back else None,
            "after_database_back_p99_ms": ms(pct(after_back, 0.99)) if back else None,
        }

    async def _run_rows(self) -> dict[int, list[list[Any]]]:
        """Bench number → its runs (for the details file: how each post came about)."""
        rows = await self._fetch(
            "SELECT t.title, r.attempt, r.trigger, r.status, r.created_at, r.not_before, "
            "r.started_at, r.lease_owner FROM runs r JOIN tasks t ON t.id = r.task_id "
            "ORDER BY r.id"
        )
        out: dict[int, list[list[Any]]] = defaultdict(list)
        for row in rows:
            match = _TAG.search(row["title"])
            if match:
                stamps = [_stamp(row[k]) for k in ("created_at", "not_before", "started_at")]
                out[int(match.group(1))].append(
                    [row["attempt"], row["trigger"], row["status"], *stamps, row["lease_owner"]]
                )
        return out

    def _write_details(
        self,
        path: Path,
        stored: dict[int, tuple[datetime, datetime]],
        posts: dict[int, list[Post]],
        runs: dict[int, list[list[Any]]],
    ) -> None:
        with path.open("w") as out:
            for number, reminder in sorted(self.reminders.items()):
                due, created = stored.get(number, (None, None))
                line = {
                    "number": number,
                    "phase": reminder.phase,
                    "origin": reminder.origin,
                    "channel": reminder.channel,
                    "asked_at": reminder.asked_at,
                    "accepted": reminder.accepted,
                    "created_at": created.timestamp() if created else None,
                    "due": due.timestamp() if due else None,
                    "posts": [[p.at, self._replica_of(p.token)] for p in posts.get(number, [])],
                    # attempt, trigger, status, created, not_before, started, worker
                    "runs": runs.get(number, []),
                }
                out.write(json.dumps(line) + "\n")
        kills = [[k.at, k.replica, k.running_runs, k.posts_in_flight] for k in self.kills]
        with path.open("a") as out:
            out.write(json.dumps({"kills": kills, "outage": self.outage_window}) + "\n")

    def _log_figures(self) -> dict[str, int]:
        lines = tracebacks = size = 0
        for replica in self.replicas:
            if not replica.log_path.exists():
                continue
            data = replica.log_path.read_bytes()
            size += len(data)
            lines += data.count(b"\n")
            tracebacks += data.count(b"Traceback (most recent call last)")
        return {"lines": lines, "tracebacks": tracebacks, "bytes": size}


async def run_replicas_bench(options: Options, progress: Progress | None = None) -> dict[str, Any]:
    """Run the scenario once and return its figures (a JSON-able dict)."""
    return await Bench(options, progress or (lambda _m: None)).run()


def _aware(value: datetime) -> datetime:
    """A timestamp read back from the database, in UTC when it came without a zone."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _stamp(value: datetime | None) -> float | None:
    return None if value is None else _aware(value).timestamp()


def _pair(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    return float(low), float(high or low)


def parser(prog: str | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    d = Options()
    p.add_argument("--replicas", type=int, default=d.replicas)
    p.add_argument("--duration", type=float, default=d.duration, help="chaos phase, seconds")
    p.add_argument("--rate", type=float, default=d.rate, help="reminders per minute")
    p.add_argument("--kill-interval", type=float, default=d.kill_interval, help="0: no kills")
    p.add_argument("--latency", type=_pair, default=d.latency, help="seconds, e.g. 0.1-0.3")
    p.add_argument("--lead", type=_pair, default=d.lead, help="due after creation, e.g. 3-15")
    p.add_argument("--outside-share", type=float, default=d.outside_share)
    p.add_argument("--outage", type=float, default=d.outage, help="seconds; 0: no outage phase")
    p.add_argument("--outage-reminders", type=int, default=d.outage_reminders)
    p.add_argument("--drain", type=float, default=d.drain)
    p.add_argument(
        "--watch",
        type=float,
        default=d.watch,
        help="seconds to keep watching after the outage for late (lease-expiry) duplicates",
    )
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--pg-dsn", default=d.pg_dsn, help="maintenance database DSN")
    p.add_argument("--keep-logs", action="store_true", help="keep the replicas' log files")
    p.add_argument("--details", metavar="FILE", help="write one JSON line per reminder")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    return p


def main(argv: list[str] | None = None, *, prog: str | None = None) -> None:
    args = parser(prog).parse_args(argv)
    as_json = args.__dict__.pop("json")
    options = Options(**vars(args))
    progress: Progress = (lambda m: print(m, file=sys.stderr)) if not as_json else (lambda _m: None)
    figures = asyncio.run(run_replicas_bench(options, progress))
    print(json.dumps(figures) if as_json else render(figures))


if __name__ == "__main__":
    main()
