"""Renode integration: the loopback bridge that serves the Python models to Renode's IronPython shim, and the
linter for .resc scripts and shims."""
