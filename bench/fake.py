"""The fake Slack Web API, with look-ups that stay cheap when a channel holds 50,000 messages.

Why a subclass: `bot.sandbox.fake_slack.FakeSlack` is written for tests, where a channel holds
a few dozen messages, so it finds a message by scanning the channel and keeps a deep copy of
every call. Under load a channel collects one message per element Storm posts (tens of
thousands), and those scans would make the fake, which shares the machine's two cores with
the servers under test, the slowest part of the benchmark. Here messages are indexed by `ts`
and by thread, `conversations.history` answers the single-message look-up Storm makes (`latest`
= that ts, `inclusive`, `limit=1`) from the index, and calls are counted instead of kept. Every
answer has the shape and checks (Block Kit limits, channel state, tokens) of the original.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from bot.sandbox.fake_slack import Call, FakeSlack, Message


class IndexedMessages(list[Message]):
    """A channel's messages, oldest first, with indexes by `ts` and by thread parent."""

    def __init__(self, messages: Iterable[Message] = ()) -> None:
        super().__init__()
        self.by_ts: dict[str, Message] = {}
        self.replies: dict[str, list[Message]] = defaultdict(list)
        for message in messages:
            self.append(message)

    def append(self, message: Message) -> None:
        super().append(message)
        self.by_ts[message.ts] = message
        if message.is_reply and message.thread_ts is not None:
            self.replies[message.thread_ts].append(message)

    def remove(self, message: Message) -> None:
        super().remove(message)
        self.by_ts.pop(message.ts, None)
        if message.thread_ts is not None and message in self.replies.get(message.thread_ts, []):
            self.replies[message.thread_ts].remove(message)


class BenchSlack(FakeSlack):
    """FakeSlack with indexed channels, counted calls and channels that can be forgotten."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.call_counts: Counter[tuple[str, str | None]] = Counter()

    # -- what the benchmark reads -----------------------------------------------------------
    def counts(self) -> Counter[tuple[str, str | None]]:
        """(method, error or None) → number of calls, since the start."""
        with self._lock:
            return Counter(self.call_counts)

    def forget_channel(self, channel: str) -> None:
        """Drop a channel's messages once a round is checked, so memory stays flat."""
        with self._lock:
            self._channels.pop(channel, None)

    def seed_messages(self, channel: str, user_texts: Iterable[tuple[str, str]]) -> list[str]:
        """Post people's messages to react to; returns their ts, in order."""
        return [self.post_user_message(channel, user, text).ts for user, text in user_texts]

    # -- the indexes --------------------------------------------------------------------------
    def _channel(self, channel: str) -> Any:
        found = super()._channel(channel)
        if not isinstance(found.messages, IndexedMessages):
            found.messages = IndexedMessages(found.messages)
        return found

    @staticmethod
    def _find(ch: Any, ts: Any, *, include_ephemeral: bool = False) -> Message | None:
        if not isinstance(ch.messages, IndexedMessages):
            return FakeSlack._find(ch, ts, include_ephemeral=include_ephemeral)
        found = ch.messages.by_ts.get(str(ts)) if ts is not None else None
        if found is None or (found.is_ephemeral and not include_ephemeral):
            return None
        return found

    def _render(self, ch: Any, msg: Message) -> dict[str, Any]:
        """As the original: thread stats on parents, taken from the index of replies."""
        if msg.is_reply or not isinstance(ch.messages, IndexedMessages):
            return super()._render(ch, msg)
        out = msg.to_slack(self.team_id)
        replies = [m for m in ch.messages.replies.get(msg.ts, ()) if not m.is_ephemeral]
        if replies:
            reply_users = list(dict.fromkeys(m.user for m in replies))
            out["thread_ts"] = msg.ts
            out["reply_count"] = len(replies)
            out["reply_users_count"] = len(reply_users)
            out["reply_users"] = reply_users
            out["latest_reply"] = replies[-1].ts
        return out

    def _api_conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        """The one-message look-up from the index; any other query as the original does it."""
        latest = params.get("latest")
        single = (
            latest
            and str(params.get("inclusive", "")).lower() in ("1", "true")
            and str(params.get("limit", "")) == "1"
            and not params.get("cursor")
            and not params.get("oldest")
        )
        if not single:
            return super()._api_conversations_history(params)
        ch = self._readable(params.get("channel"))
        found = self._find(ch, latest)
        if found is None or (found.is_reply and not found.reply_broadcast):
            return super()._api_conversations_history(params)
        return {
            "ok": True,
            "messages": [self._render(ch, found)],
            "has_more": False,
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
            "response_metadata": {"next_cursor": ""},
        }

    def _log_call(
        self, method: str, params: dict[str, Any], error: str | None, token: str | None = None
    ) -> Call:
        with self._lock:
            self.call_counts[(method, error)] += 1
        return Call(method, params, 0.0, error, token)
