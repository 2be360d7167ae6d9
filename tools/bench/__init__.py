"""Benchmarks for Friday's one-shot path: scripts that print figures beside their targets.
Run one with `python -m tools.bench.NAME` from the repo root (see README.md); they are not
tests and pytest never collects them."""
