/* spi_bus: ISU SPI masters against tests/firmware/boards/spi_bus.board: an LSM6DS3 on ISU1 selected by GPIO 0
 * (as the CodethinkLabs SPI sample wires it), an SD card on ISU1's CSB (CMD0, CMD8, ACMD41, CMD58, CMD24, CMD17,
 * CMD9, a wrong CRC), and an SPI loopback wire on ISU3 exercised full duplex in modes 0-3, by registers and by DMA. */
#include "sleep.h"
#include "spi.h"

#define ISU 1u
#define CS_IMU_GPIO 0u
#define CS_SD 1u

static uint8_t sd_frame[6];
static uint8_t block[512];

/* ---- LSM6DS3 over SPI: bit 7 of the first byte = read ---- */
static void imu_read(uint8_t reg, uint8_t *out, unsigned n)
{
    uint8_t cmd = 0x80u | reg;
    gpio_write(CS_IMU_GPIO, false);
    spi_transfer(ISU, SPI_CS_NONE, &cmd, 1, 0, 0, out, n);
    gpio_write(CS_IMU_GPIO, true);
}

static void imu_write(uint8_t reg, uint8_t value)
{
    gpio_write(CS_IMU_GPIO, false);
    spi_transfer(ISU, SPI_CS_NONE, &reg, 1, &value, 1, 0, 0);
    gpio_write(CS_IMU_GPIO, true);
}

/* ---- SD card in SPI mode (SD Physical Layer Simplified Specification, chapter 7) ---- */
static uint8_t crc7(const uint8_t *data, unsigned n)
{
    uint8_t crc = 0;
    for (unsigned i = 0; i < n; i++) {
        uint8_t c = data[i];
        for (unsigned b = 0; b < 8; b++) {
            crc <<= 1;
            if ((c ^ crc) & 0x80u) {
                crc ^= 0x09u;
            }
            c <<= 1;
        }
        crc &= 0x7Fu;
    }
    return (uint8_t)(crc << 1 | 1u);
}

static uint8_t sd_byte(void)
{
    uint8_t b = 0xFF;
    spi_transfer(ISU, CS_SD, 0, 0, 0, 0, &b, 1);
    return b;
}

/* Sends a command (with a correct CRC unless `bad_crc`), returns R1 and `extra` following bytes. */
static uint8_t sd_cmd(uint8_t index, uint32_t arg, uint8_t *extra, unsigned n, bool bad_crc)
{
    sd_frame[0] = 0x40u | index;
    sd_frame[1] = (uint8_t)(arg >> 24);
    sd_frame[2] = (uint8_t)(arg >> 16);
    sd_frame[3] = (uint8_t)(arg >> 8);
    sd_frame[4] = (uint8_t)arg;
    sd_frame[5] = (uint8_t)(crc7(sd_frame, 5) ^ (bad_crc ? 0x10u : 0u));
    spi_transfer(ISU, CS_SD, sd_frame, 4, &sd_frame[4], 2, 0, 0);
    uint8_t r1 = 0xFF;
    for (unsigned i = 0; i < 16 && r1 == 0xFF; i++) {
        r1 = sd_byte();
    }
    if (n) {
        spi_transfer(ISU, CS_SD, 0, 0, 0, 0, extra, n);
    }
    return r1;
}

static bool sd_read_data(uint8_t *out, unsigned n)
{
    uint8_t token = 0xFF;
    for (unsigned i = 0; i < 64 && token == 0xFF; i++) {
        token = sd_byte();
    }
    if (token != 0xFE) {
        return false;
    }
    for (unsigned i = 0; i < n; i += 32) {
        spi_transfer(ISU, CS_SD, 0, 0, 0, 0, &out[i], n - i < 32 ? n - i : 32);
    }
    uint8_t crc[2];
    spi_transfer(ISU, CS_SD, 0, 0, 0, 0, crc, 2);
    return true;
}

