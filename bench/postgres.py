"""Storm on PostgreSQL: one instance against the bare app, two instances on one database, and
posts falling due together on three.

Everything runs on the PostgreSQL server at 127.0.0.1:5432 (user `postgres`, trust), in
databases this run creates and drops. Storm is started as production starts it (`python -m
bot serve`, `bench.serving.Served`) with `DATABASE_URL=postgresql+psycopg://…`; the bare app
(`bench/bare.py`) writes its row to a PostgreSQL database of its own on the same server.

- Speed: `/storm event` at 50 concurrent connections (wrk, `bench/slack.lua`), each round one
  run against one Storm instance, one against the bare app, and one against two Storm
  instances on the same database, the connections split between them (one wrk thread per
  instance; the percentiles are of all requests together). On two cores two instances cannot
  be faster than one: the figures show what sharing one database costs, not scaling.
- Scheduled posts: three Storm instances on one database, workshops started in their
  channels through them, then posts queued with the app's own storage API
  (`storage.repository.schedule_post`), all due at the same second: the channel's `notice`
  kind, the line the outbox posts for an import, each carrying a number of its own in its
  text. The figure is how long after the due second the fake Slack (no post limit) took the
  last of them; each is looked for in every channel, by the post its metadata names (the
  outbox's `storm_post`) or else by its number, so one sent twice is seen.
"""

from __future__ import annotations

import math
import os
import secrets
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text

from bench import load
from bench.fake import BenchSlack
from bench.figures import median, spread
from bench.load import LoadResult
from bench.serving import Served, cpu_used
from bot.core.messages import Post
from bot.sandbox.fake_slack import Message
from bot.sandbox.slack_requests import SlackRequests

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
MAINTENANCE = f"{SERVER}/postgres"  # any existing database serves to create and drop ours
SIGNING_SECRET = "bench-signing-secret-0123456789"
BOT_TOKEN = "xoxb-bench-bot-token"
TEAM = "T0001"
USERS = [f"U{n}" for n in range(3000, 3050)]
EXPECT = "Added 1 event"
ONE, TWO, BARE = "storm", "storm x2", "bare"
SETUPS = (ONE, BARE, TWO)
POST_MARK = "Scheduled post"
POST_INSTANCES = 3
Goal = tuple[str, bool | None, str]  # (goal, met or None when not decided, the figure)


@dataclass(frozen=True)
class SpeedRun:
    """One load run: against one Storm instance, two sharing the database, or the bare app."""

    round: int
    setup: str
    connections: int
    load: LoadResult
    stored: int  # events in the run's workshop afterwards (bare: its rows)
    cpu_s: float  # the servers' CPU during the run (all their processes, not PostgreSQL's)
    settle_s: float

    @property
    def lost(self) -> int:
        return max(0, self.load.ok - self.stored) if not self.load.repeats else 0


@dataclass(frozen=True)
class PostsRound:
    """Posts falling due at the same second, sent by several instances."""

    posts: int
    workshops: int
    instances: int
    seeded_s: float  # how long queuing them took (they were due after that)
    first_s: float  # from the due second until the fake took the first of them
    median_s: float
    last_s: float  # ... the last of them (NaN when none came)
    missing: int  # never received within the timeout
    repeated: int  # received more than once
    statuses: dict[str, int]  # the outbox's rows afterwards, by status


@dataclass
class PostgresResult:
    not_run: str = ""  # why the part did not run (no server), in one line
    failed: str = ""  # why it stopped before the end, in one line (the figures so far stay)
    server: str = ""
    speed: list[SpeedRun] = field(default_factory=list)
    posts: list[PostsRound] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def progress(line: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)


# ---- the server and its databases -------------------------------------------------------


def unreachable() -> str | None:
    """Why the server cannot be used, in one line; None when it can."""
    engine = create_engine(MAINTENANCE, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure to connect is the reason to tell
        return f"PostgreSQL not reachable at 127.0.0.1:5432: {str(error).splitlines()[0]}"
    finally:
        engine.dispose()
    return None


def server_version() -> str:
    engine = create_engine(MAINTENANCE)
    try:
        with engine.connect() as connection:
            return str(connection.execute(text("SHOW server_version")).scalar())
    finally:
        engine.dispose()


@contextmanager
def database(purpose: str) -> Iterator[str]:
    """A new, empty database for as long as the block runs, then dropped with whatever is
    still connected to it; its URL."""
    name = f"storm_bench_{purpose}_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(MAINTENANCE, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield f"{SERVER}/{name}"
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _count(engine: Engine, sql: str, **params: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(sql), params).scalar() or 0)


