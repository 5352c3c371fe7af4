"""The device registry: every chip the service accepts, with its attestation public key, as the manufacturer
enrolled it (a user with the Manufacturing service role, or the operator's import of the manufacturer's list).

Device identity never comes from the claimant: a claim binds a registered device to a tenant, and attestation
verifies evidence with the registered key (as AS3 does with Microsoft's registry of every chip's Pluton key)."""
from __future__ import annotations

from sqlalchemy import insert, select

from mt3620 import attestation as ae

from ..db import device_registry
from ..domain import DomainError, Invalid, NotFound, RegisteredDevice
from .base import Service, device_id as checked_device_id

MAX_BATCH = 10000


def checked_key(value) -> str:
    key = str(value or "").strip()
    try:
        ae.public_key_from_raw(bytes.fromhex(key))
    except ValueError:
        raise Invalid("an attestation public key is 128 hex characters of a P-256 point (X||Y)") from None
    return key.upper()


class RegistryService(Service):
    def register(self, entries: list[tuple[str, str]], by: str) -> tuple[int, list[tuple[str, str]]]:
        """Enrol (device ID, attestation key) pairs. Returns (newly registered, [(device ID, why refused)]): a device
        registered again with the same key is left as it is; with another key it is refused (a chip's key never
        changes)."""
        if len(entries) > MAX_BATCH:
            raise Invalid(f"at most {MAX_BATCH:,} devices per registration")
        now, added, refused = self.now(), 0, []
        with self.db.write() as c:
            for raw_id, raw_key in entries:
                try:
                    did, key = checked_device_id(raw_id), checked_key(raw_key)
                except DomainError as exc:
                    refused.append((str(raw_id), exc.message))
                    continue
                known = c.execute(select(device_registry.c.attestation_key)
                                  .where(device_registry.c.device_id == did)).scalar()
                if known is None:
                    c.execute(insert(device_registry).values(device_id=did, attestation_key=key, registered_at=now,
                                                             registered_by=by))
                    added += 1
                elif known != key:
                    refused.append((did, "already registered with another attestation key"))
        return added, refused

    def get(self, device: str) -> RegisteredDevice:
        did = checked_device_id(device)
        found = self.find(did)
        if found is None:
            raise NotFound("registered device", "DeviceNotRegistered")
        return found

    def find(self, device: str, c=None) -> RegisteredDevice | None:
        def read(conn):
            r = conn.execute(select(device_registry).where(device_registry.c.device_id == device)).first()
            return None if r is None else RegisteredDevice(r.device_id, r.attestation_key, r.registered_at,
                                                           r.registered_by)
        if c is not None:
            return read(c)
        with self.db.read() as conn:
            return read(conn)


def parse_list(text: str, source: str = "list") -> list[tuple[str, str]]:
    """A manufacturer's list: one `DEVICE_ID,ATTESTATION_PUBLIC_KEY` per line (# comments, blank lines)."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 2 or not all(parts):
            raise Invalid(f"{source}:{n}: expected DEVICE_ID,ATTESTATION_PUBLIC_KEY")
        out.append((parts[0], parts[1]))
    return out


__all__ = ["RegistryService", "parse_list", "checked_key"]
