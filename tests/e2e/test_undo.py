"""`/storm undo` over signed HTTP: it reverts only its author's work, and never someone else's
that was built on it since (SPEC §3)."""

from __future__ import annotations

import pytest

from tests.support.running import InProcess

BOB, CAROL = "U2", "U3"


def events(storm: InProcess) -> dict[str, str]:
    return {e["id"]: e["name"] for e in storm.export_json()["events"]}


@pytest.fixture
def hotel(storm: InProcess) -> InProcess:
    storm.run("start Hotel")
    storm.run("event Room Booked")
    return storm


def test_undo_leaves_a_later_rename_by_someone_else_alone(hotel: InProcess) -> None:
    hotel.run("rename E1 Room Reserved", user=BOB)
    hotel.run("rename E1 Room Booking Confirmed", user=CAROL)
    answer = hotel.run("undo", user=BOB)
    assert "Nothing was undone" in answer
    assert "*E1* Room Booking Confirmed stays: <@U3> renamed it since." in answer
    assert events(hotel) == {"E1": "Room Booking Confirmed"}
    # Once carol takes her rename back, bob's own can go too.
    assert "Undone: Renamed" in hotel.run("undo", user=CAROL)
    assert "Undone: Renamed" in hotel.run("undo", user=BOB)
    assert events(hotel) == {"E1": "Room Booked"}


def test_undo_keeps_an_event_that_others_linked_and_gave_fields(hotel: InProcess) -> None:
    hotel.run("event Guest Arrived", user=BOB)
    hotel.run("command Register Arrival -> E2", user=CAROL)
    hotel.run("fields E2: guest id", user=CAROL)
    answer = hotel.run("undo", user=BOB)
    assert (
        "*E2* Guest Arrived stays: <@U3> linked *C1* Register Arrival to it and set its fields"
        " since." in answer
    )
    model = hotel.export_json()
    assert [e["id"] for e in model["events"]] == ["E1", "E2"]
    assert model["commands"][0]["causes"] == ["E2"]
    assert [f["name"] for f in model["events"][1]["fields"]] == ["guest id"]
    check = hotel.run("check")
    assert "command-no-event" not in check


def test_undo_keeps_what_others_voted_for_or_used_in_a_scenario(hotel: InProcess) -> None:
    hotel.run("event Guest Checked Out", user=BOB)
    hotel.run("vote E2", user=CAROL)
    assert "<@U3> voted for it since" in hotel.run("undo", user=BOB)
    hotel.run("undo", user=CAROL)
    hotel.run("command Check Out -> E2", user=BOB)  # bob's last change is now this one
    hotel.run("scenario Leaving: given E1 when C1 then E2", user=CAROL)
    answer = hotel.run("undo", user=BOB)
    assert "*C1* Check Out stays: <@U3> used it in scenario *S1* Leaving since." in answer
    assert [c["id"] for c in hotel.export_json()["commands"]] == ["C1"]


def test_a_vote_by_reaction_also_keeps_the_element(hotel: InProcess) -> None:
    hotel.run("event Key Handed Over", user=BOB)
    message = hotel.wait_for_post("*E2* Key Handed Over")[0]
    hotel.slack.reaction_added("+1", user=CAROL, channel="C1", ts=message.ts)
    hotel.fake.wait_for(lambda _: hotel.export_json()["events"][1]["votes"] == 1)
    assert "voted for it since" in hotel.run("undo", user=BOB)
    assert "E2" in events(hotel)


def test_undo_still_reverts_what_nobody_built_on(hotel: InProcess) -> None:
    hotel.run("event Guest Arrived", user=BOB)
    hotel.run("event Invoice Sent", user=CAROL)  # someone else's work elsewhere
    hotel.run("rename E1 Room Reserved", user=CAROL)
    assert "Undone: added *E2* Guest Arrived" in hotel.run("undo", user=BOB)
    assert events(hotel) == {"E1": "Room Reserved", "E3": "Invoice Sent"}


def test_undo_keeps_what_a_facilitator_merged_or_someone_asked_about(hotel: InProcess) -> None:
    hotel.run("event Room Was Booked", user=BOB)
    hotel.run("merge E2 into E1")  # alice, the facilitator
    answer = hotel.run("undo", user=BOB)
    assert "*E2* Room Was Booked stays: <@U1> merged it into *E1* Room Booked since." in answer
    hotel.run("undo")
    hotel.run("hotspot Paid already? on E2", user=CAROL)
    answer = hotel.run("undo", user=BOB)
    assert "*E2* Room Was Booked stays: <@U3> put *H1* Paid already? on it since." in answer