def _storm(name: str, url: str, fake: BenchSlack, workers: int, work: Path) -> Served:
    """A Storm instance, started as the http part starts it, on the PostgreSQL database."""
    return Served(
        name,
        "bot",
        {
            "WEB_CONCURRENCY": str(workers),
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url,
            "DATABASE_URL": url,
        },
        workers,
        work / f"{name}.log",
        "/healthz",
    )


def _start_workshop(storm: Served, fake: BenchSlack, channel: str, people: list[str]) -> None:
    fake.set_channel_members(channel, [*people, fake.bot_user_id])
    slack = SlackRequests(storm.base_url, SIGNING_SECRET, team_id=TEAM)
    answer = slack.command(f"start Benchmark {channel}", user=people[0], channel=channel)
    if answer.status != 200 or "started" not in answer.body:
        raise RuntimeError(
            f"Storm ({storm.name}) did not start a workshop in {channel}: {answer.body[:300]}\n"
            f"{storm.log_tail(15)}"
        )


def _busy_posts(engine: Engine) -> int:
    """Posts due and not sent yet (pending or being sent)."""
    return _count(
        engine,
        "SELECT count(*) FROM scheduled_post WHERE status = 'sending' OR "
        "(status = 'pending' AND due_at <= :now)",
        now=datetime.now(UTC),
    )


