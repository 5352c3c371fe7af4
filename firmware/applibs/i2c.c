/* libapplibs: I2C master over Linux's i2c-dev (/dev/i2c-<ISU index>, emulator-defined names): I2C_RDWR for
 * transfers (one STOP at the end, repeated starts between messages), I2C_TIMEOUT (10 ms units), I2C_SLAVE for the
 * default target, and the Azure Sphere kernel's I2C_SPEED (include/uapi/linux/i2c-dev.h of its GPL source).
 * I2C_InterfaceId is the SDK's numbering: MT3620_ISU0_I2C = 4 ... ISU4 = 8. */
#include <applibs/i2c.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define I2C_TIMEOUT 0x0702
#define I2C_SLAVE 0x0703
#define I2C_RDWR 0x0707
#define I2C_SPEED 0x0730
#define I2C_M_RD 0x0001
#define ID_ISU0 4
#define ISU_COUNT 5

struct i2c_msg {
    uint16_t addr;
    uint16_t flags;
    uint16_t len;
    uint8_t *buf;
};

struct i2c_rdwr_ioctl_data {
    struct i2c_msg *msgs;
    uint32_t nmsgs;
};

int I2CMaster_Open(I2C_InterfaceId id)
{
    if (id < ID_ISU0 || id >= ID_ISU0 + ISU_COUNT) {
        errno = EACCES;                 /* no such interface: nothing a manifest could grant */
        return -1;
    }
    char path[32];
    snprintf(path, sizeof path, "/dev/i2c-%d", id - ID_ISU0);
    return open(path, O_RDWR | O_CLOEXEC);
}

int I2CMaster_SetBusSpeed(int fd, uint32_t speedInHz)
{
    return ioctl(fd, I2C_SPEED, (unsigned long)speedInHz) < 0 ? -1 : 0;
}

int I2CMaster_SetTimeout(int fd, uint32_t timeoutInMs)
{
    unsigned long ticks = (timeoutInMs + 9) / 10;       /* i2c-dev counts in 10 ms units */
    return ioctl(fd, I2C_TIMEOUT, ticks ? ticks : 1) < 0 ? -1 : 0;
}

static ssize_t transfer(int fd, struct i2c_msg *msgs, uint32_t count, ssize_t total)
{
    for (uint32_t i = 0; i < count; i++) {
        if (msgs[i].len > 0 && msgs[i].buf == NULL) {
            errno = EFAULT;
            return -1;
        }
    }
    struct i2c_rdwr_ioctl_data data = {msgs, count};
    if (ioctl(fd, I2C_RDWR, &data) < 0) {
        return -1;
    }
    return total;
}

static int check(I2C_DeviceAddress address, size_t length)
{
    if (address > 0x3ff || length > 0xffff) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

ssize_t I2CMaster_Read(int fd, I2C_DeviceAddress address, uint8_t *buffer, size_t maxLength)
{
    if (check(address, maxLength) < 0) {
        return -1;
    }
    struct i2c_msg msg = {(uint16_t)address, I2C_M_RD, (uint16_t)maxLength, buffer};
    return transfer(fd, &msg, 1, (ssize_t)maxLength);
}

ssize_t I2CMaster_Write(int fd, I2C_DeviceAddress address, const uint8_t *data, size_t length)
{
    if (check(address, length) < 0) {
        return -1;
    }
    struct i2c_msg msg = {(uint16_t)address, 0, (uint16_t)length, (uint8_t *)data};
    return transfer(fd, &msg, 1, (ssize_t)length);
}

ssize_t I2CMaster_WriteThenRead(int fd, I2C_DeviceAddress address, const uint8_t *writeData, size_t lenWriteData,
                                uint8_t *readData, size_t lenReadData)
{
    if (check(address, lenWriteData) < 0 || check(address, lenReadData) < 0) {
        return -1;
    }
    struct i2c_msg msgs[2] = {
        {(uint16_t)address, 0, (uint16_t)lenWriteData, (uint8_t *)writeData},
        {(uint16_t)address, I2C_M_RD, (uint16_t)lenReadData, readData},
    };
    return transfer(fd, msgs, 2, (ssize_t)(lenWriteData + lenReadData));
}

int I2CMaster_SetDefaultTargetAddress(int fd, I2C_DeviceAddress address)
{
    if (check(address, 0) < 0) {
        return -1;
    }
    return ioctl(fd, I2C_SLAVE, (unsigned long)address) < 0 ? -1 : 0;
}
