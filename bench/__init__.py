"""Storm's benchmark: Storm served as in production against a bare Bolt app, side by side.

Run it with `python -m bench` (see bench/README.md); `python -m bench --quick` is the smoke
run the test suite makes.
"""
