"""`mt3620 azsphere device ...`: the device-side commands, against a board started with `mt3620 device start`
(its local device API, sphere_os/device_service.py). The azsphere CLI adds them to its `device` group through
`add_azsphere_commands(tree)` (mt3620/cli/azsphere.py's EXTENSION_MODULES names this module).

    sideload deploy --image-package P [--manual-start] [--force] [--debug-mode]
    sideload delete [--component-id ID]
    app start|stop|show-status [--component-id ID] [--debug-mode]
    app show-memory-stats [--component-id ID]
    image list-installed
    enable-development | enable-cloud-test
    capability update --capability-file F | capability show-attached
    restart | show-attached
    wifi add --ssid S [--psk P] [--targeted-scan] [--config-name N] [--client-cert-id ID] [--client-id ID]
             [--root-ca-cert-id ID]
    wifi list | show --id N | enable --id N | disable --id N | forget --id N | show-status | scan | reload-config
    certificate add --cert-type client|rootca --certificate ID --public-key-file F [--private-key-file F
                    [--private-key-password P]] | list | show --certificate ID | delete --certificate ID | show-quota

Which device: `--device URL|DIR` (a device API URL, or a state folder whose running device wrote api.json), else
$MT3620_DEVICE, else http://127.0.0.1:48938 (the default port of `mt3620 device start`). Exit codes: 0 done,
1 the device refused (its reason is printed, e.g. `error: ... (peripheral-in-use)`), 2 bad arguments or no
device to talk to.
"""
from __future__ import annotations

import http.client
import json
import os
import sys
from pathlib import Path

from mt3620.errors import UserError
from mt3620.http_client import HttpClient, HttpError

DEFAULT_URL = "http://127.0.0.1:48938"
TIMEOUT_S = 90.0


class DeviceRefused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def device_url(ref: str | None) -> str:
    ref = ref or os.environ.get("MT3620_DEVICE") or DEFAULT_URL
    if ref.startswith(("http://", "https://")):
        return ref.rstrip("/")
    folder = Path(ref)
    api = folder / "api.json"
    if folder.is_dir():
        try:
            return json.loads(api.read_text())["url"].rstrip("/")
        except (OSError, ValueError, KeyError, TypeError):
            raise UserError(f"{folder}: no running device there (no readable api.json: start it with "
                            f"`mt3620 device start --state {folder}`)") from None
    raise UserError(f"--device {ref}: neither a device API URL nor a device state folder")


def call(args, method: str, path: str, body: bytes | dict | None = None) -> dict:
    """One request to the device API through the project's HTTP client (mt3620.http_client, shared with the
    azsphere cloud commands): the device's refusal raises DeviceRefused, no device is a UserError."""
    base = device_url(getattr(args, "device", None))
    target, _, query = path.partition("?")
    client = HttpClient(base, timeout=TIMEOUT_S)
    try:
        if isinstance(body, dict):
            answer = client.call(method, target, json=body, query=_query(query))
        else:
            answer = client.call(method, target, data=body, query=_query(query))
    except HttpError as exc:
        raise DeviceRefused(exc.status, exc.body.get("Code", str(exc.status)),
                            exc.body.get("Message", "")) from None
    except (OSError, http.client.HTTPException) as exc:
        raise UserError(f"cannot reach the device at {base}: {getattr(exc, 'strerror', None) or exc} (is "
                        f"`mt3620 device start` running?)") from None
    finally:
        client.close()
    if not isinstance(answer, dict):
        raise UserError(f"the device at {base} answered {method} {target} with something other than JSON")
    return answer


def _query(text: str) -> dict | None:
    from urllib.parse import parse_qsl
    return dict(parse_qsl(text)) or None


def _print(args, obj, text: str) -> None:
    if getattr(args, "output", "table") == "json":
        print(json.dumps(obj, indent=1, sort_keys=True))
    else:
        print(text)


def _run(func):
    """Wrap a command: the device's refusal is one line and exit code 1."""
    def wrapped(args) -> int:
        try:
            return func(args) or 0
        except DeviceRefused as exc:
            print(f"error: {exc} ({exc.code})", file=sys.stderr)
            return 1
    return wrapped


