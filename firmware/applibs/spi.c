/* libapplibs: SPI master over Linux's spidev (/dev/spidev<ISU index>.<chip select>, emulator-defined names):
 * SPI_IOC_MESSAGE(n) with struct spi_ioc_transfer for a chip-select window of half-duplex transfers,
 * SPI_IOC_WR_MODE (CPOL/CPHA, SPI_CS_HIGH for an active-high chip select), SPI_IOC_WR_LSB_FIRST,
 * SPI_IOC_WR_MAX_SPEED_HZ (include/uapi/linux/spi/spidev.h). SPI_InterfaceId is the SDK's numbering:
 * MT3620_ISU0_SPI = 4 ... ISU4 = 8. */
#include <applibs/spi.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define SPI_IOC_MAGIC 'k'
#define SPI_CPHA 0x01
#define SPI_CPOL 0x02
#define SPI_CS_HIGH 0x04
#define SPI_IOC_WR_MODE _IOW(SPI_IOC_MAGIC, 1, uint8_t)
#define SPI_IOC_RD_MODE _IOR(SPI_IOC_MAGIC, 1, uint8_t)
#define SPI_IOC_WR_LSB_FIRST _IOW(SPI_IOC_MAGIC, 2, uint8_t)
#define SPI_IOC_WR_MAX_SPEED_HZ _IOW(SPI_IOC_MAGIC, 4, uint32_t)
#define ID_ISU0 4
#define ISU_COUNT 5
#define MAGIC_MASK 0xffff0000u

struct spi_ioc_transfer {
    uint64_t tx_buf;
    uint64_t rx_buf;
    uint32_t len;
    uint32_t speed_hz;
    uint16_t delay_usecs;
    uint8_t bits_per_word;
    uint8_t cs_change;
    uint8_t tx_nbits;
    uint8_t rx_nbits;
    uint16_t pad;
};
#define SPI_IOC_MESSAGE(n) _IOW(SPI_IOC_MAGIC, 0, char[(n) * sizeof(struct spi_ioc_transfer)])

int z__SPIMaster_InitConfig(z__SPIMaster_Config_Base *config, uint32_t structVersion)
{
    if (config == NULL) {
        errno = EFAULT;
        return -1;
    }
    if (structVersion != 1) {
        errno = EINVAL;
        return -1;
    }
    struct z__SPIMaster_Config_v1 *v1 = (struct z__SPIMaster_Config_v1 *)config;
    v1->z__magicAndVersion = z__SPIMASTER_CONFIG_MAGIC | 1u;
    v1->csPolarity = SPI_ChipSelectPolarity_ActiveLow;
    return 0;
}

/* An array of SPIMaster_Transfer the app passes: EFAULT when NULL, EINVAL for another struct version or a count
 * outside 1..SPI_MASTER_MAX_TRANSFERS; 0 when it can be used. */
