/* Applibs i2c.h: I2C master interfaces of the ISUs (Microsoft Learn, Azure Sphere "Applibs i2c.h"). Written for
 * this project from the public API reference; names, types and values as the SDK's. The interface must be listed
 * in the manifest's "I2cMaster" capability (EACCES otherwise). */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define I2C_BUS_SPEED_STANDARD 100000
#define I2C_BUS_SPEED_FAST 400000
#define I2C_BUS_SPEED_FAST_PLUS 1000000
#define I2C_BUS_SPEED_HIGH 3400000

/* An I2C master interface (MT3620_ISU<n>_I2C). */
typedef int I2C_InterfaceId;

/* A 7-bit (or 10-bit) subordinate address, without the read/write bit. */
typedef uint32_t I2C_DeviceAddress;

/* Opens an interface for exclusive use; a descriptor, or -1 with errno (EACCES, EBUSY). */
int I2CMaster_Open(I2C_InterfaceId id);

/* Sets the bus speed in Hz; 0, or -1 with errno (EINVAL for an unsupported speed). */
int I2CMaster_SetBusSpeed(int fd, uint32_t speedInHz);

/* Sets the time-out of operations in milliseconds (rounded to the supported granularity). */
int I2CMaster_SetTimeout(int fd, uint32_t timeoutInMs);

/* Reads up to maxLength bytes from `address`; the count, or -1 with errno (ENXIO: no ACK; ETIMEDOUT; EBUSY). */
ssize_t I2CMaster_Read(int fd, I2C_DeviceAddress address, uint8_t *buffer, size_t maxLength);

/* Writes `length` bytes to `address`; the count, or -1 with errno. */
ssize_t I2CMaster_Write(int fd, I2C_DeviceAddress address, const uint8_t *data, size_t length);

/* One transaction: start, write, repeated start, read, stop; bytes written + read, or -1 with errno. */
ssize_t I2CMaster_WriteThenRead(int fd, I2C_DeviceAddress address, const uint8_t *writeData, size_t lenWriteData,
                                uint8_t *readData, size_t lenReadData);

/* The target of plain read(2)/write(2) on the descriptor. */
int I2CMaster_SetDefaultTargetAddress(int fd, I2C_DeviceAddress address);

#ifdef __cplusplus
}
#endif
