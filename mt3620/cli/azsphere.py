"""`mt3620 azsphere ...`: the azsphere-shaped management CLI of the security service (docs/cloud.md).

Commands talk to a running service over its REST API with a user token, through the HTTP client the device side
uses too (mt3620.http_client). Connection settings live in $MT3620_AZSPHERE_CONFIG (default
~/.config/mt3620/azsphere.json), written by `mt3620 azsphere login`; $MT3620_CLOUD_URL and $MT3620_CLOUD_TOKEN
override them. Not installed as a separate `azsphere` command, so it never shadows Microsoft's.

Other parts of the project add commands to this tree (for example `azsphere device ...` commands that talk to a
local emulated device rather than to the service): a module named in EXTENSION_MODULES defines
`add_azsphere_commands(tree)` and uses `tree.group(...)` and `tree.command(...)` (CommandTree below); a module not
present in this tree is skipped.
"""
from __future__ import annotations

import argparse
import base64
import http.client
import importlib
import json
import os
import ssl
import time
import urllib.parse
import uuid
from collections.abc import Callable
from pathlib import Path

from mt3620.errors import UserError
from mt3620.http_client import HttpClient

# ---- configuration ------------------------------------------------------------------------------------------


def config_path() -> Path:
    env = os.environ.get("MT3620_AZSPHERE_CONFIG")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "mt3620" / "azsphere.json"


def load_config() -> dict:
    path = config_path()
    cfg: dict = {}
    if path.is_file():
        try:
            cfg = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise UserError(f"cannot read {path}: {exc}") from None
    if os.environ.get("MT3620_CLOUD_URL"):
        cfg["url"] = os.environ["MT3620_CLOUD_URL"]
    if os.environ.get("MT3620_CLOUD_TOKEN"):
        cfg["token"] = os.environ["MT3620_CLOUD_TOKEN"]
    return cfg


def save_config(cfg: dict) -> None:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(cfg, f, indent=2)


class Api:
    """The CLI's view of the management API: JSON in and out, errors as one-line UserErrors."""

    def __init__(self, cfg: dict) -> None:
        if not cfg.get("url") or not cfg.get("token"):
            raise UserError("not logged in: run `mt3620 azsphere login --url URL --token-file DATA/admin.token`")
        self.url = cfg["url"].rstrip("/")
        tls = None
        if cfg.get("ca_file"):
            try:
                tls = ssl.create_default_context(cafile=cfg["ca_file"])
            except (OSError, ssl.SSLError) as exc:
                raise UserError(f"cannot use the CA file {cfg['ca_file']}: {exc}") from None
        try:
            self.http = HttpClient(self.url, headers={"Authorization": f"Bearer {cfg['token']}"}, timeout=60, tls=tls)
        except ValueError as exc:
            raise UserError(str(exc)) from None

    def call(self, method: str, path: str, body=None, raw: bytes | None = None, query: dict | None = None,
             want: str = "json"):
        try:
            answer = self.http.request(method, path, json=body, data=raw, query=query)
        except (OSError, http.client.HTTPException) as exc:
            raise UserError(f"cannot reach the service at {self.url}: {getattr(exc, 'strerror', None) or exc}") \
                from None
        if answer.status >= 400:
            try:
                err = answer.json()
                message = f"{err.get('ErrorCode') or err.get('Code')}: {err.get('Message')}"
            except (ValueError, AttributeError):
                message = answer.body[:200].decode(errors="replace")
            raise UserError(f"{method} {path} failed ({answer.status}) {message}")
        if want == "bytes":
            return answer.body
        if want == "text":
            return answer.body.decode()
        return answer.json() if answer.body else (None if answer.status == 204 else {})


def _api(args) -> Api:
    return Api(load_config())


def _tenant(args, cfg: dict | None = None) -> str:
    cfg = cfg if cfg is not None else load_config()
    tenant = getattr(args, "tenant", None) or cfg.get("tenant")
    if not tenant:
        raise UserError("no tenant selected: use --tenant ID or `mt3620 azsphere tenant select --tenant ID`")
    return tenant


