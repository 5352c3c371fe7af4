/* Applibs wificonfig_structs_v1.h: the version-1 structs of the WifiConfig library.
 *
 * Written for this project from Microsoft's public API reference (Azure Sphere "Applibs wificonfig.h"): the same
 * names, field order, types and sizes as the SDK's, so SDK-built apps and this header agree on the layout. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WIFICONFIG_SSID_MAX_LENGTH 32            /* bytes in an SSID */
#define WIFICONFIG_WPA2_KEY_MAX_BUFFER_SIZE 64   /* a passphrase of 8-63 characters or 64 hex digits */
#define WIFICONFIG_BSSID_BUFFER_SIZE 6

/* Security of a network. */
typedef enum {
    WifiConfig_Security_Unknown = 0,
    WifiConfig_Security_Open = 1,
    WifiConfig_Security_Wpa2_Psk = 2,
    WifiConfig_Security_Wpa2_EAP_TLS = 3,
} WifiConfig_Security;

typedef uint8_t WifiConfig_Security_Type;

/* A BSS found by a scan (44 + 8 bytes). */
struct z__WifiConfig_ScannedNetwork_v1 {
    uint32_t z__magicAndVersion;
    uint8_t ssid[WIFICONFIG_SSID_MAX_LENGTH];
    uint8_t bssid[WIFICONFIG_BSSID_BUFFER_SIZE];
    uint8_t ssidLength;
    WifiConfig_Security_Type security;
    uint32_t frequencyMHz;
    int8_t signalRssi;   /* dBm */
};

/* A stored network configuration (40 bytes). */
struct z__WifiConfig_StoredNetwork_v1 {
    uint32_t z__magicAndVersion;
    uint8_t ssid[WIFICONFIG_SSID_MAX_LENGTH];
    uint8_t ssidLength;
    bool isEnabled;
    bool isConnected;
    WifiConfig_Security_Type security;
};

/* The BSS the device is connected to. */
struct z__WifiConfig_ConnectedNetwork_v1 {
    uint32_t z__magicAndVersion;
    uint8_t ssid[WIFICONFIG_SSID_MAX_LENGTH];
    uint8_t bssid[WIFICONFIG_BSSID_BUFFER_SIZE];
    uint8_t ssidLength;
    WifiConfig_Security_Type security;
    uint32_t frequencyMHz;
    int8_t signalRssi;   /* dBm */
};

#ifdef __cplusplus
}
#endif
