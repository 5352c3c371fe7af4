"""app_manifest.json, the full schema (sphere_os/manifest.py): every capability kind granted (accepted and
normalised) and refused (absent, malformed, or not allowed for the app type), names resolved through hardware
definitions, and every malformed field reported with its path and the reason in one line."""
import pytest

from mt3620.sphere_os.manifest import CAPABILITIES, ManifestError, parse_manifest

CID = "5a1f4e0c-9a1d-4a4b-8a8f-0d6c2b1e7f01"
OTHER = "0b9b5f4e-2f7d-4a55-9f1c-6c1e0d3a2b10"
TENANT = "7c8f6a5e-1b2c-4d3e-8f9a-0b1c2d3e4f50"


def manifest(caps=None, app_type="Default", **extra):
    doc = {"SchemaVersion": 1, "Name": "app", "ComponentId": CID, "EntryPoint": "/bin/app", "CmdArgs": [],
           "Capabilities": caps if caps is not None else {}, "ApplicationType": app_type}
    doc.update(extra)
    return doc


# capability -> (what the manifest says, what the device grants); the values cover names and raw values.
GRANTS = {
    "Gpio": ([8, "$MT3620_RDB_BUTTON_A", "$MT3620_GPIO30", "17"], [8, 12, 30, 17]),
    "Uart": (["ISU0", "$MT3620_RDB_HEADER4_ISU1_UART"], ["ISU0", "ISU1"]),
    "I2cMaster": (["isu2"], ["ISU2"]),
    "SpiMaster": (["$MT3620_ISU3_SPI"], ["ISU3"]),
    "Pwm": (["$MT3620_RDB_LED_PWM_CONTROLLER2", "PWM-CONTROLLER-0"], ["PWM-CONTROLLER-2", "PWM-CONTROLLER-0"]),
    "Adc": (["$MT3620_RDB_ADC_CONTROLLER0"], ["ADC-CONTROLLER-0"]),
    "I2sSubordinate": (["I2S0", "$MT3620_I2S1"], ["I2S0", "I2S1"]),
    "AllowedConnections": (["example.com", "*.azure-devices.net", "10.0.0.1", "fe80::1"],
                           ["example.com", "*.azure-devices.net", "10.0.0.1", "fe80::1"]),
    "AllowedTcpServerPorts": ([1024, 65535], [1024, 65535]),
    "AllowedUdpServerPorts": ([53], [53]),
    "AllowedApplicationConnections": ([OTHER.upper()], [OTHER]),
    "MutableStorage": ({"SizeKB": 64}, {"SizeKB": 64}),
    "WifiConfig": (True, True),
    "NetworkConfig": (True, True),
    "DeviceAuthentication": (TENANT, TENANT),
    "SystemEventNotifications": (True, True),
    "SoftwareUpdateDeferral": (True, True),
    "PowerControls": (["ForceReboot", "SetPowerProfile"], ["ForceReboot", "SetPowerProfile"]),
    "CertStore": (True, True),
    "EnterpriseWifiConfig": (True, True),
    "HardwareAddressConfig": (True, True),
    "SystemTime": (True, True),
    "TimeSyncConfig": (True, True),
}

