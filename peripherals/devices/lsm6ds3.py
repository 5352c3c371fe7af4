"""STMicroelectronics LSM6DS3 and LSM6DSO: accelerometer and gyroscope on I2C (address 0x6A, or 0x6B with SA0
high) or SPI (mode 0 or 3).

Facts from the public datasheets (ST DocID026899 LSM6DS3, DS12140 LSM6DSO): WHO_AM_I (0x0F) reads 0x69 / 0x6C;
CTRL1_XL (0x10) ODR_XL in bits 7:4 and FS_XL in 3:2 (00 = 2 g, 01 = 16 g, 10 = 4 g, 11 = 8 g); CTRL2_G (0x11)
ODR_G in 7:4, FS_G in 3:2 (250, 500, 1000, 2000 dps) and FS_125 in bit 1; CTRL3_C (0x12, reset 0x04) BOOT (7),
BDU (6), IF_INC (2: register address auto-increment), SW_RESET (0, cleared by the device when the reset ends);
STATUS_REG (0x1E) TDA (2), GDA (1), XLDA (0); OUT_TEMP (0x20/0x21, 16 LSB/degC on the LSM6DS3, 256 on the LSM6DSO,
0 = 25 degC), gyroscope OUTX/Y/Z (0x22-0x27) and accelerometer OUTX/Y/Z (0x28-0x2D), 16-bit little-endian two's
complement. Sensitivities: 0.061/0.122/0.244/0.488 mg per LSB for 2/4/8/16 g; 4.375/8.75/17.5/35/70 mdps per LSB
for 125/250/500/1000/2000 dps. ODR codes 1..10 = 12.5 (13 on the LSM6DS3), 26, 52, 104, 208, 416, 833, 1660, 3330,
6660 Hz; 0 = power down. SPI: the first byte's bit 7 = read, bits 6:0 the register.

What it measures: `accel` (g), `gyro` (dps), `temperature` (degC), each a constant or a signal over virtual time,
or a recorded motion file (`motion`: lines "time, ax, ay, az, gx, gy, gz"). A new sample exists every 1/ODR
from the moment the ODR was written; the data-ready bit of a sensor is set when a sample newer than the last one
read exists and cleared when that sensor's output registers are read (emulator-defined timing: the first sample
one period after power-up, SW_RESET lasting 50 us and BOOT 15 ms).
"""
from __future__ import annotations

from typing import Any

from mt3620.engine.simulation.clock import PS_PER_SECOND
from mt3620.peripherals.buses.i2c import I2cTarget
from mt3620.peripherals.buses.signals import Constant, Samples, Signal, Steps, read_table
from mt3620.peripherals.buses.spi import SpiTarget

from .base import BoardDevice, DeviceError, three

WHO_AM_I, CTRL1_XL, CTRL2_G, CTRL3_C, STATUS_REG = 0x0F, 0x10, 0x11, 0x12, 0x1E
OUT_TEMP_L, OUTX_L_G, OUTX_L_XL = 0x20, 0x22, 0x28
ODR_HZ = {1: 12.5, 2: 26, 3: 52, 4: 104, 5: 208, 6: 416, 7: 833, 8: 1660, 9: 3330, 10: 6660}
XL_MG_PER_LSB = {0: 0.061, 1: 0.488, 2: 0.122, 3: 0.244}          # FS_XL 2, 16, 4, 8 g
G_MDPS_PER_LSB = {0: 8.75, 1: 17.5, 2: 35.0, 3: 70.0}              # FS_G 250, 500, 1000, 2000 dps
RESET_PS = 50 * PS_PER_SECOND // 1_000_000
BOOT_PS = 15 * PS_PER_SECOND // 1000


