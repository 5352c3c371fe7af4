"""`mt3620 image-package ...`: pack, inspect and verify image packages (shaped like `azsphere image-package`)."""
from __future__ import annotations

import argparse
import os
import struct
import time
import uuid
from pathlib import Path

from mt3620.errors import UserError
from mt3620.imagepackage import capability
from mt3620.imagepackage.keys import (KeyFileError, Keystore, KeySigner, SdkTestSigner, keystore_dir,
                                      load_trusted_key, trust_key)
from mt3620.imagepackage.metadata import IMAGE_TYPES
from mt3620.imagepackage.package import ImagePackageError, build_application, parse


def add_commands(subparsers) -> None:
    parser = subparsers.add_parser("image-package", help="pack, show and verify Azure Sphere image packages")
    sub = parser.add_subparsers(dest="image_package_command", metavar="ACTION")

    pack = sub.add_parser("pack-application", help="pack an approot folder into a signed .imagepackage")
    pack.add_argument("--input", "-i", required=True, metavar="APPROOT", help="folder with app_manifest.json and bin/app")
    pack.add_argument("--output", "-o", required=True, metavar="FILE", help="the .imagepackage to write")
    pack.add_argument("--signing-key", metavar="KEY.pem",
                      help="P-256 private key to sign with (default: the Azure Sphere SDK test key)")
    pack.add_argument("--security-version", type=int, metavar="N", help="add an RV section with this security version")
    pack.add_argument("--image-id", metavar="GUID", help="image ID (default: derived from the content)")
    pack.add_argument("--build-time", type=int, metavar="UNIX_SECONDS",
                      help="DB build time (default: $SOURCE_DATE_EPOCH, else now)")
    pack.set_defaults(func=cmd_pack)

    show = sub.add_parser("show", help="print an image package's (or capability file's) metadata and verify it")
    show.add_argument("package", nargs="?", metavar="FILE")
    show.add_argument("--image-package", dest="package_opt", metavar="FILE", help="same as the positional FILE")
    show.add_argument("--trusted-key", action="append", default=[], metavar="KEY.pem",
                      help="also trust this key (public key, certificate or private key); repeatable")
    show.add_argument("--keystore", metavar="DIR", help=f"keystore folder (default: $MT3620_KEYSTORE or {keystore_dir()})")
    show.add_argument("--device-id", metavar="HEX128", help="for capability files: the device they must be bound to")
    show.set_defaults(func=cmd_show)

    trust = sub.add_parser("trust-key", help="add a public key to the user's keystore")
    trust.add_argument("key", metavar="KEY.pem")
    trust.add_argument("--thumbprint", metavar="HEX40",
                       help="signing certificate thumbprint the key signs as (e.g. the SDK test certificate's)")
    trust.add_argument("--keystore", metavar="DIR")
    trust.set_defaults(func=cmd_trust)
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])


def cmd_pack(args: argparse.Namespace) -> int:
    approot = Path(args.input)
    if not approot.is_dir():
        raise UserError(f"--input {approot}: not a folder")
    try:
        signer = KeySigner.from_file(args.signing_key) if args.signing_key else SdkTestSigner()
    except KeyFileError as exc:
        raise UserError(str(exc)) from None
    if args.build_time is not None:
        build_time = args.build_time
    elif os.environ.get("SOURCE_DATE_EPOCH", "").isdigit():
        build_time = int(os.environ["SOURCE_DATE_EPOCH"])
    else:
        build_time = int(time.time())  # a CLI stamp, not a model: wall time is what azsphere writes here
    image_id = None
    if args.image_id:
        try:
            image_id = uuid.UUID(args.image_id)
        except ValueError:
            raise UserError(f"--image-id {args.image_id!r} is not a GUID") from None
    if args.security_version is not None and not 0 <= args.security_version <= 0xFFFFFFFF:
        raise UserError("--security-version must be 0..4294967295")
    try:
        data = build_application(approot, signer, build_time=build_time, image_id=image_id,
                                 security_version=args.security_version)
    except ImagePackageError as exc:
        raise UserError(str(exc)) from None
    Path(args.output).write_bytes(data)
    pkg = parse(data)
    print(f"Wrote {args.output} ({len(data)} bytes): component {pkg.component_id}, image {pkg.image_id}, "
          f"signed by {signer.thumbprint.hex()}")
    return 0


