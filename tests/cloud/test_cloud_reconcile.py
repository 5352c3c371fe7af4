"""Update reconciliation: policy rules, rollback loop prevention, action timeout; a hypothesis state machine."""
import datetime as dt

from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from mt3620.cloud import reconcile as rc

UTC = dt.timezone.utc
T0 = dt.datetime(2027, 1, 1, tzinfo=UTC)
A1 = rc.Image("a1", "comp-a")
A2 = rc.Image("a2", "comp-a")
B1 = rc.Image("b1", "comp-b")


def group(images=(A1,), policy=rc.UPDATE_ALL, dep="d1"):
    return rc.GroupView("g", "Field Test", rc.RETAIL, policy, dep if images else None, tuple(images))


def codes(decision):
    return {r.code for r in decision.reasons}


def test_offers_missing_images_and_records_offer():
    d = rc.reconcile(group((A1, B1)), rc.Report({}, "boot1"), {}, T0)
    assert [i.image_id for i in d.targets] == ["a1", "b1"]
    assert d.states["a1"].state == rc.OFFERED and d.states["a1"].deadline == T0 + rc.DEFAULT_ACTION_TIMEOUT


def test_installed_after_report():
    d1 = rc.reconcile(group(), rc.Report({}, "boot1"), {}, T0)
    d2 = rc.reconcile(group(), rc.Report({"comp-a": "a1"}, "boot2"), d1.states, T0 + dt.timedelta(hours=1))
    assert d2.targets == () and d2.states["a1"].state == rc.INSTALLED and rc.UP_TO_DATE in codes(d2)


def test_rollback_is_not_offered_again():
    d1 = rc.reconcile(group(), rc.Report({"comp-a": "a0"}, "boot1"), {}, T0)
    # The device rebooted and still runs a0: the update rolled back.
    d2 = rc.reconcile(group(), rc.Report({"comp-a": "a0"}, "boot2"), d1.states, T0 + dt.timedelta(hours=1))
    assert d2.targets == () and d2.states["a1"].state == rc.FAILED and rc.IMAGE_FAILED_BEFORE in codes(d2)
    d3 = rc.reconcile(group(), rc.Report({"comp-a": "a0"}, "boot3"), d2.states, T0 + dt.timedelta(hours=2))
    assert d3.targets == ()
    # A new image for the same component is offered.
    d4 = rc.reconcile(group((A2,), dep="d2"), rc.Report({"comp-a": "a0"}, "boot3"), d3.states, T0)
    assert [i.image_id for i in d4.targets] == ["a2"]


def test_explicit_failure_report():
    d1 = rc.reconcile(group(), rc.Report({}, "boot1"), {}, T0)
    d2 = rc.reconcile(group(), rc.Report({}, "boot1", failed_images=frozenset({"a1"})), d1.states, T0)
    assert d2.targets == () and d2.states["a1"].state == rc.FAILED


def test_same_boot_keeps_offer():
    d1 = rc.reconcile(group(), rc.Report({}, "boot1"), {}, T0)
    d2 = rc.reconcile(group(), rc.Report({}, "boot1"), d1.states, T0 + dt.timedelta(hours=1))
    assert [i.image_id for i in d2.targets] == ["a1"] and d2.states["a1"].offered_at == T0


def test_policies_block_app_updates():
    dev = rc.reconcile(group(policy=rc.NO_3RD_PARTY_APP_UPDATES), rc.Report({}, "b"), {}, T0)
    assert dev.targets == () and rc.UPDATE_POLICY in codes(dev)
    cap = rc.reconcile(group(), rc.Report({}, "b", capabilities=frozenset({rc.APP_DEVELOPMENT})), {}, T0)
    assert cap.targets == () and rc.APP_DEVELOPMENT_CAPABILITY in codes(cap)
    none = rc.reconcile(None, rc.Report({}, "b"), {}, T0)
    assert none.targets == () and rc.NOT_IN_GROUP in codes(none)
    empty = rc.reconcile(group(()), rc.Report({}, "b"), {}, T0)
    assert rc.NO_DEPLOYMENT in codes(empty)


def test_os_target_flows_even_in_development():
    d = rc.reconcile(group(policy=rc.NO_3RD_PARTY_APP_UPDATES), rc.Report({}, "b", os_version="24.07"), {}, T0,
                     rc.OsTarget(rc.RETAIL, "24.10"))
    assert d.os_target.version == "24.10" and rc.OS_UPDATE in codes(d)


