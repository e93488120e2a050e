"""The application: one handler per command, over the pure core and storage; no Slack."""
