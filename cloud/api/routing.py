"""The API layer's plumbing, free of any web framework: a request (`Call`), an answer (`Reply`), the `route`
decorator that declares a handler's method, path, role, request and response schemas, and the `Router` that
matches requests, validates them and maps domain errors onto HTTP statuses. The same declarations produce the
OpenAPI document. The server (cloud/server.py) adapts its framework's requests to `Call` and `Reply` back.
"""
from __future__ import annotations

import json
import logging
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import jsonschema

from ..domain import ERROR_CODES, Conflict, DomainError, Forbidden, Invalid, NotFound, TooLarge, Unauthenticated, User

log = logging.getLogger("mt3620.cloud.api")
MAX_JSON_BODY = 8 * 1024 * 1024   # a bulk claim of 5,000 devices fits

STATUS_OF = ((Invalid, 400), (Unauthenticated, 401), (Forbidden, 403), (NotFound, 404), (Conflict, 409),
             (TooLarge, 413))


class ApiError(DomainError):
    """A refusal that belongs to HTTP itself (405, 415, ...): the status is part of the error."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None) -> None:
        super().__init__(message, code)
        self.status, self.headers = status, headers or {}


def status_of(exc: DomainError) -> int:
    if isinstance(exc, ApiError):
        return exc.status
    return next((status for kind, status in STATUS_OF if isinstance(exc, kind)), 400)


@dataclass
class Call:
    """One request as the handlers see it."""
    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    content_type: str = ""
    base_url: str = ""
    peer_certificate: bytes | None = None    # DER of the verified TLS client certificate (device API)
    user: User | None = None                 # set by the router after authentication
    device: Any = None                       # device API: the device of the client certificate
    role: str | None = None                  # the user's role in the path's tenant
    json: Any = None                         # the validated JSON body


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(value: Any, status: int = 200, headers: dict | None = None) -> Reply:
    return Reply(status, json.dumps(value, separators=(",", ":")).encode(), "application/json", dict(headers or {}))


def error_reply(status: int, code: str, message: str, headers: dict | None = None) -> Reply:
    """The device API's error: {"Code": the reason's name, "Message"} (emulator-defined protocol)."""
    return json_reply({"Code": code, "Message": message}, status, headers)


# HTTP status -> the real management API's integer ErrorResponse.Code (ERROR_CODES).
CODE_OF_STATUS = {400: "BadRequest", 401: "Forbidden", 403: "Forbidden", 404: "NotFound", 405: "BadRequest",
                  409: "Conflict", 413: "BadRequest", 415: "BadRequest", 500: "InternalServerError"}


def management_error_reply(status: int, code: str, message: str, headers: dict | None = None) -> Reply:
    """The management API's error, shaped like the real API's ErrorResponse: an integer Code (5 BadRequest, 6
    Forbidden, 7 Conflict, 8 NotFound, 4 InternalServerError), the Message, and ErrorCode naming this service's
    specific reason (DeviceAlreadyClaimed, TokenExpired, ...)."""
    number = ERROR_CODES[CODE_OF_STATUS.get(status, "BadRequest")]
    return json_reply({"Code": number, "ErrorCode": code, "Message": message}, status, headers)


@dataclass
class Route:
    method: str
    path: str                          # OpenAPI style: /v2/tenants/{tenantId}
    op_id: str
    summary: str
    handler: Callable = None           # the (unbound) handler function
    role: str | None = None            # minimum tenant role; None = any authenticated user; "public" = no auth
    body: str | None = None            # request schema name; "binary" for a raw upload
    status: int = 200
    response: dict | None = None       # response schema; None = no body
    media: str = "application/json"
    query: list = field(default_factory=list)    # (name, schema, description)
    tag: str = ""
    extra_media: dict = field(default_factory=dict)   # other media types of the success answer
    client_certificate: str | None = None            # device API: the certificate role the operation needs
    hidden: bool = False               # served but not in the OpenAPI document (aliases, the console's files)


def route(method: str, path: str, op_id: str, summary: str, **kw) -> Callable:
    """Declare a handler: `@route("GET", "/v2/tenants/{tenantId}", "Tenants_Get", "Show a tenant", role="Reader")`.
    A handler may carry several routes (aliases)."""
    def mark(fn):
        fn.__dict__.setdefault("routes", []).append(Route(method, path, op_id, summary, fn, **kw))
        return fn
    return mark


def routes_of(obj) -> list[Route]:
    """Every route declared on the methods of `obj`'s class, in definition order."""
    out = []
    for name in dir(type(obj)):
        fn = getattr(type(obj), name)
        out.extend(getattr(fn, "routes", ()))
    return sorted(out, key=lambda r: (r.handler.__code__.co_firstlineno, r.path))


# So /devices/claim is never read as a device ID, nor /tenants/create as a tenant.
PARAM_PATTERNS = {"deviceId": "[0-9A-Fa-f]{128}",
                  "tenantId": "[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"}


