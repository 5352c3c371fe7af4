"""The running board: `mt3620 device start` runs an EmulatedDevice as a long-lived process, like a board on the
desk, and serves its local device API on loopback (docs/device.md "Device API").

Threads: the machine, the OS and every model run on the main thread only (virtual time stays deterministic for a
given sequence of requests). An HTTP server thread only parses requests and hands each to the main thread
through a queue, then writes the answer back; the main thread serves queued requests between machine slices.

Pacing: with `speed` 1.0 virtual time follows wall time (an idle board costs nothing: WFI jumps to the next event,
and the loop sleeps until virtual time is due); `speed` 0 runs as fast as the host can (tests).

The API (JSON; errors are {"Code": reason, "Message": text} with status 400, 404 for something that does not
exist, 409 when the request conflicts with the device's state, 503 when the device is busy, e.g. held by a
debugger):

    GET    /device                          identity, OS version, capabilities, boots, flash use
    GET    /device/capabilities             {"Capabilities": [...]}
    PUT    /device/capabilities             body: a capability file (Pluton verifies it for this device)
    POST   /device/enable-development       the appDevelopment capability
    POST   /device/enable-cloud-test        no appDevelopment, then a restart
    POST   /device/restart                  power off and on (the state folder is kept)
    GET    /images                          installed images (`device image list-installed`)
    POST   /app/image?start=1&debug=0&manual_start=0   body: an image package (`sideload deploy`)
    DELETE /app/image  |  /app/image/<component id>   (`sideload delete`)
    GET    /app/status  |  /app/status/<component id>
    POST   /app/status/<component id>       {"trigger": "start" | "stop" | "startDebug"}
    GET    /app/memory  |  /app/memory/<component id>   the high-level app's memory use
    GET    /output?since=N                  UART and Log_Debug lines: {"Lines": [[n, label, text], ...], "Next": n}
    POST   /uart/<label>                    body: bytes arriving on that UART's RX line
    GET    /firewall                        the firewalls' owner table, lock and refusals
    GET    /wifi  |  PUT /wifi              the stored Wi-Fi networks as the Wi-Fi service records them (a JSON list)
    /wifi/config/networks[/<id>], /wifi/interface, /wifi/scan, /wifi/config/reload: `azsphere device wifi`
                                            (sphere_os/device_wifi.py, the real device's paths and fields)
    /certstore/certs[/<id>], /certstore/space: `azsphere device certificate` (the real device's paths)
    GET|PUT /radio, POST /radio/access_points, PATCH|DELETE /radio/access_points/<bssid>: the radio environment
                                            around the board, changed while it runs (the emulator's, not a device's)

An answer that takes virtual time (a Wi-Fi scan) is a `Pending`: the request waits while the machine runs on.
"""
from __future__ import annotations

import json
import logging
import os
import queue
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, urlsplit

from mt3620.engine.simulation.clock import PS_PER_SECOND, format_ps

from .app_manager import AppError
from .device import EmulatedDevice
from .device_wifi import CertRoutes, RadioRoutes, WifiRoutes

log = logging.getLogger("mt3620.device")
DEFAULT_API_PORT = 48938              # emulator-defined
MAX_BODY = 64 * 1024 * 1024
SLICE_PS = PS_PER_SECOND // 100       # the machine runs at most 10 ms of virtual time between request checks
REQUEST_TIMEOUT_S = 60.0
OUTPUT_KEPT = 20000
NOT_FOUND = {"not-installed", "no-such-route", "no-such-uart", "not-running", "no-such-network",
             "no-such-certificate"}
CONFLICT = {"already-running", "peripheral-in-use", "pin-block-in-use", "pin-block-function", "one-high-level-app",
            "no-free-io-core", "debug-unavailable", "no-wifi", "duplicate-config-name", "too-many-networks",
            "network-incomplete", "no-radio-environment", "certstore-full"}
BUSY = {"wifi-busy"}


@dataclass
class Request:
    method: str
    path: str
    query: dict
    body: bytes


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"


class Pending:
    """An answer that comes later, from the machine thread (`resolve` once); requests wait for it."""

    def __init__(self) -> None:
        self.response: Response | None = None
        self.listeners: list[Callable[[Response], None]] = []

    def resolve(self, response: Response) -> None:
        self.response = response
        for listener in self.listeners:
            listener(response)

    def then(self, listener: Callable[[Response], None]) -> None:
        if self.response is not None:
            listener(self.response)
        else:
            self.listeners.append(listener)


