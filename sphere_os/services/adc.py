"""ADC: the MT3620 ADC controller as the Azure Sphere kernel's IIO character device, which the SDK's inline
ADC_Open / ADC_GetSampleBitCount / ADC_SetReferenceVoltage / ADC_Poll use.

Interface: include/uapi/linux/iio/ioctl.h and drivers/iio/industrialio-ioctl.c of the Azure Sphere kernel
(crpietschmann/AzureSphereOS), as Microsoft's ADC "advanced functions" snippet uses them: /dev/adc<controller>;
IIO_GET_CHANNEL_SPEC_BUFFER_TOTAL_SIZE_IOCTL (_IOWR('i', 0xD2), {u32 size; int index; u32 total_size}),
IIO_GET_CHANNEL_SPEC_BUFFER_IOCTL (_IOWR('i', 0xD3), {ulong size; ulong total_size; int index; chan_spec *channel}:
the kernel lays the struct iio_ioctl_chan_spec, its ext_info list and their names out in the caller's buffer after
that header and points `channel` and the list's pointers into it), IIO_READ_RAW_CHANNEL_INFO_IOCTL (_IOWR('i',
0xD4), {u32 size; int index; int val; int val2; long mask}, mask IIO_IOCTL_CHAN_INFO_RAW), and
IIO_READ/WRITE_CHANNEL_EXT_INFO_IOCTL (0xD6/0xD7, {u32 size; u32 channel_index; u32 info_index; char *buffer;
size_t length}) for the ext_info attributes "current_bits" (read: "12") and "reference_voltage" (text volts). A
wrong `size` field or channel is EINVAL, a buffer too small EINVAL, as the kernel checks. The controller must be
listed in the manifest's "Adc" capability ("ADC-CONTROLLER-0"; EACCES otherwise).

Samples come from the ADC model (`adc`: its `voltage(channel)` at the current virtual time, mt3620.peripherals.adc;
docs/peripherals.md): code = round(V / reference * 4095), clamped to 0..4095, the reference being what the app set
(default: the board's Vref, 2.5 V on the RDB). Emulator-defined: a conversion takes no virtual time; references from
1.8 V to 2.5 V are accepted (EINVAL otherwise); one ADC controller.
"""
from __future__ import annotations

import struct

from mt3620.engine.linux.abi import EINVAL, ENOTTY
from mt3620.engine.linux.devices import DeviceFile
from mt3620.engine.linux.errors import LinuxError

from . import Service


def _iowr(nr: int, size: int) -> int:
    return 3 << 30 | size << 16 | ord("i") << 8 | nr


SPEC_SIZE_REQ = struct.Struct("<IiI")
SPEC_BUFFER = struct.Struct("<IIiI")
RAW_INFO = struct.Struct("<Iiiii")
EXT_INFO = struct.Struct("<IIIII")
CHAN_SPEC_SIZE = 76                     # struct iio_ioctl_chan_spec on ARM
EXT_NODE = struct.Struct("<IIIi")       # size, next, name, shared
GET_SPEC_TOTAL = _iowr(0xD2, SPEC_SIZE_REQ.size)
GET_SPEC = _iowr(0xD3, SPEC_BUFFER.size)
READ_RAW = _iowr(0xD4, RAW_INFO.size)
WRITE_RAW = _iowr(0xD5, RAW_INFO.size)
READ_EXT = _iowr(0xD6, EXT_INFO.size)
WRITE_EXT = _iowr(0xD7, EXT_INFO.size)
CHAN_INFO_RAW, CHAN_INFO_SCALE = 0, 2
IIO_VOLTAGE, IIO_IOCTL_SEPARATE, IIO_IOCTL_LE = 0, 0, 2
EXT_NAMES = (b"current_bits", b"reference_voltage")
BITS = 12
FULL_SCALE = (1 << BITS) - 1
CHANNELS = 8
REF_RANGE = (1.8, 2.5)


def _layout() -> tuple[int, list[int]]:
    """Offsets of the ext_info nodes and names after the buffer header and the chan_spec; the total size."""
    offset = SPEC_BUFFER.size + CHAN_SPEC_SIZE
    nodes = [offset + i * EXT_NODE.size for i in range(len(EXT_NAMES))]
    offset = nodes[-1] + EXT_NODE.size
    names = []
    for name in EXT_NAMES:
        names.append(offset)
        offset += len(name) + 1
    return (offset + 3) & ~3, nodes + names


TOTAL_SIZE, OFFSETS = _layout()


class AdcService(Service):
    name = "adc"

    def __init__(self, os) -> None:
        super().__init__(os)
        model = self.machine.devices.get("adc")
        self.model = model if hasattr(model, "voltage") and hasattr(model, "set_input") else None
        self.reference: dict[int, float] = {}
        if self.model is not None:
            self.kernel.devices.register("/dev/adc0", lambda ctx: self._open(ctx, 0), mode=0o666)

    def _open(self, ctx, controller: int) -> "AdcFile":
        self.require(controller in self.capabilities(ctx).adc, f"ADC-CONTROLLER-{controller}", ctx)
        return AdcFile(ctx, self)

    def vref(self, channel: int) -> float:
        return self.reference.get(channel, float(getattr(self.model, "vref", 2.5)))

    def sample(self, channel: int) -> int:
        value = round(self.model.voltage(channel) / self.vref(channel) * FULL_SCALE)
        return max(0, min(FULL_SCALE, value))