def _is_guid(text: str) -> bool:
    try:
        uuid.UUID(text)
        return True
    except ValueError:
        return False


def _product_id(api: Api, tenant: str, ref: str) -> str:
    if _is_guid(ref):
        return ref
    for p in api.call("GET", f"/v2/tenants/{tenant}/products"):
        if p["Name"] == ref:
            return p["Id"]
    raise UserError(f"no product named {ref!r}")


def _group_id(api: Api, tenant: str, ref: str) -> str:
    """A device group by ID or as 'Product/Group' (as the azsphere CLI accepts)."""
    if _is_guid(ref):
        return ref
    if "/" not in ref:
        raise UserError(f"device group {ref!r}: give its ID or ProductName/GroupName")
    product, group = ref.split("/", 1)
    pid = _product_id(api, tenant, product)
    for g in api.call("GET", f"/v2/tenants/{tenant}/products/{pid}/devicegroups"):
        if g["Name"] == group:
            return g["Id"]
    raise UserError(f"product {product!r} has no device group {group!r}")


def _print(args, data, columns: list[str] | None = None) -> None:
    if getattr(args, "output", "table") == "json" or columns is None:
        print(json.dumps(data, indent=2))
        return
    rows = data if isinstance(data, list) else [data]
    table = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in table]) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip())
    print("  ".join("-" * w for w in widths))
    for row in table:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, (list, dict)):
        return json.dumps(v)
    return str(v)


def _write(path: str, data: bytes) -> None:
    try:
        Path(path).write_bytes(data)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None


# ---- `mt3620 azsphere` --------------------------------------------------------------------------------------

def cmd_login(args) -> int:
    cfg = load_config()
    if args.rotate:    # a new token for the logged-in user; the old one stops working
        out = Api(cfg).call("POST", "/v2/users/me/token")
        cfg["token"] = out["Token"]
        save_config(cfg)
        print(f"new token saved; it expires {out['ExpiresAt']}")
        return 0
    token = args.token
    if args.token_file:
        try:
            token = Path(args.token_file).read_text().strip()
        except OSError as exc:
            raise UserError(f"cannot read {args.token_file}: {exc.strerror or exc}") from None
    if not token or not args.url:
        raise UserError("give --url and --token or --token-file (or --rotate once logged in)")
    cfg.update(url=args.url.rstrip("/"), token=token)
    if args.ca_file:
        cfg["ca_file"] = str(Path(args.ca_file).resolve())
    api = Api(cfg)
    tenants = api.call("GET", "/v2/tenants")   # proves URL and token work
    save_config(cfg)
    print(f"logged in to {cfg['url']}; {len(tenants)} tenant(s) visible")
    return 0


def cmd_tenant_create(args) -> int:
    api = _api(args)
    t = api.call("POST", "/v2/tenants", {"Name": args.name})
    if args.select or not load_config().get("tenant"):
        cfg = load_config()
        cfg["tenant"] = t["Id"]
        save_config(cfg)
    _print(args, t, ["Id", "Name", "Roles"])
    return 0


def cmd_tenant_list(args) -> int:
    _print(args, _api(args).call("GET", "/v2/tenants"), ["Id", "Name", "Roles"])
    return 0


def cmd_tenant_select(args) -> int:
    api = _api(args)
    ref = args.tenant
    match = [t for t in api.call("GET", "/v2/tenants") if t["Id"] == ref or t["Name"] == ref]
    if len(match) != 1:
        raise UserError(f"{'no' if not match else 'more than one'} tenant matches {ref!r}")
    cfg = load_config()
    cfg["tenant"] = match[0]["Id"]
    save_config(cfg)
    print(f"selected tenant {match[0]['Name']} ({match[0]['Id']})")
    return 0


