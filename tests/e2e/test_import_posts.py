"""What the channel sees of an import (SPEC §7.1), through the real outbox and the fake Slack:
the new workshop's kickoff and one line saying who imported what, with the file's text shown,
never a mention. (The form, the shortcut and the sandbox's upload are the Slack adapter's and
are tested with it.)"""

from __future__ import annotations

from bot.service.importing import Importing, ImportRequest
from tests.support.running import CHANNEL, TEAM, InProcess, text_of
from tests.support.shared import SHARED


def test_the_channel_is_told_who_imported_what_in_one_line(storm: InProcess) -> None:
    data = (SHARED / "schemas" / "examples" / "cool-customer-demo.config.json").read_bytes()
    importing = Importing(storm.storm.engine, storm.clock, wake=lambda: None)
    outcome = importing.run(ImportRequest(TEAM, CHANNEL, "U1", data, "<!channel> customers.json"))
    assert outcome.status == "imported"
    storm.run("status")  # anything that wakes the sender; the server's worker polls on its own
    (line,) = storm.wait_for_post("imported")
    assert text_of(line) == (
        ":inbox_tray: <@U1> imported *&lt;!channel&gt; customers.json*: 2 events, 2 commands, "
        "1 view and 2 screens added to the workshop."
    )
    # The notification shows the fallback text, where a mention would read `<@U1>`.
    assert line.text == (
        "Imported &lt;!channel&gt; customers.json: 2 events, 2 commands, 1 view and 2 screens "
        "added to the workshop."
    )
    assert any("Cool Customer demo" in text_of(m) for m in storm.posts())  # the kickoff
    # No message per imported element: the one line is the import's.
    assert not any("Customer registered" in text_of(m) for m in storm.posts())