class AdcFile(DeviceFile):
    def __init__(self, ctx, service: AdcService) -> None:
        super().__init__(ctx)
        self.service = service

    @staticmethod
    def _channel(index: int) -> int:
        if not 0 <= index < CHANNELS:
            raise LinuxError(EINVAL)
        return index

    def ioctl(self, request: int, arg: int, memory) -> int:
        svc = self.service
        if request == GET_SPEC_TOTAL:
            size, index, _ = SPEC_SIZE_REQ.unpack(memory.read(arg, SPEC_SIZE_REQ.size))
            if size != SPEC_SIZE_REQ.size:
                raise LinuxError(EINVAL)
            self._channel(index)
            memory.write(arg, SPEC_SIZE_REQ.pack(size, index, TOTAL_SIZE))
            return 0
        if request == GET_SPEC:
            size, total, index, _ = SPEC_BUFFER.unpack(memory.read(arg, SPEC_BUFFER.size))
            if size != SPEC_BUFFER.size or total < TOTAL_SIZE:
                raise LinuxError(EINVAL)
            channel = self._channel(index)
            memory.write(arg, self._spec(arg, channel))
            return 0
        if request in (READ_RAW, WRITE_RAW):
            size, index, _val, _val2, mask = RAW_INFO.unpack(memory.read(arg, RAW_INFO.size))
            if size != RAW_INFO.size:
                raise LinuxError(EINVAL)
            channel = self._channel(index)
            if request == WRITE_RAW or mask not in (CHAN_INFO_RAW, CHAN_INFO_SCALE):
                raise LinuxError(EINVAL)
            if mask == CHAN_INFO_RAW:
                val, val2 = svc.sample(channel), 0
            else:                                   # scale in mV per code, as IIO_VAL_FRACTIONAL_LOG2
                val, val2 = round(svc.vref(channel) * 1000), BITS
            memory.write(arg, RAW_INFO.pack(size, index, val, val2, mask))
            return 0
        if request in (READ_EXT, WRITE_EXT):
            size, index, info, buffer, length = EXT_INFO.unpack(memory.read(arg, EXT_INFO.size))
            if size != EXT_INFO.size or info >= len(EXT_NAMES):
                raise LinuxError(EINVAL)
            channel = self._channel(index)
            if request == READ_EXT:
                text = (f"{BITS}" if info == 0 else f"{svc.vref(channel):.3f}").encode() + b"\0"
                if length < len(text):
                    raise LinuxError(EINVAL)
                memory.write(buffer, text)
                return len(text) - 1
            if info == 0 or length == 0 or length > 64:
                raise LinuxError(EINVAL)
            raw = memory.read(buffer, length).split(b"\0")[0]
            try:
                volts = float(raw.decode("ascii"))
            except (UnicodeDecodeError, ValueError):
                raise LinuxError(EINVAL) from None
            if not REF_RANGE[0] <= volts <= REF_RANGE[1]:
                raise LinuxError(EINVAL)
            svc.reference[channel] = volts
            return 0
        raise LinuxError(ENOTTY)

    def _spec(self, base: int, channel: int) -> bytes:
        """The whole buffer as the kernel lays it out at `base`: header, chan_spec, ext_info list, names."""
        nodes, names = OFFSETS[:len(EXT_NAMES)], OFFSETS[len(EXT_NAMES):]
        out = bytearray(TOTAL_SIZE)
        SPEC_BUFFER.pack_into(out, 0, SPEC_BUFFER.size, TOTAL_SIZE, channel, base + SPEC_BUFFER.size)
        spec = struct.pack("<IIiiIi", CHAN_SPEC_SIZE, IIO_VOLTAGE, channel, 0, channel, channel)
        scan_type = struct.pack("<bBBBB3xI", ord("u"), BITS, 16, 0, 0, IIO_IOCTL_LE)
        masks = struct.pack("<iiii", 1 << CHAN_INFO_RAW, 1 << CHAN_INFO_SCALE, 0, 0)
        pointers = struct.pack("<IIIIII", 0, 0, base + nodes[0], 0, 0, 0b010)       # event specs, ext_info, indexed
        chan_spec = spec + scan_type + masks + pointers
        assert len(chan_spec) == CHAN_SPEC_SIZE
        out[SPEC_BUFFER.size:SPEC_BUFFER.size + CHAN_SPEC_SIZE] = chan_spec
        for i, (node, name) in enumerate(zip(nodes, names)):
            nxt = base + nodes[i + 1] if i + 1 < len(nodes) else 0
            EXT_NODE.pack_into(out, node, EXT_NODE.size, nxt, base + name, IIO_IOCTL_SEPARATE)
            out[name:name + len(EXT_NAMES[i]) + 1] = EXT_NAMES[i] + b"\0"
        return bytes(out)
