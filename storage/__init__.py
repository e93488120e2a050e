"""Storage: the SQLModel tables, the engine and the queries. Nothing here knows Slack."""
