"""An app's own TLS library (mbed TLS, statically linked) talks to a real TLS server on the host's loopback through
the virtual network: the certificate chain and host name are checked in the guest, against the guest's clock."""
from __future__ import annotations

import ssl

import pytest

import pki
from net_programs import OUT, PROGRAMS, pack
from servers import TcpEcho
from tls_library import mbedtls
from mt3620.firmware import toolchain
from mt3620.peripherals.wifi.environment import RadioEnvironment
from mt3620.sphere_os.network import SECURITY_OPEN, StoredNetwork

SERVER_CA = pki.ca("Test Server CA")
OTHER_CA = pki.ca("Another CA")
SERVER = pki.issue(SERVER_CA, "secure.example.com", "server", dns=["secure.example.com"])


@pytest.fixture(scope="module")
def tls_client(sysroot):
    include, libs = mbedtls()
    try:
        return toolchain.build_program(OUT / "tls_client.elf", [PROGRAMS / "tls_client.c", PROGRAMS / "fortify.c"],
                                       extra=(f"-I{include}", *map(str, libs)))
    except toolchain.ToolchainError as exc:
        pytest.fail(f"cannot build the TLS client: {exc}")


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    (folder / "server.pem").write_text(SERVER.cert_pem + SERVER_CA.cert_pem)
    (folder / "server.key").write_text(SERVER.key_pem())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "server.pem", folder / "server.key")
    server = TcpEcho(tls=context, prefix=b"secure echo: ")
    yield server
    server.close()


def boot_client(boot, client, server, ca_pem):
    env = RadioEnvironment.from_dict({
        "access_points": [{"ssid": "Lab", "bssid": "02:00:5e:00:00:01", "channel": 1, "network": "lab"}],
        "networks": {"lab": {"hosts": {"secure.example.com": {"tcp": {"443": server.port}}}}}})
    package = pack("tls_client", client, ["secure.example.com", "443", "ca.pem", "hello over TLS"],
                   files={"ca.pem": ca_pem.encode()},
                   manifest={"Capabilities": {"AllowedConnections": ["secure.example.com"]}})
    dev = boot(wifi_env=env)
    net = dev.network
    net.wifi.add(StoredNetwork(ssid=b"Lab", security=SECURITY_OPEN, enabled=True))
    dev.run_until(lambda: net.wifi.networking_ready(), timeout="30s")      # joined before the app starts
    dev.launch(package)
    code = dev.wait_for_exit(timeout="60s")
    return code, dev.lines("a7.tls_client")


def test_tls_handshake_and_exchange_with_a_real_server(boot, tls_client, tls_server):
    code, lines = boot_client(boot, tls_client, tls_server, SERVER_CA.cert_pem)
    assert code == 0, "\n".join(lines)
    assert "tls: connected to secure.example.com:443" in lines
    assert any(line.startswith("tls: handshake done: TLSv1.2 TLS-ECDHE-ECDSA-WITH-") for line in lines), lines
    assert "tls: reply: secure echo: hello over TLS" in lines


def test_a_server_the_app_does_not_trust_fails_its_handshake(boot, tls_client, tls_server):
    code, lines = boot_client(boot, tls_client, tls_server, OTHER_CA.cert_pem)
    assert code == 1, "\n".join(lines)
    assert any("certificate rejected" in line and "not correctly signed by the trusted CA" in line
               for line in lines), lines
