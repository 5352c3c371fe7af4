"""The web console's static files (cloud/console/: plain HTML, JavaScript and CSS, no build step). The console holds
no secrets and no logic the API does not enforce: it signs in with a user token and calls the management API, so
the same authentication and roles apply to every action it offers."""
from __future__ import annotations

from pathlib import Path

from ..domain import NotFound
from .routing import Reply

FOLDER = Path(__file__).resolve().parent.parent / "console"
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8"}
# What the console's pages may do: its own files and calls to this service, nothing inline or from elsewhere.
HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
           "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache", "Referrer-Policy": "no-referrer"}


def serve(name: str) -> Reply:
    path = FOLDER / name
    if path.suffix not in TYPES or path.parent != FOLDER or not path.is_file():
        raise NotFound(f"console file {name!r}")
    return Reply(200, path.read_bytes(), TYPES[path.suffix], dict(HEADERS))