static int check_transfers(const z__SPIMaster_Transfer_Base *transfers, size_t transferCount, uint32_t structVersion)
{
    if (transfers == NULL) {
        errno = EFAULT;
        return -1;
    }
    if (structVersion != 1 || transferCount == 0 || transferCount > SPI_MASTER_MAX_TRANSFERS) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

int z__SPIMaster_InitTransfers(z__SPIMaster_Transfer_Base *transfers, size_t transferCount, uint32_t structVersion)
{
    if (check_transfers(transfers, transferCount, structVersion) < 0) {
        return -1;
    }
    struct z__SPIMaster_Transfer_v1 *v1 = (struct z__SPIMaster_Transfer_v1 *)transfers;
    for (size_t i = 0; i < transferCount; i++) {
        memset(&v1[i], 0, sizeof v1[i]);
        v1[i].z__magicAndVersion = z__SPIMASTER_TRANSFER_MAGIC | 1u;
        v1[i].flags = SPI_TransferFlags_None;
    }
    return 0;
}

int z__SPIMaster_Open(SPI_InterfaceId interfaceId, SPI_ChipSelectId chipSelectId,
                      const z__SPIMaster_Config_Base *config)
{
    if (config == NULL) {
        errno = EFAULT;
        return -1;
    }
    if (config->z__magicAndVersion != (z__SPIMASTER_CONFIG_MAGIC | 1u)) {
        errno = EINVAL;
        return -1;
    }
    const struct z__SPIMaster_Config_v1 *v1 = (const struct z__SPIMaster_Config_v1 *)config;
    if (v1->csPolarity != SPI_ChipSelectPolarity_ActiveLow && v1->csPolarity != SPI_ChipSelectPolarity_ActiveHigh) {
        errno = EINVAL;
        return -1;
    }
    if (interfaceId < ID_ISU0 || interfaceId >= ID_ISU0 + ISU_COUNT) {
        errno = EACCES;
        return -1;
    }
    if (chipSelectId < 0 || chipSelectId > 1) {
        errno = EINVAL;
        return -1;
    }
    char path[32];
    snprintf(path, sizeof path, "/dev/spidev%d.%d", interfaceId - ID_ISU0, chipSelectId);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    uint8_t mode = v1->csPolarity == SPI_ChipSelectPolarity_ActiveHigh ? SPI_CS_HIGH : 0;
    uint8_t lsb = 0;
    if (ioctl(fd, SPI_IOC_WR_MODE, &mode) < 0 || ioctl(fd, SPI_IOC_WR_LSB_FIRST, &lsb) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int SPIMaster_SetBusSpeed(int fd, uint32_t speedInHz)
{
    return ioctl(fd, SPI_IOC_WR_MAX_SPEED_HZ, &speedInHz) < 0 ? -1 : 0;
}

int SPIMaster_SetMode(int fd, SPI_Mode mode)
{
    if (mode < SPI_Mode_0 || mode > SPI_Mode_3) {
        errno = EINVAL;
        return -1;
    }
    uint8_t bits;
    if (ioctl(fd, SPI_IOC_RD_MODE, &bits) < 0) {
        return -1;
    }
    bits = (uint8_t)((bits & ~(SPI_CPOL | SPI_CPHA)) | (mode - SPI_Mode_0));
    return ioctl(fd, SPI_IOC_WR_MODE, &bits) < 0 ? -1 : 0;
}

int SPIMaster_SetBitOrder(int fd, SPI_BitOrder order)
{
    if (order != SPI_BitOrder_LsbFirst && order != SPI_BitOrder_MsbFirst) {
        errno = EINVAL;
        return -1;
    }
    uint8_t lsb = order == SPI_BitOrder_LsbFirst;
    return ioctl(fd, SPI_IOC_WR_LSB_FIRST, &lsb) < 0 ? -1 : 0;
}

ssize_t z__SPIMaster_TransferSequential(int fd, const z__SPIMaster_Transfer_Base *transfers, size_t transferCount,
                                        uint32_t structVersion)
{
    if (check_transfers(transfers, transferCount, structVersion) < 0) {
        return -1;
    }
    const struct z__SPIMaster_Transfer_v1 *v1 = (const struct z__SPIMaster_Transfer_v1 *)transfers;
    struct spi_ioc_transfer local[SPI_MASTER_MAX_TRANSFERS];
    ssize_t total = 0;
    for (size_t i = 0; i < transferCount; i++) {
        const struct z__SPIMaster_Transfer_v1 *t = &v1[i];
        if (t->z__magicAndVersion != (z__SPIMASTER_TRANSFER_MAGIC | 1u) || t->length == 0 ||
            (t->flags != SPI_TransferFlags_Read && t->flags != SPI_TransferFlags_Write)) {
            errno = EINVAL;             /* half duplex only: read or write, never both */
            return -1;
        }
        if ((t->flags == SPI_TransferFlags_Write && t->writeData == NULL) ||
            (t->flags == SPI_TransferFlags_Read && t->readData == NULL)) {
            errno = EFAULT;
            return -1;
        }
        memset(&local[i], 0, sizeof local[i]);
        local[i].tx_buf = t->flags == SPI_TransferFlags_Write ? (uint64_t)(uintptr_t)t->writeData : 0;
        local[i].rx_buf = t->flags == SPI_TransferFlags_Read ? (uint64_t)(uintptr_t)t->readData : 0;
        local[i].len = (uint32_t)t->length;
        total += (ssize_t)t->length;
    }
    if (ioctl(fd, SPI_IOC_MESSAGE(transferCount), local) < 0) {
        return -1;
    }
    return total;
}