static void sd_test(void)
{
    uint8_t r[4];
    spi_transfer(ISU, SPI_CS_NONE, 0, 0, 0, 0, block, 10);          /* 80 clocks with CS high */
    print("spi_bus: sd bad-crc CMD0 r1=0x%02x\r\n", sd_cmd(0, 0, 0, 0, true));
    print("spi_bus: sd CMD0 r1=0x%02x\r\n", sd_cmd(0, 0, 0, 0, false));
    uint8_t r1 = sd_cmd(8, 0x1AA, r, 4, false);
    print("spi_bus: sd CMD8 r1=0x%02x echo=%02x%02x%02x%02x\r\n", r1, r[0], r[1], r[2], r[3]);
    unsigned tries = 0;
    do {
        sd_cmd(55, 0, 0, 0, false);
        r1 = sd_cmd(41, 0x40000000u, 0, 0, false);
        tries++;
    } while (r1 == 0x01 && tries < 1000);
    print("spi_bus: sd ACMD41 ready r1=0x%02x after %u tries\r\n", r1, tries);
    r1 = sd_cmd(58, 0, r, 4, false);
    print("spi_bus: sd CMD58 r1=0x%02x ocr=%02x%02x%02x%02x\r\n", r1, r[0], r[1], r[2], r[3]);
    r1 = sd_cmd(9, 0, 0, 0, false);
    uint8_t csd[16];
    bool ok = sd_read_data(csd, 16);
    print("spi_bus: sd CMD9 r1=0x%02x csd ok=%d tran_speed=0x%02x\r\n", r1, ok, csd[3]);

    spi_set_dma(ISU, true);                                          /* the data phase through the DMA */
    for (unsigned i = 0; i < 512; i++) {
        block[i] = (uint8_t)(i * 7u + 3u);
    }
    r1 = sd_cmd(24, 3, 0, 0, false);
    uint8_t token = 0xFE;
    spi_transfer(ISU, CS_SD, &token, 1, 0, 0, 0, 0);
    for (unsigned i = 0; i < 512; i += 32) {
        spi_transfer(ISU, CS_SD, &block[i], 4, &block[i + 4], 28, 0, 0);
    }
    uint8_t crc[2] = {0xFF, 0xFF};
    spi_transfer(ISU, CS_SD, crc, 2, 0, 0, 0, 0);
    uint8_t resp = 0xFF;
    for (unsigned i = 0; i < 16 && resp == 0xFF; i++) {
        resp = sd_byte();
    }
    unsigned busy = 0;
    while (sd_byte() == 0x00) {
        busy++;
    }
    print("spi_bus: sd CMD24 r1=0x%02x data response=0x%02x busy bytes=%u\r\n", r1, resp, busy);
    for (unsigned i = 0; i < 512; i++) {
        block[i] = 0;
    }
    r1 = sd_cmd(17, 3, 0, 0, false);
    ok = sd_read_data(block, 512);
    unsigned same = 0;
    for (unsigned i = 0; i < 512; i++) {
        same += block[i] == (uint8_t)(i * 7u + 3u);
    }
    print("spi_bus: sd CMD17 r1=0x%02x token ok=%d same=%u/512\r\n", r1, ok, same);
    spi_set_dma(ISU, false);
}

int main(void)
{
    print("spi_bus: start\r\n");
    gpio_output(CS_IMU_GPIO, true);
    uint32_t hz = spi_open(ISU, 2000000, 0);
    uint8_t who = 0;
    imu_read(0x0F, &who, 1);
    imu_write(0x10, 0x40);                                    /* 104 Hz, 2 g */
    sleep_us(20000);
    uint8_t xl[6];
    imu_read(0x28, xl, 6);
    print("spi_bus: sclk %u Hz, imu whoami 0x%02x accel %d %d %d\r\n", hz, who, (int16_t)(xl[0] | xl[1] << 8),
          (int16_t)(xl[2] | xl[3] << 8), (int16_t)(xl[4] | xl[5] << 8));

    spi_open(ISU, 400000, 0);
    sd_test();

    for (unsigned mode = 0; mode < 4; mode++) {
        for (unsigned dma = 0; dma < 2; dma++) {
            spi_open(3, 1000000, mode);
            spi_set_dma(3, dma != 0);
            uint8_t cmd = 0x5A, tx[16], rx[16];
            for (unsigned i = 0; i < 16; i++) {
                tx[i] = (uint8_t)(0x11u + i);
                rx[i] = 0xCC;
            }
            spi_full_duplex(3, SPI_CS_NONE, &cmd, 1, tx, rx, 16);
            unsigned same = 0;
            for (unsigned i = 0; i < 16; i++) {
                same += rx[i] == tx[i];
            }
            print("spi_bus: loopback mode %u %s same=%u/16\r\n", mode, dma ? "dma" : "fifo", same);
        }
    }
    print("spi_bus: done\r\n");
    return 0;
}