def _status_text(apps: list[dict]) -> str:
    if not apps:
        return "No applications are installed."
    out = []
    for app in apps:
        out.append(f"{app['ComponentId']}")
        out.append(f"  App name    : {app['Name']}")
        out.append(f"  App state   : {app['State']}")
        out.append(f"  Core        : {app['Core']}")
        if app.get("GdbPort"):
            out.append(f"  GDB port    : {app['GdbPort']}")
        if app.get("Detail"):
            out.append(f"  Detail      : {app['Detail']}")
    return "\n".join(out)


# ---- commands -----------------------------------------------------------------------------------------------------
@_run
def cmd_deploy(args) -> int:
    try:
        data = Path(args.image_package).read_bytes()
    except OSError as exc:
        raise UserError(f"--image-package {args.image_package}: {exc.strerror or exc}")
    query = f"?start={0 if args.manual_start else 1}&debug={int(args.debug_mode)}&manual_start={int(args.manual_start)}"
    answer = call(args, "POST", "/app/image" + query, data)
    app = answer["App"]
    _print(args, answer, f"Deploying '{args.image_package}' to the attached device.\n"
                         f"Image package '{args.image_package}' has been deployed to the attached device.\n"
                         + _status_text([app]))
    return 0


@_run
def cmd_sideload_delete(args) -> int:
    path = "/app/image" + (f"/{args.component_id}" if args.component_id else "")
    answer = call(args, "DELETE", path)
    deleted = answer.get("Deleted", [])
    _print(args, answer, "\n".join(f"Component '{c}' deleted." for c in deleted) or "No applications to delete.")
    return 0


@_run
def cmd_app_status(args) -> int:
    path = "/app/status" + (f"/{args.component_id}" if args.component_id else "")
    answer = call(args, "GET", path)
    _print(args, answer, _status_text(answer["Apps"]))
    return 0


def _component(args) -> str:
    if args.component_id:
        return args.component_id
    apps = call(args, "GET", "/app/status")["Apps"]
    if len(apps) != 1:
        raise UserError("give --component-id: the device has "
                        f"{len(apps) or 'no'} installed app{'s' if len(apps) != 1 else ''}")
    return apps[0]["ComponentId"]


@_run
def cmd_app_start(args) -> int:
    cid = _component(args)
    answer = call(args, "POST", f"/app/status/{cid}", {"trigger": "startDebug" if args.debug_mode else "start"})
    _print(args, answer, _status_text([answer["App"]]))
    return 0


@_run
def cmd_app_stop(args) -> int:
    cid = _component(args)
    answer = call(args, "POST", f"/app/status/{cid}", {"trigger": "stop"})
    _print(args, answer, _status_text([answer["App"]]))
    return 0


@_run
def cmd_memory(args) -> int:
    path = "/app/memory" + (f"/{args.component_id}" if args.component_id else "")
    s = call(args, "GET", path)
    rows = [("Name", "Usage (bytes)"), ("Total", s["Total"]), ("User", s["User"]), ("PeakUser", s["PeakUser"])]
    line = " " + "-" * 26 + " " + "-" * 13
    text = [line] + [f" {name:<26} {value}" if i else f" {name:<26} {value}" for i, (name, value) in enumerate(rows)]
    text.insert(2, " " + "=" * 40)
    text.append(line)
    _print(args, s, f"{s['Name']} ({s['ComponentId']})\n" + "\n".join(text))
    return 0


@_run
def cmd_list_installed(args) -> int:
    answer = call(args, "GET", "/images")
    out = [f"Installed images:"]
    for image in answer["Images"]:
        out += [f" --> {image['Name']}", f"   --> Image type: {image['ImageType']} ({image['Type']})",
                f"   --> Component ID: {image['ComponentId']}", f"   --> Image ID: {image['ImageId']}",
                f"   --> Core: {image['Core']}", f"   --> Size: {image['Size']} bytes"]
    _print(args, answer, "\n".join(out) if answer["Images"] else "No images are installed.")
    return 0


@_run
def cmd_enable_development(args) -> int:
    answer = call(args, "POST", "/device/enable-development")
    _print(args, answer, f"The device is enabled for development: capabilities {', '.join(answer['Capabilities'])}.")
    return 0


@_run
def cmd_enable_cloud_test(args) -> int:
    answer = call(args, "POST", "/device/enable-cloud-test")
    _print(args, answer, "The device no longer has the appDevelopment capability and was restarted "
                         f"(capabilities: {', '.join(answer['Capabilities']) or 'none'}).")
    return 0