def cmd_tenant_update(args) -> int:
    api = _api(args)
    _print(args, api.call("PATCH", f"/v2/tenants/{_tenant(args)}", {"Name": args.new_name}), ["Id", "Name", "Roles"])
    return 0


def cmd_tenant_show_selected(args) -> int:
    api = _api(args)
    _print(args, api.call("GET", f"/v2/tenants/{_tenant(args)}"), ["Id", "Name", "Roles"])
    return 0


def cmd_error_report(args) -> int:
    api = _api(args)
    tenant = _tenant(args)
    group = _group_id(api, tenant, args.device_group) if args.device_group else None
    text = api.call("GET", f"/v2/tenants/{tenant}/errorreports", query={"format": "csv", "deviceGroupId": group},
                    want="bytes")
    _write(args.destination, text)
    lines = max(0, text.count(b"\n") - 1)
    print(f"wrote {lines} event(s) to {args.destination}")
    return 0


def cmd_role_add(args) -> int:
    api = _api(args)
    _print(args, api.call("POST", f"/v2/tenants/{_tenant(args)}/roles", {"User": args.user, "Role": args.role}),
           ["User", "Roles"])
    return 0


def cmd_role_list(args) -> int:
    _print(args, _api(args).call("GET", f"/v2/tenants/{_tenant(args)}/roles"), ["User", "Roles"])
    return 0


def cmd_role_delete(args) -> int:
    _api(args).call("DELETE", f"/v2/tenants/{_tenant(args)}/roles/{urllib.parse.quote(args.user, safe='')}")
    print(f"removed the role of {args.user}")
    return 0


PRODUCT_COLS = ["Id", "Name", "Description"]
GROUP_COLS = ["Id", "Name", "ProductId", "OsFeedType", "UpdatePolicy", "CurrentDeploymentId"]
DEVICE_COLS = ["DeviceId", "DeviceGroupId", "OsVersion", "LastAttestedAt"]
IMAGE_COLS = ["Id", "ComponentId", "ImageType", "Name", "SecurityVersion", "TrustStatus"]
DEPLOY_COLS = ["Id", "DeployedImages", "DeploymentDateUtc", "Current"]
FEEDS = {"Retail": 0, "RetailEval": 1}
POLICIES = {"UpdateAll": 0, "No3rdPartyAppUpdates": 1, "NoUpdates": 2}
STATES = ("NotStarted", "InProgress", "Complete", "Failed", "CompleteWithErrors")   # Operation.State


def cmd_product_create(args) -> int:
    api = _api(args)
    body = {"Name": args.name, "Description": args.description or "",
            "CreateDefaultGroups": not args.no_default_device_groups}
    _print(args, api.call("POST", f"/v2/tenants/{_tenant(args)}/products", body)["Result"], PRODUCT_COLS)
    return 0


def cmd_product_list(args) -> int:
    _print(args, _api(args).call("GET", f"/v2/tenants/{_tenant(args)}/products"), PRODUCT_COLS)
    return 0


def cmd_product_show(args) -> int:
    api, tenant = _api(args), _tenant(args)
    _print(args, api.call("GET", f"/v2/tenants/{tenant}/products/{_product_id(api, tenant, args.product)}"),
           PRODUCT_COLS)
    return 0


def cmd_product_update(args) -> int:
    api, tenant = _api(args), _tenant(args)
    body = {k: v for k, v in (("Name", args.new_name), ("Description", args.description)) if v is not None}
    _print(args, api.call("PATCH", f"/v2/tenants/{tenant}/products/{_product_id(api, tenant, args.product)}", body),
           PRODUCT_COLS)
    return 0


def cmd_product_delete(args) -> int:
    api, tenant = _api(args), _tenant(args)
    api.call("DELETE", f"/v2/tenants/{tenant}/products/{_product_id(api, tenant, args.product)}")
    print(f"deleted product {args.product}")
    return 0