def _keystore(args: argparse.Namespace) -> Keystore:
    try:
        keystore = Keystore.load(args.keystore)
        for path in args.trusted_key:
            keystore.add(load_trusted_key(path))
    except KeyFileError as exc:
        raise UserError(str(exc)) from None
    return keystore


def cmd_show(args: argparse.Namespace) -> int:
    path = args.package or args.package_opt
    if not path:
        raise UserError("give the package file: mt3620 image-package show FILE")
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
    keystore = _keystore(args)
    if len(data) >= 4 and struct.unpack_from("<I", data, 0)[0] == capability.MAGIC:
        return _show_capability(path, data, keystore, args.device_id)
    try:
        pkg = parse(data)
    except ImagePackageError as exc:
        print(f"{path}: malformed image package ({exc.reason}): {exc}")
        return 1
    print(f"Image package: {path} ({len(data)} bytes)")
    for line in pkg.metadata.describe():
        print(f"  {line}")
    problem = None
    try:
        key = pkg.verify(keystore)
    except ImagePackageError as exc:
        key, problem = None, (exc.reason, str(exc))
    if pkg.image_type == 10:
        try:
            fs = pkg.filesystem()
            manifest = pkg.manifest()
        except (ImagePackageError, FileNotFoundError) as exc:
            fs = manifest = None
            problem = problem or (getattr(exc, "reason", "no-manifest"), str(exc))
        if fs is not None and manifest is not None:
            print("  File system (ASXipFS):")
            for entry in fs.entries:
                print(f"    {entry.path}{'/' if entry.is_dir else ''}  mode 0o{entry.mode & 0o7777:o}"
                      f"{'' if entry.is_dir else f'  {entry.size} bytes'}")
            print(f"  Manifest: Name={manifest.get('Name')!r} ComponentId={manifest.get('ComponentId')} "
                  f"ApplicationType={manifest.get('ApplicationType', 'Default')}")
            if str(manifest.get("ComponentId", "")).lower() != str(pkg.component_id):
                problem = problem or ("component-mismatch", "manifest ComponentId differs from the ID section")
    if problem:
        print(f"  Verification: FAILED ({problem[0]}): {problem[1]}")
        return 1
    how = "thumbprint match" if pkg.thumbprint in key.thumbprints else "key match (thumbprint not on file)"
    print(f"  Verification: OK, signed by {key.source} ({how})")
    return 0


def _show_capability(path: str, data: bytes, keystore: Keystore, device_hex: str | None) -> int:
    try:
        cap = capability.parse(data)
    except capability.CapabilityError as exc:
        print(f"{path}: malformed capability file ({exc.reason}): {exc}")
        return 1
    print(f"Capability file: {path}")
    print(f"  Device ID: {cap.device_id.hex().upper()}")
    print(f"  Capabilities: {', '.join(cap.names) or '(none)'}")
    for line in cap.signed.metadata.describe():
        print(f"  {line}")
    device = None
    if device_hex:
        try:
            device = bytes.fromhex(device_hex)
        except ValueError:
            raise UserError("--device-id must be 128 hex digits") from None
        if len(device) != 64:
            raise UserError("--device-id must be 128 hex digits")
    try:
        key = cap.verify(keystore, device, strict_thumbprint=False)
    except capability.CapabilityError as exc:
        print(f"  Verification: FAILED ({exc.reason}): {exc}")
        return 1
    print(f"  Verification: OK, signed by {key.source}")
    return 0


def cmd_trust(args: argparse.Namespace) -> int:
    thumb = None
    if args.thumbprint:
        try:
            thumb = bytes.fromhex(args.thumbprint)
        except ValueError:
            thumb = b""
        if len(thumb) != 20:
            raise UserError("--thumbprint must be 40 hex digits")
    try:
        target = trust_key(args.key, thumb, args.keystore)
    except (KeyFileError, OSError) as exc:
        raise UserError(str(exc)) from None
    print(f"Trusted {args.key} as {target}")
    return 0


__all__ = ["add_commands", "IMAGE_TYPES"]
