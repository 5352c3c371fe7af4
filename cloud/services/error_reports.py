"""Error reports: events devices upload, kept 14 days, queried newest first (at most 1,000 per query)."""
from __future__ import annotations

import datetime as _dt

from sqlalchemy import and_, delete, insert, select

from ..db import error_events
from ..domain import Device, DroppedEvent, ErrorEvent, ErrorEventPage, Invalid
from .base import Service, iso

UTC = _dt.timezone.utc
MAX_EVENTS = 1000                               # per query (MT3620-FACTS.md: at most 1,000 events or 14 days)
MAX_AGE = _dt.timedelta(days=14)
# Emulator-defined: an event may be dated at most this far after the service's clock (device clocks drift; the same
# allowance as pki.BACKDATE gives certificates). Later events are dropped with a reason, so no device can pin a
# tenant's report with events dated 9999-12-31 that sort first and never age out.
CLOCK_SKEW = _dt.timedelta(minutes=5)
EVENT_TOO_OLD = "event-time-too-old"
EVENT_IN_FUTURE = "event-time-in-future"
MAX_UPLOAD = 1000
MAX_EVENT_COUNT = 2 ** 31 - 1      # the databases' INTEGER: SQLite's is 64-bit, PostgreSQL's 32-bit


def _event(r) -> ErrorEvent:
    return ErrorEvent(r.device_id, r.device_group_id, r.event_time, r.event_category, r.event_class, r.event_type,
                      r.description, r.event_count, r.os_version, r.component_id, r.image_id, r.id)


class ErrorReportService(Service):
    def add(self, device: Device, events: list[dict]) -> tuple[int, list[DroppedEvent]]:
        """Store a device's events; returns (events kept, events dropped with their reason).

        A malformed event refuses the whole upload (nothing stored). A well-formed event dated outside the window
        the report shows (older than 14 days, or more than CLOCK_SKEW ahead of the service clock) is dropped and
        listed with its reason; the others are kept."""
        now = self.now()
        oldest, latest = now - MAX_AGE, now + CLOCK_SKEW
        rows, dropped = [], []
        for i, e in enumerate(events):
            try:
                t = _dt.datetime.fromisoformat(str(e["EventTime"]).replace("Z", "+00:00"))
                if t.tzinfo is None:
                    t = t.replace(tzinfo=UTC)
            except (KeyError, ValueError):
                raise Invalid(f"event {i}: EventTime must be an ISO 8601 time") from None
            count = e.get("EventCount", 1)
            if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_EVENT_COUNT:
                raise Invalid(f"event {i}: EventCount must be an integer from 1 to {MAX_EVENT_COUNT}")
            if t < oldest:
                dropped.append(DroppedEvent(i, EVENT_TOO_OLD, f"EventTime is more than {MAX_AGE.days} days before "
                                                              f"the service's time {iso(now)}: outside the error "
                                                              "report's retention"))
                continue
            if t > latest:
                dropped.append(DroppedEvent(i, EVENT_IN_FUTURE, f"EventTime is more than "
                                                                f"{int(CLOCK_SKEW.total_seconds() // 60)} minutes "
                                                                f"after the service's time {iso(now)}: check the "
                                                                "device's clock"))
                continue
            rows.append(dict(tenant_id=device.tenant_id, device_group_id=device.device_group_id,
                             device_id=device.id, event_time=t, received_at=now,
                             event_category=str(e.get("EventCategory", "AppCrash"))[:64],
                             event_class=str(e.get("EventClass", ""))[:64], event_type=str(e.get("EventType", ""))[:64],
                             description=str(e.get("Description", ""))[:4000], event_count=count,
                             os_version=str(e.get("OsVersion", device.os_version))[:64],
                             component_id=str(e.get("ComponentId", ""))[:36], image_id=str(e.get("ImageId", ""))[:36]))
        with self.db.write() as c:
            if rows:
                c.execute(insert(error_events), rows)
            c.execute(delete(error_events).where(error_events.c.event_time < oldest))
        return len(rows), dropped

    def query(self, tenant_id: str, group_id: str | None = None, after_id: int | None = None,
              page_size: int = 100) -> ErrorEventPage:
        """Events of the last 14 days, newest first, at most 1,000 per query, paged by continuation token.
        `group_id` must be a group of the tenant (the caller checks)."""
        now = self.now()
        # The upper bound hides events stored before uploads were bounded (or under a clock since moved back).
        q = select(error_events).where(and_(error_events.c.tenant_id == tenant_id,
                                            error_events.c.event_time >= now - MAX_AGE,
                                            error_events.c.event_time <= now + CLOCK_SKEW))
        if group_id:
            q = q.where(error_events.c.device_group_id == group_id)
        q = q.order_by(error_events.c.event_time.desc(), error_events.c.id.desc()).limit(MAX_EVENTS)
        with self.db.read() as c:
            rows = c.execute(q).all()
        start = 0
        if after_id is not None:
            start = next((i + 1 for i, r in enumerate(rows) if r.id == after_id), len(rows))
        page = rows[start:start + page_size]
        more = start + page_size < len(rows)
        return ErrorEventPage(tuple(_event(r) for r in page), page[-1].id if more and page else None)
