"""ASXipFS: the read-only file system at the front of an application image package.

ASXipFS is cramfs with uncompressed, execute-in-place file data. Layout as found in SDK-built packages
(Azure/azure-sphere-samples, Manufacturing/.../azure_sphere_blink.imagepackage; cramfs layout from Linux
include/uapi/linux/cramfs_fs.h):

    0x00 superblock: u32 magic 0x28CD3D45, u32 size (whole file system, multiple of 4 KiB), u32 flags
         (bit0 FSID_VERSION_2, bit1 SORTED_DIRS), u32 future, char[16] "Compressed ROMFS",
         fsid {u32 crc, u32 edition, u32 blocks, u32 files}, char[16] name, root inode
    inode (12 bytes): u16 mode, u16 uid, u24 size | u8 gid << 24, u32 namelen/4 (6 bits) | offset/4 << 6,
         then the name, NUL-padded to a multiple of 4.
    A directory's offset points at its entries (sorted by name); a file's offset points at its bytes, which are
    stored uncompressed and 4 KiB aligned (the SDK places app_manifest.json at 0x1000 and bin/app at 0x2000).
    crc = CRC-32 of the whole file system with the crc field zeroed (FSID_VERSION_2).
"""
from __future__ import annotations

import posixpath
import stat
import zlib
from dataclasses import dataclass

import construct as cs

MAGIC = 0x28CD3D45
SIGNATURE = b"Compressed ROMFS"
FLAG_FSID_VERSION_2 = 0x1
FLAG_SORTED_DIRS = 0x2
KNOWN_FLAGS = FLAG_FSID_VERSION_2 | FLAG_SORTED_DIRS
BLOCK = 4096
INODE_SIZE = 12
MAX_DEPTH = 32
MAX_NAME = 63 * 4          # namelen is 6 bits of 4-byte units
# SDK-built packages mark every regular file with mode bit 0o1000 (S_ISVTX), the cramfs-XIP convention for
# "map this file in place" (app_manifest.json is 0o101644, bin/app 0o101755 in azure_sphere_blink.imagepackage).
XIP_FLAG = stat.S_ISVTX

Superblock = cs.Struct(
    "magic" / cs.Int32ul,
    "size" / cs.Int32ul,
    "flags" / cs.Int32ul,
    "future" / cs.Int32ul,
    "signature" / cs.Bytes(16),
    "crc" / cs.Int32ul,
    "edition" / cs.Int32ul,
    "blocks" / cs.Int32ul,
    "files" / cs.Int32ul,
    "name" / cs.Bytes(16),
)
SUPERBLOCK_SIZE = Superblock.sizeof()            # 0x40; the root inode follows
CRC_OFFSET = 0x20

InodeHeader = cs.Struct(
    "mode" / cs.Int16ul,
    "uid" / cs.Int16ul,
    "size_gid" / cs.Int32ul,
    "name_offset" / cs.Int32ul,
)


