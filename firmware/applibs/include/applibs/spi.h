/* Applibs spi.h: SPI master interfaces of the ISUs (Microsoft Learn, Azure Sphere "Applibs spi.h"). Written for this
 * project from the public API reference; names, types, values, struct layouts and the versioned entry points
 * (z__SPIMaster_InitConfig/Open/InitTransfers/TransferSequential with the magics 0x45170000 (config) and
 * 0x22130000 (transfer) | version) as the SDK's. The interface must be listed in the manifest's "SpiMaster"
 * capability (EACCES otherwise). The descriptor also takes read(2)/write(2). */
#pragma once

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef SPI_STRUCTS_VERSION
#define SPI_STRUCTS_VERSION 1
#endif

#define SPI_MASTER_MAX_TRANSFERS 256

typedef int SPI_InterfaceId;       /* MT3620_ISU<n>_SPI */
typedef int SPI_ChipSelectId;      /* MT3620_SPI_CS_A (0), MT3620_SPI_CS_B (1) */

typedef enum SPI_Mode {
    SPI_Mode_Invalid = 0x0,
    SPI_Mode_0 = 0x1,   /* CPOL 0, CPHA 0 */
    SPI_Mode_1 = 0x2,   /* CPOL 0, CPHA 1 */
    SPI_Mode_2 = 0x3,   /* CPOL 1, CPHA 0 */
    SPI_Mode_3 = 0x4,   /* CPOL 1, CPHA 1 */
} SPI_Mode;

typedef enum SPI_BitOrder {
    SPI_BitOrder_Invalid = 0x0,
    SPI_BitOrder_LsbFirst = 0x1,
    SPI_BitOrder_MsbFirst = 0x2,
} SPI_BitOrder;

typedef enum SPI_ChipSelectPolarity {
    SPI_ChipSelectPolarity_Invalid = 0x0,
    SPI_ChipSelectPolarity_ActiveLow = 0x1,
    SPI_ChipSelectPolarity_ActiveHigh = 0x2,
} SPI_ChipSelectPolarity;

typedef enum SPI_TransferFlags {
    SPI_TransferFlags_None = 0x0,
    SPI_TransferFlags_Read = 0x1,
    SPI_TransferFlags_Write = 0x2,
} SPI_TransferFlags;

/* Version 1 of the settings fixed at open. */
struct z__SPIMaster_Config_v1 {
    uint32_t z__magicAndVersion;              /* set by SPIMaster_InitConfig; do not edit */
    SPI_ChipSelectPolarity csPolarity;
};

/* Version 1 of one half-duplex transfer. */
struct z__SPIMaster_Transfer_v1 {
    uint32_t z__magicAndVersion;              /* set by SPIMaster_InitTransfers; do not edit */
    SPI_TransferFlags flags;                  /* Read or Write */
    const uint8_t *writeData;
    uint8_t *readData;
    size_t length;
};

#if SPI_STRUCTS_VERSION == 1
typedef struct z__SPIMaster_Config_v1 SPIMaster_Config;
typedef struct z__SPIMaster_Transfer_v1 SPIMaster_Transfer;
#else
#error SPI_STRUCTS_VERSION must be 1
#endif

typedef struct z__SPIMaster_Config_Base {
    uint32_t z__magicAndVersion;
} z__SPIMaster_Config_Base;

typedef struct z__SPIMaster_Transfer_Base {
    uint32_t z__magicAndVersion;
} z__SPIMaster_Transfer_Base;

#define z__SPIMASTER_CONFIG_MAGIC 0x45170000U
#define z__SPIMASTER_TRANSFER_MAGIC 0x22130000U

int z__SPIMaster_InitConfig(z__SPIMaster_Config_Base *config, uint32_t structVersion);
int z__SPIMaster_Open(SPI_InterfaceId interfaceId, SPI_ChipSelectId chipSelectId,
                      const z__SPIMaster_Config_Base *config);
int z__SPIMaster_InitTransfers(z__SPIMaster_Transfer_Base *transfers, size_t transferCount,
                               uint32_t structVersion);
ssize_t z__SPIMaster_TransferSequential(int fd, const z__SPIMaster_Transfer_Base *transfers, size_t transferCount,
                                        uint32_t structVersion);

/* Sets the maximum bus speed in Hz (the interface may run slower). */
int SPIMaster_SetBusSpeed(int fd, uint32_t speedInHz);
/* Sets the clock polarity and phase. */
int SPIMaster_SetMode(int fd, SPI_Mode mode);
/* Sets the bit order of transfers. */
int SPIMaster_SetBitOrder(int fd, SPI_BitOrder order);

/* Fills *config with the defaults (chip select active low). */
static inline int SPIMaster_InitConfig(SPIMaster_Config *config)
{
    return z__SPIMaster_InitConfig((z__SPIMaster_Config_Base *)config, SPI_STRUCTS_VERSION);
}

/* Opens an interface with chip select `chipSelectId`, mode 0, MSB first; a descriptor, or -1 with errno. */
static inline int SPIMaster_Open(SPI_InterfaceId interfaceId, SPI_ChipSelectId chipSelectId,
                                 const SPIMaster_Config *config)
{
    return z__SPIMaster_Open(interfaceId, chipSelectId, (const z__SPIMaster_Config_Base *)config);
}

/* Initialises `transferCount` transfers (flags None, no buffers, length 0). */
static inline int SPIMaster_InitTransfers(SPIMaster_Transfer *transfers, size_t transferCount)
{
    return z__SPIMaster_InitTransfers((z__SPIMaster_Transfer_Base *)transfers, transferCount, SPI_STRUCTS_VERSION);
}

/* Runs half-duplex transfers with chip select held for the whole sequence; bytes moved, or -1 with errno. */
static inline ssize_t SPIMaster_TransferSequential(int fd, const SPIMaster_Transfer *transfers, size_t transferCount)
{
    return z__SPIMaster_TransferSequential(fd, (const z__SPIMaster_Transfer_Base *)transfers, transferCount,
                                           SPI_STRUCTS_VERSION);
}

/* A write then a read in one chip-select window; bytes moved, or -1 with errno. */
static inline ssize_t SPIMaster_WriteThenRead(int fd, const uint8_t *writeData, size_t lenWriteData,
                                              uint8_t *readData, size_t lenReadData)
{
    if (writeData == NULL || readData == NULL) {
        errno = EFAULT;
        return -1;
    }
    if (lenWriteData == 0 || lenReadData == 0) {
        errno = EINVAL;
        return -1;
    }
    SPIMaster_Transfer transfers[2];
    if (SPIMaster_InitTransfers(transfers, 2) < 0) {
        return -1;
    }
    transfers[0].flags = SPI_TransferFlags_Write;
    transfers[0].writeData = writeData;
    transfers[0].length = lenWriteData;
    transfers[1].flags = SPI_TransferFlags_Read;
    transfers[1].readData = readData;
    transfers[1].length = lenReadData;
    return SPIMaster_TransferSequential(fd, transfers, 2);
}

#ifdef __cplusplus
}
#endif
