"""FakeSlack driven by the real ``slack_sdk.WebClient`` over HTTP.

These tests pin the fake to Slack's documented behaviour, so end-to-end tests built on it
prove something about the real service.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.sandbox.fake_slack import Call, FakeSlack, validate_blocks

TOKEN = "xoxb-test-token"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(TOKEN, users={"U1": {"name": "ada", "real_name": "Ada Lovelace"}}) as f:
        yield f


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token=TOKEN, base_url=fake.api_url, timeout=5)


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def api_error(excinfo: pytest.ExceptionInfo[SlackApiError]) -> str:
    return str(excinfo.value.response["error"])


# --- lifecycle & auth -------------------------------------------------------------------------
def test_urls_point_at_loopback_and_stop_releases_the_port() -> None:
    fake = FakeSlack().start()
    try:
        assert fake.base_url.startswith("http://127.0.0.1:")
        assert fake.base_url.endswith("/")
        assert fake.api_url == fake.base_url + "api/"
    finally:
        fake.stop()
    with pytest.raises(RuntimeError):
        _ = fake.base_url
    fake.stop()  # idempotent


def test_auth_test(client: WebClient, fake: FakeSlack) -> None:
    resp = client.auth_test()
    assert resp["ok"] is True
    assert resp["user_id"] == "U0BOT"
    assert resp["team_id"] == "T0001"
    assert resp["bot_id"] == fake.bot_id
    assert {"url", "team", "user"} <= set(resp.data)


def test_wrong_token_is_invalid_auth_and_recorded(fake: FakeSlack) -> None:
    bad = WebClient(token="xoxb-wrong", base_url=fake.api_url)
    with pytest.raises(SlackApiError) as excinfo:
        bad.chat_postMessage(channel="C1", text="hi")
    assert api_error(excinfo) == "invalid_auth"
    assert fake.messages("C1") == []
    assert fake.calls_to("chat.postMessage")[0].error == "invalid_auth"


def test_token_may_come_as_form_param_and_blocks_as_json_string(fake: FakeSlack) -> None:
    body = urllib.parse.urlencode(
        {"token": TOKEN, "channel": "C9", "blocks": json.dumps([section("from a form")])}
    ).encode()
    req = urllib.request.Request(fake.api_url + "chat.postMessage", data=body, method="POST")
    with urllib.request.urlopen(req, timeout=5) as resp:
        payload = json.loads(resp.read())
    assert payload["ok"] is True
    [msg] = fake.messages("C9")
    assert msg.blocks == [section("from a form")]
    assert "token" not in fake.calls_to("chat.postMessage")[0].params


def test_unknown_method(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.api_call("chat.teleport", json={"channel": "C1"})
    assert api_error(excinfo) == "unknown_method"


# --- posting ----------------------------------------------------------------------------------
def test_post_message_response_shape_and_state(client: WebClient, fake: FakeSlack) -> None:
    resp = client.chat_postMessage(channel="C1", text="hello", blocks=[section("*hello*")])
    assert resp["channel"] == "C1"
    assert resp["message"]["ts"] == resp["ts"]
    assert resp["message"]["text"] == "hello"
    assert resp["message"]["user"] == "U0BOT"
    assert resp["message"]["bot_id"] == fake.bot_id
    [msg] = fake.messages("C1")
    assert (msg.ts, msg.text, msg.user, msg.blocks) == (
        resp["ts"],
        "hello",
        "U0BOT",
        [section("*hello*")],
    )
    assert fake.calls_to("chat.postMessage")[0].params["blocks"] == [section("*hello*")]


def test_ts_is_slack_shaped_and_strictly_increasing(client: WebClient, fake: FakeSlack) -> None:
    fake.post_user_message("C1", "U1", "first")
    tss = [client.chat_postMessage(channel="C1", text=str(i))["ts"] for i in range(5)]
    all_ts = [m.ts for m in fake.messages("C1")]
    assert all_ts == sorted(all_ts, key=float) and len(set(all_ts)) == 6
    for ts in tss:
        seconds, micros = ts.split(".")
        assert len(seconds) == 10 and len(micros) == 6


def test_thread_replies_and_reply_ts_normalised_to_parent(
    client: WebClient, fake: FakeSlack
) -> None:
    parent = fake.post_user_message("C1", "U1", "question")
    r1 = client.chat_postMessage(channel="C1", text="answer", thread_ts=parent.ts)
    # Posting with a reply's ts lands in the same thread, as in Slack.
    r2 = client.chat_postMessage(channel="C1", text="more", thread_ts=r1["ts"])
    assert r2["message"]["thread_ts"] == parent.ts
    thread = fake.thread("C1", parent.ts)
    assert [m.text for m in thread] == ["question", "answer", "more"]
    assert fake.thread("C1", r1["ts"]) == thread
    # Replies do not show up in history; the parent carries thread stats.
    history = client.conversations_history(channel="C1")["messages"]
    assert [m["text"] for m in history] == ["question"]
    assert history[0]["reply_count"] == 2
    assert history[0]["latest_reply"] == r2["ts"]
    assert history[0]["thread_ts"] == parent.ts


def test_reply_broadcast_shows_in_history(client: WebClient, fake: FakeSlack) -> None:
    parent = client.chat_postMessage(channel="C1", text="p")
    client.chat_postMessage(channel="C1", text="b", thread_ts=parent["ts"], reply_broadcast=True)
    history = client.conversations_history(channel="C1")["messages"]
    assert [m["text"] for m in history] == ["b", "p"]
    assert history[0]["subtype"] == "thread_broadcast"


def test_ephemeral(client: WebClient, fake: FakeSlack) -> None:
    resp = client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    assert resp["ok"] is True and "message_ts" in resp.data
    assert fake.messages("C1") == []
    [eph] = fake.ephemerals("C1", user="U1")
    assert (eph.text, eph.ephemeral_to, eph.ts) == ("only you", "U1", resp["message_ts"])
    assert fake.messages("C1", include_ephemeral=True) == [eph]
    assert fake.ephemerals(user="U2") == []
    assert client.conversations_history(channel="C1")["messages"] == []


def test_ephemeral_to_user_outside_channel(client: WebClient, fake: FakeSlack) -> None:
    fake.set_channel_members("C1", ["U1"])
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postEphemeral(channel="C1", user="U2", text="x")
    assert api_error(excinfo) == "user_not_in_channel"


def test_update_and_delete(client: WebClient, fake: FakeSlack) -> None:
    ts = client.chat_postMessage(channel="C1", text="v1", blocks=[section("v1")])["ts"]
    resp = client.chat_update(channel="C1", ts=ts, text="v2")
    assert (resp["channel"], resp["ts"], resp["text"]) == ("C1", ts, "v2")
    msg = fake.messages("C1")[0]
    assert msg.text == "v2" and msg.blocks == [section("v1")]  # blocks kept when omitted
    client.chat_update(channel="C1", ts=ts, text="v3", blocks=[])
    assert fake.messages("C1")[0].blocks is None
    assert client.chat_delete(channel="C1", ts=ts)["ts"] == ts
    assert fake.messages("C1") == []
    assert [m.text for m in fake.deleted("C1")] == ["v3"]
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_update(channel="C1", ts=ts, text="gone")
    assert api_error(excinfo) == "message_not_found"


def test_update_keeps_metadata_unless_given_and_validates_like_a_post(
    client: WebClient, fake: FakeSlack
) -> None:
    metadata = {"event_type": "storm_element", "event_payload": {"element": "E1"}}
    ts = client.chat_postMessage(channel="C1", text="v1", metadata=metadata)["ts"]
    client.chat_update(channel="C1", ts=ts, text="v2")
    assert fake.messages("C1")[0].metadata == metadata
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_update(channel="C1", ts=ts, text="v2", blocks=[{"type": "section"}])
    assert api_error(excinfo) == "invalid_blocks"
    with pytest.raises(SlackApiError) as excinfo, pytest.warns(UserWarning, match="`text`"):
        client.chat_update(channel="C1", ts=ts, text="")
    assert api_error(excinfo) == "no_text"
    assert fake.messages("C1")[0].text == "v2"  # a refused update changes nothing
    client.chat_update(channel="C1", ts=ts, text="v3", metadata={})
    assert fake.messages("C1")[0].metadata is None


def test_cannot_edit_or_delete_a_human_message(client: WebClient, fake: FakeSlack) -> None:
    human = fake.post_user_message("C1", "U1", "mine")
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_update(channel="C1", ts=human.ts, text="yours")
    assert api_error(excinfo) == "cant_update_message"
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_delete(channel="C1", ts=human.ts)
    assert api_error(excinfo) == "cant_delete_message"


def test_deleting_a_parent_leaves_a_tombstone(client: WebClient, fake: FakeSlack) -> None:
    ts = client.chat_postMessage(channel="C1", text="parent")["ts"]
    client.chat_postMessage(channel="C1", text="reply", thread_ts=ts)
    client.chat_delete(channel="C1", ts=ts)
    [parent, reply] = fake.thread("C1", ts)
    assert parent.subtype == "tombstone" and reply.text == "reply"


# --- reading ----------------------------------------------------------------------------------
def test_history_latest_inclusive_limit(client: WebClient, fake: FakeSlack) -> None:
    a, b, c = (fake.post_user_message("C1", "U1", t) for t in "abc")
    latest_inclusive = client.conversations_history(
        channel="C1", latest=b.ts, inclusive=True, limit=1
    )
    assert [m["text"] for m in latest_inclusive["messages"]] == ["b"]
    assert latest_inclusive["has_more"] is True
    exclusive = client.conversations_history(channel="C1", latest=b.ts, limit=1)
    assert [m["ts"] for m in exclusive["messages"]] == [a.ts]
    everything = client.conversations_history(channel="C1")
    assert [m["text"] for m in everything["messages"]] == ["c", "b", "a"]  # newest first
    assert everything["has_more"] is False
    assert everything["response_metadata"]["next_cursor"] == ""
    oldest = client.conversations_history(channel="C1", oldest=a.ts)
    assert [m["ts"] for m in oldest["messages"]] == [c.ts, b.ts]


def test_history_pagination(client: WebClient, fake: FakeSlack) -> None:
    for i in range(5):
        fake.post_user_message("C1", "U1", f"m{i}")
    seen: list[str] = []
    cursor = None
    while True:
        page = client.conversations_history(channel="C1", limit=2, cursor=cursor)
        seen += [m["text"] for m in page["messages"]]
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            assert page["has_more"] is False
            break
    assert seen == ["m4", "m3", "m2", "m1", "m0"]


def test_replies_by_parent_or_reply_ts(client: WebClient, fake: FakeSlack) -> None:
    parent = fake.post_user_message("C1", "U1", "root")
    r1 = fake.post_user_message("C1", "U2", "one", thread_ts=parent.ts)
    client.chat_postMessage(channel="C1", text="two", thread_ts=parent.ts)
    client.chat_postEphemeral(channel="C1", user="U1", text="psst", thread_ts=parent.ts)
    by_reply = client.conversations_replies(channel="C1", ts=r1.ts)["messages"]
    by_parent = client.conversations_replies(channel="C1", ts=parent.ts)["messages"]
    assert [m["text"] for m in by_reply] == ["root", "one", "two"]
    assert by_reply == by_parent
    assert by_reply[1]["parent_user_id"] == "U1"
    lonely = fake.post_user_message("C1", "U1", "alone")
    alone = client.conversations_replies(channel="C1", ts=lonely.ts)["messages"]
    assert [m["text"] for m in alone] == ["alone"]
    with pytest.raises(SlackApiError) as excinfo:
        client.conversations_replies(channel="C1", ts="1.000001")
    assert api_error(excinfo) == "thread_not_found"


def test_users_info(client: WebClient, fake: FakeSlack) -> None:
    fake.add_user("U2", "grace", real_name="Grace Hopper", tz="America/New_York")
    user = client.users_info(user="U2")["user"]
    assert (user["id"], user["name"], user["real_name"]) == ("U2", "grace", "Grace Hopper")
    assert user["tz"] == "America/New_York"
    assert user["tz_offset"] in (-5 * 3600, -4 * 3600)
    assert user["is_bot"] is False
    assert user["profile"]["real_name"] == "Grace Hopper"
    assert "display_name" in user["profile"]
    assert client.users_info(user="U0BOT")["user"]["is_bot"] is True
    with pytest.raises(SlackApiError) as excinfo:
        client.users_info(user="UNOBODY")
    assert api_error(excinfo) == "user_not_found"


def test_members(client: WebClient, fake: FakeSlack) -> None:
    fake.post_user_message("C1", "U2", "hi")
    fake.post_user_message("C1", "U1", "hi")
    fake.post_user_message("C1", "U2", "again")
    client.chat_postMessage(channel="C1", text="bot")
    assert client.conversations_members(channel="C1")["members"] == ["U2", "U1"]
    fake.set_channel_members("C1", ["U1", "U2", "U3"])
    first = client.conversations_members(channel="C1", limit=2)
    assert first["members"] == ["U1", "U2"]
    rest = client.conversations_members(
        channel="C1", limit=2, cursor=first["response_metadata"]["next_cursor"]
    )
    assert rest["members"] == ["U3"] and rest["response_metadata"]["next_cursor"] == ""


# --- files ------------------------------------------------------------------------------------
def test_files_upload_v2_round_trip(client: WebClient, fake: FakeSlack) -> None:
    parent = client.chat_postMessage(channel="C1", text="board")["ts"]
    resp = client.files_upload_v2(
        channel="C1",
        content="# Timeline\nOrderPlaced\n",
        filename="timeline.md",
        title="Timeline",
        initial_comment="Here is the board",
        thread_ts=parent,
    )
    assert resp["file"]["title"] == "Timeline"
    assert [c.method for c in fake.calls[-3:]] == [
        "files.getUploadURLExternal",
        "upload_url",
        "files.completeUploadExternal",
    ]
    [uploaded] = fake.files("C1")
    assert uploaded.content == b"# Timeline\nOrderPlaced\n"
    assert (uploaded.filename, uploaded.title, uploaded.thread_ts) == (
        "timeline.md",
        "Timeline",
        parent,
    )
    assert uploaded.initial_comment == "Here is the board"
    [_, file_msg] = fake.thread("C1", parent)
    assert file_msg.text == "Here is the board"
    assert file_msg.files[0]["id"] == uploaded.id
    # The bytes are downloadable from url_private with the bot token, as in Slack.
    req = urllib.request.Request(
        resp["file"]["url_private"], headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with urllib.request.urlopen(req, timeout=5) as download:
        assert download.read() == uploaded.content


def test_file_without_channel_is_private(client: WebClient, fake: FakeSlack) -> None:
    client.files_upload_v2(content=b"\x00\x01", filename="blob.bin")
    [f] = fake.files()
    assert f.channel is None and f.title == "blob.bin" and f.content == b"\x00\x01"
    assert fake.channels() == []


# --- limits -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"text": "x", "blocks": [section("b")] * 51}, "invalid_blocks"),
        ({"text": "x", "blocks": [section("s" * 3001)]}, "invalid_blocks"),
        (
            {
                "text": "x",
                "blocks": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}],
            },
            "invalid_blocks",
        ),
        (
            {
                "text": "x",
                "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
            },
            "invalid_blocks",
        ),
        (
            {
                "text": "x",
                "blocks": [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
            },
            "invalid_blocks",
        ),
        ({"text": "t" * 40_001}, "msg_too_long"),
        ({"text": ""}, "no_text"),
    ],
    ids=[
        "51-blocks",
        "section-3001",
        "field-2001",
        "header-151",
        "context-11",
        "text-40001",
        "none",
    ],
)
@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning")
def test_limits_are_enforced_everywhere(
    client: WebClient, fake: FakeSlack, kwargs: dict, error: str
) -> None:
    ts = client.chat_postMessage(channel="C1", text="ok")["ts"]
    attempts = {
        "chat.postMessage": lambda: client.chat_postMessage(channel="C1", **kwargs),
        "chat.postEphemeral": lambda: client.chat_postEphemeral(channel="C1", user="U1", **kwargs),
        "chat.update": lambda: client.chat_update(channel="C1", ts=ts, **kwargs),
    }
    for method, attempt in attempts.items():
        with pytest.raises(SlackApiError) as excinfo:
            attempt()
        assert api_error(excinfo) == error, method
        assert fake.calls_to(method)[-1].error == error
    respond = Respond(response_url=fake.response_url(channel="C1", user="U1"))
    result = respond(**kwargs)
    assert result.status_code == 400 and result.body == error
    assert fake.calls_to("response_url")[-1].error == error
    assert [m.text for m in fake.messages("C1", include_ephemeral=True)] == ["ok"]


def test_limits_at_the_boundary_pass(client: WebClient, fake: FakeSlack) -> None:
    blocks = [section("s" * 3000)] * 49 + [
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 150}}
    ]
    client.chat_postMessage(channel="C1", text="t" * 40_000, blocks=blocks)
    context = {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 10}
    fields = {"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2000}] * 10}
    client.chat_postMessage(channel="C1", text="fallback", blocks=[context, fields])
    assert [c.error for c in fake.calls_to("chat.postMessage")] == [None, None]
    longest, widest = fake.messages("C1")
    assert longest.text == "t" * 40_000 and longest.blocks == blocks  # kept whole, not cut
    assert widest.text == "fallback" and widest.blocks == [context, fields]


def test_invalid_blocks_reports_where(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel="C1", text="x", blocks=[section("ok"), section("")])
    assert excinfo.value.response["errors"] == [
        "must be more than 0 characters [json-pointer:/blocks/1/text/text]"
    ]


def test_validate_blocks_without_a_server() -> None:
    assert validate_blocks([section("fine"), {"type": "divider"}]) == []
    assert validate_blocks([{"type": "bogus"}]) == [
        "unsupported type: bogus [json-pointer:/blocks/0/type]"
    ]


# --- faults -----------------------------------------------------------------------------------
def test_rate_limit_is_retried_by_slack_sdk(fake: FakeSlack) -> None:
    client = WebClient(token=TOKEN, base_url=fake.api_url)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    fake.fail("chat.postMessage", status=429, retry_after=1)
    started = time.monotonic()
    client.chat_postMessage(channel="C1", text="eventually")
    assert time.monotonic() - started >= 1.0
    assert [c.error for c in fake.calls_to("chat.postMessage")] == ["ratelimited", None]
    assert [m.text for m in fake.messages("C1")] == ["eventually"]


def test_rate_limit_without_retry_handler_raises(client: WebClient, fake: FakeSlack) -> None:
    fake.fail("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel="C1", text="x")
    assert excinfo.value.response.status_code == 429
    assert excinfo.value.response.headers["Retry-After"] == "7"
    assert api_error(excinfo) == "ratelimited"


def test_error_times_and_server_errors(client: WebClient, fake: FakeSlack) -> None:
    fake.fail("chat.postMessage", error="fatal_error", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as excinfo:
            client.chat_postMessage(channel="C1", text="x")
        assert api_error(excinfo) == "fatal_error"
    client.chat_postMessage(channel="C1", text="third time lucky")
    fake.fail("users.info", status=503)
    with pytest.raises(SlackApiError) as excinfo:
        client.users_info(user="U1")
    assert excinfo.value.response.status_code == 503
    assert [m.text for m in fake.messages("C1")] == ["third time lucky"]


def test_raw_body_and_delay(client: WebClient, fake: FakeSlack) -> None:
    fake.fail("auth.test", status=502, body="<html>Bad Gateway</html>")
    with pytest.raises(SlackApiError) as excinfo:
        client.auth_test()
    assert excinfo.value.response.status_code == 502
    fake.fail("auth.test", delay=0.3)
    started = time.monotonic()
    assert client.auth_test()["ok"] is True
    assert time.monotonic() - started >= 0.3


def test_archived_and_removed_channels(client: WebClient, fake: FakeSlack) -> None:
    fake.post_user_message("C1", "U1", "before")
    fake.archive_channel("C1")
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel="C1", text="x")
    assert api_error(excinfo) == "is_archived"
    assert len(client.conversations_history(channel="C1")["messages"]) == 1
    fake.remove_channel("C2")
    for call in (
        lambda: client.chat_postMessage(channel="C2", text="x"),
        lambda: client.conversations_history(channel="C2"),
    ):
        with pytest.raises(SlackApiError) as excinfo:
            call()
        assert api_error(excinfo) == "channel_not_found"


# --- response_url -----------------------------------------------------------------------------
def test_response_url_ephemeral_and_in_channel(fake: FakeSlack) -> None:
    url = fake.response_url(channel="C1", user="U1")
    assert url.startswith(fake.base_url + "response/")
    respond = Respond(response_url=url)
    assert respond(text="just you").status_code == 200
    respond(text="everyone", response_type="in_channel", blocks=[section("everyone")])
    [call1, call2] = fake.calls_to("response_url")
    assert call1.params["text"] == "just you"
    assert call2.params["response_type"] == "in_channel"
    [eph] = fake.ephemerals("C1", user="U1")
    assert eph.text == "just you"
    [msg] = fake.messages("C1")
    assert msg.text == "everyone" and msg.user == "U0BOT" and msg.blocks == [section("everyone")]


def test_response_url_replace_and_delete_original(client: WebClient, fake: FakeSlack) -> None:
    ts = client.chat_postMessage(channel="C1", text="original")["ts"]
    respond = Respond(response_url=fake.response_url(channel="C1", user="U1", message_ts=ts))
    respond(text="replaced", replace_original=True)
    assert [m.text for m in fake.messages("C1")] == ["replaced"]
    respond(delete_original=True)
    assert fake.messages("C1") == []


def test_response_url_use_limit(fake: FakeSlack) -> None:
    respond = Respond(response_url=fake.response_url())
    statuses = [respond(text=str(i)).status_code for i in range(6)]
    assert statuses == [200] * 5 + [404]
    assert fake.calls_to("response_url")[-1].error == "used_url"


# --- waiting ----------------------------------------------------------------------------------
def test_wait_for_and_timeout_dump(client: WebClient, fake: FakeSlack) -> None:
    client.chat_postMessage(channel="C1", text="hello there")
    fake.wait_for(lambda f: f.messages("C1")[0].text == "hello there")
    calls = fake.wait_for_calls("chat.postMessage", 1)
    assert isinstance(calls[0], Call) and calls[0].params["channel"] == "C1"
    with pytest.raises(AssertionError) as excinfo:
        fake.wait_for(lambda f: f.messages("C2")[0].text == "never", timeout=0.1)
    message = str(excinfo.value)
    assert "IndexError" in message and "chat.postMessage" in message and "hello there" in message


def test_subscribe_and_reset(client: WebClient, fake: FakeSlack) -> None:
    seen: list[str] = []
    unsubscribe = fake.subscribe(lambda call: seen.append(call.method))
    client.auth_test()
    unsubscribe()
    client.auth_test()
    assert seen == ["auth.test"]
    fake.reset_calls()
    assert fake.calls == []
