"""Files people share in Slack, read for an import (SPEC §7.1): `files.info`, then the bytes.

The file's size is known from `files.info` before anything is downloaded, so a file larger
than asked for is refused without reading it; the download stops one byte past the limit
too, in case a size was wrong. The bot token goes only to Slack: the download address must be
on the host of the configured Web API (`SLACK_API_URL`) or on `files.slack.com`, and redirects
are not followed (one would carry the token elsewhere).
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.service.ports import FileRefused, SharedFile

log = logging.getLogger(__name__)

# Where Slack serves the files people upload.
SLACK_FILES = ("https", "files.slack.com")
DOWNLOAD_TIMEOUT_SECONDS = 20


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is refused (answered as the HTTP error it is), never followed."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class SlackFiles:
    """`FilePort` over slack_sdk's client."""

    def __init__(self, client: WebClient, api_url: str) -> None:
        self._client = client
        api = urlsplit(api_url)
        self._trusted = {SLACK_FILES, (api.scheme, api.netloc)}
        self._opener = urllib.request.build_opener(_NoRedirects)

    def fetch_file(self, file_id: str, *, limit: int) -> SharedFile:
        try:
            found = self._client.files_info(file=file_id)
        except SlackApiError as error:
            raise FileRefused("unavailable", code=str(error.response.get("error"))) from error
        file: dict[str, Any] = found.get("file") or {}
        name = str(file.get("name") or file.get("title") or file_id)
        size = file.get("size")
        if isinstance(size, int) and size > limit:
            raise FileRefused("too_large", name=name, size=size)
        url = file.get("url_private_download") or file.get("url_private")
        if file.get("is_external") or not isinstance(url, str) or not url:
            raise FileRefused("external", name=name)
        if not self.trusted(url):
            log.warning("files.info named a download address on another host for %s", file_id)
            raise FileRefused("untrusted", name=name)
        return SharedFile(name, self._download(url, name, limit))

    def trusted(self, url: str) -> bool:
        """Whether `url` is on Slack's own file host or the configured Web API's."""
        parts = urlsplit(url)
        return (parts.scheme, parts.netloc) in self._trusted and not parts.username

    def _download(self, url: str, name: str, limit: int) -> bytes:
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {self._token}"})
        try:
            with self._opener.open(request, timeout=DOWNLOAD_TIMEOUT_SECONDS) as answer:
                data: bytes = answer.read(limit + 1)
        except urllib.error.HTTPError as error:
            raise FileRefused("unavailable", name=name, code=f"HTTP {error.code}") from error
        except OSError as error:  # no answer: refused, reset, timed out
            raise FileRefused("unavailable", name=name, code=type(error).__name__) from error
        if len(data) > limit:  # larger than `files.info` said
            raise FileRefused("too_large", name=name)
        return data

    @property
    def _token(self) -> str:
        return self._client.token or ""