def _wait(condition: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    """Whether `condition` held three times in a row within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline:
        quiet = quiet + 1 if condition() else 0
        if quiet >= 3:
            return True
        time.sleep(interval)
    return False


# ---- the whole part -------------------------------------------------------------------------


def run(
    work: Path,
    *,
    loadgen: str,
    rounds: int,
    seconds: float,
    connections: int,
    workers: int,
    posts: int,
    workshops: int,
    settle_posts: bool,
    settle_timeout: float,
    warmup: bool,
) -> PostgresResult:
    """Both measures, each on databases of its own; a failure is reported, not raised, so
    that the other parts' figures are still printed."""
    result = PostgresResult()
    why = unreachable()
    if why is not None:
        result.not_run = why
        return result
    result.server = server_version()
    work.mkdir(parents=True, exist_ok=True)
    try:
        progress(f"PostgreSQL: /storm event at {connections} concurrent, {rounds} round(s)")
        _Speed(
            result, work, loadgen, seconds, connections, workers, settle_posts, settle_timeout
        ).rounds(rounds, warmup=warmup)
        progress(f"PostgreSQL: {posts} posts due at the same second, {POST_INSTANCES} instances")
        result.posts = _scheduled(work, rounds, posts, workshops, workers, settle_timeout)
    except Exception as error:  # reported with the figures so far; the logs stay in `work`
        result.failed = f"{type(error).__name__}: {(str(error).splitlines() or [''])[0][:300]}"
        result.notes.append(f"the instances' logs are in {work}; the error:\n{str(error)[-3000:]}")
    return result


# ---- speed ------------------------------------------------------------------------------------


class _Speed:
    """One Storm instance, a second one started for its runs, and the bare app."""

    def __init__(
        self,
        result: PostgresResult,
        work: Path,
        loadgen: str,
        seconds: float,
        connections: int,
        workers: int,
        settle_posts: bool,
        settle_timeout: float,
    ) -> None:
        self.result = result
        self.work = work
        self.loadgen = loadgen
        self.seconds = seconds
        self.connections = connections
        self.workers = workers
        self.settle_posts = settle_posts
        self.settle_timeout = settle_timeout
        self.requests = load.Requests(SIGNING_SECRET, TEAM, seed=7)
        self.seen_rps: dict[str, float] = {}
        self.made = 0  # runs so far

    def rounds(self, rounds: int, *, warmup: bool) -> None:
        """`warmup`: an unrecorded run of two seconds at 10 connections against each server
        before its first recorded one (the second instance is started anew for each of its
        runs, so before each)."""
        with ExitStack() as stack:
            storm_url = stack.enter_context(database("storm"))
            bare_url = stack.enter_context(database("bare"))
            fake = BenchSlack(BOT_TOKEN, team_id=TEAM)
            fake.start()
            stack.callback(fake.stop)
            for user in USERS:
                fake.add_user(user, user.lower())
            first = _storm("pg-storm-1", storm_url, fake, self.workers, self.work).start()
            stack.callback(first.stop)
            bare = Served(
                "bare",
                "bench.bare",
                {
                    "WEB_CONCURRENCY": str(self.workers),
                    "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                    "DATABASE_URL": bare_url,
                },
                self.workers,
                self.work / "pg-bare.log",
                "/slack/events",
            ).start()
            stack.callback(bare.stop)
            engine = create_engine(storm_url, pool_size=1)
            stack.callback(engine.dispose)
            bare_engine = create_engine(bare_url, pool_size=1)
            stack.callback(bare_engine.dispose)
            if warmup:
                self._warm(fake, [first], engine, first)
                self._warm(fake, [bare], bare_engine, first)
                # What autovacuum does within a minute of a table's first rows, done now so
                # that every round is planned alike: before it, a new database plans
                # capture's look-up of similar names as a loop over every element of the
                # workshop (100 ms a capture at 300 elements, 0.1 ms after).
                for each in (engine, bare_engine):
                    with each.connect() as connection:
                        connection.execute(text("ANALYZE"))
                        connection.commit()
            for round_ in range(1, rounds + 1):
                # Which setup goes first turns with the rounds: this machine's speed drifts.
                turn = (round_ - 1) % len(SETUPS)
                for setup in SETUPS[turn:] + SETUPS[:turn]:
                    if setup == BARE:
                        run = self._run(round_, setup, fake, [bare], bare_engine, first)
                    elif setup == ONE:
                        run = self._run(round_, setup, fake, [first], engine, first)
                    else:
                        second = _storm("pg-storm-2", storm_url, fake, self.workers, self.work)
                        try:
                            second.start()
                            if warmup:
                                self._warm(fake, [second], engine, first)
                            run = self._run(round_, setup, fake, [first, second], engine, first)
                        finally:
                            second.stop()
                    self.result.speed.append(run)
                    progress(
                        f"PostgreSQL round {round_} {setup}: {run.load.rps:.0f} req/s, p50 "
                        f"{run.load.p50_ms:.1f} ms, p99 {run.load.p99_ms:.1f} ms, errors "
                        f"{run.load.failed}, stored {run.stored}/{run.load.ok}"
                    )

    def _warm(self, fake: BenchSlack, servers: list[Served], engine: Engine, first: Served) -> None:
        progress(f"PostgreSQL: warming up {servers[0].name}")
        self._run(0, "warm-up", fake, servers, engine, first, seconds=2.0, connections=10)

    def _run(
        self,
        round_: int,
        setup: str,
        fake: BenchSlack,
        servers: list[Served],
        engine: Engine,
        first: Served,
        *,
        seconds: float | None = None,
        connections: int | None = None,
    ) -> SpeedRun:
        """One run of `seconds` (default `--seconds`) at `connections` (default the part's)
        against `servers` together, in a new workshop started through `first`."""
        seconds = seconds or self.seconds
        connections = connections or self.connections
        self.made += 1
        channel = f"CPG{self.made:04d}"  # a workshop of its own (one per channel)
        is_storm = servers[0].module == "bot"
        if is_storm:
            _start_workshop(first, fake, channel, USERS)
            if self.settle_posts:  # the kickoff and what earlier runs queued, sent first
                _wait(lambda: _busy_posts(engine) == 0, self.settle_timeout)
        else:
            fake.set_channel_members(channel, [*USERS, fake.bot_user_id])
        # Enough requests that none is sent twice: twice the fastest rate seen for this setup.
        guess = max(self.seen_rps.get(setup, 0.0), 3_000.0)
        count = int(guess * 2 * seconds) + 200 + 20 * connections
        path = self.work / "pg-requests.txt"
        self.requests.write_signed(self.requests.commands(channel, USERS, count), path)
        before = {pid: s for server in servers for pid, s in server.cpu_seconds().items()}
        result = load.run(
            self.loadgen,
            servers[0].events_url,
            path,
            connections=connections,
            seconds=seconds,
            content_type=load.FORM,
            expect=EXPECT,
            shared_with=tuple(server.events_url for server in servers[1:]),
        )
        after = {pid: s for server in servers for pid, s in server.cpu_seconds().items()}
        started = time.monotonic()
        settled = not (is_storm and self.settle_posts) or _wait(
            lambda: _busy_posts(engine) == 0, self.settle_timeout
        )
        if not settled:
            self.result.notes.append(f"{channel}: Storm had not sent every post in time")
        settle = time.monotonic() - started
        if is_storm:
            stored = _count(
                engine,
                "SELECT count(*) FROM element e JOIN workshop w ON w.id = e.workshop_id "
                "WHERE w.channel_id = :c AND e.kind = 'event'",
                c=channel,
            )
        else:
            stored = _count(engine, "SELECT count(*) FROM hit WHERE channel_id = :c", c=channel)
        fake.forget_channel(channel)
        self.seen_rps[setup] = max(self.seen_rps.get(setup, 0.0), result.rps)
        return SpeedRun(
            round=round_,
            setup=setup,
            connections=connections,
            load=result,
            stored=stored,
            cpu_s=cpu_used(before, after),
            settle_s=settle,
        )


# ---- scheduled posts ------------------------------------------------------------------------


def _scheduled(
    work: Path, rounds: int, posts: int, workshops: int, workers: int, settle_timeout: float
) -> list[PostsRound]:
    """`rounds` times, `posts` posts spread over `workshops` workshops, all due at one second,
    sent by three instances on one database."""
    from storage import repository as repo
    from storage.db import make_engine
    from storage.unit_of_work import unit_of_work

    found: list[PostsRound] = []
    with ExitStack() as stack:
        url = stack.enter_context(database("posts"))
        fake = BenchSlack(BOT_TOKEN, team_id=TEAM)  # no post limit
        fake.start()
        stack.callback(fake.stop)
        for user in USERS:
            fake.add_user(user, user.lower())
        instances: list[Served] = []
        for n in range(1, POST_INSTANCES + 1):
            instance = _storm(f"pg-posts-{n}", url, fake, workers, work).start()
            stack.callback(instance.stop)
            instances.append(instance)
        engine = make_engine(url)
        stack.callback(engine.dispose)
        channels = [f"CPOST{n:04d}" for n in range(workshops)]
        for n, channel in enumerate(channels):
            _start_workshop(instances[n % len(instances)], fake, channel, USERS)
        if not _wait(lambda: _busy_posts(engine) == 0, settle_timeout):
            raise RuntimeError("the workshops' kickoff posts were not all sent")
        with engine.connect() as connection:
            ids: dict[str, int] = dict(
                connection.execute(
                    text("SELECT channel_id, id FROM workshop WHERE channel_id LIKE 'CPOST%'")
                ).all()
            )
        if sorted(ids) != channels:
            raise RuntimeError(f"{len(ids)} of {len(channels)} workshops were started")
        for round_ in range(1, rounds + 1):
            marks = [f"{POST_MARK} {round_}-{n:05d}" for n in range(posts)]
            # Due a whole second a few seconds ahead: after every post is queued.
            due = datetime.fromtimestamp(math.ceil(time.time() + 3 + posts / 500), UTC)
            posted_before = _posted(fake)
            seeding = time.monotonic()
            with unit_of_work(engine) as session:
                for n, mark in enumerate(marks):
                    body = Post(text=mark, sections=(f"*{mark}* of {posts}, due together",))
                    repo.schedule_post(
                        session,
                        workshop_id=ids[channels[n % len(channels)]],
                        kind="notice",
                        due_at=due,
                        payload={"text": body.text, "sections": list(body.sections)},
                    )
            seeded = time.monotonic() - seeding
            if time.time() >= due.timestamp():
                raise RuntimeError(f"queuing {posts} posts took past their due time")

            with engine.connect() as connection:
                named: dict[int, str] = {
                    int(post_id): str(payload["text"])
                    for post_id, payload in connection.execute(
                        text(
                            "SELECT id, payload FROM scheduled_post WHERE kind = 'notice' "
                            "AND due_at = :due"
                        ),
                        {"due": due},
                    )
                }

            # The fake answers the instances from this process: while they send, only its
            # count of posts is read (reading every channel's messages would hold its lock).
            deadline = due.timestamp() + max(30.0, posts / 10)
            while time.time() < deadline and not (
                _posted(fake) - posted_before >= posts
                and all(_received(fake, channels, marks, named).values())
            ):
                time.sleep(0.1)
            time.sleep(1.0)  # a copy sent a little later is still counted
            seen = _received(fake, channels, marks, named)
            with engine.connect() as connection:
                statuses: dict[str, int] = dict(
                    connection.execute(
                        text(
                            "SELECT status, count(*) FROM scheduled_post WHERE kind = 'notice' "
                            "AND due_at = :due GROUP BY status"
                        ),
                        {"due": due},
                    ).all()
                )
            arrived = sorted(min(float(m.ts) for m in ms) for ms in seen.values() if ms)
            start = due.timestamp()
            found.append(
                PostsRound(
                    posts=posts,
                    workshops=workshops,
                    instances=len(instances),
                    seeded_s=seeded,
                    first_s=arrived[0] - start if arrived else math.nan,
                    median_s=statistics.median(arrived) - start if arrived else math.nan,
                    last_s=arrived[-1] - start if arrived else math.nan,
                    missing=sum(not ms for ms in seen.values()),
                    repeated=sum(len(ms) > 1 for ms in seen.values()),
                    statuses={str(k): int(v) for k, v in statuses.items()},
                )
            )
            progress(f"PostgreSQL posts round {round_}: {found[-1]}")
    return found


def _received(
    fake: BenchSlack, channels: list[str], marks: list[str], named: dict[int, str]
) -> dict[str, list[Message]]:
    """Each post's messages, in every channel: by the post its metadata names (`storm_post`,
    when the outbox sets it; `named`: post id to number), else by the number in its text."""
    seen: dict[str, list[Message]] = {mark: [] for mark in marks}
    for channel in channels:
        for message in fake.messages(channel):
            mark = named.get(_post_named(message) or 0, message.text)
            if mark in seen:
                seen[mark].append(message)
    return seen


def _posted(fake: BenchSlack) -> int:
    """Messages the fake has taken so far (`chat.postMessage` answered ok)."""
    return fake.counts()[("chat.postMessage", None)]


def _post_named(message: Message) -> int | None:
    """The outbox's id of the post a message carries, when its metadata names one."""
    metadata = message.metadata or {}
    if metadata.get("event_type") != "storm_post":
        return None
    post = (metadata.get("event_payload") or {}).get("post")
    return int(post) if post is not None else None


# ---- the report -----------------------------------------------------------------------------


def _runs(result: PostgresResult, setup: str) -> list[SpeedRun]:
    return [r for r in result.speed if r.setup == setup]


def ratios(result: PostgresResult, setup: str) -> list[float]:
    """A setup's throughput over the bare app's, per round."""
    found = []
    for round_ in sorted({r.round for r in result.speed}):
        mine = [r for r in _runs(result, setup) if r.round == round_]
        bare = [r for r in _runs(result, BARE) if r.round == round_]
        if mine and bare and bare[0].load.rps:
            found.append(mine[0].load.rps / bare[0].load.rps)
    return found


def section(result: PostgresResult) -> list[str]:
    """Section 9 of the report."""
    out = [f"9. PostgreSQL {result.server}".rstrip()]
    if result.not_run:
        return [*out, f"  not run: {result.not_run}"]
    if result.speed:
        connections = result.speed[0].connections
        out += [
            f"  /storm event at {connections} concurrent, median of rounds [min-max]",
            f"  {'server':<22}{'req/s':>20}{'p50 ms':>22}{'p99 ms':>22}{'errors':>7}{'lost':>5}"
            f"{'CPU ms/req':>11}{'settle s':>10}",
        ]
        names = {ONE: "storm, one instance", TWO: "storm, two instances", BARE: "bare"}
        for setup in (ONE, TWO, BARE):
            runs = _runs(result, setup)
            if not runs:
                continue
            cpu = [r.cpu_s * 1000 / max(1, r.load.requests) for r in runs]
            out.append(
                f"  {names[setup]:<22}{spread([r.load.rps for r in runs]):>20}"
                f"{spread([r.load.p50_ms for r in runs], 1):>22}"
                f"{spread([r.load.p99_ms for r in runs], 1):>22}"
                f"{sum(r.load.failed for r in runs):>7}{sum(r.lost for r in runs):>5}"
                f"{median(cpu):>11.2f}{median([r.settle_s for r in runs]):>10.1f}"
            )
        for setup in (ONE, TWO):
            found = ratios(result, setup)
            if found:
                out.append(
                    f"  {names[setup]} / bare: {spread(found, 2)} (per round: "
                    + ", ".join(f"{r:.2f}" for r in found)
                    + ")"
                )
        out.append(
            "  two instances: the same database and workshop, the connections split between "
            "them; on 2 cores this shows what sharing costs, not scaling. CPU: the servers' "
            "processes during the run (PostgreSQL's own not counted); settle: seconds until "
            "Storm had sent every post the run caused (not waited for in --quick)."
        )
    if result.posts:
        first = result.posts[0]
        out += [
            f"  {first.posts:,} posts due at the same second in {first.workshops} workshops, "
            f"{first.instances} instances, fake Slack without a post limit; median of "
            f"{len(result.posts)} round(s) [min-max]",
            f"    the last one received, seconds after due:  "
            f"{spread([r.last_s for r in result.posts], 2)}",
            f"    the first one / the median one:            "
            f"{spread([r.first_s for r in result.posts], 2)} / "
            f"{spread([r.median_s for r in result.posts], 2)}",
            f"    queuing them took (s):                     "
            f"{spread([r.seeded_s for r in result.posts], 2)}",
            f"    never received: {sum(r.missing for r in result.posts)}; received more than "
            f"once: {sum(r.repeated for r in result.posts)}; the outbox's rows: "
            + ", ".join(
                f"{status} {count}"
                for status, count in sorted(
                    sum((Counter(r.statuses) for r in result.posts), Counter()).items()
                )
            ),
        ]
    if result.failed:
        out.append(f"  did not finish: {result.failed}")
    out += [f"  note: {line}" for note in result.notes for line in note.splitlines()[-12:]]
    return out


def goals(result: PostgresResult, ratio_goal: float, p99_goal: float) -> list[Goal]:
    """(goal, met, figure); None when not run (or not at the goal's size)."""
    ratio_name = f"PostgreSQL: /storm event throughput at 50 concurrent ≥ {ratio_goal}x bare"
    p99_name = f"PostgreSQL: /storm event p99 at 50 concurrent ≤ {p99_goal:.0f} ms"
    posts_name = (
        "PostgreSQL: 1,000 posts due at one second, three instances: all sent ≤ 10 s after, "
        "none twice"
    )
    whole_name = "PostgreSQL: zero errors, every acknowledged event stored (one and two instances)"
    # Not run for want of a server: not decided; stopped by an error: missed.
    stopped: bool | None = False if result.failed else None
    failed = "did not finish (section 9)" if result.failed else "not run (section 9)"
    found: list[Goal] = []
    one = _runs(result, ONE)
    at_50 = bool(one) and one[0].connections == 50
    ratio = median(ratios(result, ONE))
    found.append(
        (ratio_name, ratio >= ratio_goal if at_50 and ratio == ratio else None, f"{ratio:.2f}x")
        if one
        else (ratio_name, stopped, failed)
    )
    p99 = median([r.load.p99_ms for r in one])
    found.append(
        (p99_name, p99 <= p99_goal if at_50 else None, f"{p99:.1f} ms")
        if one
        else (p99_name, stopped, failed)
    )
    storm = [r for r in result.speed if r.setup != BARE]
    if storm:
        errors = sum(r.load.failed for r in storm)
        lost = sum(r.lost for r in storm)
        found.append((whole_name, errors == 0 and lost == 0, f"{errors} error(s), {lost} lost"))
    if result.posts:
        last = median([r.last_s for r in result.posts])
        whole = all(r.missing == 0 and r.repeated == 0 for r in result.posts)
        at_size = result.posts[0].posts == 1_000
        figure = f"{last:.2f} s" + (
            ""
            if whole
            else f" ({sum(r.missing for r in result.posts)} never sent, "
            f"{sum(r.repeated for r in result.posts)} sent twice)"
        )
        if not at_size:
            figure += f" (run with {result.posts[0].posts} posts)"
        met = last <= 10.0 and whole
        found.append((posts_name, met if at_size or not met else None, figure))
    else:
        found.append((posts_name, stopped, failed))
    return found
