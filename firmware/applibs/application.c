/* libapplibs: application.h. Application_Connect: an AF_AZSPIO datagram socket connected to the RTApp's
 * component ID (net/azspio and include/uapi/linux/azspio.h of the Azure Sphere kernel's GPL source).
 * Application_IsDeviceAuthReady: an emulator-defined ioctl on /dev/azure-sphere/application. */
#include <applibs/application.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "emulator_os.h"

#define AF_AZSPIO 43

struct sockaddr_azspio {
    sa_family_t sa_family;
    uint16_t sa_port;
    uint8_t sa_component_id[16];
};

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" -> the GUID's bytes in its little-endian layout (as Windows and the
 * Azure Sphere kernel store a GUID: the first three fields byte-swapped). */
static int parse_guid(const char *text, uint8_t out[16])
{
    static const int dashes[] = {8, 13, 18, 23};
    uint8_t bytes[16];
    if (strlen(text) != 36) {
        return -1;
    }
    int b = 0;
    for (int i = 0; i < 36;) {
        if (i == dashes[0] || i == dashes[1] || i == dashes[2] || i == dashes[3]) {
            if (text[i] != '-') {
                return -1;
            }
            i++;
            continue;
        }
        int hi = hex_value(text[i]), lo = hex_value(text[i + 1]);
        if (hi < 0 || lo < 0) {
            return -1;
        }
        bytes[b++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    static const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    for (int i = 0; i < 16; i++) {
        out[i] = bytes[order[i]];
    }
    return 0;
}

int Application_Connect(const char *componentId)
{
    if (componentId == NULL) {
        errno = EFAULT;
        return -1;
    }
    struct sockaddr_azspio address = {.sa_family = AF_AZSPIO, .sa_port = 0};
    if (parse_guid(componentId, address.sa_component_id) < 0) {
        errno = EINVAL;
        return -1;
    }
    int fd = socket(AF_AZSPIO, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    if (connect(fd, (const struct sockaddr *)&address, sizeof address) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

bool Application_IsDeviceAuthReady(void)
{
    int fd = open(AZSP_DEV_APPLICATION, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    uint32_t ready = 0;
    int rc = ioctl(fd, AZSP_APP_DEVICE_AUTH_READY, &ready);
    close(fd);
    return rc == 0 && ready != 0;
}