@_run
def cmd_capability_update(args) -> int:
    try:
        data = Path(args.capability_file).read_bytes()
    except OSError as exc:
        raise UserError(f"--capability-file {args.capability_file}: {exc.strerror or exc}")
    answer = call(args, "PUT", "/device/capabilities", data)
    _print(args, answer, f"Capability file applied: {', '.join(answer['Capabilities']) or 'none'}.")
    return 0


@_run
def cmd_capability_show(args) -> int:
    answer = call(args, "GET", "/device/capabilities")
    _print(args, answer, "Device capabilities: " + (", ".join(answer["Capabilities"]) or "none"))
    return 0


@_run
def cmd_restart(args) -> int:
    answer = call(args, "POST", "/device/restart")
    _print(args, answer, "Restarting device.\nDevice restarted successfully.")
    return 0


@_run
def cmd_show_attached(args) -> int:
    d = call(args, "GET", "/device")
    _print(args, d, f"Device ID: {d['DeviceId']}\nOS version: {d['OsVersion']}\n"
                    f"Capabilities: {', '.join(d['Capabilities']) or 'none'}\nBoots: {d['Boots']}")
    return 0


# ---- Wi-Fi --------------------------------------------------------------------------------------------------------
def _network_text(n: dict) -> str:
    rows = [("ID", n["id"]), ("SSID", n["ssid"]), ("Configuration state", n["configState"]),
            ("Connection state", n["connectionState"]), ("Security state", n["securityState"]),
            ("Targeted scan", n["targetedScan"])]
    for key, label in (("configName", "Configuration name"), ("clientIdentity", "Client identity"),
                       ("clientCertStoreIdentifier", "Client certificate ID"),
                       ("rootCaStoreIdentifier", "Root CA certificate ID")):
        if n.get(key):
            rows.append((label, n[key]))
    return "\n".join(f"{label:<24}: {value}" for label, value in rows)


def _table(header: tuple, rows: list[tuple]) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows)]
    line = " ".join("-" * w for w in widths)
    fmt = " ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(text.rstrip() for text in [line, fmt.format(*header), "=" * len(line)]
                     + [fmt.format(*map(str, r)) for r in rows] + [line])


@_run
def cmd_wifi_add(args) -> int:
    body = {"ssid": args.ssid, "targetedScan": args.targeted_scan}
    for key, value in (("psk", args.psk), ("configName", args.config_name), ("clientIdentity", args.client_id),
                       ("clientCertStoreIdentifier", args.client_cert_id),
                       ("rootCaStoreIdentifier", args.root_ca_cert_id)):
        if value is not None:
            body[key] = value
    n = call(args, "POST", "/wifi/config/networks", body)
    _print(args, n, f"Add network succeeded:\n{_network_text(n)}")
    return 0


@_run
def cmd_wifi_list(args) -> int:
    values = call(args, "GET", "/wifi/config/networks")["values"]
    rows = [(n["id"], n["ssid"], n["configState"], n["connectionState"], n["securityState"], n["targetedScan"])
            for n in values]
    _print(args, values, _table(("ID", "SSID", "ConfigState", "ConnectionState", "SecurityState", "TargetedScan"),
                                rows) if rows else "No networks found.")
    return 0


@_run
def cmd_wifi_show(args) -> int:
    n = call(args, "GET", f"/wifi/config/networks/{args.id}")
    _print(args, n, _network_text(n))
    return 0


def _set_state(args, state: str) -> int:
    n = call(args, "PATCH", f"/wifi/config/networks/{args.id}", {"configState": state})
    _print(args, n, f"Successfully {state} network:\n{_network_text(n)}")
    return 0


@_run
def cmd_wifi_enable(args) -> int:
    return _set_state(args, "enabled")


@_run
def cmd_wifi_disable(args) -> int:
    return _set_state(args, "disabled")


@_run
def cmd_wifi_forget(args) -> int:
    call(args, "DELETE", f"/wifi/config/networks/{args.id}")
    _print(args, {}, f"Successfully forgotten network {args.id}.")
    return 0


