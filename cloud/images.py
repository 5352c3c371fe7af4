"""Image packages on upload: parsed and signature-checked by `mt3620.imagepackage` (the project's one parser).

The service trusts the Azure Sphere SDK test key (what `azsphere image add` uploads are signed with) plus every
key in its keystore folder (`<data>/keystore/*.pem`, same file rules as the user keystore of
`mt3620 image-package`). Emulator-defined: the real service re-signs uploads with a production key; this one
stores the package exactly as uploaded.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from mt3620 import imagepackage as ip

from .store import ServiceError


def service_keystore(directory: str | os.PathLike | None) -> ip.Keystore:
    keystore = ip.Keystore.load(directory) if directory and Path(directory).is_dir() else ip.Keystore()
    try:
        sdk = ip.SdkTestSigner()
    except Exception:  # noqa: BLE001 - the SDK key ships in a declared dependency; without it, keystore only
        return keystore
    keystore.add(ip.TrustedKey(sdk.public_key, {sdk.thumbprint}, "Azure Sphere SDK test key"))
    return keystore


def make_inspector(keystore: ip.Keystore) -> Callable[[bytes], dict]:
    def inspect(data: bytes) -> dict:
        try:
            package = ip.parse(data)
            package.verify(keystore)
        except ip.ImagePackageError as exc:
            raise ServiceError(400, "InvalidImagePackage", f"{exc} ({exc.reason})") from None
        debug = package.metadata.debug
        return {"image_id": str(package.image_id), "component_id": str(package.component_id),
                "image_type": package.image_type, "name": (debug.name if debug else "") or "",
                "security_version": package.security_version, "signing_thumbprint": package.thumbprint.hex().upper()}
    return inspect


def inspect_package(data: bytes) -> dict:
    """Default inspector: SDK test key plus $MT3620_KEYSTORE / the user's keystore."""
    return make_inspector(service_keystore(ip.keys.keystore_dir()))(data)
