"""Many workspaces (SPEC §8, OAuth): where each workspace's bot token is kept, and the client
that calls the Web API with the token of the workspace at hand.

Slack's OAuth flow itself is Bolt's (`/slack/install`, `/slack/oauth_redirect`, the `state`
checked against its cookie and consumed once); installations and states are kept by slack_sdk's
SQLAlchemy stores in Storm's database, in the tables Storm's migrations make
(`storage.slack_installations`). Uninstalling Storm, or revoking its token, deletes that
workspace's installation (Bolt's token revocation listeners): its workshops stay in the
database as they were, and go on when it is installed again.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from slack_bolt import BoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import Authorize
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from slack_sdk.web import SlackResponse
from sqlalchemy import Engine

from bot.service.workspace import acting_team, team_of

log = logging.getLogger(__name__)

# The bot scopes an install asks for: manifest.yml's (a test keeps them equal).
BOT_SCOPES = (
    "commands",
    "chat:write",
    "channels:history",
    "groups:history",
    "channels:read",
    "groups:read",
    "reactions:read",
    "users:read",
    "files:read",
    "files:write",
    "canvases:write",
)
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
# How long an install's `state` is good for, from the install page to Slack's redirect back.
STATE_SECONDS = 600
# How long a process trusts the token it read for a workspace. An uninstall recorded by
# another process (a web worker) reaches the background worker's posts within this (meanwhile
# Slack refuses the revoked token, as it would any). A workspace found without one is asked
# about again every time: an install recorded by another web worker counts at once.
TOKEN_SECONDS = 10.0
# What Slack answers for a token that was revoked: what a workspace without Storm gets.
NOT_INSTALLED = "token_revoked"


class Installations(SQLAlchemyInstallationStore):
    """slack_sdk's store, and each workspace's bot token read from it, kept briefly."""

    def __init__(self, client_id: str, engine: Engine) -> None:
        super().__init__(client_id=client_id, engine=engine, logger=log)
        self._lock = threading.Lock()
        self._bots: dict[str, tuple[Bot | None, float]] = {}  # team: (bot, when read)
        self._told: set[str] = set()  # workspaces whose missing installation was logged

    def bot_token(self, team_id: str) -> str | None:
        """The workspace's bot token; None when Storm is not (or no longer) installed there."""
        bot = self.bot(team_id)
        return bot.bot_token if bot is not None else None

    def bot(self, team_id: str) -> Bot | None:
        """The workspace's bot (token, ids, scopes) as installed; None without an installation."""
        now = time.monotonic()
        with self._lock:
            known = self._bots.get(team_id)
        if known is not None and now - known[1] < TOKEN_SECONDS:
            return known[0]
        bot = self.find_bot(enterprise_id=None, team_id=team_id)
        if bot is not None and not bot.bot_token:
            bot = None
        with self._lock:
            if bot is not None:
                self._bots[team_id] = (bot, now)
            first = bot is None and team_id not in self._told
            if bot is None:
                self._told.add(team_id)
            else:
                self._told.discard(team_id)
        if first:
            log.warning(
                "Storm is not installed in workspace %s: its posts are skipped until it is "
                "installed again",
                team_id,
            )
        return bot

    def save(self, installation: Installation) -> None:
        super().save(installation)
        self._forget(installation.team_id)
        log.info("installed in workspace %s", installation.team_id)

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        super().delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        self._forget(team_id)
        log.info("the bot token of workspace %s was deleted (uninstalled or revoked)", team_id)

    def delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        super().delete_installation(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id)
        self._forget(team_id)

    def _forget(self, team_id: str | None) -> None:
        with self._lock:
            self._bots.pop(team_id or "", None)


class InstalledBot(Authorize):
    """Bolt's authorization of a request: the bot of its workspace's installation, as stored.

    Bolt's own (`InstallationStoreAuthorize`) also calls `auth.test` on every request, which
    would make every slash command wait for, and fail with, the Web API; what it would learn
    (the bot's ids) was stored at the install.
    """

    def __init__(self, installations: Installations) -> None:
        super().__init__()
        self._installations = installations

    def __call__(
        self,
        *,
        context: BoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        actor_enterprise_id: str | None = None,
        actor_team_id: str | None = None,
        actor_user_id: str | None = None,
    ) -> AuthorizeResult | None:
        bot = self._installations.bot(team_id) if team_id else None
        if bot is None:
            return None  # Bolt answers that the app is not installed there
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            bot_token=bot.bot_token,
            bot_id=bot.bot_id,
            bot_user_id=bot.bot_user_id,
            bot_scopes=bot.bot_scopes,
        )


class WorkspaceClient(WebClient):
    """The Web API client of work done outside Slack's requests, installed in many workspaces:
    each call carries the bot token of the workspace it acts for (`bot.service.workspace`).

    A call for a workspace where Storm is not installed is not sent: it fails as Slack fails a
    revoked token's (`token_revoked`), so every caller already handles it. A call acting for no
    workspace (Bolt's `oauth.v2.access` and `auth.test` of a new installation) carries the token
    it is given, if any.
    """

    def __init__(self, installations: Installations, **kwargs: Any) -> None:
        self.installations = installations
        super().__init__(**kwargs)

    @property
    def token(self) -> str | None:
        team = acting_team()
        return self._own_token if team is None else self.installations.bot_token(team)

    @token.setter
    def token(self, value: str | None) -> None:
        self._own_token = value

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        team = acting_team()
        if team is not None and self.installations.bot_token(team) is None:
            raise SlackApiError(
                f"Storm is not installed in workspace {team}",
                SlackResponse(
                    client=self,
                    http_verb="POST",
                    api_url=f"{self.base_url}{api_method}",
                    req_args={},
                    data={"ok": False, "error": NOT_INSTALLED},
                    headers={},
                    status_code=200,
                ),
            )
        return super().api_call(api_method, **kwargs)


def workspace_of(client: WebClient, engine: Engine, workshop_id: int) -> str | None:
    """The workspace whose token the workshop's calls need, when `client` serves many
    (`acting_for` it); None with one workspace's token, where nothing needs looking up."""
    return team_of(engine, workshop_id) if isinstance(client, WorkspaceClient) else None


def oauth_settings(installations: Installations, client_secret: str) -> OAuthSettings:
    """Bolt's OAuth flow on Storm's database: installations and states in its tables."""
    return OAuthSettings(
        client_id=installations.client_id,
        client_secret=client_secret,
        scopes=list(BOT_SCOPES),
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        installation_store=installations,
        # Storm asks for no user scopes: a workspace's requests are authorized by its bot.
        installation_store_bot_only=True,
        state_store=SQLAlchemyOAuthStateStore(
            expiration_seconds=STATE_SECONDS, engine=installations.engine, logger=log
        ),
    )
