"""Storage: the app's mutable storage at /mnt/config/<component id>, capped at the manifest's MutableStorage SizeKB.

libapplibs' Storage_OpenMutableFile opens (creating it) /mnt/config/<component id>/mutable_storage and
Storage_DeleteMutableFile unlinks it; Storage_GetAbsolutePathInImagePackage / Storage_OpenFileInImagePackage
resolve paths under /mnt/apps/<component id>, the package's read-only ASXipFS (docs/a7.md). The component id is
taken from /proc/self/exe, which lies in the package's mount.

Capability: without MutableStorage in the manifest nothing is mounted at /mnt/config/<component id>, so
Storage_OpenMutableFile fails with EACCES, as Microsoft Learn documents for a missing capability. Writes past
SizeKB fail with ENOSPC (the file system's quota; emulator-defined errno). The tree lives in memory for the
machine's life (kept across relaunches and reboots of the app), or in a host folder when the OS has a
`config_dir` (DIR/<component id>/), which survives from one machine to the next, or, on a board run by the app
manager (docs/device.md), in the device's flash (`os.storage_factory`).
"""
from __future__ import annotations

from mt3620.engine.linux import HostDirFs, MemFs

from . import Service

MUTABLE_FILE = "mutable_storage"      # emulator-defined file name inside /mnt/config/<component id>


class StorageService(Service):
    name = "storage"

    def __init__(self, os) -> None:
        super().__init__(os)
        self.trees: dict[str, MemFs] = {}

    def tree_for(self, manifest):
        """The file system to mount at /mnt/config/<component id>, or None without the MutableStorage capability."""
        size_kb = manifest.capabilities.mutable_storage_kb
        if size_kb is None:
            return None
        quota = size_kb * 1024
        cid = manifest.component_id
        factory = getattr(self.os, "storage_factory", None)
        if factory is not None:               # a board's app manager: the tree lives in the device's flash
            return factory(manifest)
        if self.os.config_dir is None:
            tree = self.trees.get(cid)
            if tree is None:
                tree = self.trees[cid] = MemFs(quota_bytes=quota)
            tree.quota_bytes = quota
            return tree
        folder = self.os.config_dir / cid
        folder.mkdir(parents=True, exist_ok=True)
        return HostDirFs(folder, read_only=False, quota_bytes=quota)