def cmd_group_create(args) -> int:
    api, tenant = _api(args), _tenant(args)
    body = {"Name": args.name, "Description": args.description or "", "OsFeedType": FEEDS[args.os_feed],
            "UpdatePolicy": POLICIES[args.update_policy], "ProductId": _product_id(api, tenant, args.product)}
    _print(args, api.call("POST", f"/v2/tenants/{tenant}/devicegroups", body), GROUP_COLS)
    return 0


def _list(args, collection: str, scope: str | None, resolve, columns: list[str]) -> int:
    """List a tenant's `collection`, or only those under `scope` (a product or device group, by name or ID)."""
    api, tenant = _api(args), _tenant(args)
    prefix = f"/v2/tenants/{tenant}"
    if scope:
        prefix += resolve(api, tenant, scope)
    _print(args, api.call("GET", f"{prefix}/{collection}"), columns)
    return 0


def cmd_group_list(args) -> int:
    return _list(args, "devicegroups", args.product,
                 lambda api, tenant, ref: f"/products/{_product_id(api, tenant, ref)}", GROUP_COLS)


def cmd_group_show(args) -> int:
    api, tenant = _api(args), _tenant(args)
    _print(args, api.call("GET", f"/v2/tenants/{tenant}/devicegroups/{_group_id(api, tenant, args.device_group)}"),
           GROUP_COLS)
    return 0


def cmd_group_update(args) -> int:
    api, tenant = _api(args), _tenant(args)
    body = {}
    if args.new_name:
        body["Name"] = args.new_name
    if args.description is not None:
        body["Description"] = args.description
    if args.os_feed:
        body["OsFeedType"] = FEEDS[args.os_feed]
    if args.update_policy:
        body["UpdatePolicy"] = POLICIES[args.update_policy]
    gid = _group_id(api, tenant, args.device_group)
    _print(args, api.call("PATCH", f"/v2/tenants/{tenant}/devicegroups/{gid}", body), GROUP_COLS)
    return 0


def cmd_group_delete(args) -> int:
    api, tenant = _api(args), _tenant(args)
    api.call("DELETE", f"/v2/tenants/{tenant}/devicegroups/{_group_id(api, tenant, args.device_group)}")
    print(f"deleted device group {args.device_group}")
    return 0


