"""FakeSlack driven by the real ``slack_sdk.WebClient`` over HTTP.

These tests pin the fake to Slack's documented behaviour, so end-to-end tests built on it
prove something about the real service.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.sandbox.fake_slack import Call, FakeSlack, PostLimit, validate_blocks

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


def test_a_person_shares_files_in_a_message_that_files_info_describes(
    client: WebClient, fake: FakeSlack
) -> None:
    said = fake.share_files("C1", "U1", [("a.txt", b"A"), ("model.json", b"{}")], text="ours")
    assert said.user == "U1" and said.text == "ours" and said.bot_id is None
    shown = fake.message_json("C1", said.ts)
    assert shown is not None and [f["name"] for f in shown["files"]] == ["a.txt", "model.json"]
    info = client.files_info(file=shown["files"][1]["id"])["file"]
    assert (info["name"], info["size"], info["user"], info["filetype"]) == (
        "model.json",
        2,
        "U1",
        "json",
    )
    assert info["shares"]["public"]["C1"][0]["ts"] == said.ts
    with pytest.raises(SlackApiError) as excinfo:
        client.files_info(file="F404")
    assert api_error(excinfo) == "file_not_found"
    with pytest.raises(ValueError, match="empty"):
        fake.share_file("C1", "U1", "empty.json", b"")


def test_a_file_is_downloaded_only_with_the_bot_token_and_each_download_is_recorded(
    fake: FakeSlack,
) -> None:
    said = fake.share_file("C1", "U1", "model.json", b'{"format": "storm-model/1"}')
    url = said.files[0]["url_private_download"]

    def get(token: str) -> tuple[int, bytes]:
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, b""

    assert get(TOKEN) == (200, b'{"format": "storm-model/1"}')
    assert get("xoxb-someone-else")[0] == 403
    fake.fail("file_download", status=500)
    assert get(TOKEN)[0] == 500
    assert [(c.method, c.error) for c in fake.calls] == [
        ("file_download", None),
        ("file_download", "not_authed"),
        ("file_download", "internal_error"),
    ]


def test_a_form_takes_files_up_to_slacks_limit_and_file_inputs_are_checked(
    client: WebClient, fake: FakeSlack
) -> None:
    uploaded = fake.upload_to_form("U1", "model.json", b"{}")
    assert uploaded["channels"] == [] and fake.file_json(uploaded["id"]) == uploaded
    with pytest.raises(ValueError, match="up to"):
        fake.upload_to_form("U1", "huge.json", b" " * (10 * 1024 * 1024 + 1))
    field = {
        "type": "input",
        "block_id": "file",
        "label": {"type": "plain_text", "text": "File"},
        "element": {"type": "file_input", "action_id": "v", "filetypes": "json", "max_files": 11},
    }
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "T"},
        "submit": {"type": "plain_text", "text": "Go"},
        "blocks": [field],
    }
    with pytest.raises(SlackApiError) as excinfo:
        client.views_open(trigger_id=fake.new_trigger("U1"), view=view)
    assert invalid_messages(excinfo) == [
        "[ERROR] must provide an array of strings [json-pointer:/view/blocks/0/element/filetypes]",
        "[ERROR] must be between 1 and 10 [json-pointer:/view/blocks/0/element/max_files]",
    ]
    field["element"] = {"type": "file_input", "action_id": "v", "filetypes": ["json"]}
    assert client.views_open(trigger_id=fake.new_trigger("U1"), view=view)["ok"]


def test_an_upload_keeps_its_alt_text_within_slacks_limit(
    client: WebClient, fake: FakeSlack
) -> None:
    picture = b"\x89PNG\r\n\x1a\n"
    client.files_upload_v2(
        channel="C1", content=picture, filename="board.png", alt_txt="A board of 3 events"
    )
    [uploaded] = fake.files("C1")
    assert (uploaded.content, uploaded.alt_txt) == (picture, "A board of 3 events")
    assert fake.messages("C1")[0].files[0]["alt_txt"] == "A board of 3 events"
    for alt, content, code in [
        ("x" * 1001, picture, "alt_txt_too_large"),
        ("a board", b"", "missing_argument"),  # Slack takes no empty file
    ]:
        with pytest.raises(SlackApiError) as refused:
            client.files_upload_v2(channel="C1", content=content, filename="b.png", alt_txt=alt)
        assert refused.value.response["error"] == code
    client.files_upload_v2(channel="C1", content=picture, filename="b.png", alt_txt="x" * 1000)
    assert len(fake.files("C1")) == 2


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


def test_the_post_limit_lets_a_burst_through_then_one_post_a_second_per_channel(
    client: WebClient, fake: FakeSlack
) -> None:
    fake.post_limit = PostLimit(per_second=1.0, burst=4)
    for n in range(4):
        client.chat_postMessage(channel="C1", text=f"burst {n}")
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel="C1", text="one too many")
    assert excinfo.value.response.status_code == 429
    assert excinfo.value.response.headers["Retry-After"] == "1"
    assert api_error(excinfo) == "ratelimited"
    with pytest.raises(SlackApiError) as excinfo:  # an update counts as a post too
        client.chat_update(channel="C1", ts=fake.messages("C1")[0].ts, text="edited")
    assert excinfo.value.response.status_code == 429
    client.chat_postMessage(channel="C2", text="another channel has its own limit")
    client.chat_postEphemeral(channel="C1", user="U1", text="ephemerals are not posts")
    time.sleep(1.05)
    client.chat_postMessage(channel="C1", text="after the wait")
    assert [m.text for m in fake.messages("C1") if not m.is_ephemeral] == [
        *(f"burst {n}" for n in range(4)),
        "after the wait",
    ]
    assert [c.error for c in fake.calls_to("chat.postMessage")].count("ratelimited") == 1


def test_the_post_limit_is_off_unless_asked_for(client: WebClient, fake: FakeSlack) -> None:
    for n in range(10):
        client.chat_postMessage(channel="C1", text=f"post {n}")
    assert len(fake.messages("C1")) == 10


# --- views: modals and the App Home -----------------------------------------------------------
def modal(title: str = "Rename", *blocks: dict, **extra: object) -> dict:
    view: dict = {"type": "modal", "title": {"type": "plain_text", "text": title}}
    view["blocks"] = list(blocks) or [section("Pick a new name")]
    if any(b.get("type") == "input" for b in view["blocks"]):
        view["submit"] = {"type": "plain_text", "text": "Save"}
    view.update(extra)
    return view


def text_input(block_id: str, label: str = "Name", **element: object) -> dict:
    return {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": label},
        "element": {"type": "plain_text_input", "action_id": "value", **element},
    }


def option(label: str, value: str | None = None) -> dict:
    return {"text": {"type": "plain_text", "text": label}, "value": value or label.lower()}


def invalid_messages(excinfo: pytest.ExceptionInfo[SlackApiError]) -> list[str]:
    response = excinfo.value.response
    assert response["error"] == "invalid_arguments"
    return list(response["response_metadata"]["messages"])


def test_views_open_exchanges_a_fresh_trigger_once(client: WebClient, fake: FakeSlack) -> None:
    trigger = fake.new_trigger("U1")
    opened = client.views_open(trigger_id=trigger, view=modal("Rename", text_input("name")))
    view = opened["view"]
    assert view["id"].startswith("V") and view["hash"] and view["state"] == {"values": {}}
    assert view["title"]["text"] == "Rename" and view["root_view_id"] == view["id"]
    assert [v["id"] for v in fake.open_views("U1")] == [view["id"]]
    assert fake.open_views("U2") == []
    with pytest.raises(SlackApiError) as again:
        client.views_open(trigger_id=trigger, view=modal())
    assert api_error(again) == "exchanged_trigger_id"
    with pytest.raises(SlackApiError) as unknown:
        client.views_open(trigger_id="123.456.made-up", view=modal())
    assert api_error(unknown) == "invalid_trigger_id"
    assert [c.error for c in fake.calls_to("views.open")] == [
        None,
        "exchanged_trigger_id",
        "invalid_trigger_id",
    ]


def test_a_trigger_expires_after_three_seconds(client: WebClient, fake: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as old:
        client.views_open(trigger_id=fake.new_trigger("U1", age=3.05), view=modal())
    assert api_error(old) == "expired_trigger_id"
    assert fake.open_views("U1") == []
    # Just inside the window it still works.
    assert client.views_open(trigger_id=fake.new_trigger("U1", age=2.5), view=modal())["ok"]


def test_view_validation_reports_each_problem_like_slack(
    client: WebClient, fake: FakeSlack
) -> None:
    too_many = {
        "type": "input",
        "block_id": "kind",
        "label": {"type": "plain_text", "text": "Kind"},
        "element": {
            "type": "static_select",
            "action_id": "kind",
            "options": [option(f"Kind {i}", f"k{i}") for i in range(101)],
        },
    }
    view = modal(
        "A title much longer than twenty-four",
        text_input("name"),
        text_input("name", "Again"),
        too_many,
        private_metadata="x" * 3001,
    )
    with pytest.raises(SlackApiError) as excinfo:
        client.views_open(trigger_id=fake.new_trigger("U1"), view=view)
    assert invalid_messages(excinfo) == [
        "[ERROR] duplicate block_id: name [json-pointer:/view/blocks/1/block_id]",
        "[ERROR] no more than 100 items allowed [json-pointer:/view/blocks/2/element/options]",
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]",
        "[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]",
    ]
    assert fake.open_views() == []


@pytest.mark.parametrize(
    ("element", "pointer"),
    [
        (
            {"type": "overflow", "action_id": "m", "options": [option("Only one")]},
            "must provide at least 2 items [json-pointer:/view/blocks/0/elements/0/options]",
        ),
        (
            {
                "type": "overflow",
                "action_id": "m",
                "options": [option(f"O{i}") for i in range(6)],
            },
            "no more than 5 items allowed [json-pointer:/view/blocks/0/elements/0/options]",
        ),
        (
            {"type": "button", "action_id": "b", "text": {"type": "plain_text", "text": "v" * 76}},
            "must be less than 76 characters [json-pointer:/view/blocks/0/elements/0/text/text]",
        ),
        (
            {
                "type": "static_select",
                "action_id": "s",
                "options": [option("A"), option("B")],
                "initial_option": option("C"),
            },
            "must match one of the provided options "
            "[json-pointer:/view/blocks/0/elements/0/initial_option]",
        ),
        (
            {
                "type": "static_select",
                "action_id": "s",
                "options": [option("A", "a" * 151), option("B")],
            },
            "must be less than 151 characters "
            "[json-pointer:/view/blocks/0/elements/0/options/0/value]",
        ),
        (
            {"type": "plain_text_input", "action_id": "t", "max_length": 3001},
            "must be between 1 and 3000 [json-pointer:/view/blocks/0/elements/0/max_length]",
        ),
        (
            {"type": "datepicker_typo", "action_id": "d"},
            "unsupported type: datepicker_typo [json-pointer:/view/blocks/0/elements/0/type]",
        ),
    ],
    ids=[
        "overflow-1",
        "overflow-6",
        "button-text",
        "initial-option",
        "option-value",
        "max-length",
        "type",
    ],
)
def test_elements_are_checked_in_actions_blocks(
    client: WebClient, fake: FakeSlack, element: dict, pointer: str
) -> None:
    view = modal("Menu", {"type": "actions", "elements": [element]})
    with pytest.raises(SlackApiError) as excinfo:
        client.views_open(trigger_id=fake.new_trigger("U1"), view=view)
    assert invalid_messages(excinfo) == [f"[ERROR] {pointer}"]


def test_input_blocks_take_only_input_elements_and_need_a_submit_button(
    client: WebClient, fake: FakeSlack
) -> None:
    button_input = {
        "type": "input",
        "block_id": "b",
        "label": {"type": "plain_text", "text": "L" * 2001},
        "element": {"type": "button", "text": {"type": "plain_text", "text": "No"}},
    }
    view = {"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": [button_input]}
    with pytest.raises(SlackApiError) as excinfo:
        client.views_open(trigger_id=fake.new_trigger("U1"), view=view)
    assert invalid_messages(excinfo) == [
        "[ERROR] must be less than 2001 characters [json-pointer:/view/blocks/0/label/text]",
        "[ERROR] unsupported type: button [json-pointer:/view/blocks/0/element/type]",
        "[ERROR] must provide submit when blocks contain an input [json-pointer:/view]",
    ]


def test_message_buttons_and_menus_are_validated_too(client: WebClient, fake: FakeSlack) -> None:
    vote = {"type": "button", "action_id": "vote", "text": {"type": "plain_text", "text": "Vote"}}
    menu = {"type": "overflow", "action_id": "vote", "options": [option("Rename…")]}
    blocks = [
        {**section("E1 Order placed"), "accessory": {"type": "plain_text_input"}},
        {"type": "actions", "elements": [vote, menu]},
    ]
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel="C1", text="E1", blocks=blocks)
    assert excinfo.value.response["errors"] == [
        "unsupported type: plain_text_input [json-pointer:/blocks/0/accessory/type]",
        "must provide at least 2 items [json-pointer:/blocks/1/elements/1/options]",
        "duplicate action_id: vote [json-pointer:/blocks/1/elements/1/action_id]",
    ]
    assert fake.messages("C1") == []


def test_views_push_stacks_up_to_three_and_update_checks_the_hash(
    client: WebClient, fake: FakeSlack
) -> None:
    root = client.views_open(trigger_id=fake.new_trigger("U1"), view=modal("One"))["view"]
    second = client.views_push(trigger_id=fake.new_trigger("U1"), view=modal("Two"))["view"]
    third = client.views_push(trigger_id=fake.new_trigger("U1"), view=modal("Three"))["view"]
    assert (second["previous_view_id"], third["root_view_id"]) == (root["id"], root["id"])
    with pytest.raises(SlackApiError) as full:
        client.views_push(trigger_id=fake.new_trigger("U1"), view=modal("Four"))
    assert api_error(full) == "push_limit_reached"
    assert [v["title"]["text"] for v in fake.open_views("U1")] == ["One", "Two", "Three"]

    updated = client.views_update(view_id=second["id"], hash=second["hash"], view=modal("Deux"))
    assert updated["view"]["id"] == second["id"] and updated["view"]["hash"] != second["hash"]
    with pytest.raises(SlackApiError) as stale:
        client.views_update(view_id=second["id"], hash=second["hash"], view=modal("Zwei"))
    assert api_error(stale) == "hash_conflict"
    assert fake.view(second["id"])["title"]["text"] == "Deux"
    with pytest.raises(SlackApiError) as missing:
        client.views_update(view_id="V404", view=modal("Nope"))
    assert api_error(missing) == "not_found"


def test_views_update_by_external_id_keeps_what_was_typed(
    client: WebClient, fake: FakeSlack
) -> None:
    view = modal("Fields", text_input("name"), text_input("note", "Note"), external_id="form-1")
    opened = client.views_open(trigger_id=fake.new_trigger("U1"), view=view)["view"]
    typed = {"type": "plain_text_input", "value": "OrderPlaced"}
    fake.set_view_values(opened["id"], {"name": {"value": typed}, "note": {"value": typed}})
    client.views_update(
        external_id="form-1", view=modal("Fields", text_input("name"), text_input("other"))
    )
    [now] = fake.open_views("U1")
    assert now["id"] == opened["id"] and now["external_id"] == "form-1"
    assert now["state"]["values"] == {"name": {"value": typed}}


def test_submission_answers_close_update_push_or_keep_the_form(
    client: WebClient, fake: FakeSlack
) -> None:
    form = modal("One", text_input("name"))
    root = client.views_open(trigger_id=fake.new_trigger("U1"), view=form)["view"]
    refused = {"response_action": "errors", "errors": {"name": "Give it a name"}}
    assert fake.answer_submission(root["id"], refused) == "errors"
    assert [v["id"] for v in fake.open_views("U1")] == [root["id"]]
    misplaced = {"response_action": "errors", "errors": {"title": "No such field"}}
    assert fake.answer_submission(root["id"], misplaced) == "invalid"
    assert fake.calls_to("response_action")[-1].error == "invalid_errors"
    assert fake.answer_submission(root["id"], {"response_action": "push", "view": modal("Two")})
    assert [v["title"]["text"] for v in fake.open_views("U1")] == ["One", "Two"]
    top = fake.open_views("U1")[-1]["id"]
    outcome = fake.answer_submission(top, {"response_action": "update", "view": modal("X" * 25)})
    assert outcome == "invalid"
    assert fake.calls_to("response_action")[-1].error == "invalid_arguments"
    assert fake.answer_submission(top, None) == "closed"
    assert [v["title"]["text"] for v in fake.open_views("U1")] == ["One"]
    assert fake.answer_submission(root["id"], {"response_action": "clear"}) == "cleared"
    assert fake.open_views("U1") == []


def test_views_publish_keeps_one_home_per_person(client: WebClient, fake: FakeSlack) -> None:
    home = {"type": "home", "blocks": [section("Your workshops")]}
    first = client.views_publish(user_id="U1", view=home)["view"]
    assert first["type"] == "home" and fake.home_view("U1") == first
    assert fake.home_view("U2") is None
    again = client.views_publish(
        user_id="U1", hash=first["hash"], view={"type": "home", "blocks": [section("Updated")]}
    )["view"]
    assert again["id"] == first["id"] and again["hash"] != first["hash"]
    with pytest.raises(SlackApiError) as stale:
        client.views_publish(user_id="U1", hash=first["hash"], view=home)
    assert api_error(stale) == "hash_conflict"
    with pytest.raises(SlackApiError) as wrong:
        client.views_publish(user_id="U1", view=modal())
    assert invalid_messages(wrong) == [
        "[ERROR] must be a valid enum value [json-pointer:/view/type]"
    ]
    with pytest.raises(SlackApiError) as big:
        client.views_publish(user_id="U1", view={"type": "home", "blocks": [section("x")] * 101})
    assert invalid_messages(big) == [
        "[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]"
    ]
    assert fake.home_view("U1")["blocks"] == [section("Updated")]
    assert [c.error is None for c in fake.calls_to("views.publish")] == [True, True] + [False] * 3