# capability -> (a malformed value, the reason the device gives)
MALFORMED = {
    "Gpio": ([24], "Capabilities.Gpio[0]: GPIO 24 does not exist on the MT3620"),
    "Uart": (["ISU7"], "Capabilities.Uart[0]: 'ISU7' is not an ISU of the MT3620 (ISU0, ISU1, ISU2, ISU3, ISU4)"),
    "I2cMaster": ("ISU0", "Capabilities.I2cMaster: must be a list, not str"),
    "SpiMaster": (["ISU1", "ISU1"], "Capabilities.SpiMaster[1]: 'ISU1' is listed twice"),
    "Pwm": (["PWM-CONTROLLER-3"], "Capabilities.Pwm[0]: 'PWM-CONTROLLER-3' is not a PWM controller"),
    "Adc": (["$MT3620_RDB_LED1_RED"], "Capabilities.Adc[0]: MT3620_RDB_LED1_RED is a Gpio in mt3620_rdb.json, "
                                      "not a Adc"),
    "I2sSubordinate": (["I2S2"], "Capabilities.I2sSubordinate[0]: 'I2S2' is not an I2S interface"),
    "AllowedConnections": (["bad host!"], "Capabilities.AllowedConnections[0]: 'bad host!' is not a host name"),
    "AllowedTcpServerPorts": ([0], "Capabilities.AllowedTcpServerPorts[0]: 0 is not a port number (1-65535)"),
    "AllowedUdpServerPorts": ([True], "Capabilities.AllowedUdpServerPorts[0]: True is not a port number"),
    "AllowedApplicationConnections": ([CID], "Capabilities.AllowedApplicationConnections[0]: an app cannot list "
                                             "itself"),
    "MutableStorage": ({"SizeKB": 65}, "Capabilities.MutableStorage.SizeKB: 65 is not 1-64"),
    "WifiConfig": ("yes", "Capabilities.WifiConfig: must be true or false, not 'yes'"),
    "NetworkConfig": (1, "Capabilities.NetworkConfig: must be true or false, not 1"),
    "DeviceAuthentication": ("tenant", "Capabilities.DeviceAuthentication: 'tenant' is not a GUID"),
    "SystemEventNotifications": (None, "Capabilities.SystemEventNotifications: must be true or false, not None"),
    "SoftwareUpdateDeferral": ([], "Capabilities.SoftwareUpdateDeferral: must be true or false, not []"),
    "PowerControls": (["Reboot"], "Capabilities.PowerControls[0]: 'Reboot' is not one of ForcePowerDown"),
    "CertStore": ("true", "Capabilities.CertStore: must be true or false, not 'true'"),
    "EnterpriseWifiConfig": (0, "Capabilities.EnterpriseWifiConfig: must be true or false, not 0"),
    "HardwareAddressConfig": ({}, "Capabilities.HardwareAddressConfig: must be true or false, not {}"),
    "SystemTime": (2, "Capabilities.SystemTime: must be true or false, not 2"),
    "TimeSyncConfig": ("on", "Capabilities.TimeSyncConfig: must be true or false, not 'on'"),
}
REALTIME_OK = {"Gpio", "Uart", "I2cMaster", "SpiMaster", "Pwm", "Adc", "I2sSubordinate",
               "AllowedApplicationConnections"}


def test_the_tables_cover_every_capability_kind():
    assert set(GRANTS) == set(MALFORMED) == set(CAPABILITIES)


@pytest.mark.parametrize("kind", sorted(GRANTS))
def test_granted(kind):
    given, granted = GRANTS[kind]
    m = parse_manifest(manifest({kind: given}))
    assert m.granted == {kind: granted}                       # granted, and nothing else is


@pytest.mark.parametrize("kind", sorted(GRANTS))
def test_refused_when_not_listed_or_false(kind):
    assert kind not in parse_manifest(manifest({})).granted
    if GRANTS[kind][1] is True:
        assert kind not in parse_manifest(manifest({kind: False})).granted


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_malformed_value_names_the_field_and_reason(kind):
    value, reason = MALFORMED[kind]
    with pytest.raises(ManifestError) as err:
        parse_manifest(manifest({kind: value}))
    assert str(err.value).startswith("app_manifest.json: ") and reason in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("kind", sorted(GRANTS))
def test_realtime_apps_get_only_peripherals_and_app_connections(kind):
    given, granted = GRANTS[kind]
    doc = manifest({kind: given}, app_type="RealTimeCapable")
    if kind in REALTIME_OK:
        assert parse_manifest(doc).granted == {kind: granted}
    else:
        with pytest.raises(ManifestError, match=f"Capabilities.{kind}: only high-level apps"):
            parse_manifest(doc)


