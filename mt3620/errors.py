"""Errors every part of the project may raise toward the user.

`UserError` is a problem the user can fix (a bad file, a bad argument, a service that cannot be reached). The
command line prints it as one line and exits with code 2; the pytest harness lets it through as a failure with
that message. It lives in this leaf module, which imports nothing, so that any layer can raise it without an
import cycle.
"""
from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix; printed as one line with exit code 2."""
