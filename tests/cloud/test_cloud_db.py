"""Storage: alembic migrations up and down on SQLite and PostgreSQL, schema equals the declarations, several
processes on one database, and a killed service loses no committed data."""
import http.client
import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from mt3620.cloud import db, migrate
from mt3620.as3.device_client import DeviceKeys
from mt3620.cloud.domain import DomainError
from mt3620.cloud.services import Services

from cloud_helpers import Clock

TABLES = {t.name for t in db.metadata.sorted_tables}


def _check_migrations(url):
    engine = db.make_engine(url)
    try:
        migrate.upgrade(engine)
        assert migrate.current(engine) == "0002"
        with engine.connect() as c:
            assert TABLES <= set(inspect(c).get_table_names())
            diff = compare_metadata(MigrationContext.configure(c, opts={"compare_type": True}), db.metadata)
        assert diff == [], diff
        migrate.downgrade(engine, "base")
        assert migrate.current(engine) is None
        with engine.connect() as c:
            assert not (TABLES & set(inspect(c).get_table_names()))
        migrate.upgrade(engine)
        assert migrate.current(engine) == "0002"
    finally:
        engine.dispose()


def test_migrations_sqlite(tmp_path):
    _check_migrations(db.sqlite_url(tmp_path))


def test_migrations_postgresql(pg_clean):
    _check_migrations(pg_clean)


def _claim_worker(url, ids, queue):
    store = Services(url)
    results = []
    for device_id in ids:
        try:
            store.devices.claim(queue_tenant(url), device_id)
            results.append("ok")
        except DomainError as exc:
            results.append(exc.code)
    store.close()
    queue.put(results)


def queue_tenant(url):
    return os.environ["MT3620_TEST_TENANT"]


def _race(url, tmp_path):
    clock = Clock()
    store = Services(url, now=clock).initialise()
    user, _ = store.users.create("racer")
    tenant = store.tenants.create(user, "Race")
    made = [DeviceKeys() for _ in range(15)]
    ids = [k.device_id for k in made]
    store.registry.register([(k.device_id, k.attestation_public_hex) for k in made], "test")
    os.environ["MT3620_TEST_TENANT"] = tenant.id
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_claim_worker, args=(url, ids, queue)) for _ in range(3)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    # Every device is claimed exactly once across the three processes.
    for i in range(len(ids)):
        outcomes = [r[i] for r in results]
        assert outcomes.count("ok") == 1 and outcomes.count("DeviceAlreadyClaimed") == 2, outcomes
    assert len(store.devices.list(tenant.id)) == len(ids)
    # A nonce is consumed once even when two stores race for it.
    other = Services(url, now=clock)
    keys = DeviceKeys()
    store.registry.register([(keys.device_id, keys.attestation_public_hex)], "test")
    store.devices.claim(tenant.id, keys.device_id)
    from mt3620 import attestation as ae
    from mt3620.attestation import attestation_challenge
    nonce = store.attestation.issue_nonce(keys.device_id).nonce
    pub = ae.public_key_to_raw(keys.client)
    from mt3620.as3.device_client import boot_measurements
    ev = ae.encode_evidence(attestation_challenge(nonce, pub), bytes.fromhex(keys.device_id), boot_measurements(),
                            lambda d: ae.sign_raw(keys.attestation, d))
    outcomes = [s.attestation.attest(ev, pub, nonce)[0] for s in (store, other)]
    assert [o.ok for o in outcomes] == [True, False] and outcomes[1].reason == "stale-nonce"
    other.close()
    store.close()


def test_processes_share_sqlite(tmp_path):
    _race(db.sqlite_url(tmp_path), tmp_path)


def test_processes_share_postgresql(pg_clean, tmp_path):
    _race(pg_clean, tmp_path)


