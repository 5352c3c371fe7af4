"""Hardware definition files (sphere_os/hardware): the project's MT3620 and RDB definitions, imports, mappings,
and every way a file can be wrong (one line naming the file and the reason)."""
import json

import pytest

from mt3620.sphere_os.hardware import HardwareDefinitionError, board, chip, load

META = {"Type": "Azure Sphere Hardware Definition", "Version": 1}


def write(folder, name, peripherals, imports=(), meta=META):
    doc = {"Metadata": meta, "Peripherals": peripherals}
    if imports:
        doc["Imports"] = [{"Path": p} for p in imports]
    (folder / name).write_text(json.dumps(doc))
    return folder / name


def test_project_definitions_resolve_names_as_the_samples_use_them():
    rdb = board()
    assert rdb.manifest_value("MT3620_RDB_LED1_RED", "Gpio") == 8
    assert rdb.manifest_value("MT3620_RDB_BUTTON_A", "Gpio") == 12
    assert rdb.manifest_value("MT3620_RDB_HEADER2_ISU0_UART", "Uart") == "ISU0"
    assert rdb.manifest_value("MT3620_RDB_HEADER4_ISU2_I2C", "I2cMaster") == "ISU2"
    assert rdb.manifest_value("MT3620_RDB_LED_PWM_CONTROLLER2", "Pwm") == "PWM-CONTROLLER-2"
    assert rdb.manifest_value("MT3620_RDB_ADC_CONTROLLER0", "Adc") == "ADC-CONTROLLER-0"
    assert rdb.manifest_value("MT3620_I2S1", "I2sSubordinate") == "I2S1"       # the chip's names are imported
    c = chip()
    gpios = sorted(p.app_manifest_value for p in c.peripherals.values() if p.type == "Gpio")
    assert gpios == [*range(24), *range(26, 49), *range(56, 76)]
    assert {p.app_manifest_value for p in c.peripherals.values() if p.type == "Uart"} == {f"ISU{i}" for i in range(5)}
    assert c.resolve("MT3620_ADC_CHANNEL3").header_value == "(3)"


def test_wrong_type_and_constants_are_not_manifest_values():
    rdb = board()
    with pytest.raises(HardwareDefinitionError, match="MT3620_RDB_LED1_RED is a Gpio .* not a Uart"):
        rdb.manifest_value("MT3620_RDB_LED1_RED", "Uart")
    with pytest.raises(HardwareDefinitionError, match="not defined in mt3620_rdb.json"):
        rdb.manifest_value("NO_SUCH_THING", "Gpio")
    with pytest.raises(HardwareDefinitionError, match="no AppManifestValue"):
        rdb.manifest_value("MT3620_PWM_CHANNEL1", "int")


def test_a_user_file_imports_the_projects_definitions_by_name(tmp_path):
    path = write(tmp_path, "appliance.json", [
        {"Name": "SAMPLE_LED", "Type": "Gpio", "Mapping": "MT3620_RDB_LED2_BLUE"},
        {"Name": "SAMPLE_UART", "Type": "Uart", "Mapping": "MT3620_RDB_HEADER2_ISU0_UART"}], imports=["mt3620_rdb.json"])
    d = load(path)
    assert d.manifest_value("SAMPLE_LED", "Gpio") == 17 and d.manifest_value("SAMPLE_UART", "Uart") == "ISU0"
    # A local file beside it wins over the project's folder.
    write(tmp_path, "mt3620_rdb.json", [{"Name": "MY_ROOT", "Type": "Gpio", "AppManifestValue": 3}])
    path2 = write(tmp_path, "other.json", [{"Name": "X", "Type": "Gpio", "Mapping": "MY_ROOT"}],
                  imports=["mt3620_rdb.json"])
    assert load(path2).manifest_value("X", "Gpio") == 3


@pytest.mark.parametrize("peripherals,imports,message", [
    ([{"Name": "A", "Type": "Gpio", "Mapping": "NOPE"}], ["mt3620.json"], "A maps onto NOPE, which it does not"),
    ([{"Name": "A", "Type": "Uart", "Mapping": "MT3620_GPIO1"}], ["mt3620.json"], "A is a Uart but maps onto "
                                                                                  "MT3620_GPIO1, a Gpio"),
    ([{"Name": "MT3620_GPIO1", "Type": "Gpio", "AppManifestValue": 1}], ["mt3620.json"], "already defined in mt3620"),
    ([{"Name": "A", "Type": "Gpio"}], [], "needs a Mapping or an AppManifestValue"),
    ([{"Name": "A", "Type": "Gpio", "Mapping": "B", "AppManifestValue": 1}], [], "both Mapping and AppManifestValue"),
    ([{"Name": "A", "Type": "Relay", "AppManifestValue": 1}], [], "Type 'Relay' is not one of"),
    ([{"Name": "not a name", "Type": "Gpio", "AppManifestValue": 1}], [], "is not a C identifier"),
    ([{"Name": "A", "Type": "Gpio", "AppManifestValue": True}], [], "must be a number or a string"),
    ([{"Name": "A", "Type": "Gpio", "AppManifestValue": 1, "Colour": "red"}], [], "unknown field 'Colour'"),
    ([{"Name": "A", "Type": "Gpio", "AppManifestValue": 1}, {"Name": "A", "Type": "Gpio", "AppManifestValue": 2}],
     [], "A is defined twice"),
    ([{"Name": "A", "Type": "Gpio", "Mapping": "B"}, {"Name": "B", "Type": "Gpio", "Mapping": "A"}], [],
     "mapping cycle"),
    ([], ["missing.json"], "cannot find missing.json"),
])
def test_malformed_definitions_are_refused_with_the_file_and_reason(tmp_path, peripherals, imports, message):
    path = write(tmp_path, "bad.json", peripherals, imports=imports)
    with pytest.raises(HardwareDefinitionError) as err:
        load(path)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_bad_files(tmp_path):
    (tmp_path / "text.json").write_text("{ not json")
    with pytest.raises(HardwareDefinitionError, match=r"text.json: not JSON: .* line 1"):
        load(tmp_path / "text.json")
    write(tmp_path, "meta.json", [], meta={"Type": "Something else", "Version": 1})
    with pytest.raises(HardwareDefinitionError, match="Metadata.Type"):
        load(tmp_path / "meta.json")
    write(tmp_path, "v2.json", [], meta={**META, "Version": 2})
    with pytest.raises(HardwareDefinitionError, match="Version 2 is not 1"):
        load(tmp_path / "v2.json")
    write(tmp_path, "a.json", [], imports=["b.json"])
    write(tmp_path, "b.json", [], imports=["a.json"])
    with pytest.raises(HardwareDefinitionError, match="import cycle: a.json -> b.json -> a.json"):
        load(tmp_path / "a.json")
    with pytest.raises(HardwareDefinitionError, match="cannot read"):
        load(tmp_path / "absent.json")
