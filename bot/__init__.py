"""Storm: an asynchronous Event Storming + Event Modeling workshop in a Slack channel."""
