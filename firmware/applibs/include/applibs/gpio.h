/* Applibs gpio.h: general-purpose I/O pins (Microsoft Learn, Azure Sphere "Applibs gpio.h"). Written for this
 * project from the public API reference; names, types and values as the SDK's.
 *
 * A pin must be listed in the "Gpio" capability of the app manifest, otherwise opening it fails with EACCES. The
 * descriptors returned are Linux GPIO line handles (the GPIO character device); close() releases the pin. */
#pragma once

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A GPIO number (the hardware definition's MT3620_GPIO<n>, or a board name such as MT3620_RDB_LED1_RED). */
typedef int GPIO_Id;

/* How an output drives the pin. */
typedef uint8_t GPIO_OutputMode_Type;
enum {
    GPIO_OutputMode_PushPull = 0,     /* drives high and low */
    GPIO_OutputMode_OpenDrain = 1,    /* drives low, floats for high */
    GPIO_OutputMode_OpenSource = 2,   /* drives high, floats for low */
};

/* A pin level. */
typedef uint8_t GPIO_Value_Type;
enum {
    GPIO_Value_Low = 0,
    GPIO_Value_High = 1,
};
typedef GPIO_Value_Type GPIO_Value;

/* Opens a pin as an input; a descriptor, or -1 with errno (EACCES: not in the manifest; EBUSY: already open). */
int GPIO_OpenAsInput(GPIO_Id gpioId);

/* Opens a pin as an output driving `initialValue`; a descriptor, or -1 with errno. */
int GPIO_OpenAsOutput(GPIO_Id gpioId, GPIO_OutputMode_Type outputMode, GPIO_Value_Type initialValue);

/* Reads the pin's level into *outValue; 0, or -1 with errno. */
int GPIO_GetValue(int gpioFd, GPIO_Value_Type *outValue);

/* Drives an output pin; 0, or -1 with errno (EPERM for an input). */
int GPIO_SetValue(int gpioFd, GPIO_Value_Type value);

#ifdef __cplusplus
}
#endif