@pytest.mark.parametrize("change,reason", [
    ({"SchemaVersion": 2}, "SchemaVersion: 2 is not 1"),
    ({"ComponentId": "not-a-guid"}, "ComponentId: 'not-a-guid' is not a GUID"),
    ({"ComponentId": None}, "ComponentId: None is not a GUID string"),
    ({"Name": ""}, "Name: must be a non-empty string"),
    ({"Name": "x" * 257}, "Name: must be at most 256 bytes"),
    ({"Name": "a/b"}, "without '/'"),
    ({"EntryPoint": "bin/app"}, "EntryPoint: 'bin/app' must be an absolute path"),
    ({"EntryPoint": "/bin/../etc"}, "EntryPoint"),
    ({"CmdArgs": "--verbose"}, "CmdArgs: must be a list of strings"),
    ({"ApplicationType": "Realtime"}, "ApplicationType: 'Realtime' is neither Default nor RealTimeCapable"),
    ({"TargetApplicationRuntimeVersion": "17"}, "TargetApplicationRuntimeVersion: '17' is not a positive integer"),
    ({"TargetBetaApis": 5}, "TargetBetaApis: 5 is not an API set name"),
    ({"Capabilities": []}, "Capabilities: must be an object"),
    ({"Capabilities": {"Bluetooth": True}}, "Capabilities.Bluetooth: unknown capability"),
    ({"Capabilites": {}}, "Capabilites: unknown field"),
])
def test_malformed_top_level_fields(change, reason):
    with pytest.raises(ManifestError) as err:
        parse_manifest(manifest(**change) if "Capabilities" not in change else
                       {**manifest(), **change})
    assert reason in str(err.value)


def test_missing_component_id_and_realtime_only_fields():
    doc = manifest()
    del doc["ComponentId"]
    with pytest.raises(ManifestError, match="ComponentId: missing"):
        parse_manifest(doc)
    with pytest.raises(ManifestError, match="TargetApplicationRuntimeVersion: only high-level apps"):
        parse_manifest(manifest(app_type="RealTimeCapable", TargetApplicationRuntimeVersion=17))
    m = parse_manifest(manifest(TargetApplicationRuntimeVersion=17, TargetBetaApis="13"))
    assert (m.target_runtime_version, m.target_beta_apis, m.high_level, m.realtime) == (17, "13", True, False)


def test_names_resolve_through_a_given_definition(tmp_path):
    import json
    from mt3620.sphere_os.hardware import load
    (tmp_path / "appliance.json").write_text(json.dumps({
        "Metadata": {"Type": "Azure Sphere Hardware Definition", "Version": 1},
        "Imports": [{"Path": "mt3620_rdb.json"}],
        "Peripherals": [{"Name": "SAMPLE_LED", "Type": "Gpio", "Mapping": "MT3620_RDB_LED1_GREEN"}]}))
    m = parse_manifest(manifest({"Gpio": ["$SAMPLE_LED"]}), definitions=load(tmp_path / "appliance.json"))
    assert m.granted["Gpio"] == [9] and m.capabilities.gpio == {9}
    with pytest.raises(ManifestError, match=r"Capabilities.Gpio\[0\]: SAMPLE_LED is not defined in mt3620_rdb"):
        parse_manifest(manifest({"Gpio": ["$SAMPLE_LED"]}))           # the board's definition has no such name


@pytest.mark.parametrize("kind", sorted(GRANTS))
def test_the_services_query_form_agrees(kind):
    """`capabilities` (what the OS services ask) says the same as `granted` (the manifest's own form)."""
    given, _ = GRANTS[kind]
    empty = parse_manifest(manifest({})).capabilities
    caps = parse_manifest(manifest({kind: given})).capabilities
    assert caps != empty
    field = {"Gpio": "gpio", "Uart": "uart", "I2cMaster": "i2c_master", "SpiMaster": "spi_master", "Pwm": "pwm",
             "Adc": "adc", "I2sSubordinate": "i2s_subordinate",
             "AllowedApplicationConnections": "allowed_application_connections",
             "AllowedConnections": "allowed_connections", "AllowedTcpServerPorts": "allowed_tcp_server_ports",
             "AllowedUdpServerPorts": "allowed_udp_server_ports", "MutableStorage": "mutable_storage_kb",
             "DeviceAuthentication": "device_authentication", "PowerControls": "power_controls",
             "WifiConfig": "wifi_config", "NetworkConfig": "network_config",
             "SystemEventNotifications": "system_event_notifications",
             "SoftwareUpdateDeferral": "software_update_deferral", "CertStore": "cert_store",
             "EnterpriseWifiConfig": "enterprise_wifi_config", "HardwareAddressConfig": "hardware_address_config",
             "SystemTime": "system_time", "TimeSyncConfig": "time_sync_config"}[kind]
    assert getattr(caps, field) != getattr(empty, field)
