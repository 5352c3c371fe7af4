/* Applibs uart.h: the ISU UARTs (Microsoft Learn, Azure Sphere "Applibs uart.h"). Written for this project from
 * the public API reference; names, types, values, the struct layout and the versioned entry points
 * (z__UART_InitConfig / z__UART_Open with the config magic 0xde2a0000 | version) as the SDK's.
 *
 * UART_STRUCTS_VERSION (1, the default) selects the struct version, as the samples' applibs_versions.h does. The
 * descriptor UART_Open returns is a non-blocking serial tty: read, write, poll and epoll on it directly. The UART
 * must be listed in the "Uart" capability of the app manifest (EACCES otherwise). */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A UART (the hardware definition's MT3620_ISU<n>_UART). */
typedef int UART_Id;

typedef uint32_t UART_BaudRate_Type;
typedef uint8_t UART_BlockingMode_Type;
typedef uint8_t UART_DataBits_Type;
typedef uint8_t UART_Parity_Type;
typedef uint8_t UART_StopBits_Type;
typedef uint8_t UART_FlowControl_Type;

/* Version 1 of the configuration. */
struct z__UART_Config_v1 {
    uint32_t z__magicAndVersion;        /* set by UART_InitConfig; do not edit */
    UART_BaudRate_Type baudRate;
    UART_BlockingMode_Type blockingMode;
    UART_DataBits_Type dataBits;
    UART_Parity_Type parity;
    UART_StopBits_Type stopBits;
    UART_FlowControl_Type flowControl;
};

typedef enum {
    UART_BlockingMode_NonBlocking = 0,  /* the only mode: reads and writes never block */
} UART_BlockingMode;

typedef enum {
    UART_DataBits_Five = 5,
    UART_DataBits_Six = 6,
    UART_DataBits_Seven = 7,
    UART_DataBits_Eight = 8,
} UART_DataBits;

typedef enum {
    UART_Parity_None = 0,
    UART_Parity_Even = 1,
    UART_Parity_Odd = 2,
} UART_Parity;

typedef enum {
    UART_StopBits_One = 1,
    UART_StopBits_Two = 2,
} UART_StopBits;

typedef enum {
    UART_FlowControl_None = 0,
    UART_FlowControl_RTSCTS = 1,
    UART_FlowControl_XONXOFF = 2,
} UART_FlowControl;

#ifndef UART_STRUCTS_VERSION
#define UART_STRUCTS_VERSION 1           /* the samples define it in applibs_versions.h; 1 is the only version */
#endif
#if UART_STRUCTS_VERSION == 1
typedef struct z__UART_Config_v1 UART_Config;
#else
#error UART_STRUCTS_VERSION must be 1
#endif

/* The versioned entry points libapplibs exports; apps call the inline wrappers below. */
struct z__UART_Config_Base {
    uint32_t z__magicAndVersion;
};

#define z__UART_CONFIG_MAGIC 0xde2a0000

int z__UART_InitConfig(struct z__UART_Config_Base *uartConfig, uint32_t uartConfigStructVersion);
int z__UART_Open(UART_Id uartId, const struct z__UART_Config_Base *uartConfig);

/* Fills *uartConfig with the defaults: 9600 baud, 8 data bits, no parity, one stop bit, no flow control,
 * non-blocking. */
static inline void UART_InitConfig(UART_Config *uartConfig)
{
    z__UART_InitConfig((struct z__UART_Config_Base *)uartConfig, UART_STRUCTS_VERSION);
}

/* Opens a UART for exclusive use with *uartConfig; a descriptor, or -1 with errno (EACCES: not in the manifest;
 * EBUSY: already open; EINVAL: a setting the UART does not support). */
static inline int UART_Open(UART_Id uartId, const UART_Config *uartConfig)
{
    return z__UART_Open(uartId, (const struct z__UART_Config_Base *)uartConfig);
}

#ifdef __cplusplus
}
#endif
