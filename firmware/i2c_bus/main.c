/* i2c_bus: the ISU2 I2C master against the devices of tests/firmware/boards/i2c_bus.board: an address nobody
 * answers, an LSM6DS3 (WHO_AM_I, configuration, data-ready polling, accelerometer/gyroscope/temperature words), a
 * 24C02 EEPROM (page write, acknowledge polling through the write cycle, a 16-byte read through the DMA) and an I2C
 * loopback (40 bytes each way through the DMA); then the same 16-byte read timed at 100 kHz, 400 kHz and 1 MHz. */
#include "i2c.h"

#define ISU 2u
#define LSM 0x6Au
#define EEPROM 0x50u
#define LOOP 0x40u

static __attribute__((section(".sysram"))) uint8_t big_tx[48];
static __attribute__((section(".sysram"))) uint8_t big_rx[48];

static uint8_t reg_read(uint8_t reg)
{
    uint8_t v = 0;
    int rc = i2c_transfer(ISU, LSM, &reg, 1, &v, 1);
    if (rc) {
        print("i2c_bus: read of 0x%02x failed %d\r\n", reg, rc);
    }
    return v;
}

static void reg_write(uint8_t reg, uint8_t value)
{
    uint8_t cmd[2] = {reg, value};
    int rc = i2c_transfer(ISU, LSM, cmd, 2, 0, 0);
    if (rc) {
        print("i2c_bus: write of 0x%02x failed %d\r\n", reg, rc);
    }
}

static int16_t word(uint8_t reg)
{
    uint8_t buf[2];
    i2c_transfer(ISU, LSM, &reg, 1, buf, 2);
    return (int16_t)(buf[0] | buf[1] << 8);
}

static void sensor(void)
{
    reg_write(0x12, 0x01);                                   /* CTRL3_C SW_RESET */
    unsigned polls = 0;
    while (reg_read(0x12) & 0x01u) {
        polls++;
    }
    print("i2c_bus: reset done after %u polls\r\n", polls);
    reg_write(0x10, 0x48);                                   /* CTRL1_XL: 104 Hz, 4 g */
    reg_write(0x11, 0x44);                                   /* CTRL2_G: 104 Hz, 500 dps */
    unsigned waits = 0;
    while ((reg_read(0x1E) & 0x07u) != 0x07u) {
        waits++;
    }
    print("i2c_bus: data ready after %u status reads\r\n", waits);
    print("i2c_bus: accel %d %d %d\r\n", word(0x28), word(0x2A), word(0x2C));
    print("i2c_bus: gyro %d %d %d\r\n", word(0x22), word(0x24), word(0x26));
    print("i2c_bus: temp %d\r\n", word(0x20));
}

int main(void)
{
    uint32_t period = i2c_open(ISU, 100000);
    print("i2c_bus: start, SCL period %u source clocks\r\n", period);

    uint8_t probe = 0;
    int rc = i2c_transfer(ISU, 0x21, 0, 0, &probe, 1);
    print("i2c_bus: probe 0x21 rc=%d ack=0x%03x\r\n", rc, i2c_last_ack(ISU));

    uint8_t who = reg_read(0x0F);
    print("i2c_bus: whoami 0x%02x\r\n", who);
    if (who == 0x69 || who == 0x6C) {                       /* LSM6DS3 or LSM6DSO */
        sensor();
    }

    uint8_t page[9] = {0x08, 'm', 't', '3', '6', '2', '0', '!', '?'};
    rc = i2c_transfer(ISU, EEPROM, page, sizeof page, 0, 0);
    unsigned nacks = 0;
    uint8_t zero = 0x00;
    while (rc == I2C_OK && nacks < 1000u && i2c_transfer(ISU, EEPROM, &zero, 1, 0, 0) == I2C_NACK_ADDR) {
        nacks++;
    }
    big_tx[0] = 0x06;
    int rrc = i2c_transfer(ISU, EEPROM, big_tx, 1, big_rx, 16);
    print("i2c_bus: eeprom write rc=%d, %u polls while busy, read rc=%d: ", rc, nacks, rrc);
    for (unsigned i = 0; i < 16; i++) {
        print("%02x", big_rx[i]);
    }
    print("\r\n");

    for (unsigned i = 0; i < 40; i++) {
        big_tx[i] = (uint8_t)(0xA0 + i);
        big_rx[i] = 0;
    }
    int wrc = i2c_transfer(ISU, LOOP, big_tx, 40, 0, 0);
    rrc = i2c_transfer(ISU, LOOP, 0, 0, big_rx, 40);
    unsigned same = 0;
    for (unsigned i = 0; i < 40; i++) {
        same += big_rx[i] == big_tx[i];
    }
    print("i2c_bus: loopback dma write=%d read=%d same=%u/40\r\n", wrc, rrc, same);

    /* GPT3 free-running in microseconds (CodethinkLabs GPT.c: INIT 0, EXPIRE far away, enable). */
    wr32(GPT3_CTRL, GPT3_OSC_CNT_1US | GPT3_CTRL_ICLR);
    wr32(GPT3_INIT, 0);
    wr32(GPT3_EXPIRE, 0xFFFFFFFFu);
    wr32(GPT3_CTRL, GPT3_OSC_CNT_1US | GPT_CTRL_EN);
    static const uint32_t speeds[3] = {100000u, 400000u, 1000000u};
    for (unsigned s = 0; s < 3; s++) {
        i2c_open(ISU, speeds[s]);
        uint8_t reg = 0x28;
        uint32_t t0 = rd32(GPT3_CNT);
        i2c_transfer(ISU, LSM, &reg, 1, big_rx, 6);
        uint32_t t1 = rd32(GPT3_CNT);
        print("i2c_bus: 1+6 bytes at %u Hz took %u us\r\n", speeds[s], t1 - t0);
    }
    print("i2c_bus: done\r\n");
    return 0;
}
