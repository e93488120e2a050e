"""When posts go out: APScheduler wakes the sender at each post's due time.

The database is the source of truth for what is due (the outbox); APScheduler only holds one
date job per pending post, rebuilt from the database at start-up, after every change, when
the clock jumps, and every half minute (to pick up posts another instance scheduled). Missed
jobs are never dropped (`misfire_grace_time=None`): a post whose time passed while the bot was
down is sent at start-up, and the sender decides whether it is late or moot.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from bot.core.clock import Clock
from bot.slack.outbox import Outbox
from storage import repository as repo
from storage.unit_of_work import unit_of_work

log = logging.getLogger(__name__)
RECONCILE_SECONDS = 30


class PostScheduler:
    """Plans one APScheduler job per pending post and runs a sender that drains the outbox."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        outbox: Outbox,
        wakeup: threading.Event,
        *,
        poll_seconds: float | None = None,
        chores: tuple[Callable[[], None], ...] = (),
    ) -> None:
        """`poll_seconds`: also wake up that often, for work queued by other processes (the
        web workers, when this is the background worker); `chores` run on every wake-up,
        before the posts are sent."""
        self._engine = engine
        self._clock = clock
        self._outbox = outbox
        self._poll_seconds = poll_seconds
        self._chores = chores
        self._scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
        )
        self._wakeup = wakeup  # set by whoever queues a post; the sender waits on it
        self._stopping = threading.Event()
        self._sender = threading.Thread(target=self._send_loop, name="storm-sender", daemon=True)

    def start(self) -> None:
        self._scheduler.start()
        self._scheduler.add_job(
            self.wake, "interval", seconds=RECONCILE_SECONDS, id="reconcile", replace_existing=True
        )
        self._clock.on_jump(self.wake)
        self._sender.start()
        self.wake()

    def stop(self) -> None:
        self._stopping.set()
        self._wakeup.set()
        self._scheduler.shutdown(wait=False)
        self._sender.join(timeout=10)

    def wake(self) -> None:
        """Ask the sender to send what is due and re-plan what is not."""
        self._wakeup.set()

    def _send_loop(self) -> None:
        while not self._stopping.is_set():
            self._wakeup.wait(self._poll_seconds)
            self._wakeup.clear()
            if self._stopping.is_set():
                return
            try:
                for chore in self._chores:
                    chore()
                self._outbox.send_due()
                if not self._stopping.is_set():
                    self._plan()
            except Exception:  # the loop must survive a bad post or a database hiccup
                log.exception("sending due posts failed; will try again on the next wake-up")

    def _plan(self) -> None:
        """Make the scheduler's jobs match the pending posts in the database."""
        now = self._clock.now()
        # Posts due already are being sent (or will be on the next wake-up): plan the rest.
        with unit_of_work(self._engine, read_only=True) as session:
            future = repo.future_posts(session, now=now)
        wanted = {
            f"post-{post_id}": datetime.fromtimestamp(self._clock.to_monotonic(due_at), UTC)
            for post_id, due_at in future
        }
        planned = {job.id: job for job in self._scheduler.get_jobs() if job.id.startswith("post-")}
        for job_id, job in planned.items():
            if job_id not in wanted:
                with contextlib.suppress(JobLookupError):  # it may have just run
                    job.remove()
        for job_id, run_at in wanted.items():
            job = planned.get(job_id)
            if job is None or job.next_run_time != run_at:
                self._scheduler.add_job(
                    self.wake, "date", run_date=run_at, id=job_id, replace_existing=True
                )
