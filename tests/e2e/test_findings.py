"""What a facilitator found trying Storm (issue 13), over signed HTTP: scenarios of the wrong
kinds, hotspots on names, order's separators, policy loops and :question: on Storm's posts."""

from __future__ import annotations

import pytest

from tests.support.running import InProcess, text_of


@pytest.fixture
def hotel(storm: InProcess) -> InProcess:
    storm.run("start Hotel")
    storm.run("event Room Booked; Guest Checked In; Guest Checked Out")
    storm.run("command Check In -> E2")
    storm.run("view Arrivals <- E2")
    return storm


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (
            "scenario X: given Room Booked then Guest Checked In",
            "*E2* Guest Checked In is an event, not a view. The then of a view scenario names "
            "a view.",
        ),
        (
            "scenario X: given Room Booked when Guest Checked In then E3",
            "*E2* Guest Checked In is an event, not a command. When names a command.",
        ),
        (
            "scenario X: given nothing when Arrivals then E2",
            "*V1* Arrivals is a view, not a command. When names a command.",
        ),
        (
            "scenario X: given Check In when C1 then E2",
            "*C1* Check In is a command, not an event. The given of a scenario lists events.",
        ),
        (
            "scenario X: given E1 when C1 then Arrivals",
            "*V1* Arrivals is a view, not an event. The then of a scenario lists events.",
        ),
        ("scenario X: given E1 then E3", "E3 is an event: the then of a view scenario names"),
        ("scenario X: given E1 when V1 then E2", "V1 is a view: when names a command"),
    ],
)
def test_scenarios_naming_the_wrong_kinds_are_refused_with_the_usage(
    hotel: InProcess, line: str, problem: str
) -> None:
    answer = hotel.run(line)
    assert problem in answer
    assert "Usage: `/storm scenario &lt;title&gt;: given" in answer
    assert hotel.export_json()["scenarios"] == []


def test_a_scenario_of_the_right_kinds_is_added_by_names(hotel: InProcess) -> None:
    hotel.run("command Guest Checked In -> E2")  # a command named like the event: no puzzle
    answer = hotel.run("scenario Arrive: given Room Booked when Check In then Guest Checked In")
    assert "Added scenario *S1* Arrive" in answer
    scenario = hotel.export_json()["scenarios"][0]
    assert (scenario["given"], scenario["when"], scenario["then"]) == (["E1"], "C1", ["E2"])


def test_a_hotspot_on_an_unquoted_name_is_attached_to_that_element(hotel: InProcess) -> None:
    answer = hotel.run("hotspot Can we check in early? on Guest Checked In")
    assert "Added hotspot *H1* Can we check in early? on *E2* Guest Checked In." in answer
    answer = hotel.run("hotspot Who rules on late arrivals on arrivals")  # the last `on` names V1
    assert "Added hotspot *H2* Who rules on late arrivals on *V1* Arrivals." in answer
    hotspots = {h["id"]: (h["text"], h["on"]) for h in hotel.export_json()["hotspots"]}
    assert hotspots == {
        "H1": ("Can we check in early?", "E2"),
        "H2": ("Who rules on late arrivals", "V1"),
    }


def test_a_hotspot_whose_text_names_no_element_says_it_is_not_attached(hotel: InProcess) -> None:
    answer = hotel.run("hotspot Can we check in early? on Guest Checkd In")
    assert "Added hotspot *H1* Can we check in early? on Guest Checkd In." in answer
    assert "Not attached to an element: Nothing is called “Guest Checkd In”." in answer
    assert "Did you mean E2 Guest Checked In" in answer
    assert hotel.export_json()["hotspots"][0]["on"] is None
    assert "Not attached" not in hotel.run("hotspot Is parking free?")


def test_order_by_names_without_commas_says_how_to_write_it(storm: InProcess) -> None:
    storm.run("start Library")
    storm.run("event Member Registered; Book Reserved; Book Lent")
    answer = storm.run("order Member Registered Book Reserved")
    assert "Nothing is called “Member”." in answer
    assert (
        "Names with spaces need commas between them: "
        "`/storm order Member Registered, Book Reserved`" in answer
    )
    answer = storm.run("order Book Registered Member")
    assert "Names with spaces need commas between them, like" in answer
    assert "Events with “Book” in their name: *E2* Book Reserved, *E3* Book Lent." in answer
    assert "commas" not in storm.run("order E2 E9")  # IDs need no commas
    assert "Timeline updated" in storm.run("order Book Reserved, Member Registered")
    assert [e["id"] for e in storm.export_json()["events"]] == ["E2", "E1", "E3"]


def test_a_policy_that_sets_off_its_own_event_is_pointed_out(hotel: InProcess) -> None:
    answer = hotel.run("policy Welcome again: Guest Checked In -> Check In")
    assert "Added policy *P1* Welcome again: whenever *E2* Guest Checked In" in answer
    assert (
        ":warning: This makes a loop: *E2* Guest Checked In → *C1* Check In → *E2* Guest Checked In."
        in answer
    )
    assert [p["id"] for p in hotel.export_json()["policies"]] == ["P1"]  # pointed out, not refused
    assert ":warning:" not in hotel.run("policy Clean up: Guest Checked Out -> Clean Room")


def test_a_cause_that_closes_a_loop_through_policies_is_pointed_out(hotel: InProcess) -> None:
    hotel.run("policy Bill: Guest Checked In -> Send Bill")  # C2
    assert ":warning:" not in hotel.run("command Send Bill -> Room Booked")
    answer = hotel.run("policy Confirm: Room Booked -> Check In")
    assert (
        "This makes a loop: *E1* Room Booked → *C1* Check In → *E2* Guest Checked In → "
        "*C2* Send Bill → *E1* Room Booked." in answer
    )
    # Links that close no new loop are not warned about again.
    assert ":warning:" not in hotel.run("command Check In -> Guest Checked Out")
    answer = hotel.run("command Confirm Stay -> Room Booked")
    assert ":warning:" not in answer
    hotel.run("policy Reconfirm: Guest Checked Out -> Confirm Stay")
    answer = hotel.run("command Confirm Stay -> Guest Checked Out")
    assert "This makes a loop: *C3* Confirm Stay → *E3* Guest Checked Out → *C3*" in answer


def test_a_question_on_storms_messages_asks_about_the_element_once(hotel: InProcess) -> None:
    element = hotel.wait_for_post("*E2* Guest Checked In")[0]
    hotel.slack.reaction_added("question", user="U3", channel="C1", ts=element.ts)
    hotspot = hotel.wait_for_post("*H1* Question about E2 Guest Checked In")[0]
    hotel.slack.reaction_added("question", user="U2", channel="C1", ts=hotspot.ts)
    hotel.fake.wait_for(lambda f: len(f.ephemerals("C1", "U2")) == 1)
    told = text_of(hotel.fake.ephemerals("C1", "U2")[0])
    assert "That message is hotspot *H1* Question about E2 Guest Checked In already" in told
    hotspots = hotel.export_json()["hotspots"]
    assert [(h["id"], h["text"], h["on"]) for h in hotspots] == [
        ("H1", "Question about E2 Guest Checked In", "E2")
    ]
