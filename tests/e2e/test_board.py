"""The board as a picture where SPEC §4.5 puts it: `/storm board`, the summaries of steps 3-8,
the final report, a digest of a day that changed the model, and the `png` and `svg` exports;
an upload that cannot go through is explained to whoever asked for it."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import timedelta

from PIL import Image

from bot.sandbox.fake_slack import Message, UploadedFile
from tests.conftest import MORNING
from tests.support.running import InProcess, text_of

NAMES = ["Order Placed", "Payment Received", "Order Shipped", "Place Order", "Order Status"]


def _model(storm: InProcess) -> None:
    storm.run("start Checkout")
    storm.run("event Order Placed; Payment Received; Order Shipped", user="U2")
    storm.run("command Place Order -> E1")
    storm.run("view Order Status <- E1, E3")


def _picture(upload: UploadedFile) -> Image.Image:
    image = Image.open(io.BytesIO(upload.content))
    image.load()  # the whole PNG decodes, not only its header
    return image


def _message_of(storm: InProcess, upload: UploadedFile) -> Message:
    return next(m for m in storm.posts() if m.ts == upload.message_ts)


def test_storm_board_uploads_a_png_with_alt_text_for_anyone_even_after_the_end(
    storm: InProcess,
) -> None:
    _model(storm)
    answer = storm.run("board", user="U3")
    assert "Drawing the board: it will appear in this channel" in answer
    storm.fake.wait_for(lambda f: len(f.files("C1")) == 1)
    (upload,) = storm.fake.files("C1")
    assert upload.filename == "board.png"
    image = _picture(upload)
    assert image.format == "PNG" and image.width > 0 and image.height > 0
    assert upload.alt_txt is not None
    for counted in ("3 events", "1 command", "1 view"):
        assert counted in upload.alt_txt, upload.alt_txt
    assert "Board requested by <@U3>" in text_of(_message_of(storm, upload))

    storm.run("end")
    storm.wait_until_sent()
    before = len(storm.fake.files("C1"))
    assert "Drawing the board" in storm.run("board", user="U2")
    storm.fake.wait_for(lambda f: len(f.files("C1")) == before + 1)
    assert "Board requested by <@U2>" in (storm.fake.files("C1")[-1].initial_comment or "")


def test_summaries_from_step_3_and_the_final_report_each_carry_the_board(
    storm: InProcess,
) -> None:
    _model(storm)
    storm.run("next")
    storm.run("next")
    storm.wait_for_post("Step 2 closed")
    storm.wait_until_sent()
    assert storm.fake.files("C1") == []  # steps 1 and 2 have only events to show

    storm.run("next")
    storm.wait_for_post("Step 3 closed")
    storm.fake.wait_for(lambda f: len(f.files("C1")) == 1)
    storm.wait_until_sent()
    top = [m for m in storm.posts() if not m.is_reply]
    firsts = [text_of(m).splitlines()[0] for m in top]
    summary = next(n for n, first in enumerate(firsts) if "Step 3 closed" in first)
    # The summary, its board right after it, then the next step's prompt.
    assert "The board after step 3, Track Causes" in firsts[summary + 1]
    assert top[summary + 1].files and top[summary + 1].files[0]["name"] == "board.png"
    assert firsts[summary + 2].startswith("Step 4 of 8")
    (upload,) = storm.fake.files("C1")
    assert "1 command" in (upload.alt_txt or "")
    _picture(upload)

    storm.run("end")
    storm.wait_for_post("Final report · Checkout")
    storm.fake.wait_for(lambda f: len(f.files("C1")) == 2)
    final = storm.fake.files("C1")[-1]
    assert "The board at the end of the workshop" in (final.initial_comment or "")
    assert _picture(final).width > 0


def test_a_digest_carries_the_board_when_the_model_changed_that_day(berlin: InProcess) -> None:
    berlin.run("start Checkout")
    berlin.run("event Order Placed; Payment Received", user="U2")
    berlin.wait_until_sent()
    berlin.clock.set(MORNING + timedelta(hours=2, seconds=1))  # 09:00 in Berlin
    digest = berlin.wait_for_post("Daily digest")[0]
    berlin.fake.wait_for(lambda f: len(f.files("C1")) == 1)
    (upload,) = berlin.fake.files("C1")
    assert float(upload.message_ts or 0) > float(digest.ts)
    assert "The board as it is today" in (upload.initial_comment or "")
    assert "2 events" in (upload.alt_txt or "")

    berlin.clock.advance(timedelta(days=1))  # a day without a change: the digest alone
    berlin.wait_for_post("Daily digest", count=2)
    berlin.wait_until_sent()
    assert len(berlin.fake.files("C1")) == 1


def test_export_png_and_svg_upload_the_board(storm: InProcess) -> None:
    _model(storm)
    assert "file will appear" in storm.run("export png")
    storm.fake.wait_for(lambda f: len(f.files("C1")) == 1)
    assert "file will appear" in storm.run("export svg")
    storm.fake.wait_for(lambda f: len(f.files("C1")) == 2)
    png, svg = storm.fake.files("C1")
    assert png.filename == "board.png" and _picture(png).width > 0
    assert "3 events" in (png.alt_txt or "")
    assert "Model export (png) requested by <@U1>" in (png.initial_comment or "")
    assert svg.filename == "board.svg"
    root = ET.fromstring(svg.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = [" ".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    for name in NAMES:
        assert sum(text == name for text in texts) == 1, (name, texts)


def test_an_upload_that_fails_once_is_tried_again(storm: InProcess) -> None:
    _model(storm)
    storm.wait_until_sent()
    storm.fake.fail("upload_url", status=500)
    storm.run("board", user="U2")
    storm.fake.wait_for(lambda f: len(f.files("C1")) == 1, timeout=15)
    storm.wait_until_sent()
    assert [c.error for c in storm.fake.calls_to("upload_url")] == ["internal_error", None]
    assert storm.fake.ephemerals("C1", "U2") == []


def test_a_board_that_cannot_be_uploaded_is_explained_to_whoever_asked(
    storm: InProcess,
) -> None:
    _model(storm)
    storm.wait_until_sent()
    storm.fake.fail("upload_url", status=500, times=10)
    storm.run("board", user="U2")
    storm.fake.wait_for(lambda f: len(f.ephemerals("C1", "U2")) == 1, timeout=15)
    assert "your board could not be posted" in storm.fake.ephemerals("C1", "U2")[0].text
    storm.fake.clear_faults()

    storm.fake.fail("files.getUploadURLExternal", error="file_uploads_disabled")
    storm.run("board", user="U3")
    storm.fake.wait_for(lambda f: len(f.ephemerals("C1", "U3")) == 1, timeout=15)
    note = storm.fake.ephemerals("C1", "U3")[0].text
    assert "your board could not be posted" in note and "file_uploads_disabled" in note
    storm.wait_until_sent()
    assert storm.fake.files("C1") == []
