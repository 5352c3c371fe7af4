/* libapplibs: UART_InitConfig / UART_Open (the versioned z__ entry points) over the ISU UARTs' serial ttys
 * (/dev/ttyISU<n>, emulator-defined names; termios configuration, as a Linux serial port). UART_Id is the SDK's
 * numbering: MT3620_ISU0_UART = 4 ... ISU4 = 8. */
#define UART_STRUCTS_VERSION 1
#include <applibs/uart.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define UART_ID_ISU0 4
#define UART_ISU_COUNT 5
#define MAGIC_MASK 0xffff0000u

int z__UART_InitConfig(struct z__UART_Config_Base *uartConfig, uint32_t uartConfigStructVersion)
{
    if (uartConfig == NULL) {
        errno = EFAULT;
        return -1;
    }
    if (uartConfigStructVersion != 1) {
        errno = EINVAL;
        return -1;
    }
    struct z__UART_Config_v1 *config = (struct z__UART_Config_v1 *)uartConfig;
    memset(config, 0, sizeof *config);
    config->z__magicAndVersion = z__UART_CONFIG_MAGIC | 1u;
    config->baudRate = 9600;
    config->blockingMode = UART_BlockingMode_NonBlocking;
    config->dataBits = UART_DataBits_Eight;
    config->parity = UART_Parity_None;
    config->stopBits = UART_StopBits_One;
    config->flowControl = UART_FlowControl_None;
    return 0;
}

static speed_t speed_code(uint32_t baud)
{
    static const struct {
        uint32_t baud;
        speed_t code;
    } table[] = {
        {1200, B1200},       {1800, B1800},       {2400, B2400},       {4800, B4800},       {9600, B9600},
        {19200, B19200},     {38400, B38400},     {57600, B57600},     {115200, B115200},   {230400, B230400},
        {460800, B460800},   {500000, B500000},   {576000, B576000},   {921600, B921600},   {1000000, B1000000},
        {1152000, B1152000}, {1500000, B1500000}, {2000000, B2000000}, {2500000, B2500000}, {3000000, B3000000},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (table[i].baud == baud) {
            return table[i].code;
        }
    }
    return (speed_t)-1;
}

int z__UART_Open(UART_Id uartId, const struct z__UART_Config_Base *uartConfig)
{
    if (uartConfig == NULL) {
        errno = EFAULT;
        return -1;
    }
    if ((uartConfig->z__magicAndVersion & MAGIC_MASK) != z__UART_CONFIG_MAGIC ||
        (uartConfig->z__magicAndVersion & ~MAGIC_MASK) != 1) {
        errno = EINVAL;                  /* not initialised by UART_InitConfig, or an unknown version */
        return -1;
    }
    const struct z__UART_Config_v1 *config = (const struct z__UART_Config_v1 *)uartConfig;
    speed_t speed = speed_code(config->baudRate);
    if (speed == (speed_t)-1 || config->blockingMode != UART_BlockingMode_NonBlocking ||
        config->dataBits < UART_DataBits_Five || config->dataBits > UART_DataBits_Eight ||
        config->parity > UART_Parity_Odd || config->stopBits < UART_StopBits_One ||
        config->stopBits > UART_StopBits_Two || config->flowControl > UART_FlowControl_XONXOFF) {
        errno = EINVAL;
        return -1;
    }
    if (uartId < UART_ID_ISU0 || uartId >= UART_ID_ISU0 + UART_ISU_COUNT) {
        errno = EACCES;                 /* no such UART: nothing a manifest could grant */
        return -1;
    }
    char path[32];
    snprintf(path, sizeof path, "/dev/ttyISU%d", uartId - UART_ID_ISU0);
    int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    struct termios tio;
    if (tcgetattr(fd, &tio) < 0) {
        goto fail;
    }
    cfmakeraw(&tio);
    cfsetispeed(&tio, speed);
    cfsetospeed(&tio, speed);
    tio.c_cflag &= ~(tcflag_t)(CSIZE | CSTOPB | PARENB | PARODD | CRTSCTS);
    tio.c_cflag |= CREAD | CLOCAL;
    static const tcflag_t sizes[] = {CS5, CS6, CS7, CS8};
    tio.c_cflag |= sizes[config->dataBits - UART_DataBits_Five];
    if (config->stopBits == UART_StopBits_Two) {
        tio.c_cflag |= CSTOPB;
    }
    if (config->parity != UART_Parity_None) {
        tio.c_cflag |= PARENB | (config->parity == UART_Parity_Odd ? PARODD : 0);
    }
    tio.c_iflag &= ~(tcflag_t)(IXON | IXOFF);
    if (config->flowControl == UART_FlowControl_RTSCTS) {
        tio.c_cflag |= CRTSCTS;
    } else if (config->flowControl == UART_FlowControl_XONXOFF) {
        tio.c_iflag |= IXON | IXOFF;
    }
    if (tcsetattr(fd, TCSANOW, &tio) < 0) {
        goto fail;
    }
    return fd;
fail:;
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}
