/* Applibs networking_structs_v1.h: the version-1 structs of the Networking library.
 * Written for this project from Microsoft's public API reference (same names, field order and sizes as the
 * SDK's). */
#pragma once

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    Networking_IpType_DhcpNone = 0,     /* a static address (Networking_IpConfig_Apply) */
    Networking_IpType_DhcpClient = 1,
} Networking_IpType;
typedef uint8_t Networking_IpType_Type;

typedef enum {
    Networking_InterfaceMedium_Unspecified = 0,
    Networking_InterfaceMedium_Wifi = 1,
    Networking_InterfaceMedium_Ethernet = 2,
} Networking_InterfaceMedium;
typedef uint8_t Networking_InterfaceMedium_Type;

struct z__Networking_NetworkInterface_v1 {     /* 32 bytes */
    uint32_t z__magicAndVersion;
    bool isEnabled;
    char interfaceName[IF_NAMESIZE];
    uint32_t interfaceNameLength;
    Networking_IpType_Type ipConfigurationType;
    Networking_InterfaceMedium_Type interfaceMediumType;
};

/* Opaque to apps: libapplibs keeps the configuration inside (emulator-defined layout, docs/wifi.md). */
typedef struct Networking_IpConfig {
    uint64_t reserved[5];
} Networking_IpConfig;

typedef struct Networking_SntpServerConfig {
    uint64_t reserved[3];
} Networking_SntpServerConfig;

typedef struct Networking_DhcpServerConfig {
    uint64_t reserved[8];
} Networking_DhcpServerConfig;

#ifdef __cplusplus
}
#endif
