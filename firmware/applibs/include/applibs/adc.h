/* Applibs adc.h: the ADC controller (Microsoft Learn, Azure Sphere "Applibs adc.h"). Written for this project from
 * the public API reference; names, types and values as the SDK's. As in the SDK the functions are inline: they use
 * the Azure Sphere kernel's IIO character device (/dev/adc<controller>; the ioctls of include/uapi/linux/iio/ioctl.h
 * in its GPL source, the calls Microsoft's ADC "advanced functions" snippet makes), so binaries built against
 * either header make the same calls. The controller must be listed in the manifest's "Adc" capability (EACCES
 * otherwise). */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An ADC controller (MT3620_ADC_CONTROLLER0) and a channel of it (MT3620_ADC_CHANNEL0 ... 7). */
typedef uint32_t ADC_ControllerId;
typedef uint32_t ADC_ChannelId;

/* The kernel interface (uapi linux/iio/ioctl.h of the Azure Sphere kernel), the parts the ADC functions use. */
struct z__iio_chan_spec_buffer_size {
    unsigned int size;
    int index;
    unsigned int total_size;
};
struct z__iio_chan_spec_ext_info {
    unsigned int size;
    struct z__iio_chan_spec_ext_info *next;
    const char *name;
    int shared;
};
struct z__iio_chan_spec {
    unsigned int size;
    int type;
    int channel;
    int channel2;
    unsigned long address;
    int scan_index;
    struct {
        char sign;
        uint8_t realbits;
        uint8_t storagebits;
        uint8_t shift;
        uint8_t repeat;
        int endianness;
    } scan_type;
    long info_mask_separate;
    long info_mask_shared_by_type;
    long info_mask_shared_by_dir;
    long info_mask_shared_by_all;
    const void *event_spec;
    unsigned int num_event_specs;
    const struct z__iio_chan_spec_ext_info *ext_info;
    const char *extend_name;
    const char *datasheet_name;
    unsigned int modified : 1;
    unsigned int indexed : 1;
    unsigned int output : 1;
    unsigned int differential : 1;
};
struct z__iio_chan_spec_buffer {
    unsigned long size;
    unsigned long total_size;
    int index;
    struct z__iio_chan_spec *channel;
};
struct z__iio_raw_channel_info {
    unsigned int size;
    int index;
    int val;
    int val2;
    long mask;
};
struct z__iio_chan_ext_info {
    unsigned int size;
    unsigned int channel_index;
    unsigned int info_index;
    char *buffer;
    size_t length;
};
#define z__IIO_GET_CHANNEL_SPEC_BUFFER_TOTAL_SIZE_IOCTL _IOWR('i', 0xD2, struct z__iio_chan_spec_buffer_size)
#define z__IIO_GET_CHANNEL_SPEC_BUFFER_IOCTL _IOWR('i', 0xD3, struct z__iio_chan_spec_buffer)
#define z__IIO_READ_RAW_CHANNEL_INFO_IOCTL _IOWR('i', 0xD4, struct z__iio_raw_channel_info)
#define z__IIO_READ_CHANNEL_EXT_INFO_IOCTL _IOWR('i', 0xD6, struct z__iio_chan_ext_info)
#define z__IIO_WRITE_CHANNEL_EXT_INFO_IOCTL _IOWR('i', 0xD7, struct z__iio_chan_ext_info)
#define z__IIO_CHAN_INFO_RAW 0

/* The index of the channel's ext_info attribute `name`, or -1 with errno. */
static inline int z__ADC_ExtInfoIndex(int fd, ADC_ChannelId channel, const char *name)
{
    struct z__iio_chan_spec_buffer_size query = {sizeof query, (int)channel, 0};
    if (ioctl(fd, z__IIO_GET_CHANNEL_SPEC_BUFFER_TOTAL_SIZE_IOCTL, &query) < 0) {
        return -1;
    }
    size_t total = query.total_size < sizeof(struct z__iio_chan_spec_buffer) ? sizeof(struct z__iio_chan_spec_buffer)
                                                                             : query.total_size;
    struct z__iio_chan_spec_buffer *spec = calloc(1, total);
    if (spec == NULL) {
        errno = ENOMEM;
        return -1;
    }
    spec->size = sizeof *spec;
    spec->total_size = total;
    spec->index = (int)channel;
    int found = -1;
    if (ioctl(fd, z__IIO_GET_CHANNEL_SPEC_BUFFER_IOCTL, spec) == 0 && spec->channel != NULL) {
        int i = 0;
        for (const struct z__iio_chan_spec_ext_info *e = spec->channel->ext_info; e != NULL; e = e->next, i++) {
            if (e->name != NULL && strcmp(e->name, name) == 0) {
                found = i;
                break;
            }
        }
        if (found < 0) {
            errno = ENOTSUP;
        }
    }
    free(spec);
    return found;
}

/* Opens an ADC controller; a descriptor, or -1 with errno (EACCES: not in the manifest). */
static inline int ADC_Open(ADC_ControllerId id)
{
    char path[32];
    snprintf(path, sizeof path, "/dev/adc%u", (unsigned)id);
    return open(path, O_RDWR | O_CLOEXEC);
}

/* The number of valid bits ADC_Poll returns for `channel` (12 on the MT3620), or -1 with errno. */
static inline int ADC_GetSampleBitCount(int fd, ADC_ChannelId channel)
{
    int index = z__ADC_ExtInfoIndex(fd, channel, "current_bits");
    if (index < 0) {
        return -1;
    }
    char text[12] = {0};
    struct z__iio_chan_ext_info info = {sizeof info, channel, (unsigned)index, text, sizeof text};
    if (ioctl(fd, z__IIO_READ_CHANNEL_EXT_INFO_IOCTL, &info) < 0) {
        return -1;
    }
    text[sizeof text - 1] = '\0';
    return atoi(text);
}

/* Sets the reference voltage of `channel` (the voltage of the full-scale code); 0, or -1 with errno (EINVAL:
 * outside what the hardware supports). */
static inline int ADC_SetReferenceVoltage(int fd, ADC_ChannelId channel, float referenceVoltage)
{
    int index = z__ADC_ExtInfoIndex(fd, channel, "reference_voltage");
    if (index < 0) {
        return -1;
    }
    char text[12];
    int length = snprintf(text, sizeof text, "%.3f", (double)referenceVoltage);
    if (length < 0 || (size_t)length >= sizeof text) {
        errno = EINVAL;
        return -1;
    }
    struct z__iio_chan_ext_info info = {sizeof info, channel, (unsigned)index, text, (size_t)length + 1};
    return ioctl(fd, z__IIO_WRITE_CHANNEL_EXT_INFO_IOCTL, &info) < 0 ? -1 : 0;
}

/* Samples `channel` into *outSampleValue; 0, or -1 with errno. */
static inline int ADC_Poll(int fd, ADC_ChannelId channel, uint32_t *outSampleValue)
{
    if (outSampleValue == NULL) {
        errno = EFAULT;
        return -1;
    }
    struct z__iio_raw_channel_info raw = {sizeof raw, (int)channel, 0, 0, z__IIO_CHAN_INFO_RAW};
    if (ioctl(fd, z__IIO_READ_RAW_CHANNEL_INFO_IOCTL, &raw) < 0) {
        return -1;
    }
    *outSampleValue = (uint32_t)raw.val;
    return 0;
}

#ifdef __cplusplus
}
#endif