def _wait_operation(api: Api, tenant: str, op: dict, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while op["State"] in (0, 1):        # NotStarted, InProgress
        if time.monotonic() > deadline:
            raise UserError(f"operation {op['OperationId']} still {STATES[op['State']]} after {timeout:.0f} s")
        time.sleep(0.2)
        op = api.call("GET", f"/v2/tenants/{tenant}/operations/{op['OperationId']}")
    if op["State"] == 3:                # Failed
        err = op.get("Error") or {}
        raise UserError(f"operation failed: {err.get('ErrorCode')}: {err.get('Message')}")
    return op


def _read_device_list(path: str) -> list[dict]:
    try:
        lines = Path(path).read_text().splitlines()
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
    out = []
    for n, line in enumerate(lines, 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) > 2:
            raise UserError(f"{path}:{n}: expected DEVICE_ID[,ATTESTATION_PUBLIC_KEY]")
        item = {"DeviceId": parts[0]}
        if len(parts) == 2 and parts[1]:
            item["AttestationPublicKey"] = parts[1]
        out.append(item)
    if not out:
        raise UserError(f"{path} lists no devices")
    return out


def cmd_device_claim(args) -> int:
    api, tenant = _api(args), _tenant(args)
    group = _group_id(api, tenant, args.device_group) if args.device_group else None
    if args.device_id_file:
        items = _read_device_list(args.device_id_file)
        if group:
            for item in items:
                item["DeviceGroupId"] = group
        op = _wait_operation(api, tenant, api.call("POST", f"/v2/tenants/{tenant}/devices/bulkclaim",
                                                   {"Devices": items}))
        result = op.get("Result") or {}
        print(f"claimed {len(result.get('Claimed', []))} device(s); {len(result.get('Failed', []))} failed")
        for f in result.get("Failed", []):
            print(f"  {f['DeviceId'][:16]}...: {f['Code']}: {f['Message']}")
        return 0 if not result.get("Failed") else 1
    if not args.device:
        raise UserError("give --device DEVICE_ID or --device-id-file FILE")
    body = {"DeviceId": args.device}
    if args.attestation_key:
        body["AttestationPublicKey"] = args.attestation_key
    if group:
        body["DeviceGroupId"] = group
    _print(args, api.call("POST", f"/v2/tenants/{tenant}/devices/claim", body), DEVICE_COLS)
    return 0


def cmd_device_list(args) -> int:
    return _list(args, "devices", args.device_group,
                 lambda api, tenant, ref: f"/devicegroups/{_group_id(api, tenant, ref)}", DEVICE_COLS)


def cmd_device_show(args) -> int:
    _print(args, _api(args).call("GET", f"/v2/tenants/{_tenant(args)}/devices/{args.device}"), None)
    return 0


def cmd_device_update(args) -> int:
    api, tenant = _api(args), _tenant(args)
    gid = _group_id(api, tenant, args.device_group)
    _print(args, api.call("PUT", f"/v2/tenants/{tenant}/devices/{args.device}/devicegroup", {"DeviceGroupId": gid}),
           DEVICE_COLS)
    return 0


def cmd_device_capabilities(args) -> int:
    api, tenant = _api(args), _tenant(args)
    _print(args, api.call("PUT", f"/v2/tenants/{tenant}/devices/{args.device}/capabilities",
                          {"Capabilities": args.capability or []}), ["DeviceId", "Capabilities"])
    return 0


def cmd_device_capability_image(args) -> int:
    api, tenant = _api(args), _tenant(args)
    body = {"Capabilities": args.capability} if args.capability else {}
    out = api.call("POST", f"/v2/tenants/{tenant}/devices/{args.device}/capabilities/image", body)
    _write(args.destination, base64.b64decode(out["Image"]))
    print(f"wrote the capability file ({', '.join(out['Capabilities']) or 'no capabilities'}) for "
          f"{out['DeviceId'][:16]}... to {args.destination}")
    return 0


def cmd_device_update_status(args) -> int:
    out = _api(args).call("GET", f"/v2/tenants/{_tenant(args)}/devices/{args.device}/updatestatus")
    if getattr(args, "output", "table") == "json":
        print(json.dumps(out, indent=2))
    else:
        for r in out["Reasons"]:
            print(f"{r['Code']}: {r['Message']}")
    return 0


def cmd_image_add(args) -> int:
    api, tenant = _api(args), _tenant(args)
    try:
        data = Path(args.image).read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {args.image}: {exc.strerror or exc}") from None
    op = api.call("POST", f"/v2/tenants/{tenant}/images", raw=data)
    if args.no_wait:
        _print(args, op, ["OperationId", "State"])
        return 0
    op = _wait_operation(api, tenant, op)
    _print(args, op["Result"], IMAGE_COLS)
    return 0


def cmd_image_show(args) -> int:
    _print(args, _api(args).call("GET", f"/v2/tenants/{_tenant(args)}/images/{args.image}"), IMAGE_COLS)
    return 0


def cmd_image_list(args) -> int:
    _print(args, _api(args).call("GET", f"/v2/tenants/{_tenant(args)}/images"), IMAGE_COLS)
    return 0


def cmd_image_revoke(args) -> int:
    _print(args, _api(args).call("POST", f"/v2/tenants/{_tenant(args)}/images/{args.image}/revoke"), IMAGE_COLS)
    return 0


def cmd_deployment_create(args) -> int:
    api, tenant = _api(args), _tenant(args)
    gid = _group_id(api, tenant, args.device_group)
    images = list(args.images or [])
    if args.from_deployment:
        history = api.call("GET", f"/v2/tenants/{tenant}/devicegroups/{gid}/deployments")
        match = [d for d in history if d["Id"] == args.from_deployment]
        if not match:
            raise UserError(f"deployment {args.from_deployment} is not in the group's history")
        images = match[0]["DeployedImages"]
    if not images and not args.from_deployment:
        raise UserError("give --images ID... (or --from-deployment ID to roll back)")
    _print(args, api.call("POST", f"/v2/tenants/{tenant}/devicegroups/{gid}/deployments",
                          {"DeployedImages": images}), DEPLOY_COLS)
    return 0


def cmd_deployment_list(args) -> int:
    api, tenant = _api(args), _tenant(args)
    gid = _group_id(api, tenant, args.device_group)
    _print(args, api.call("GET", f"/v2/tenants/{tenant}/devicegroups/{gid}/deployments"), DEPLOY_COLS)
    return 0


def cmd_ca_list(args) -> int:
    _print(args, _api(args).call("GET", f"/v2/tenants/{_tenant(args)}/certificates"),
           ["Thumbprint", "Status", "StartDate", "EndDate", "ActiveFrom"])
    return 0


def cmd_ca_download(args) -> int:
    api, tenant = _api(args), _tenant(args)
    fmt = "pem" if args.destination.endswith(".pem") else "der"
    _write(args.destination, api.call("GET", f"/v2/tenants/{tenant}/certificates/{args.thumbprint or 'current'}",
                                      query={"format": fmt}, want="bytes"))
    print(f"wrote the tenant CA certificate ({fmt.upper()}) to {args.destination}")
    return 0


def cmd_ca_chain(args) -> int:
    api, tenant = _api(args), _tenant(args)
    data = api.call("GET", f"/v2/tenants/{tenant}/certificates/{args.thumbprint or 'current'}/chain", want="bytes")
    _write(args.destination, data)
    print(f"wrote the certificate chain (PKCS#7) to {args.destination}")
    return 0


def cmd_ca_proof(args) -> int:
    api, tenant = _api(args), _tenant(args)
    query = {"thumbprint": args.thumbprint} if args.thumbprint else None
    blob = api.call("GET", f"/v2/tenants/{tenant}/verification/{urllib.parse.quote(args.verification_code, safe='')}",
                    query=query)
    _write(args.destination, base64.b64decode(blob))
    print(f"wrote the proof-of-possession certificate (DER) for {args.verification_code} to {args.destination}")
    return 0


def cmd_ca_root(args) -> int:
    _write(args.destination, _api(args).call("GET", "/rootca.pem", want="bytes"))
    print(f"wrote the service root CA (PEM) to {args.destination}")
    return 0


# ---- parsers ------------------------------------------------------------------------------------------------

# Modules that add commands to the azsphere tree, each with `add_azsphere_commands(tree: CommandTree)`.
EXTENSION_MODULES = (
    "mt3620.cli.azsphere_device",   # `azsphere device ...` commands on a local emulated device (sphere_os)
)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tenant", help="tenant ID (default: the selected tenant)")
    p.add_argument("-o", "--output", choices=("table", "json"), default="table")


class CommandTree:
    """The `mt3620 azsphere` command tree: groups by their path ("device", "device app") and their commands."""

    def __init__(self, root: argparse.ArgumentParser) -> None:
        self._groups: dict[str, argparse._SubParsersAction] = {}
        self._groups[""] = self._subparsers(root, "az_command", "GROUP")

    @staticmethod
    def _subparsers(parser: argparse.ArgumentParser, dest: str, metavar: str) -> argparse._SubParsersAction:
        sub = parser.add_subparsers(dest=dest, metavar=metavar)
        parser.set_defaults(func=lambda a: (parser.print_help(), 2)[1])
        return sub

    def group(self, path: str, help_: str = "") -> str:
        """The group at `path` (words separated by spaces), made with `help_` unless it exists; returns `path`."""
        if path in self._groups:
            return path
        parent, _, name = path.rpartition(" ")
        if parent not in self._groups:
            raise ValueError(f"azsphere: no command group {parent!r} to hold {name!r}")
        parser = self._groups[parent].add_parser(name, help=help_)
        self._groups[path] = self._subparsers(parser, f"az_{path.replace(' ', '_').replace('-', '_')}_command",
                                              "COMMAND")
        return path

    def command(self, group: str, name: str, func: Callable[[argparse.Namespace], int], help_: str,
                *arguments: tuple[tuple[str, ...], dict], service: bool = True) -> argparse.ArgumentParser:
        """A command `group name` running `func(args) -> int`; `service` commands (the default) take --tenant and
        -o like every command that talks to the security service."""
        if group not in self._groups:
            raise ValueError(f"azsphere: no command group {group!r}")
        p = self._groups[group].add_parser(name, help=help_)
        if service:
            _common(p)
        for flags, kw in arguments:
            p.add_argument(*flags, **kw)
        p.set_defaults(func=func)
        return p


def add_commands(sub) -> None:
    az = sub.add_parser("azsphere", help="azsphere-shaped management CLI for the security service")
    tree = CommandTree(az)
    group, cmd = tree.group, tree.command
    cmd("", "login", cmd_login, "store the service URL and your token",
        (("--url",), {"help": "management API URL, as `mt3620 cloud serve` prints it"}), (("--token",), {}),
        (("--token-file",), {"help": "file holding the token (e.g. DATA/admin.token)"}),
        (("--ca-file",), {"help": "the service root (DATA/rootca.pem) to trust an https:// management URL"}),
        (("--rotate",), {"action": "store_true", "help": "replace the saved token by a new one (tokens expire)"}),
        service=False)

    req = {"required": True}
    t = group("tenant", "tenants")
    cmd(t, "create", cmd_tenant_create, "create a tenant", (("--name",), req),
        (("--select",), {"action": "store_true", "help": "select it"}))
    cmd(t, "list", cmd_tenant_list, "list your tenants")
    tree.command(t, "select", cmd_tenant_select, "select the default tenant",
                 (("--tenant",), {"required": True, "help": "tenant ID or name"}), service=False)
    cmd(t, "show-selected", cmd_tenant_show_selected, "show the selected tenant")
    cmd(t, "update", cmd_tenant_update, "rename the tenant", (("--new-name",), req))
    cmd(t, "download-error-report", cmd_error_report, "download error events (CSV; 14 days, at most 1,000)",
        (("--destination",), {"default": "AzureSphereErrorReport.csv"}), (("--device-group",), {}))

    r = group("role", "user roles in the tenant")
    cmd(r, "add", cmd_role_add, "give a user a role", (("--user",), req),
        (("--role",), {"required": True, "choices": ("Administrator", "Contributor", "Reader")}))
    cmd(r, "list", cmd_role_list, "list roles")
    cmd(r, "delete", cmd_role_delete, "remove a user's role", (("--user",), req))

    pr = group("product", "products")
    cmd(pr, "create", cmd_product_create, "create a product (and its five default device groups)",
        (("--name",), req), (("--description",), {}),
        (("--no-default-device-groups",), {"action": "store_true"}))
    cmd(pr, "list", cmd_product_list, "list products")
    cmd(pr, "show", cmd_product_show, "show a product", (("--product",), req))
    cmd(pr, "update", cmd_product_update, "rename or describe a product", (("--product",), req),
        (("--new-name",), {}), (("--description",), {}))
    cmd(pr, "delete", cmd_product_delete, "delete a product", (("--product",), req))

    dg = group("device-group", "device groups")
    cmd(dg, "create", cmd_group_create, "create a device group", (("--product",), req), (("--name",), req),
        (("--description",), {}), (("--os-feed",), {"choices": tuple(FEEDS), "default": "Retail"}),
        (("--update-policy",), {"choices": tuple(POLICIES), "default": "UpdateAll"}))
    cmd(dg, "list", cmd_group_list, "list device groups", (("--product",), {}))
    cmd(dg, "show", cmd_group_show, "show a device group (ID or Product/Group)", (("--device-group",), req))
    cmd(dg, "update", cmd_group_update, "change a device group", (("--device-group",), req), (("--new-name",), {}),
        (("--description",), {}), (("--os-feed",), {"choices": tuple(FEEDS)}),
        (("--update-policy",), {"choices": tuple(POLICIES)}))
    cmd(dg, "delete", cmd_group_delete, "delete an empty device group", (("--device-group",), req))

    dv = group("device", "devices")
    cmd(dv, "claim", cmd_device_claim, "claim a device (one-time, irreversible) or many (--device-id-file)",
        (("--device",), {"help": "128-hex-character device ID"}),
        (("--attestation-key",), {"help": "128-hex-character attestation public key (default: the device ID)"}),
        (("--device-id-file",), {"help": "bulk claim: one DEVICE_ID[,ATTESTATION_KEY] per line"}),
        (("--device-group",), {}))
    cmd(dv, "list", cmd_device_list, "list claimed devices", (("--device-group",), {}))
    cmd(dv, "show", cmd_device_show, "show a device", (("--device",), req))
    cmd(dv, "update", cmd_device_update, "move a device to a device group", (("--device",), req),
        (("--device-group",), req))
    cmd(dv, "capabilities", cmd_device_capabilities, "set the capabilities granted to a device",
        (("--device",), req), (("--capability",), {"action": "append", "choices": ("appDevelopment",
                                                                                      "fieldServicing", "rfTest")}))
    cmd(dv, "capability-image", cmd_device_capability_image, "download a signed capability file for the device "
        "(default: what the tenant granted; apply it with `mt3620 device run --capability FILE`)",
        (("--device",), req), (("--destination",), req),
        (("--capability",), {"action": "append", "choices": ("appDevelopment", "fieldServicing", "rfTest")}))
    cmd(dv, "update-status", cmd_device_update_status, "why is this device (not) updating", (("--device",), req))

    im = group("image", "images")
    cmd(im, "add", cmd_image_add, "upload an .imagepackage", (("--image",), req),
        (("--no-wait",), {"action": "store_true", "help": "print the operation instead of waiting"}))
    cmd(im, "show", cmd_image_show, "show an image", (("--image",), req))
    cmd(im, "list", cmd_image_list, "list images")
    cmd(im, "revoke", cmd_image_revoke, "revoke an image", (("--image",), req))

    de = group("deployment", "deployments")
    cmd(de, "create", cmd_deployment_create, "deploy images to a device group (an earlier set = rollback)",
        (("--device-group",), req), (("--images",), {"nargs": "+"}),
        (("--from-deployment",), {"help": "re-deploy the image set of this earlier deployment (rollback)"}))
    cmd(de, "list", cmd_deployment_list, "deployment history of a device group", (("--device-group",), req))

    ca = group("ca-certificate", "tenant CA certificates")
    cmd(ca, "list", cmd_ca_list, "list the tenant's CA certificates")
    cmd(ca, "download", cmd_ca_download, "download the active CA certificate (.cer DER, or .pem)",
        (("--destination",), req), (("--thumbprint",), {}))
    cmd(ca, "download-chain", cmd_ca_chain, "download the certificate chain as PKCS#7 (.p7b)",
        (("--destination",), req), (("--thumbprint",), {}))
    cmd(ca, "download-proof", cmd_ca_proof, "download a proof-of-possession certificate (.cer) for an IoT Hub or DPS "
        "verification code", (("--destination",), req), (("--verification-code",), req), (("--thumbprint",), {}))
    cmd(ca, "download-root", cmd_ca_root, "download the service root CA (PEM): what `mt3620 device run --root-ca` "
        "trusts", (("--destination",), req))

    for name in EXTENSION_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and (exc.name == name or name.startswith(exc.name + ".")):
                continue   # that part is not in this tree
            raise
        module.add_azsphere_commands(tree)