def _compile(path: str) -> re.Pattern:
    pattern = re.sub(r"\{(\w+)\}", lambda m: f"(?P<{m.group(1)}>{PARAM_PATTERNS.get(m.group(1), '[^/]+')})",
                     re.escape(path).replace(r"\{", "{").replace(r"\}", "}"))
    return re.compile(f"^{pattern}/?$")


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
        return True
    except ValueError:
        return False


def validator(schema: dict) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


class Router:
    """Matches a Call to a route, authenticates and authorises it (`authorise(call, route, params)`), checks the
    query and body against the declared schemas, runs the handler and turns what it returns (a JSON value or a
    Reply) or raises (a DomainError) into a Reply."""

    def __init__(self, app, bodies: dict[str, dict] | None, authorise: Callable[[Call, Route, dict], None],
                 after: Callable[[Call, Route | None, dict, Reply], None] | None = None,
                 errors: Callable[..., Reply] = error_reply) -> None:
        """`bodies`: the request schemas routes name; None when the handlers read their bodies themselves (the
        route's `body` then only names the schema in the OpenAPI document). `after(call, route, params, reply)`
        sees every answer (the audit log)."""
        self.app = app
        self.routes = routes_of(app)
        self.compiled = [(_compile(r.path), r) for r in self.routes]
        self.body_validators = None if bodies is None else {name: validator(s) for name, s in bodies.items()}
        self.query_validators = {id(schema): validator(schema) for r in self.routes for _, schema, _ in r.query}
        self.authorise = authorise
        self.after = after
        self.errors = errors

    def match(self, method: str, path: str) -> tuple[Route, dict]:
        allowed = set()
        for pattern, r in self.compiled:
            m = pattern.match(path)
            if m is None:
                continue
            if r.method == method:
                return r, m.groupdict()
            allowed.add(r.method)
        if allowed:   # RFC 9110 15.5.6: 405 names the methods the resource allows
            raise ApiError(405, "MethodNotAllowed", f"{method} is not allowed on {path}",
                           {"Allow": ", ".join(sorted(allowed))})
        raise ApiError(404, "NotFound", f"no route {path}")

    def __call__(self, call: Call) -> Reply:
        r, params = None, {}
        reply = self._answer(call)
        if self.after is not None:
            try:
                r, params = self.match(call.method, call.path)
            except DomainError:
                pass
            try:
                self.after(call, r, params, reply)
            except Exception:  # noqa: BLE001 - the answer stands; the failure is logged
                log.exception("after-request hook failed on %s %s", call.method, call.path)
        return reply

    def _answer(self, call: Call) -> Reply:
        try:
            r, params = self.match(call.method, call.path)
            self.authorise(call, r, params)
            self._query(call, r)
            call.json = self._body(call, r)
            result = r.handler(self.app, call, **params)
            if isinstance(result, Reply):
                return result
            if r.status == 204 or result is None:
                return Reply(r.status if result is None else 200, b"", "")
            return json_reply(result, r.status)
        except DomainError as exc:
            return self.errors(status_of(exc), exc.code, exc.message, getattr(exc, "headers", None))
        except Exception:  # noqa: BLE001 - a bug answers 500 with a JSON error, never a dropped connection
            log.exception("unhandled error on %s %s", call.method, call.path)
            return self.errors(500, "InternalError", "internal error (see the service log)")

    def _query(self, call: Call, r: Route) -> None:
        """Present query parameters must match their declared schemas (an empty value is not 'absent')."""
        for name, schema, _ in r.query:
            if name not in call.query:
                continue
            value: Any = call.query[name]
            if schema.get("type") == "integer":
                try:
                    value = int(value)
                except ValueError:
                    raise Invalid(f"query parameter {name} must be an integer") from None
            error = next(iter(self.query_validators[id(schema)].iter_errors(value)), None)
            if error is not None or (schema.get("format") == "uuid" and not _is_guid(value)):
                raise Invalid(f"query parameter {name}: {error.message if error else 'not a GUID'}")

    def _body(self, call: Call, r: Route) -> Any:
        if r.body is None or self.body_validators is None:
            return None
        limit = 64 * 1024 * 1024 if r.body == "binary" else MAX_JSON_BODY
        if len(call.body) > limit:
            raise TooLarge("request body too large")
        if r.body == "binary":
            if call.content_type not in ("application/octet-stream", ""):
                raise ApiError(415, "UnsupportedMediaType", "upload the package as application/octet-stream")
            return call.body
        if call.content_type != "application/json":
            raise ApiError(415, "UnsupportedMediaType", "send the body as application/json")
        return self.check_json(call.body, r.body)

    def check_json(self, raw: bytes, schema_name: str, empty: str = "null") -> Any:
        try:
            body = json.loads(raw or empty)
        except (ValueError, UnicodeDecodeError) as exc:
            raise Invalid(f"body is not valid JSON: {exc}") from None
        errors = sorted(self.body_validators[schema_name].iter_errors(body), key=lambda e: list(e.path))
        if errors:
            e = errors[0]
            where = "/".join(str(p) for p in e.path) or "body"
            raise Invalid(f"{where}: {e.message}")
        return body
