"""The pure core: the unified process, the model, the command grammar and message composition.

Nothing in this package imports Slack, SQL or a scheduler, so it can be tested and reasoned
about on its own; a test enforces it.
"""