class Lsm6ds3(BoardDevice, I2cTarget, SpiTarget):
    KIND = "LSM6DS3"
    WHO_AM_I_VALUE = 0x69
    TEMP_LSB_PER_DEGC = 16
    SETTINGS = ("accel", "gyro", "temperature", "motion", "address", "stretch_ps")
    modes = frozenset({0, 3})

    def __init__(self, name: str | None = None, clock=None, **attributes: Any) -> None:
        self.address = 0x6A
        self._accel: list[Signal] = [Constant(0.0), Constant(0.0), Constant(1.0)]     # at rest, Z up
        self._gyro: list[Signal] = [Constant(0.0)] * 3
        self._temp: Signal = Constant(25.0)
        self._reset_registers()
        self.transactions = 0
        super().__init__(name, clock, **attributes)

    def _reset_registers(self) -> None:
        self.regs = bytearray(0x80)
        self.regs[WHO_AM_I] = self.WHO_AM_I_VALUE
        self.regs[CTRL3_C] = 0x04
        self.xl_since = self.g_since = None        # virtual time the ODR was set (None: powered down)
        self.xl_read = self.g_read = self.t_read = -1
        self.busy_until = 0
        self.pointer = 0
        self._spi_first = True
        self._i2c_first = True

    # ---- values (settable) ------------------------------------------------------------------------------------------
    @property
    def accel(self) -> tuple[float, float, float]:
        now = self.clock.now
        return tuple(s.value_at(now) for s in self._accel)          # type: ignore[return-value]

    @accel.setter
    def accel(self, value: Any) -> None:
        self._accel = self._signals(value, "accel")

    @property
    def gyro(self) -> tuple[float, float, float]:
        now = self.clock.now
        return tuple(s.value_at(now) for s in self._gyro)           # type: ignore[return-value]

    @gyro.setter
    def gyro(self, value: Any) -> None:
        self._gyro = self._signals(value, "gyro")

    @property
    def temperature(self) -> float:
        return self._temp.value_at(self.clock.now)

    @temperature.setter
    def temperature(self, value: Any) -> None:
        self._temp = self._signal(value, "temperature")

    def _signals(self, value: Any, what: str) -> list[Signal]:
        if isinstance(value, (list, tuple)) and len(value) == 3 and all(
                isinstance(v, (Signal, str)) for v in value):
            return [self._signal(v, what) for v in value]
        return [Constant(v) for v in three(value, what, self.name)]

    @property
    def motion(self) -> str | None:
        return getattr(self, "_motion", None)

    @motion.setter
    def motion(self, path: str | None) -> None:
        """A recorded motion: lines "time, ax, ay, az, gx, gy, gz" (g and dps), held between samples."""
        if path is None:
            self._motion = None
            return
        try:
            rows = read_table(path, 6)
        except ValueError as exc:
            raise DeviceError(f"{self.name}: motion: {exc}") from None
        self._motion = str(path)
        axes = [Steps([(t, values[i]) for t, values in rows]) for i in range(6)]
        self._accel, self._gyro = axes[:3], axes[3:]

    # ---- sampling -----------------------------------------------------------------------------------------------------
    def _odr(self, reg: int) -> float:
        return ODR_HZ.get(self.regs[reg] >> 4, 0)

    def _index(self, since: int | None, odr: float) -> int:
        if since is None or not odr:
            return -1
        return int((self.clock.now - since) * odr // PS_PER_SECOND) - 1

    def _sample_time(self, since: int, odr: float, index: int) -> int:
        return since + int((index + 1) * PS_PER_SECOND / odr)

    def _xl_index(self) -> int:
        return self._index(self.xl_since, self._odr(CTRL1_XL))

    def _g_index(self) -> int:
        return self._index(self.g_since, self._odr(CTRL2_G))

    def status(self) -> int:
        xl, g = self._xl_index(), self._g_index()
        t = max(xl, g)
        return (int(t >= 0 and t > self.t_read) << 2) | (int(g >= 0 and g > self.g_read) << 1) | \
            int(xl >= 0 and xl > self.xl_read)

    def _raw(self, value: float, per_lsb: float) -> int:
        raw = round(value / per_lsb)
        return max(-32768, min(32767, raw)) & 0xFFFF

    def _xl_word(self, axis: int) -> int:
        index = self._xl_index()
        if index < 0:
            return 0
        t = self._sample_time(self.xl_since, self._odr(CTRL1_XL), index)
        per_lsb = XL_MG_PER_LSB[self.regs[CTRL1_XL] >> 2 & 3] / 1000.0
        return self._raw(self._accel[axis].value_at(t), per_lsb)

    def _g_word(self, axis: int) -> int:
        index = self._g_index()
        if index < 0:
            return 0
        t = self._sample_time(self.g_since, self._odr(CTRL2_G), index)
        ctrl = self.regs[CTRL2_G]
        mdps = 4.375 if ctrl & 0x2 else G_MDPS_PER_LSB[ctrl >> 2 & 3]
        return self._raw(self._gyro[axis].value_at(t), mdps / 1000.0)

    def _temp_word(self) -> int:
        return self._raw(self.temperature - 25.0, 1.0 / self.TEMP_LSB_PER_DEGC)

    # ---- register access (shared by I2C and SPI) -----------------------------------------------------------------
    def read_register(self, reg: int) -> int:
        reg &= 0x7F
        now = self.clock.now
        if reg == CTRL3_C:
            value = self.regs[CTRL3_C]
            if now < self.busy_until:
                return value
            return value & ~0x81                       # SW_RESET and BOOT clear when done
        if reg == STATUS_REG:
            return self.status()
        if OUT_TEMP_L <= reg <= OUT_TEMP_L + 1:
            self.t_read = max(self._xl_index(), self._g_index())
            word = self._temp_word()
            return word >> (8 * (reg - OUT_TEMP_L)) & 0xFF
        if OUTX_L_G <= reg < OUTX_L_G + 6:
            self.g_read = self._g_index()
            word = self._g_word((reg - OUTX_L_G) // 2)
            return word >> (8 * ((reg - OUTX_L_G) & 1)) & 0xFF
        if OUTX_L_XL <= reg < OUTX_L_XL + 6:
            self.xl_read = self._xl_index()
            word = self._xl_word((reg - OUTX_L_XL) // 2)
            return word >> (8 * ((reg - OUTX_L_XL) & 1)) & 0xFF
        return self.regs[reg]

    def write_register(self, reg: int, value: int) -> None:
        reg &= 0x7F
        value &= 0xFF
        if reg in (WHO_AM_I, STATUS_REG) or OUT_TEMP_L <= reg < OUTX_L_XL + 6:
            return                                      # read-only
        now = self.clock.now
        if reg == CTRL3_C and value & 0x01:
            self._reset_registers()
            self.regs[CTRL3_C] = 0x05
            self.busy_until = now + RESET_PS
            return
        if reg == CTRL3_C and value & 0x80:
            self.busy_until = now + BOOT_PS
        if reg == CTRL1_XL and (value >> 4) != (self.regs[CTRL1_XL] >> 4):
            self.xl_since = now if value >> 4 in ODR_HZ else None
            self.xl_read = -1
        if reg == CTRL2_G and (value >> 4) != (self.regs[CTRL2_G] >> 4):
            self.g_since = now if value >> 4 in ODR_HZ else None
            self.g_read = -1
        self.regs[reg] = value

    def _advance(self) -> None:
        if self.regs[CTRL3_C] & 0x04:                   # IF_INC
            self.pointer = (self.pointer + 1) & 0x7F

    # ---- I2C -------------------------------------------------------------------------------------------------------
    def i2c_start(self, read: bool) -> Any:
        self._i2c_first = not read
        self.transactions += 1
        return True

    def i2c_write(self, byte: int) -> Any:
        if self._i2c_first:
            self.pointer = byte & 0x7F
            self._i2c_first = False
            return True
        self.write_register(self.pointer, byte)
        self._advance()
        return True

    def i2c_read(self) -> Any:
        value = self.read_register(self.pointer)
        self._advance()
        return value

    # ---- SPI ---------------------------------------------------------------------------------------------------------
    def spi_select(self) -> None:
        self._spi_first = True
        self.transactions += 1

    def spi_exchange(self, byte: int) -> int:
        if self._spi_first:
            self._spi_first = False
            self._spi_read = bool(byte & 0x80)
            self.pointer = byte & 0x7F
            return 0xFF
        if self._spi_read:
            value = self.read_register(self.pointer)
            self._advance()
            return value
        self.write_register(self.pointer, byte)
        self._advance()
        return 0xFF

    def describe(self) -> str:
        ax, ay, az = self.accel
        return f"{self.name} ({self.KIND}): accel ({ax:g}, {ay:g}, {az:g}) g, gyro {self.gyro} dps, " \
               f"{self.temperature:g} degC"


class Lsm6dso(Lsm6ds3):
    KIND = "LSM6DSO"
    WHO_AM_I_VALUE = 0x6C
    TEMP_LSB_PER_DEGC = 256


__all__ = ["Lsm6ds3", "Lsm6dso", "Samples"]
