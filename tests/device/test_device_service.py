"""The device API's routes (sphere_os/device_service.py), in-process: the machine runs on the test's thread, the
HTTP edge on its own; refusals map to status codes with the device's reason; UART input, output lines, Wi-Fi
settings and the firewall state."""
import json
import threading
import urllib.error
import urllib.request

import pytest

from device_helpers import pack, rt_manifest

from mt3620.sphere_os.device_service import DeviceService, Request


@pytest.fixture
def service(board):
    dev = board()
    svc = DeviceService(dev, port=0, speed=0)
    svc.start()
    yield svc
    svc.close()


def call(svc, method, path, body=None):
    from urllib.parse import parse_qs, urlsplit
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    parts = urlsplit(path)
    response = svc.respond(Request(method, parts.path, parse_qs(parts.query), data or b""))
    return response.status, json.loads(response.body)


def http(svc, method, path, body=None):
    """A real HTTP round trip: the request from another thread, the machine loop (step) on this one."""
    out = {}

    def client():
        request = urllib.request.Request(svc.url + path, data=body, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                out["reply"] = (r.status, json.loads(r.read()))
        except urllib.error.HTTPError as exc:
            out["reply"] = (exc.code, json.loads(exc.read()))

    t = threading.Thread(target=client)
    t.start()
    while t.is_alive():
        svc.step(wait_s=0.01)
    t.join()
    return out["reply"]


def test_http_round_trip_and_status_codes(service, rt_elf):
    status, body = http(service, "POST", "/app/image", pack(rt_elf("uart_irq"), rt_manifest("uart_irq")))
    assert status == 200 and body["App"]["State"] == "running" and body["App"]["Core"] == "Real-time 0"
    status, body = http(service, "POST", "/app/image", pack(rt_elf("uart_irq"), rt_manifest("other",
                                                                                            {"Uart": ["ISU9"]})))
    assert status == 400 and body["Code"] == "bad-manifest" and "ISU9" in body["Message"]
    cid = rt_manifest("uart_irq")["ComponentId"]
    assert http(service, "POST", f"/app/status/{cid}", json.dumps({"trigger": "start"}).encode())[0] == 409
    assert http(service, "GET", "/app/status/00000000-0000-4000-8000-000000000000")[0] == 404
    assert http(service, "GET", "/no/such/route")[1]["Code"] == "no-such-route"
    status, body = http(service, "POST", f"/app/status/{cid}", b'{"trigger": "jump"}')
    assert status == 400 and "trigger" in body["Message"]


def test_uart_input_output_lines_wifi_and_firewall(service, rt_elf):
    dev = service.device
    dev.apps.deploy(pack(rt_elf("uart_irq"), rt_manifest("uart_irq")))
    dev.machine.run(duration_ps=50 * 10**9)
    status, body = call(service, "POST", "/uart/io0.io0_uart", b"Az")
    assert status == 200 and body == {"Fed": 2}
    dev.machine.run(duration_ps=50 * 10**9)
    status, body = call(service, "GET", "/output?since=0")
    lines = [(label, text) for _, label, text in body["Lines"]]
    assert ("a7.os", "started uart_irq on Real-time 0") in lines
    assert ("io0.io0_uart", "uart_irq: rx 0x41") in lines and ("io0.io0_uart", "uart_irq: rx 0x7a") in lines
    assert call(service, "POST", "/uart/nowhere", b"x")[1]["Code"] == "no-such-uart"
    from mt3620.sphere_os.network import StoredNetwork
    networks = [StoredNetwork(ssid=b"lab", security=2, psk="correct horse", enabled=True).to_json()]
    assert call(service, "PUT", "/wifi", networks) == (200, {"Networks": networks})
    assert dev.network.wifi.networks[0].ssid == b"lab"                        # the running Wi-Fi service has it
    assert call(service, "PUT", "/wifi", {"ssid": "x"})[0] == 400
    assert call(service, "PUT", "/wifi", [{"Ssid": "lab"}])[1]["Code"] == "bad-request"
    dev.restart()
    assert call(service, "GET", "/wifi") == (200, {"Networks": networks})        # kept in the flash
    assert dev.network.wifi.networks[0].psk == "correct horse"               # and the Wi-Fi service loads it
    status, fw = call(service, "GET", "/firewall")
    assert fw["locked"] and fw["blocks"]["io0_tcm"] == ["io0"] and fw["blocks"]["isu0"] == []
    status, d = call(service, "GET", "/device")
    assert d["Boots"] == 2 and d["Capabilities"] == ["appDevelopment"] and d["OsVersion"]


def test_the_wifi_services_persist_goes_to_the_flash(board):
    """WifiConfig_PersistConfig (the OS's Wi-Fi service persist) writes the board's flash; the next power-on loads it."""
    from mt3620.sphere_os.network import StoredNetwork
    dev = board()
    wifi = dev.network.wifi
    wifi.add(StoredNetwork(ssid=b"office", security=1, enabled=True))
    sequence = dev.installer.sequence
    wifi.persist()
    assert dev.installer.sequence == sequence + 1 and dev.wifi_networks()[0]["ssid"] == b"office".hex()
    dev.restart()
    assert [n.ssid for n in dev.network.wifi.networks] == [b"office"]
