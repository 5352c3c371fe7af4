/* libapplibs: GPIO over the Linux GPIO character device (/dev/gpiochip0; GPIO_GET_LINEHANDLE_IOCTL and the
 * line-handle value ioctls of include/uapi/linux/gpio.h, as in the Azure Sphere kernel's GPL source). The line
 * offset is the GPIO number (emulator-defined, docs/a7.md). */
#include <applibs/gpio.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define GPIOHANDLES_MAX 64
#define REQUEST_INPUT (1u << 0)
#define REQUEST_OUTPUT (1u << 1)
#define REQUEST_OPEN_DRAIN (1u << 3)
#define REQUEST_OPEN_SOURCE (1u << 4)

struct handle_request {
    uint32_t lineoffsets[GPIOHANDLES_MAX];
    uint32_t flags;
    uint8_t default_values[GPIOHANDLES_MAX];
    char consumer_label[32];
    uint32_t lines;
    int fd;
};

struct handle_data {
    uint8_t values[GPIOHANDLES_MAX];
};

#define GET_LINEHANDLE _IOWR(0xB4, 0x03, struct handle_request)
#define GET_LINE_VALUES _IOWR(0xB4, 0x08, struct handle_data)
#define SET_LINE_VALUES _IOWR(0xB4, 0x09, struct handle_data)

static int chip_fd = -1;
static int chip_errno;
static pthread_once_t chip_once = PTHREAD_ONCE_INIT;

static void open_chip(void)
{
    chip_fd = open("/dev/gpiochip0", O_RDWR | O_CLOEXEC);
    chip_errno = errno;
}

static int request_line(GPIO_Id gpioId, uint32_t flags, uint8_t value)
{
    if (gpioId < 0) {
        errno = EINVAL;
        return -1;
    }
    pthread_once(&chip_once, open_chip);
    if (chip_fd < 0) {
        errno = chip_errno;
        return -1;
    }
    struct handle_request request;
    memset(&request, 0, sizeof request);
    request.lineoffsets[0] = (uint32_t)gpioId;
    request.flags = flags;
    request.default_values[0] = value;
    strncpy(request.consumer_label, "applibs", sizeof request.consumer_label - 1);
    request.lines = 1;
    if (ioctl(chip_fd, GET_LINEHANDLE, &request) < 0) {
        return -1;
    }
    return request.fd;
}

int GPIO_OpenAsInput(GPIO_Id gpioId)
{
    return request_line(gpioId, REQUEST_INPUT, 0);
}

int GPIO_OpenAsOutput(GPIO_Id gpioId, GPIO_OutputMode_Type outputMode, GPIO_Value_Type initialValue)
{
    uint32_t flags = REQUEST_OUTPUT;
    switch (outputMode) {
    case GPIO_OutputMode_PushPull:
        break;
    case GPIO_OutputMode_OpenDrain:
        flags |= REQUEST_OPEN_DRAIN;
        break;
    case GPIO_OutputMode_OpenSource:
        flags |= REQUEST_OPEN_SOURCE;
        break;
    default:
        errno = EINVAL;
        return -1;
    }
    if (initialValue > GPIO_Value_High) {
        errno = EINVAL;
        return -1;
    }
    return request_line(gpioId, flags, initialValue);
}

int GPIO_GetValue(int gpioFd, GPIO_Value_Type *outValue)
{
    if (outValue == NULL) {
        errno = EFAULT;
        return -1;
    }
    struct handle_data data;
    memset(&data, 0, sizeof data);
    if (ioctl(gpioFd, GET_LINE_VALUES, &data) < 0) {
        return -1;
    }
    *outValue = data.values[0] ? GPIO_Value_High : GPIO_Value_Low;
    return 0;
}

int GPIO_SetValue(int gpioFd, GPIO_Value_Type value)
{
    if (value > GPIO_Value_High) {
        errno = EINVAL;
        return -1;
    }
    struct handle_data data;
    memset(&data, 0, sizeof data);
    data.values[0] = value;
    return ioctl(gpioFd, SET_LINE_VALUES, &data) < 0 ? -1 : 0;
}