def _json(status: int, obj) -> Response:
    return Response(status, (json.dumps(obj, indent=1, sort_keys=True) + "\n").encode())


def _error(status: int, code: str, message: str) -> Response:
    return _json(status, {"Code": code, "Message": message})


class DeviceService:
    def __init__(self, device: EmulatedDevice, *, port: int = DEFAULT_API_PORT, speed: float = 1.0,
                 print_line: Callable[[str], None] | None = None) -> None:
        self.device = device
        self.speed = float(speed)
        self.print_line = print_line
        self.requests: "queue.Queue[tuple[Request, queue.Queue]]" = queue.Queue()
        self.output: deque[tuple[int, str, str]] = deque(maxlen=OUTPUT_KEPT)
        self._seq = 0
        self.stopping = False
        self._anchor: tuple[float, int] | None = None
        device.power_listeners.append(self._attach)
        if device.machine is not None:          # already powered on: follow the running machine too
            self._attach(device)
        self.httpd = self._listen(port)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="device-api", daemon=True)

    # ---- the HTTP edge (its own thread: parse, queue, wait, answer) ------------------------------------------------
    def _listen(self, port: int) -> ThreadingHTTPServer:
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):          # no access log on stderr
                log.debug("api: " + fmt, *args)

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length < 0 or length > MAX_BODY:
                    self._answer(_error(413, "too-large", f"a request body is at most {MAX_BODY} bytes"))
                    return
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = Request(self.command, parts.path.rstrip("/") or "/", parse_qs(parts.query), body)
                reply: queue.Queue = queue.Queue(maxsize=1)
                service.requests.put((request, reply))
                try:
                    response = reply.get(timeout=REQUEST_TIMEOUT_S)
                except queue.Empty:
                    response = _error(503, "busy", "the device did not answer in time (is a debugger holding it?)")
                self._answer(response)

            def _answer(self, response: Response):
                self.send_response(response.status)
                self.send_header("Content-Type", response.content_type)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        try:
            server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        except OSError as exc:
            raise OSError(f"cannot serve the device API on 127.0.0.1:{port}: {exc.strerror or exc}") from None
        server.daemon_threads = True
        return server

    # ---- output streams ---------------------------------------------------------------------------------------------
    def _attach(self, device: EmulatedDevice) -> None:
        device.machine.line_listeners.append(self._line)
        self._anchor = None

    def _line(self, label: str, text: str) -> None:
        self._seq += 1
        self.output.append((self._seq, label, text))
        if self.print_line is not None:
            self.print_line(f"[{label}] {text}")

    # ---- the main loop ---------------------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self.stopping = True
        self.httpd.shutdown()
        self.httpd.server_close()

    def serve_forever(self) -> None:
        self.start()
        try:
            while not self.stopping:
                self.step()
        finally:
            self.close()

    def step(self, wait_s: float = 0.05) -> None:
        """Serve queued requests, then run the machine for one slice (or wait for a request)."""
        self._serve_requests()
        machine = self.device.machine
        if machine is None:
            return
        busy = machine._runnable() or machine.clock.next_event_time() is not None
        if not busy:
            for hook in list(machine.between_windows):        # debuggers are polled even while nothing runs
                hook(machine)
            self._wait_for_request(wait_s)
            self._anchor = None
            return
        budget = SLICE_PS
        if self.speed > 0:
            now_wall = time.monotonic()
            if self._anchor is None:
                self._anchor = (now_wall, machine.clock.now)
            wall0, virt0 = self._anchor
            due = virt0 + int((now_wall - wall0) * self.speed * PS_PER_SECOND)
            if machine.clock.now >= due:
                ahead = (machine.clock.now - due) / PS_PER_SECOND / self.speed
                self._wait_for_request(min(wait_s, ahead))
                return
            if due - machine.clock.now > PS_PER_SECOND:       # the host fell behind: do not try to catch up
                self._anchor = (now_wall, machine.clock.now)
            budget = min(SLICE_PS, max(1, due - machine.clock.now))
        result = machine.run(duration_ps=budget)
        if result.reason == "fault":
            self._line("device", f"fault: {str(result.fault).splitlines()[0]}")
            self.device.apps.refresh()

    def _wait_for_request(self, seconds: float) -> None:
        try:
            item = self.requests.get(timeout=max(0.0, seconds))
        except queue.Empty:
            return
        self._serve(*item)

    def _serve_requests(self) -> None:
        while True:
            try:
                item = self.requests.get_nowait()
            except queue.Empty:
                return
            self._serve(*item)

    def _serve(self, request: Request, reply: queue.Queue) -> None:
        answer = self.respond(request)
        if isinstance(answer, Pending):
            answer.then(reply.put)
        else:
            reply.put(answer)

    @staticmethod
    def refusal(exc: AppError) -> Response:
        status = 404 if exc.reason in NOT_FOUND else 409 if exc.reason in CONFLICT else \
            503 if exc.reason in BUSY else 400
        return _error(status, exc.reason, str(exc))

    def respond(self, request: Request) -> Response | Pending:
        """The answer to one request (on the machine thread): the device's refusals become status codes."""
        try:
            return self.handle(request)
        except AppError as exc:
            return self.refusal(exc)
        except Exception as exc:  # a bug must not take the board down: the caller gets a 500 with one line
            log.exception("device API: %s %s", request.method, request.path)
            return _error(500, "internal-error", f"{type(exc).__name__}: {exc}")

    # ---- routes -----------------------------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response | Pending:
        dev = self.device
        method, path, q = request.method, request.path, request.query

        def flag(name: str, default: bool = False) -> bool:
            value = q.get(name, [None])[0]
            return default if value is None else value.lower() in ("1", "true", "yes")

        if path == "/device" and method == "GET":
            return _json(200, dev.describe())
        if path == "/device/capabilities":
            if method == "GET":
                return _json(200, {"Capabilities": dev.capabilities()})
            if method == "PUT":
                return _json(200, {"Capabilities": dev.install_capability(request.body)})
        if path == "/device/enable-development" and method == "POST":
            return _json(200, {"Capabilities": dev.enable_development()})
        if path == "/device/enable-cloud-test" and method == "POST":
            return _json(200, {"Capabilities": dev.enable_cloud_test()})
        if path == "/device/restart" and method == "POST":
            dev.restart()
            return _json(200, {"Restarted": True, "Boots": dev.boots})
        if path == "/images" and method == "GET":
            return _json(200, {"Images": dev.apps.list_installed()})
        if path == "/app/image" and method == "POST":
            status = dev.apps.deploy(request.body, start=flag("start", True), debug=flag("debug"),
                                     auto_start=not flag("manual_start"))
            return _json(200, {"App": status.as_dict()})
        m = re.fullmatch(r"/app/image(?:/([0-9A-Fa-f-]{36}))?", path)
        if m and method == "DELETE":
            return _json(200, {"Deleted": dev.apps.delete(m.group(1).lower() if m.group(1) else None)})
        m = re.fullmatch(r"/app/status(?:/([0-9A-Fa-f-]{36}))?", path)
        if m and method == "GET":
            cid = m.group(1).lower() if m.group(1) else None
            return _json(200, {"Apps": [s.as_dict() for s in dev.apps.show_status(cid)]})
        if m and m.group(1) and method in ("POST", "PATCH", "PUT"):
            try:
                trigger = json.loads(request.body or b"{}").get("trigger")
            except (ValueError, AttributeError):
                trigger = None
            cid = m.group(1).lower()
            if trigger == "start":
                status = dev.apps.start(cid)
            elif trigger == "startDebug":
                status = dev.apps.start(cid, debug=True)
            elif trigger == "stop":
                status = dev.apps.stop(cid)
            else:
                return _error(400, "bad-request", 'the body must be {"trigger": "start" | "stop" | "startDebug"}')
            return _json(200, {"App": status.as_dict()})
        m = re.fullmatch(r"/app/memory(?:/([0-9A-Fa-f-]{36}))?", path)
        if m and method == "GET":
            return _json(200, dev.apps.memory_stats(m.group(1).lower() if m.group(1) else None))
        if path == "/output" and method == "GET":
            try:
                since = int(q.get("since", ["0"])[0])
            except ValueError:
                return _error(400, "bad-request", "since must be a line number")
            lines = [list(item) for item in self.output if item[0] > since]
            return _json(200, {"Lines": lines, "Next": self._seq, "VirtualTime": format_ps(dev.machine.clock.now)})
        m = re.fullmatch(r"/uart/([\w.]+)", path)
        if m and method == "POST":
            tap = dev.machine.uarts.get(m.group(1))
            if tap is None or not hasattr(tap.model, "feed"):
                raise AppError("no-such-uart", f"no UART {m.group(1)!r} takes input (UARTs: "
                                               f"{', '.join(l for l, t in dev.machine.uarts.items() if hasattr(t.model, 'feed'))})")
            tap.model.feed(request.body)
            return _json(200, {"Fed": len(request.body)})
        if path == "/firewall" and method == "GET":
            fw = dev.apps.monitor.firewall
            return _json(200, fw.state() if fw is not None else {})
        if path == "/wifi":
            if method == "GET":
                return _json(200, {"Networks": dev.wifi_networks()})
            if method == "PUT":
                try:
                    networks = json.loads(request.body)
                except ValueError:
                    networks = None
                if not isinstance(networks, list) or not all(isinstance(n, dict) for n in networks):
                    return _error(400, "bad-request", "the body must be a JSON list of network objects")
                dev.set_wifi_networks(networks)
                return _json(200, {"Networks": dev.wifi_networks()})
        if path.startswith("/wifi/"):
            return self._wifi(request)
        if path == "/radio" or path.startswith("/radio/"):
            return self._radio(request)
        if path.startswith("/certstore/"):
            return self._certstore(request)
        return _error(404, "no-such-route", f"no route {method} {path}")


    def _wifi(self, request: Request) -> Response | Pending:
        routes = WifiRoutes(self.device)
        method, path = request.method, request.path

        def body():
            try:
                return json.loads(request.body or b"null")
            except ValueError:
                raise AppError("bad-request", "the body must be JSON") from None

        if path == "/wifi/config/networks":
            if method == "GET":
                return _json(200, routes.list())
            if method == "POST":
                return _json(200, routes.add(body()))
        m = re.fullmatch(r"/wifi/config/networks/([^/]+)", path)
        if m:
            if method == "GET":
                return _json(200, routes.show(m.group(1)))
            if method == "PATCH":
                return _json(200, routes.patch(m.group(1), body()))
            if method == "DELETE":
                return _json(200, routes.forget(m.group(1)))
        if path == "/wifi/config/reload" and method == "POST":
            return _json(200, routes.reload())
        if path == "/wifi/interface" and method == "GET":
            return _json(200, routes.interface())
        if path == "/wifi/scan" and method == "GET":
            pending = Pending()
            routes.scan(lambda result: pending.resolve(self.refusal(result) if isinstance(result, AppError)
                                                       else _json(200, result)))
            return pending
        return _error(404, "no-such-route", f"no route {method} {path}")


    def _certstore(self, request: Request) -> Response:
        routes = CertRoutes(self.device)
        method, path = request.method, request.path
        if path == "/certstore/certs" and method == "GET":
            return _json(200, routes.list())
        if path == "/certstore/space" and method == "GET":
            return _json(200, routes.space())
        m = re.fullmatch(r"/certstore/certs/([^/]+)", path)
        if m:
            if method == "GET":
                return _json(200, routes.show(m.group(1)))
            if method == "DELETE":
                return _json(200, routes.delete(m.group(1)))
            if method == "POST":
                try:
                    body = json.loads(request.body or b"null")
                except ValueError:
                    raise AppError("bad-request", "the body must be JSON") from None
                return _json(200, routes.add(m.group(1), body))
        return _error(404, "no-such-route", f"no route {method} {path}")

    def _radio(self, request: Request) -> Response:
        routes = RadioRoutes(self.device)
        method, path = request.method, request.path
        try:
            body = json.loads(request.body or b"null")
        except ValueError:
            raise AppError("bad-request", "the body must be JSON") from None
        if path == "/radio":
            if method == "GET":
                return _json(200, routes.show())
            if method == "PUT":
                return _json(200, routes.replace(body))
        if path == "/radio/access_points" and method == "POST":
            return _json(200, routes.add(body))
        m = re.fullmatch(r"/radio/access_points/([^/]+)", path)
        if m and method == "PATCH":
            return _json(200, routes.update(m.group(1), body))
        if m and method == "DELETE":
            return _json(200, routes.remove(m.group(1)))
        return _error(404, "no-such-route", f"no route {method} {path}")


def write_api_file(device: EmulatedDevice, url: str) -> None:
    path = device.dir / "api.json"
    tmp = path.with_name("api.json.tmp")
    tmp.write_text(json.dumps({"url": url, "pid": os.getpid()}) + "\n")
    os.replace(tmp, path)


def remove_api_file(device: EmulatedDevice) -> None:
    try:
        (device.dir / "api.json").unlink()
    except OSError:
        pass