@_run
def cmd_wifi_show_status(args) -> int:
    s = call(args, "GET", "/wifi/interface")
    labels = (("ssid", "SSID"), ("configState", "Configuration state"), ("connectionState", "Connection state"),
              ("securityState", "Security state"), ("freq", "Frequency"), ("signal_level", "Signal level"),
              ("mode", "Mode"), ("key_mgmt", "Key management"), ("wpa_state", "WPA State"),
              ("ip_address", "IP Address"), ("address", "MAC Address"), ("id", "Network ID"))
    _print(args, s, "\n".join(f"{label:<20}: {s[key]}" for key, label in labels if key in s))
    return 0


@_run
def cmd_wifi_scan(args) -> int:
    values = call(args, "GET", "/wifi/scan")["values"]
    rows = [(v["ssid"], v["securityState"], v["bssid"], v["signal_level"], v["freq"]) for v in values]
    _print(args, values, _table(("SSID", "SecurityState", "BSSID", "SignalLevel", "Frequency"), rows)
           if rows else "No networks found.")
    return 0


@_run
def cmd_wifi_reload(args) -> int:
    call(args, "POST", "/wifi/config/reload")
    _print(args, {}, "Wi-Fi configuration reloaded.")
    return 0


# ---- certificates -------------------------------------------------------------------------------------------------
def _read_text(option: str, path: str) -> str:
    try:
        return Path(path).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{option} {path}: {getattr(exc, 'strerror', None) or exc}")


@_run
def cmd_cert_add(args) -> int:
    body = {"certType": args.cert_type, "publicCert": _read_text("--public-key-file", args.public_key_file)}
    if args.private_key_file:
        body["privateKey"] = _read_text("--private-key-file", args.private_key_file)
    if args.private_key_password is not None:
        body["password"] = args.private_key_password
    call(args, "POST", f"/certstore/certs/{args.certificate}", body)
    _print(args, {}, f"Certificate '{args.certificate}' added.")
    return 0


@_run
def cmd_cert_list(args) -> int:
    ids = call(args, "GET", "/certstore/certs")["identifiers"]
    _print(args, ids, _table(("Identifiers",), [(i,) for i in ids]) if ids else "No certificates found.")
    return 0


@_run
def cmd_cert_show(args) -> int:
    c = call(args, "GET", f"/certstore/certs/{args.certificate}")
    labels = (("id", "ID"), ("certType", "Type"), ("notBefore", "Not before"), ("notAfter", "Not after"),
              ("subjectName", "Subject name"), ("issuerName", "Issuer name"))
    _print(args, c, "\n".join(f"{label:<13}: {c[key]}" for key, label in labels if key in c))
    return 0


@_run
def cmd_cert_delete(args) -> int:
    call(args, "DELETE", f"/certstore/certs/{args.certificate}")
    _print(args, {}, f"Certificate '{args.certificate}' deleted.")
    return 0


@_run
def cmd_cert_quota(args) -> int:
    space = call(args, "GET", "/certstore/space")
    _print(args, space, f"Available space (bytes): {space['AvailableSpace']}")
    return 0


# ---- parsers --------------------------------------------------------------------------------------------------------
def _common(p) -> None:
    p.add_argument("--device", metavar="URL|DIR", help="the device API URL or the device's state folder "
                                                       "(default $MT3620_DEVICE, else http://127.0.0.1:48938)")
    p.add_argument("-o", "--output", choices=("table", "json"), default="table")


