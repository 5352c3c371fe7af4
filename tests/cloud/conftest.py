"""Fixtures of the cloud tests: a live service on loopback with a movable clock, a management client, a tenant,
and PostgreSQL when MT3620_TEST_POSTGRES_URL is set (scripts/ci-postgres)."""
from __future__ import annotations

import datetime as dt
import os
import sys
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cloud_helpers import LONG_TOKEN_LIFETIME, Clock, Mgmt  # noqa: E402

from mt3620.cloud.server import Service  # noqa: E402


@pytest.fixture(autouse=True)
def _private_state(tmp_path, monkeypatch):
    """`mt3620 cloud serve` records where it serves in $XDG_STATE_HOME: the test's own, never the user's."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("MT3620_CLOUD_DATA", raising=False)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def service(tmp_path, clock):
    # Tests move the clock years ahead (CA rotation); token lifetimes have tests of their own.
    svc = Service(tmp_path / "data", now=clock, action_timeout=dt.timedelta(hours=48),
                  token_lifetime=LONG_TOKEN_LIFETIME).start()
    yield svc
    svc.stop()


@pytest.fixture
def admin(service):
    return Mgmt(service.mgmt_url, service.admin_token)


@pytest.fixture
def root_pem(service):
    with urllib.request.urlopen(service.mgmt_url + "/rootca.pem", timeout=10) as r:
        return r.read().decode()


@pytest.fixture
def tenant(admin):
    """A tenant with one product (five default groups); returns dict with ids."""
    t = admin.ok("POST", "/v2/tenants", {"Name": "Contoso"})
    p = admin.ok("POST", f"/v2/tenants/{t['Id']}/products", {"Name": "Thermostat"})["Result"]
    groups = {g["Name"]: g for g in admin.ok("GET", f"/v2/tenants/{t['Id']}/products/{p['Id']}/devicegroups")}
    return {"id": t["Id"], "product": p["Id"], "groups": groups}


@pytest.fixture
def pg_url(tmp_path_factory, monkeypatch):
    """The test PostgreSQL server, with one key-encryption key for every service process on it (a PostgreSQL
    deployment names its KEK file: docs/cloud.md "Keys at rest")."""
    url = os.environ.get("MT3620_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("MT3620_TEST_POSTGRES_URL is unset: start a server with `eval \"$(bash scripts/ci-postgres)\"`")
    monkeypatch.setenv("MT3620_CLOUD_KEK_FILE", str(tmp_path_factory.mktemp("kek") / "kek.bin"))
    return url


@pytest.fixture
def pg_clean(pg_url):
    """An empty PostgreSQL database (every table dropped before and after)."""
    from sqlalchemy import create_engine, text
    from mt3620.cloud.db import normalise_url

    def wipe():
        engine = create_engine(normalise_url(pg_url))
        with engine.begin() as c:
            c.execute(text("DROP SCHEMA public CASCADE"))
            c.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    wipe()
    yield pg_url
    wipe()
