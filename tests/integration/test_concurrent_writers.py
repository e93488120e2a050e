"""Several processes, each with several threads, writing to one workshop at once: every
element still gets the next number of its kind and every event the next timeline position,
with no gap and no duplicate (on PostgreSQL writers queue on the workshop's row); and starts
typed at once in one channel make one workshop."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ThreadPoolExecutor

from sqlmodel import select

from bot.core.clock import ManualClock
from bot.core.grammar import parse
from bot.service.context import Actor
from bot.service.workshops import Workshops
from storage.migrate import ready_engine
from storage.tables import Workshop
from storage.unit_of_work import unit_of_work
from tests.integration.conftest import START, Driver, shown

PROCESSES = 3
THREADS = 4
LINES = 4  # per thread, each adding two events, or a command and a hotspot


def _write(url: str, process: int) -> list[str]:
    """One process's share: THREADS threads typing LINES lines each; the answers."""
    engine = ready_engine(url)
    service = Workshops(engine, ManualClock(START), wake=lambda: None)

    def typist(thread: int) -> list[str]:
        actor = Actor("T1", "C1", f"U{thread + 1}")
        answers = []
        for line in range(LINES):
            tag = f"{process}-{thread}-{line}"
            if line % 2:  # through the ORM's unit of work
                text = f"command Act {tag}"
                answers.append(shown(service.run(actor, parse(text))))
                text = f"hotspot Doubt {tag}"
            else:  # through capture's prepared statements
                text = f"event Happened {tag}; Followed {tag}"
            answers.append(shown(service.run(actor, parse(text))))
        return answers

    try:
        with ThreadPoolExecutor(THREADS) as pool:
            return [answer for answers in pool.map(typist, range(THREADS)) for answer in answers]
    finally:
        engine.dispose()


def test_writers_in_several_processes_number_one_workshop_without_gap_or_duplicate(
    driver: Driver, database_url: str
) -> None:
    driver.run("start Checkout")
    context = multiprocessing.get_context("spawn")
    with context.Pool(PROCESSES) as pool:
        answers = [
            a
            for done in pool.starmap(_write, [(database_url, p) for p in range(PROCESSES)])
            for a in done
        ]

    assert not [answer for answer in answers if "no_entry" in answer or "rror" in answer]
    elements = driver.elements()
    writers = PROCESSES * THREADS
    for letter, count in (
        ("E", writers * LINES),
        ("C", writers * LINES // 2),
        ("H", writers * LINES // 2),
    ):
        numbers = sorted(int(key[1:]) for key in elements if key.startswith(letter))
        assert numbers == list(range(1, count + 1)), letter
    timeline = driver.timeline()
    assert [elements[key].position for key in timeline] == list(range(1, len(timeline) + 1))
    # Each line's two events are next to each other, in the order typed.
    for key in timeline:
        name = elements[key].name
        if name.startswith("Happened"):
            following = timeline[timeline.index(key) + 1]
            assert elements[following].name == name.replace("Happened", "Followed")


def test_starts_typed_at_once_in_one_channel_make_one_workshop(
    service: Workshops, driver: Driver
) -> None:
    starters = [f"U{n}" for n in range(1, 9)]
    with ThreadPoolExecutor(len(starters)) as pool:
        answers = list(
            pool.map(
                lambda user: shown(service.run(Actor("T1", "C1", user), parse("start Checkout"))),
                starters,
            )
        )

    assert sum("started; you are its facilitator" in answer for answer in answers) == 1, answers
    assert sum("already has a workshop in progress" in answer for answer in answers) == 7
    with unit_of_work(driver.engine, read_only=True) as session:
        assert len(session.exec(select(Workshop)).all()) == 1
