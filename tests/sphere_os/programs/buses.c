/* I2C, SPI and ADC through Applibs: an LSM6DS3 on ISU2's I2C (address 0x6A) and on ISU1's SPI (chip select A),
 * the potentiometer input on ADC channel 0. */
#define SPI_STRUCTS_VERSION 1
#include <applibs/adc.h>
#include <applibs/i2c.h>
#include <applibs/log.h>
#include <applibs/spi.h>

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

static void i2c(void)
{
    Log_Debug("i2c isu1: %s\n", I2CMaster_Open(5) < 0 ? strerror(errno) : "opened");
    int fd = I2CMaster_Open(6);
    if (fd < 0) {
        Log_Debug("i2c isu2: %s\n", strerror(errno));
        return;
    }
    Log_Debug("i2c again: %s\n", I2CMaster_Open(6) < 0 ? strerror(errno) : "opened");
    Log_Debug("speed 400k: %d, 3.4M: %s\n", I2CMaster_SetBusSpeed(fd, I2C_BUS_SPEED_FAST),
              I2CMaster_SetBusSpeed(fd, I2C_BUS_SPEED_HIGH) < 0 ? strerror(errno) : "ok");
    I2CMaster_SetTimeout(fd, 100);
    uint8_t reg = 0x0F, who = 0;
    long before = now_us();
    ssize_t n = I2CMaster_WriteThenRead(fd, 0x6A, &reg, 1, &who, 1);
    long took = now_us() - before;
    Log_Debug("WHO_AM_I: %d bytes, 0x%02x, %s\n", (int)n, who, took >= 50 && took < 200 ? "at bus speed" : "timing?");
    uint8_t ctrl[2] = {0x10, 0x40};              /* CTRL1_XL: 104 Hz, 2 g */
    Log_Debug("write CTRL1_XL: %d\n", (int)I2CMaster_Write(fd, 0x6A, ctrl, sizeof ctrl));
    uint8_t back = 0;
    I2CMaster_WriteThenRead(fd, 0x6A, ctrl, 1, &back, 1);
    Log_Debug("CTRL1_XL reads 0x%02x\n", back);
    n = I2CMaster_Write(fd, 0x33, ctrl, 1);
    Log_Debug("nobody at 0x33: %s\n", n < 0 ? strerror(errno) : "acked");
    I2CMaster_SetDefaultTargetAddress(fd, 0x6A);
    write(fd, &reg, 1);
    uint8_t plain = 0;
    read(fd, &plain, 1);
    Log_Debug("read(2) after write(2): 0x%02x\n", plain);
    close(fd);
}

static void spi(void)
{
    SPIMaster_Config config;
    SPIMaster_InitConfig(&config);
    config.csPolarity = SPI_ChipSelectPolarity_ActiveLow;
    int fd = SPIMaster_Open(5, 0, &config);
    if (fd < 0) {
        Log_Debug("spi isu1: %s\n", strerror(errno));
        return;
    }
    SPIMaster_SetBusSpeed(fd, 400000);
    SPIMaster_SetMode(fd, SPI_Mode_3);
    SPIMaster_SetBitOrder(fd, SPI_BitOrder_MsbFirst);
    uint8_t cmd = 0x80 | 0x0F, who = 0;
    ssize_t n = SPIMaster_WriteThenRead(fd, &cmd, 1, &who, 1);
    Log_Debug("spi WHO_AM_I: %d bytes, 0x%02x\n", (int)n, who);
    SPIMaster_Transfer bad[1];
    SPIMaster_InitTransfers(bad, 1);
    bad[0].flags = SPI_TransferFlags_Read | SPI_TransferFlags_Write;
    bad[0].length = 1;
    bad[0].readData = &who;
    bad[0].writeData = &cmd;
    Log_Debug("full duplex: %s\n", SPIMaster_TransferSequential(fd, bad, 1) < 0 ? strerror(errno) : "ok");
    close(fd);
}

static void adc(void)
{
    int fd = ADC_Open(0);
    if (fd < 0) {
        Log_Debug("adc: %s\n", strerror(errno));
        return;
    }
    Log_Debug("adc bits: %d\n", ADC_GetSampleBitCount(fd, 0));
    uint32_t value = 0;
    ADC_Poll(fd, 0, &value);
    Log_Debug("adc channel 0 at 2.5 V reference: %u\n", value);
    Log_Debug("reference 1.8 V: %d\n", ADC_SetReferenceVoltage(fd, 0, 1.8f));
    ADC_Poll(fd, 0, &value);
    Log_Debug("adc channel 0 at 1.8 V reference: %u\n", value);
    Log_Debug("reference 3.3 V: %s\n", ADC_SetReferenceVoltage(fd, 0, 3.3f) < 0 ? strerror(errno) : "ok");
    Log_Debug("channel 9: %s\n", ADC_Poll(fd, 9, &value) < 0 ? strerror(errno) : "ok");
    close(fd);
}

int main(void)
{
    i2c();
    spi();
    adc();
    return 0;
}