def add_azsphere_commands(tree) -> None:
    """Add the device-side commands to the azsphere CLI's tree (mt3620/cli/azsphere.py: EXTENSION_MODULES names
    this module; `tree` is its CommandTree)."""
    tree.group("device", "devices")

    def group(parent: str, name: str, help_: str) -> str:
        return tree.group(f"{parent} {name}".strip(), help_)

    def cmd(parent: str, name: str, func, help_: str, *arguments):
        p = tree.command(parent, name, func, help_, *arguments, service=False)
        _common(p)
        return p

    dv = "device"
    component = (("--component-id", "-i"), {"help": "the app's component ID"})
    sl = group(dv, "sideload", "load apps onto the attached (emulated) device")
    cmd(sl, "deploy", cmd_deploy, "deploy an image package (after the device's checks) and start it",
        (("--image-package", "-p"), {"required": True}),
        (("--manual-start", "-m"), {"action": "store_true", "help": "do not start it (nor at boot)"}),
        (("--debug-mode",), {"action": "store_true", "help": "start it halted, waiting for a debugger"}),
        (("--force",), {"action": "store_true", "help": "accepted for compatibility; the device decides"}))
    cmd(sl, "delete", cmd_sideload_delete, "stop and delete one app, or every app", component)
    ap = group(dv, "app", "the apps on the attached device")
    cmd(ap, "start", cmd_app_start, "start an app", component,
        (("--debug-mode",), {"action": "store_true", "help": "halt at its first instruction with its GDB port open"}))
    cmd(ap, "stop", cmd_app_stop, "stop an app", component)
    cmd(ap, "show-status", cmd_app_status, "the state of the apps", component)
    cmd(ap, "show-memory-stats", cmd_memory, "memory use of the running high-level app", component)
    im = group(dv, "image", "images on the attached device")
    cmd(im, "list-installed", cmd_list_installed, "the installed images")
    cmd(dv, "enable-development", cmd_enable_development, "give the device the appDevelopment capability")
    cmd(dv, "enable-cloud-test", cmd_enable_cloud_test, "remove appDevelopment (development apps stop) and restart")
    ca = group(dv, "capability", "device capabilities")
    cmd(ca, "update", cmd_capability_update, "apply a capability file", (("--capability-file",), {"required": True}))
    cmd(ca, "show-attached", cmd_capability_show, "the device's capabilities")
    cmd(dv, "restart", cmd_restart, "restart the attached device")
    cmd(dv, "show-attached", cmd_show_attached, "identity and state of the attached device")
    network_id = (("--id", "-i"), {"required": True, "type": int, "help": "the network's ID (`wifi list`)"})
    wf = group(dv, "wifi", "Wi-Fi networks of the attached device (kept in its flash)")
    cmd(wf, "add", cmd_wifi_add, "add a Wi-Fi network (saved at once)",
        (("--ssid", "-s"), {"required": True, "help": "the network's SSID (case-sensitive)"}),
        (("--psk", "-p"), {"help": "the WPA2 key (leave out for an open network)"}),
        (("--targeted-scan",), {"action": "store_true", "help": "probe for the SSID (hidden networks)"}),
        (("--config-name",), {"help": "a name for this configuration (at most 16 characters)"}),
        (("--client-cert-id",), {"help": "EAP-TLS: the client certificate's ID in the certificate store"}),
        (("--client-id",), {"help": "EAP-TLS: the identity the RADIUS server recognises"}),
        (("--root-ca-cert-id",), {"help": "EAP-TLS: the ID of the RADIUS server's root CA certificate"}))
    cmd(wf, "list", cmd_wifi_list, "the stored Wi-Fi networks")
    cmd(wf, "show", cmd_wifi_show, "one stored network", network_id)
    cmd(wf, "enable", cmd_wifi_enable, "enable a stored network", network_id)
    cmd(wf, "disable", cmd_wifi_disable, "disable a stored network", network_id)
    cmd(wf, "forget", cmd_wifi_forget, "forget a stored network (IDs after it move down by one)", network_id)
    cmd(wf, "show-status", cmd_wifi_show_status, "the state of the wireless interface")
    cmd(wf, "scan", cmd_wifi_scan, "scan for networks the device can see")
    certificate = (("--certificate", "-c"), {"required": True, "help": "the certificate's ID (1-16 characters)"})
    ce = group(dv, "certificate", "the attached device's certificate store (EAP-TLS; kept in its flash)")
    cmd(ce, "add", cmd_cert_add, "add a certificate (an ID in use is replaced)", certificate,
        (("--cert-type",), {"required": True, "choices": ("client", "rootca")}),
        (("--public-key-file",), {"required": True, "help": "the certificate (PEM)"}),
        (("--private-key-file",), {"help": "client: its private key (PEM)"}),
        (("--private-key-password",), {"help": "client: the private key's password, if it is encrypted"}))
    cmd(ce, "list", cmd_cert_list, "the certificates' IDs")
    cmd(ce, "show", cmd_cert_show, "one certificate's details", certificate)
    cmd(ce, "delete", cmd_cert_delete, "delete a certificate", certificate)
    cmd(ce, "show-quota", cmd_cert_quota, "free space in the certificate store")
    cmd(wf, "reload-config", cmd_wifi_reload, "reload the saved configuration (after certificate changes)")