def _serve(data, extra=()):
    """`mt3620 cloud serve` as its own process, its clock started where the tests' service clock is."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "mt3620", "cloud", "serve", "--data", str(data),
                             "--clock", Clock().iso(), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "device API" in line:
            break
    mgmt = next(l.split(" on ", 1)[1].split()[0] for l in lines if "management API" in l)
    return proc, mgmt, lines


# What a request cut by the kill may raise: a refused or reset connection (OSError), a status line or body cut
# short (http.client.HTTPException: BadStatusLine, IncompleteRead), or a truncated JSON body (ValueError).
REQUEST_CUT = (OSError, http.client.HTTPException, ValueError)


def test_serve_prints_where_it_listens_and_survives_kill(tmp_path):
    data = tmp_path / "data"
    stop, enough, writers = threading.Event(), threading.Event(), []
    committed, crashed = [], []
    proc, mgmt, lines = _serve(data)
    try:
        assert mgmt.startswith("http://127.0.0.1:")
        assert any("test clock" in line for line in lines)
        with urllib.request.urlopen(mgmt + "/openapi.json", timeout=10) as r:
            assert json.loads(r.read())["openapi"].startswith("3.")
        token = (data / "admin.token").read_text().strip()

        def post(path, body):
            req = urllib.request.Request(mgmt + path, data=json.dumps(body).encode(), method="POST",
                                         headers={"Authorization": f"Bearer {token}",
                                                  "Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.loads(r.read())
        tenant = post("/v2/tenants", {"Name": "Kill"})

        def writer(n):
            try:
                for i in range(2000):        # bounded; stops at the first request the kill cuts
                    if stop.is_set():
                        return
                    try:
                        committed.append(post(f"/v2/tenants/{tenant['Id']}/products", {"Name": f"w{n}-{i}"})["Result"]["Id"])
                    except REQUEST_CUT:
                        return               # unanswered: not counted as committed
                    if len(committed) >= 40:
                        enough.set()
            except BaseException as exc:     # anything else fails the test below instead of dying unseen
                crashed.append(exc)
        writers += [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for w in writers:
            w.start()
        assert enough.wait(timeout=30), f"only {len(committed)} writes answered in 30 s"
    finally:
        proc.send_signal(signal.SIGKILL)     # mid-request: no shutdown, no flush
        proc.wait(timeout=30)
        stop.set()
        for w in writers:
            w.join(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
    assert not crashed, crashed
    assert not any(w.is_alive() for w in writers)
    proc, mgmt, _ = _serve(data)
    try:
        req = urllib.request.Request(mgmt + f"/v2/tenants/{tenant['Id']}/products",
                                     headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            ids = {p["Id"] for p in json.loads(r.read())}
        assert len(committed) >= 40 and set(committed) <= ids   # every answered write survived the kill
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0 and "stopped" in out and "Traceback" not in err


def test_two_services_on_one_postgresql(pg_clean, tmp_path):
    """Two service instances (own engines, own servers) on one PostgreSQL database: a device attests with one
    and checks for updates with the other; the OS feed and deployments are shared."""
    from mt3620.cloud.server import Service
    from cloud_helpers import Mgmt, make_package, upload, claim, device
    clock = Clock()
    a = Service(tmp_path / "a", url=pg_clean, now=clock).start()
    b = Service(tmp_path / "b", url=pg_clean, now=clock).start()
    try:
        token = a.admin_token or b.admin_token
        ma, mb = Mgmt(a.mgmt_url, token), Mgmt(b.mgmt_url, token)
        tenant = ma.ok("POST", "/v2/tenants", {"Name": "Shared"})
        mb.ok("POST", f"/v2/tenants/{tenant['Id']}/products", {"Name": "P"})
        groups = {g["Name"]: g for g in ma.ok("GET", f"/v2/tenants/{tenant['Id']}/devicegroups")}
        gid = groups["Field Test"]["Id"]
        data, comp, image = make_package()
        assert upload(mb, tenant["Id"], data)["State"] == 2
        ma.ok("POST", f"/v2/tenants/{tenant['Id']}/devicegroups/{gid}/deployments", {"DeployedImages": [image]})
        a.services.os_releases.publish(0, "24.10")
        keys = claim(mb, tenant["Id"], gid)
        with urllib.request.urlopen(a.mgmt_url + "/rootca.pem", timeout=10) as r:
            root = r.read().decode()
        with urllib.request.urlopen(b.mgmt_url + "/rootca.pem", timeout=10) as r:
            assert r.read().decode() == root          # one root for every process on the database
        dev_a = device(a, root, keys)
        dev_a.attest()
        dev_b = device(b, root, keys)
        dev_b.client_chain_pem = dev_a.client_chain_pem
        out = dev_b.update_check({}, os_version="24.07")
        assert [t["ImageId"] for t in out["TargetImages"]] == [image]
        assert out["Os"] == {"Feed": 0, "TargetVersion": "24.10", "Images": []}     # a version without images
        assert len(mb.ok("GET", f"/v2/tenants/{tenant['Id']}/certificates")) == 1
    finally:
        a.stop()
        b.stop()


def test_operations_of_a_killed_worker_resume_at_start(tmp_path):
    """After kill -9 a bulk claim stayed InProgress until its 5-minute lease ran out. A process starting on the
    host takes back at once the leases of its host's dead workers; the resumed claim counts the devices the killed
    run already claimed."""
    from sqlalchemy import update
    from mt3620.cloud.db import operations
    from mt3620.cloud.server import Service
    from mt3620.cloud.services.operations import HOST, OPERATION_LEASE
    from cloud_helpers import Mgmt
    clock = Clock()
    data = tmp_path / "data"
    first = Services(db.sqlite_url(data), now=clock).initialise()
    user, _ = first.users.create("ops")
    tenant = first.tenants.create(user, "Resume")
    devices = [DeviceKeys() for _ in range(3)]
    first.registry.register([(k.device_id, k.attestation_public_hex) for k in devices], "test")
    first.devices.claim(tenant.id, devices[0].device_id)        # what the killed run got done
    op = first.operations.create(tenant.id, "BulkClaim", json.dumps([{"DeviceId": k.device_id}
                                                                      for k in devices]).encode(), user)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    with first.db.write() as c:                                 # leased by a worker of this host that was killed
        c.execute(update(operations).where(operations.c.id == op.id).values(
            state="InProgress", lease_until=clock() + OPERATION_LEASE, lease_owner=f"{HOST}:{gone.stdout.strip()}"))
    first.close()
    with Service(data, now=clock) as svc:
        token = svc.services.users.rotate_token("ops")
        done = Mgmt(svc.mgmt_url, token).wait_operation(tenant.id, {"OperationId": op.id, "State": 1})
    assert done["State"] == 2
    assert sorted(done["Result"]["Claimed"]) == sorted(k.device_id for k in devices) and not done["Result"]["Failed"]