def test_timeout_derived_and_why_not():
    d1 = rc.reconcile(group(), rc.Report({}, "boot1"), {}, T0, action_timeout=dt.timedelta(hours=2))
    st_ = d1.states["a1"]
    assert rc.effective_state(st_, T0 + dt.timedelta(hours=1)) == rc.OFFERED
    assert rc.effective_state(st_, T0 + dt.timedelta(hours=2)) == rc.TIMED_OUT
    why = rc.why_not_updating(group(), {}, frozenset(), d1.states, T0 + dt.timedelta(hours=3))
    assert [r.code for r in why] == [rc.TIMED_OUT_REASON]
    assert rc.deployment_summary(list(d1.states.values()), T0 + dt.timedelta(hours=3))[rc.TIMED_OUT] == 1
    # The device comes back on the same boot: offered again with a new deadline.
    d2 = rc.reconcile(group(), rc.Report({}, "boot1"), d1.states, T0 + dt.timedelta(hours=3),
                      action_timeout=dt.timedelta(hours=2))
    assert [i.image_id for i in d2.targets] == ["a1"] and d2.states["a1"].state == rc.OFFERED


IMAGES = [rc.Image(f"{c}{v}", f"comp-{c}") for c in "ab" for v in range(3)]


class DeviceFleetMachine(RuleBasedStateMachine):
    """A device that installs, rolls back, reboots and goes silent while the group is redeployed."""

    def __init__(self):
        super().__init__()
        self.now = T0
        self.boot = 0
        self.installed: dict[str, str] = {}
        self.states: dict[str, rc.ImageState] = {}
        self.deployment = (IMAGES[0], IMAGES[3])
        self.dep_no = 1
        self.policy = rc.UPDATE_ALL
        self.caps: frozenset = frozenset()
        self.offered: tuple = ()
        self.ever_failed: set[str] = set()
        self.last = None

    def group(self):
        return rc.GroupView("g", "G", rc.RETAIL, self.policy, f"d{self.dep_no}", self.deployment)

    @rule()
    def check(self):
        before = dict(self.states)
        d = rc.reconcile(self.group(), rc.Report(dict(self.installed), str(self.boot), capabilities=self.caps),
                         self.states, self.now, action_timeout=dt.timedelta(hours=10))
        installed = set(self.installed.values())
        for img in d.targets:
            assert img.image_id not in installed
            assert img.image_id not in self.ever_failed, "a failed image was offered again"
        if self.policy == rc.NO_3RD_PARTY_APP_UPDATES or rc.APP_DEVELOPMENT in self.caps:
            assert d.targets == ()
        else:   # liveness: everything deployed is installed, failed here before, or offered now
            for img in self.deployment:
                assert (img.image_id in installed or img.image_id in self.ever_failed
                        or d.states[img.image_id].state == rc.FAILED or img in d.targets)
        for image_id, st_ in d.states.items():
            if before.get(image_id) is not None and before[image_id].state == rc.FAILED:
                assert st_.state == rc.FAILED, "Failed is final"
            if st_.state == rc.FAILED:
                self.ever_failed.add(image_id)
        self.states = dict(d.states)
        self.offered = d.targets
        self.last = d

    @precondition(lambda self: self.offered)
    @rule(data=st.data())
    def install_one(self, data):
        img = data.draw(st.sampled_from(self.offered))
        self.installed[img.component_id] = img.image_id
        self.boot += 1
        self.offered = ()

    @precondition(lambda self: self.offered)
    @rule()
    def roll_back(self):
        self.boot += 1          # tried, rebooted, old image still there
        self.offered = ()

    @rule()
    def reboot(self):
        self.boot += 1
        self.offered = ()

    @rule(hours=st.integers(min_value=1, max_value=30))
    def time_passes(self, hours):
        self.now += dt.timedelta(hours=hours)

    @rule(a=st.sampled_from(IMAGES[:3]), b=st.sampled_from(IMAGES[3:] + [None]))
    def redeploy(self, a, b):
        self.deployment = (a,) if b is None else (a, b)
        self.dep_no += 1
        self.offered = ()

    @rule(policy=st.sampled_from([rc.UPDATE_ALL, rc.NO_3RD_PARTY_APP_UPDATES]), dev=st.booleans())
    def change_policy(self, policy, dev):
        self.policy = policy
        self.caps = frozenset({rc.APP_DEVELOPMENT}) if dev else frozenset()
        self.offered = ()

    @invariant()
    def timed_out_only_after_deadline(self):
        for st_ in self.states.values():
            if rc.effective_state(st_, self.now) == rc.TIMED_OUT and st_.state == rc.OFFERED:
                assert self.now >= st_.deadline


DeviceFleetMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestDeviceFleet = DeviceFleetMachine.TestCase


def test_no_updates_policy_blocks_applications_and_the_os():
    """UpdatePolicy 2 (NoUpdates): neither application images nor the OS target flow; the reason says why."""
    group = rc.GroupView("g", "Frozen", rc.RETAIL, rc.NO_UPDATES, "d1", (rc.Image("i1", "c1"),))
    now = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
    decision = rc.reconcile(group, rc.Report({}, "boot"), {}, now, rc.OsTarget(rc.RETAIL, "25.01"))
    assert decision.targets == () and decision.os_target is None
    assert [r.code for r in decision.reasons] == [rc.NO_UPDATES_POLICY]
    assert [r.code for r in rc.why_not_updating(group, {}, frozenset(), {}, now)] == [rc.NO_UPDATES_POLICY]
