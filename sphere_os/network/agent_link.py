"""The OS agent's path to the security service through the emulated Wi-Fi (sphere_os/agent.py uses it when the
device has networking).

`ServiceLink` stands where the agent's device client stands: before each call it resolves the service's host name
with the network's DNS and finds where the network routes its port (the environment maps the name to the service
on the host's loopback); with no address on wlan0, a name the network does not know or a port nobody serves, the
call fails with OSError (errno ENETUNREACH, -2 for an unknown name, ECONNREFUSED) and nothing reaches the service.
The client for the routed endpoint is made once and kept (its TLS session, certificates and keep-alive
connection), and made again if the route changes.

`UpdateSchedule` runs the agent's checks on the machine's virtual clock as the device does: at the first
connection after boot, then every 24 hours; a check that fails is retried with back-off (emulator-defined:
1, 2, 4, ... minutes, at most 60), and a retry is also started as soon as networking becomes ready.
"""
from __future__ import annotations

import logging
import urllib.parse
from typing import Callable

from mt3620.engine.simulation.clock import PS_PER_SECOND

log = logging.getLogger("mt3620.os")
RETRY_FIRST_PS = 60 * PS_PER_SECOND
RETRY_MAX_PS = 3600 * PS_PER_SECOND
CHECK_INTERVAL_PS = 24 * 3600 * PS_PER_SECOND


class ServiceLink:
    def __init__(self, network, service_url: str, make_client: Callable[[str], object]) -> None:
        parts = urllib.parse.urlsplit(service_url)
        if not parts.hostname:
            raise ValueError(f"not a service URL: {service_url!r}")
        self.network, self.make_client = network, make_client
        self.host, self.port, self.scheme = parts.hostname, parts.port or 443, parts.scheme or "https"
        self.route: tuple[str, int] | None = None
        self.client = None
        self.calls = self.refused = 0

    def _routed(self):
        try:
            route = self.network.net.host_endpoint(self.host, self.port)
        except OSError:
            self.refused += 1
            raise
        if route != self.route or self.client is None:
            self.route = route
            self.client = self.make_client(f"{self.scheme}://{route[0]}:{route[1]}")
        self.calls += 1
        return self.client

    def __getattr__(self, name: str):
        attribute = getattr(self._routed(), name)
        return attribute


class UpdateSchedule:
    def __init__(self, agent, clock, on_result: Callable[[object], None] | None = None,
                 emit: Callable[[str], None] | None = None) -> None:
        self.agent, self.clock = agent, clock
        self.on_result = on_result or (lambda result: None)
        self.emit = emit or (lambda text: None)
        self.backoff = RETRY_FIRST_PS
        self.event = None
        self.results: list[tuple[int, str, object]] = []     # (virtual time, "ok" | error text, result)
        self.attested = False
        network = getattr(agent, "network", None)
        if network is not None:
            network.wifi.state_listeners.append(self._network_changed)

    def start(self, delay_ps: int = 0) -> None:
        self._arm(delay_ps)

    def _arm(self, delay_ps: int) -> None:
        if self.event is not None:
            self.event.cancel()
        self.event = self.clock.schedule(delay_ps, self._check, "os.update-check")

    def _network_changed(self) -> None:
        network = self.agent.network
        if network.wifi.networking_ready() and self.results and self.results[-1][1] != "ok":
            self._arm(0)                    # networking is back: retry now rather than at the back-off

    def _check(self) -> None:
        self.event = None
        try:
            if not self.attested:
                self.agent.attest()
                self.attested = True
            result = self.agent.check_for_updates()
        except (OSError, ValueError) as exc:
            text = str(exc) or type(exc).__name__
            self.results.append((self.clock.now, text, None))
            self.emit(f"update check failed: {text}; retrying in {self.backoff // PS_PER_SECOND} s")
            self._arm(self.backoff)
            self.backoff = min(self.backoff * 2, RETRY_MAX_PS)
            return
        except Exception as exc:            # the service answered with an error: same back-off, logged
            self.results.append((self.clock.now, f"{type(exc).__name__}: {exc}", None))
            self.emit(f"update check failed: {exc}; retrying in {self.backoff // PS_PER_SECOND} s")
            self._arm(self.backoff)
            self.backoff = min(self.backoff * 2, RETRY_MAX_PS)
            return
        self.backoff = RETRY_FIRST_PS
        self.results.append((self.clock.now, "ok", result))
        self.emit(f"update check done: {len(result.installed)} installed, {len(result.failed)} failed")
        self.on_result(result)
        self._arm(CHECK_INTERVAL_PS)
