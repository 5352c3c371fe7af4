"""Which cores an app set needs and whether it fits (sphere_os/resources.py): the device's refusals at deploy time
and the owner table the security monitor programs."""
import pytest

from mt3620.sphere_os.manifest import parse_manifest
from mt3620.sphere_os.resources import ConflictError, claims, firewall_owners, place

IDS = ["11111111-1111-4111-8111-11111111111%d" % i for i in range(6)]


def app(i, caps=None, rt=True):
    return parse_manifest({"Name": f"app{i}", "ComponentId": IDS[i], "EntryPoint": "/bin/app",
                           "ApplicationType": "RealTimeCapable" if rt else "Default", "Capabilities": caps or {}})


def test_claims_map_peripherals_onto_pin_blocks():
    m = app(0, {"Gpio": [8, 27, 44, 57], "Uart": ["ISU1"], "Pwm": ["PWM-CONTROLLER-1"], "Adc": [], "I2sSubordinate":
                ["I2S1"]})
    assert [(c.peripheral, c.block) for c in claims(m)] == [
        ("GPIO 8", "gpio2"), ("GPIO 27", "isu0"), ("GPIO 44", "adc"), ("GPIO 57", "i2s0"), ("ISU1", "isu1"),
        ("PWM-CONTROLLER-1", "gpio1"), ("I2S1", "i2s1")]


def test_placement_hl_on_a7_rtapps_on_free_io_cores_keeping_their_core():
    placed = place([(app(0, rt=False), None), (app(1), "io1"), (app(2), None)])
    assert [(p.name, p.core) for p in placed] == [("app0", "a7"), ("app1", "io1"), ("app2", "io0")]


@pytest.mark.parametrize("a,b,reason,text", [
    ({"Gpio": [8]}, {"Gpio": [8]}, "peripheral-in-use", "app2: GPIO 8 is already used by app1"),
    ({"Uart": ["ISU0"]}, {"I2cMaster": ["ISU0"]}, "peripheral-in-use", "ISU0 is already used by app1"),
    ({"Gpio": [8]}, {"Gpio": [9]}, "pin-block-in-use", "GPIO 9 is in pin block gpio2, which app1 holds on"),
    ({"Gpio": [0]}, {"Pwm": ["PWM-CONTROLLER-0"]}, "pin-block-in-use", "PWM-CONTROLLER-0 is in pin block gpio0"),
    ({"Gpio": [27]}, {"SpiMaster": ["ISU0"]}, "pin-block-in-use", "ISU0 is in pin block isu0"),
    ({"Adc": ["ADC-CONTROLLER-0"]}, {"Gpio": [41]}, "pin-block-in-use", "GPIO 41 is in pin block adc"),
    ({"I2sSubordinate": ["I2S1"]}, {"I2sSubordinate": ["I2S1"]}, "peripheral-in-use", "I2S1 is already used"),
])
def test_two_apps_claiming_one_peripheral_or_pin_block(a, b, reason, text):
    for first_rt, second_rt in ((True, True), (False, True), (True, False)):     # RT+RT, HL+RT, RT+HL
        with pytest.raises(ConflictError) as err:
            place([(app(1, a, rt=first_rt), None), (app(2, b, rt=second_rt), None)])
        assert err.value.reason == reason and text in str(err.value)


def test_one_app_cannot_use_a_pin_block_both_ways():
    with pytest.raises(ConflictError) as err:
        place([(app(0, {"Gpio": [26], "Uart": ["ISU0"]}), None)])
    assert err.value.reason == "pin-block-function" and "GPIO 26 and ISU0 share pin block isu0" in str(err.value)
    with pytest.raises(ConflictError) as err:
        place([(app(0, {"Uart": ["ISU2"], "SpiMaster": ["ISU2"]}), None)])
    assert err.value.reason == "peripheral-in-use" and "ISU2 is listed as both Uart and SpiMaster" in str(err.value)
    place([(app(0, {"Gpio": [8, 9, 10, 11]}), None)])                  # a whole block as GPIOs is fine


def test_no_free_io_core_and_one_high_level_app():
    with pytest.raises(ConflictError) as err:
        place([(app(0), "io0"), (app(1), "io1"), (app(2), None)])
    assert err.value.reason == "no-free-io-core" and "app2: no free IO core" in str(err.value)
    with pytest.raises(ConflictError) as err:
        place([(app(0, rt=False), None), (app(1, rt=False), None)])
    assert err.value.reason == "one-high-level-app"


def test_firewall_owners():
    hl = parse_manifest({"Name": "hl", "ComponentId": IDS[0], "EntryPoint": "/bin/app",
                         "Capabilities": {"Gpio": [12], "AllowedApplicationConnections": [IDS[1]]}})
    rt0 = parse_manifest({"Name": "rt0", "ComponentId": IDS[1], "EntryPoint": "/bin/app",
                          "ApplicationType": "RealTimeCapable",
                          "Capabilities": {"Uart": ["ISU0"], "AllowedApplicationConnections": [IDS[0]]}})
    rt1 = parse_manifest({"Name": "rt1", "ComponentId": IDS[2], "EntryPoint": "/bin/app",
                          "ApplicationType": "RealTimeCapable", "Capabilities": {"Gpio": [8]}})
    owners = firewall_owners(place([(hl, None), (rt0, None), (rt1, None)]))
    assert owners == {
        "gpio3": {"a7"}, "isu0": {"io0"}, "gpio2": {"io1"},
        "io0_tcm": {"io0"}, "io0_sysram": {"io0"}, "io0_xip": {"io0"}, "mbox_a7_io0": {"io0", "a7"},
        "intercore_io0": {"io0", "a7"},
        "io1_tcm": {"io1"}, "io1_sysram": {"io1"}, "io1_xip": {"io1"}, "mbox_a7_io1": {"io1"},
        "intercore_io1": {"io1"}}                                     # rt1 lists no connection: no A7, no IO0-IO1
    both = firewall_owners(place([
        (app(3, {"AllowedApplicationConnections": [IDS[4]]}), None),
        (app(4, {"AllowedApplicationConnections": [IDS[3]]}), None)]))
    assert both["mbox_io0_io1"] == {"io0", "io1"}
