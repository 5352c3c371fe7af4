/* Applibs pwm.h: pulse-width modulation (Microsoft Learn, Azure Sphere "Applibs pwm.h"). Written for this
 * project from the public API reference; names, types and values as the SDK's. As in the SDK, PWM_Open and
 * PWM_Apply are inline: they talk to the Azure Sphere kernel's PWM character device (/dev/pwm<controller>,
 * PWM_EXPORT / PWM_APPLY_STATE ioctls of include/uapi/linux/pwm.h in the kernel's GPL source), so binaries built
 * against either header make the same calls. The controller must be listed in the manifest's "Pwm" capability
 * (EACCES otherwise). */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/ioctl.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A PWM controller (MT3620_PWM_CONTROLLER<n>) and a channel of it (MT3620_PWM_CHANNEL<n>). */
typedef uint32_t PWM_ControllerId;
typedef uint32_t PWM_ChannelId;

typedef uint32_t PWM_Polarity;
enum {
    PWM_Polarity_Normal = 0,     /* active (high) during the duty cycle */
    PWM_Polarity_Inversed = 1,   /* active low */
};

/* A channel's wanted state. */
typedef struct PwmState {
    unsigned int period_nsec;
    unsigned int dutyCycle_nsec;   /* at most period_nsec */
    PWM_Polarity polarity;
    bool enabled;
} PwmState;

/* The kernel interface (uapi linux/pwm.h of the Azure Sphere kernel). */
struct z__pwm_state {
    unsigned int period;
    unsigned int duty_cycle;
    unsigned int polarity;
    bool enabled;
    void *extended_state;
    size_t extended_state_size;
};
struct z__pwm_chardev_params {
    unsigned int pwm_index;
    struct z__pwm_state state;
};
#define z__PWM_APPLY_STATE _IOW(0xf7, 0x01, struct z__pwm_chardev_params)
#define z__PWM_EXPORT _IOW(0xf7, 0x03, unsigned int)

/* Opens a PWM controller; a descriptor, or -1 with errno (EACCES: not in the manifest). */
static inline int PWM_Open(PWM_ControllerId pwm)
{
    char path[32];
    snprintf(path, sizeof path, "/dev/pwm%u", (unsigned)pwm);
    return open(path, O_RDWR | O_CLOEXEC);
}

/* Applies `newState` to channel `pwmChannel` of the controller `pwmFd`; 0, or -1 with errno. */
static inline int PWM_Apply(int pwmFd, PWM_ChannelId pwmChannel, const PwmState *newState)
{
    if (newState == NULL) {
        errno = EFAULT;
        return -1;
    }
    unsigned int index = pwmChannel;
    if (ioctl(pwmFd, z__PWM_EXPORT, &index) < 0 && errno != EBUSY) {
        return -1;
    }
    struct z__pwm_chardev_params params = {
        .pwm_index = pwmChannel,
        .state = {.period = newState->period_nsec,
                  .duty_cycle = newState->dutyCycle_nsec,
                  .polarity = newState->polarity,
                  .enabled = newState->enabled,
                  .extended_state = NULL,
                  .extended_state_size = 0},
    };
    return ioctl(pwmFd, z__PWM_APPLY_STATE, &params);
}

#ifdef __cplusplus
}
#endif