class AsxipfsError(ValueError):
    """A malformed ASXipFS image. `.reason` is a short cause."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Entry:
    path: str          # "/bin/app"
    mode: int
    size: int
    offset: int
    uid: int = 0
    gid: int = 0

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.mode)


class Filesystem:
    """A parsed ASXipFS image: `files` maps absolute paths to bytes, `entries` lists every inode."""

    def __init__(self, image: bytes, entries: list[Entry], name: bytes, crc: int) -> None:
        self.image = image
        self.entries = entries
        self.name = name
        self.crc = crc
        self.files = {e.path: image[e.offset:e.offset + e.size] for e in entries if not e.is_dir}

    def read(self, path: str) -> bytes:
        if not path.startswith("/"):
            path = "/" + path
        try:
            return self.files[path]
        except KeyError:
            raise FileNotFoundError(f"no file {path!r} in the image package file system") from None

    def mode(self, path: str) -> int:
        for e in self.entries:
            if e.path == path:
                return e.mode
        raise FileNotFoundError(path)


def _decode_inode(buf: bytes, at: int, limit: int) -> tuple[Entry, bytes, int]:
    if at < 0 or at + INODE_SIZE > limit:
        raise AsxipfsError("truncated", f"inode at 0x{at:x} runs past the end of the file system")
    h = InodeHeader.parse(buf[at:at + INODE_SIZE])
    namelen = (h.name_offset & 0x3F) * 4
    offset = (h.name_offset >> 6) * 4
    if at + INODE_SIZE + namelen > limit:
        raise AsxipfsError("truncated", f"name of inode at 0x{at:x} runs past the end of the file system")
    name = bytes(buf[at + INODE_SIZE:at + INODE_SIZE + namelen]).rstrip(b"\0")
    entry = Entry("", h.mode, h.size_gid & 0xFFFFFF, offset, h.uid, h.size_gid >> 24)
    return entry, name, at + INODE_SIZE + namelen


def parse(data: bytes, check_crc: bool = True) -> Filesystem:
    """Parse an ASXipFS image (the bytes before the metadata). Every offset and length is checked."""
    data = bytes(data)
    if len(data) < SUPERBLOCK_SIZE + INODE_SIZE:
        raise AsxipfsError("truncated", f"file system too short ({len(data)} bytes) for a superblock")
    sb = Superblock.parse(data[:SUPERBLOCK_SIZE])
    if sb.magic != MAGIC:
        raise AsxipfsError("bad-magic", f"ASXipFS magic is 0x{sb.magic:08x}, expected 0x{MAGIC:08x}")
    if sb.signature != SIGNATURE:
        raise AsxipfsError("bad-signature-string", f"ASXipFS signature is {sb.signature!r}")
    if sb.flags & ~KNOWN_FLAGS:
        raise AsxipfsError("bad-flags", f"unsupported ASXipFS flags 0x{sb.flags:x}")
    if not SUPERBLOCK_SIZE + INODE_SIZE <= sb.size <= len(data):
        raise AsxipfsError("bad-size", f"ASXipFS size {sb.size} does not fit in {len(data)} bytes")
    image = data[:sb.size]
    if check_crc and sb.flags & FLAG_FSID_VERSION_2:
        zeroed = image[:CRC_OFFSET] + b"\0\0\0\0" + image[CRC_OFFSET + 4:]
        if zlib.crc32(zeroed) != sb.crc:
            raise AsxipfsError("bad-crc", f"ASXipFS CRC mismatch: stored 0x{sb.crc:08x}, "
                                          f"computed 0x{zlib.crc32(zeroed):08x}")
    root, _, _ = _decode_inode(image, SUPERBLOCK_SIZE, len(image))
    if not stat.S_ISDIR(root.mode):
        raise AsxipfsError("bad-root", "ASXipFS root inode is not a directory")
    entries: list[Entry] = []
    seen_dirs: set[int] = set()

    def walk(dir_path: str, start: int, size: int, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise AsxipfsError("too-deep", f"directory nesting deeper than {MAX_DEPTH}")
        if size == 0:
            return
        if start in seen_dirs:
            raise AsxipfsError("loop", f"directory entries at 0x{start:x} are referenced twice")
        seen_dirs.add(start)
        end = start + size
        if start < SUPERBLOCK_SIZE + INODE_SIZE or end > len(image):
            raise AsxipfsError("bad-dir", f"directory {dir_path or '/'} entries 0x{start:x}+{size} out of bounds")
        at, previous = start, None
        while at < end:
            entry, name, at = _decode_inode(image, at, end)
            if not name or name in (b".", b"..") or b"/" in name:
                raise AsxipfsError("bad-name", f"invalid entry name {name!r} in {dir_path or '/'}")
            if previous is not None and name <= previous:
                raise AsxipfsError("unsorted", f"directory {dir_path or '/'} entries are not sorted")
            previous = name
            try:
                text = name.decode("utf-8")
            except UnicodeDecodeError:
                raise AsxipfsError("bad-name", f"entry name {name!r} is not UTF-8") from None
            path = f"{dir_path}/{text}"
            entry = Entry(path, entry.mode, entry.size, entry.offset, entry.uid, entry.gid)
            if stat.S_ISDIR(entry.mode):
                entries.append(entry)
                walk(path, entry.offset, entry.size, depth + 1)
            elif stat.S_ISREG(entry.mode):
                if entry.size and (entry.offset < SUPERBLOCK_SIZE or entry.offset + entry.size > len(image)):
                    raise AsxipfsError("bad-file", f"file {path} data 0x{entry.offset:x}+{entry.size} out of bounds")
                entries.append(entry)
            else:
                raise AsxipfsError("bad-mode", f"entry {path} has unsupported mode 0o{entry.mode:o}")
        if at != end:
            raise AsxipfsError("bad-dir", f"directory {dir_path or '/'} entries overrun their size")

    walk("", root.offset, root.size, 0)
    return Filesystem(image, entries, sb.name.rstrip(b"\0"), sb.crc)


def _align(n: int, to: int) -> int:
    return -(-n // to) * to


def build(files: dict[str, tuple[bytes, int]], name: bytes = b"Compressed") -> bytes:
    """Build an ASXipFS image from {"/path/in/fs": (data, mode bits)} the way the SDK lays it out:
    directory entries first (each directory's entries contiguous, sorted), then file data 4 KiB aligned."""
    tree: dict[str, dict] = {}
    for path, (content, mode) in files.items():
        parts = [p for p in path.strip("/").split("/") if p]
        if not parts or any(p in (".", "..") for p in parts):
            raise ValueError(f"bad path in image: {path!r}")
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"{path!r}: a parent is a file")
        if parts[-1] in node:
            raise ValueError(f"duplicate path {path!r}")
        node[parts[-1]] = (bytes(content), mode)

    def encoded_name(part: str) -> bytes:
        raw = part.encode("utf-8")
        if len(raw) > MAX_NAME:
            raise ValueError(f"name too long for ASXipFS: {part!r}")
        return raw + b"\0" * (_align(len(raw), 4) - len(raw))

    def dir_size(node: dict) -> int:
        return sum(INODE_SIZE + len(encoded_name(k)) for k in node)

    # Pass 1: place directory entry blocks breadth-first after the root inode.
    dir_offsets: dict[int, int] = {}
    order: list[dict] = [tree]
    cursor = SUPERBLOCK_SIZE + INODE_SIZE
    i = 0
    while i < len(order):
        node = order[i]
        dir_offsets[id(node)] = cursor
        cursor += dir_size(node)
        for key in sorted(node, key=lambda k: k.encode()):
            if isinstance(node[key], dict):
                order.append(node[key])
        i += 1
    # Pass 2: file data, 4 KiB aligned, in directory order.
    file_offsets: dict[tuple[int, str], int] = {}
    data_cursor = _align(cursor, BLOCK)
    for node in order:
        for key in sorted(node, key=lambda k: k.encode()):
            if not isinstance(node[key], dict):
                content = node[key][0]
                if len(content) >= 1 << 24:
                    raise ValueError(f"file {key!r} too large for ASXipFS (16 MiB limit)")
                file_offsets[(id(node), key)] = data_cursor if content else 0
                data_cursor = _align(data_cursor + len(content), BLOCK)
    total = max(_align(data_cursor, BLOCK), BLOCK)
    image = bytearray(total)

    def inode(mode: int, size: int, offset: int, name: bytes) -> bytes:
        if offset % 4 or offset >> 2 >= 1 << 26:
            raise ValueError("offset not representable in ASXipFS")
        return InodeHeader.build(dict(mode=mode, uid=0, size_gid=size & 0xFFFFFF,
                                      name_offset=(len(name) // 4) | ((offset // 4) << 6))) + name

    root = inode(stat.S_IFDIR | 0o755, dir_size(tree), dir_offsets[id(tree)], b"")
    image[SUPERBLOCK_SIZE:SUPERBLOCK_SIZE + INODE_SIZE] = root
    count = 1
    for node in order:
        at = dir_offsets[id(node)]
        for key in sorted(node, key=lambda k: k.encode()):
            child = node[key]
            if isinstance(child, dict):
                raw = inode(stat.S_IFDIR | 0o755, dir_size(child), dir_offsets[id(child)], encoded_name(key))
            else:
                content, mode = child
                offset = file_offsets[(id(node), key)]
                raw = inode(stat.S_IFREG | XIP_FLAG | (mode & 0o777), len(content), offset, encoded_name(key))
                image[offset:offset + len(content)] = content
            image[at:at + len(raw)] = raw
            at += len(raw)
            count += 1
    sb = Superblock.build(dict(magic=MAGIC, size=total, flags=FLAG_FSID_VERSION_2 | FLAG_SORTED_DIRS, future=0,
                               signature=SIGNATURE, crc=0, edition=0, blocks=0, files=count,
                               name=name[:16].ljust(16, b"\0")))
    image[:SUPERBLOCK_SIZE] = sb
    image[CRC_OFFSET:CRC_OFFSET + 4] = zlib.crc32(bytes(image)).to_bytes(4, "little")
    return bytes(image)


def normalise(path: str) -> str:
    return "/" + posixpath.normpath(path).lstrip("/")
