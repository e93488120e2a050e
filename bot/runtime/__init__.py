"""Wiring and processes: the composition root, HTTP and Socket Mode serving, background work."""
