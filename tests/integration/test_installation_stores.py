"""slack_sdk's installation and state stores on Storm's database (SPEC §8, OAuth): the tables
Storm's migrations make are the ones the stores expect, installations round-trip through a
real database file, and a workspace without one gets no Web API call at all."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine

from bot.sandbox.fake_slack import FakeSlack
from bot.service.workspace import acting_for
from bot.slack.workspaces import Installations, WorkspaceClient
from storage.migrate import ready_engine

CLIENT_ID = "1111.2222"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = ready_engine(f"sqlite:///{tmp_path / 'storm.db'}")
    try:
        yield engine
    finally:
        engine.dispose()


def _installation(team_id: str, token: str) -> Installation:
    return Installation(
        app_id="A0STORM",
        team_id=team_id,
        team_name=f"Workspace {team_id}",
        bot_token=token,
        bot_id="B0BOT",
        bot_user_id="U0BOT",
        bot_scopes="commands,chat:write",
        user_id="U1",
    )


def test_the_migrated_tables_are_the_ones_slack_sdks_stores_build(engine: Engine) -> None:
    stores = (
        Installations(CLIENT_ID, engine).metadata,
        SQLAlchemyOAuthStateStore(expiration_seconds=60, engine=engine).metadata,
    )
    with engine.connect() as connection:
        for metadata in stores:

            def own(name: str | None, kind: str, parent: Mapping[str, str | None]) -> bool:
                """Only the store's own tables and their indexes (Storm's are not its)."""
                table = name if kind == "table" else parent.get("table_name")
                return table is None or table in metadata.tables  # noqa: B023

            context = MigrationContext.configure(connection, opts={"include_name": own})
            assert compare_metadata(context, metadata) == []


def test_an_installation_round_trips_and_its_deletion_is_seen_at_once(engine: Engine) -> None:
    installations = Installations(CLIENT_ID, engine)
    installations.save(_installation("T1", "xoxb-T1-first"))
    installations.save(_installation("T2", "xoxb-T2"))
    assert installations.bot_token("T1") == "xoxb-T1-first"

    installations.save(_installation("T1", "xoxb-T1-again"))  # reinstalled: the newest counts
    assert installations.bot_token("T1") == "xoxb-T1-again"
    installations.delete_all(enterprise_id=None, team_id="T1")  # Bolt's app_uninstalled

    assert installations.bot_token("T1") is None
    assert installations.bot_token("T2") == "xoxb-T2"
    # Another process reading the same file sees the same.
    assert Installations(CLIENT_ID, engine).bot_token("T1") is None


def test_a_state_is_good_once(engine: Engine) -> None:
    states = SQLAlchemyOAuthStateStore(expiration_seconds=60, engine=engine)
    state = states.issue()

    assert states.consume(state) is True
    assert states.consume(state) is False
    assert states.consume("never-issued") is False


def test_calls_carry_the_token_of_the_workspace_they_act_for(engine: Engine) -> None:
    installations = Installations(CLIENT_ID, engine)
    with FakeSlack() as fake:
        fake.enable_oauth(CLIENT_ID, "secret")
        exchange = WebClient(base_url=fake.api_url).oauth_v2_access
        answer = exchange(
            client_id=CLIENT_ID, client_secret="secret", code=fake.approve_install("T1")
        )
        token = answer["access_token"]
        installations.save(_installation("T1", token))
        client = WorkspaceClient(installations, base_url=fake.api_url)

        with acting_for("T1"):
            client.chat_postMessage(channel="C1", text="one")
        with acting_for("T2"), pytest.raises(SlackApiError) as refused:
            client.chat_postMessage(channel="C2", text="two")

    assert refused.value.response["error"] == "token_revoked"
    posts = [(c.params["channel"], c.token) for c in fake.calls_to("chat.postMessage")]
    assert posts == [("C1", token)]  # none for T2: nothing was sent
