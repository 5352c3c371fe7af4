/* Applibs wificonfig.h: manage the device's Wi-Fi network configurations (store, enable, scan, query, forget).
 * Needs the WifiConfig capability in app_manifest.json; the EAP-TLS settings need EnterpriseWifiConfig (EACCES
 * otherwise). Define WIFICONFIG_STRUCTS_VERSION (1) before including, or 1 is used.
 *
 * Written for this project from Microsoft's public API reference: the same function names and signatures, struct
 * layouts and constants as the SDK's header, and the SDK's exported entry points behind the inline functions
 * (z__WifiConfig_SetNetworkOpt/GetNetworkOpt with the same attribute numbers, z__WifiConfig_Get*Networks with the
 * struct version), so sample code compiles unchanged and SDK-built binaries link against this libapplibs.
 * Errors: -1 with errno: EINVAL (a bad network id or value), ENODEV (no network with that id), EFAULT (NULL),
 * ERANGE (a length out of range), EAGAIN (the Wi-Fi device is not ready), ENETDOWN (the interface is disabled). */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <applibs/certstore_structs.h>
#include <applibs/wificonfig_structs_v1.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef WIFICONFIG_STRUCTS_VERSION
#define WIFICONFIG_STRUCTS_VERSION 1
#endif

#if WIFICONFIG_STRUCTS_VERSION == 1
typedef struct z__WifiConfig_StoredNetwork_v1 WifiConfig_StoredNetwork;
typedef struct z__WifiConfig_ConnectedNetwork_v1 WifiConfig_ConnectedNetwork;
typedef struct z__WifiConfig_ScannedNetwork_v1 WifiConfig_ScannedNetwork;
#else
#error WIFICONFIG_STRUCTS_VERSION must be 1
#endif

#define WIFICONFIG_CONFIG_NAME_MAX_LENGTH 16
#define WIFICONFIG_EAP_IDENTITY_MAX_LENGTH 254

typedef struct WifiConfig_ClientIdentity {
    char identity[WIFICONFIG_EAP_IDENTITY_MAX_LENGTH + 1];
} WifiConfig_ClientIdentity;

/* The last failure to join a network. error: 1 ConnectionFailed, 2 NetworkNotFound, 3 NoPskIncluded, 4 WrongKey,
 * 5 AuthenticationFailed, 6 SecurityTypeMismatch, 7 NetworkFrequencyNotAllowed, 8 NetworkNotEssPbssMbss,
 * 9 NetworkNotSupported, 10 NetworkNonWpa. certError (with AuthenticationFailed): 100 CertificateNotFound,
 * 101 InvalidRootCA, 102 InvalidClientAuth, 103 UnknownClientId. */
typedef struct WifiConfig_NetworkDiagnostics32 {
    uint8_t isEnabled;
    uint8_t isConnected;
    int32_t error;
    int32_t timestamp;
    int32_t certError;
    int32_t certDepth;
    CertStore_SubjectName certSubject;
} WifiConfig_NetworkDiagnostics32;

typedef struct WifiConfig_NetworkDiagnostics64 {
    uint8_t isEnabled;
    uint8_t isConnected;
    int32_t error;
    time_t timestamp;
    int32_t certError;
    int32_t certDepth;
    CertStore_SubjectName certSubject;
} WifiConfig_NetworkDiagnostics64;

typedef struct WifiConfig_NetworkDiagnostics64 WifiConfig_NetworkDiagnostics;

/* ---- the library's exported entry points ---- */
enum {
    z__WifiConfig_Attribute_SSID = 0,
    z__WifiConfig_Attribute_Security_Type = 1,
    z__WifiConfig_Attribute_Enable = 2,
    z__WifiConfig_Attribute_Save = 3,
    z__WifiConfig_Attribute_Reload = 4,
    z__WifiConfig_Attribute_Preshared_Key = 5,
    z__WifiConfig_Attribute_Client_Identity = 6,
    z__WifiConfig_Attribute_Client_CertStore_Identifier = 7,
    z__WifiConfig_Attribute_RootCA_CertStore_Identifier = 8,
    z__WifiConfig_Attribute_Targeted_Scan = 11,
    z__WifiConfig_Attribute_Config_Name = 12,
    z__WifiConfig_Attribute_Network_Diagnostics32 = 22,
    z__WifiConfig_Attribute_Network_Diagnostics64 = 23,
    z__WifiConfig_Attribute_Network_Diagnostics = z__WifiConfig_Attribute_Network_Diagnostics64,
};
typedef uint32_t z__WifiConfig_Attribute;

struct z__WifiConfig_StoredNetwork_Base { uint32_t z__magicAndVersion; };
struct z__WifiConfig_ConnectedNetwork_Base { uint32_t z__magicAndVersion; };
struct z__WifiConfig_ScannedNetwork_Base { uint32_t z__magicAndVersion; };
#define z__WIFICONFIG_STORED_NETWORK_STRUCT_MAGIC 0xb22e0000
#define z__WIFICONFIG_CONNECTED_NETWORK_STRUCT_MAGIC 0x09ef0000
#define z__WIFICONFIG_SCANNED_NETWORK_STRUCT_MAGIC 0x7eb10000

int z__WifiConfig_ForgetNetwork(const struct z__WifiConfig_StoredNetwork_Base *storedNetwork);
ssize_t z__WifiConfig_GetStoredNetworks(struct z__WifiConfig_StoredNetwork_Base *storedNetworkArray,
                                        size_t storedNetworkArrayCount, uint32_t storedNetworkStructVersion);
int z__WifiConfig_GetCurrentNetwork(struct z__WifiConfig_ConnectedNetwork_Base *connectedNetwork,
                                    uint32_t connectedNetworkStructVersion);
ssize_t z__WifiConfig_GetScannedNetworks(struct z__WifiConfig_ScannedNetwork_Base *scannedNetworkArray,
                                         size_t scannedNetworkArrayCount, uint32_t scannedNetworkStructVersion);
/* attributeLength 0 means a NUL-terminated string. */
int z__WifiConfig_SetNetworkOpt(int networkId, z__WifiConfig_Attribute networkAttribute, const void *attributeValue,
                                size_t attributeLength);
/* buffer NULL with capacity 0: the size needed; ERANGE when the buffer is too small. */
ssize_t z__WifiConfig_GetNetworkOpt(int networkId, z__WifiConfig_Attribute networkAttribute, void *buffer,
                                    size_t capacity);

/* ---- the API ---- */
int WifiConfig_AddNetwork(void);                                     /* a new, disabled, unconfigured network */
int WifiConfig_AddDuplicateNetwork(int networkId, const char *configName);
int WifiConfig_ForgetNetworkById(int networkId);
int WifiConfig_ForgetAllNetworks(void);                              /* also removes the persisted ones */
ssize_t WifiConfig_GetStoredNetworkCount(void);
int WifiConfig_GetConnectedNetworkId(void);                          /* ENOTCONN when not connected */
ssize_t WifiConfig_TriggerScanAndGetScannedNetworkCount(void);        /* blocks for the scan (seconds) */
int WifiConfig_GetNetworkIdByConfigName(const char *configName);     /* ENODEV when no network has the name */
/* Deprecated by WifiConfig_AddNetwork: store an enabled open / WPA2-PSK network and persist it. */
int WifiConfig_StoreOpenNetwork(const uint8_t *ssid, size_t ssidLength);
int WifiConfig_StoreWpa2Network(const uint8_t *ssid, size_t ssidLength, const char *psk, size_t pskLength);

static inline int WifiConfig_ForgetNetwork(const WifiConfig_StoredNetwork *storedNetwork)
{
    return z__WifiConfig_ForgetNetwork((const struct z__WifiConfig_StoredNetwork_Base *)storedNetwork);
}

static inline ssize_t WifiConfig_GetStoredNetworks(WifiConfig_StoredNetwork *storedNetworkArray,
                                                   size_t storedNetworkArrayCount)
{
    return z__WifiConfig_GetStoredNetworks((struct z__WifiConfig_StoredNetwork_Base *)storedNetworkArray,
                                           storedNetworkArrayCount, WIFICONFIG_STRUCTS_VERSION);
}

static inline int WifiConfig_GetCurrentNetwork(WifiConfig_ConnectedNetwork *connectedNetwork)
{
    return z__WifiConfig_GetCurrentNetwork((struct z__WifiConfig_ConnectedNetwork_Base *)connectedNetwork,
                                           WIFICONFIG_STRUCTS_VERSION);
}

static inline ssize_t WifiConfig_GetScannedNetworks(WifiConfig_ScannedNetwork *scannedNetworkArray,
                                                    size_t scannedNetworkArrayCount)
{
    return z__WifiConfig_GetScannedNetworks((struct z__WifiConfig_ScannedNetwork_Base *)scannedNetworkArray,
                                            scannedNetworkArrayCount, WIFICONFIG_STRUCTS_VERSION);
}

static inline int WifiConfig_SetSSID(int networkId, const uint8_t *ssid, size_t ssidLength)
{
    return z__WifiConfig_SetNetworkOpt(networkId, z__WifiConfig_Attribute_SSID, ssid, ssidLength);
}

static inline int WifiConfig_SetSecurityType(int networkId, WifiConfig_Security_Type securityType)
{
    return z__WifiConfig_SetNetworkOpt(networkId, z__WifiConfig_Attribute_Security_Type, &securityType,
                                       sizeof securityType);
}

static inline int WifiConfig_SetNetworkEnabled(int networkId, bool enabled)
{
    return z__WifiConfig_SetNetworkOpt(networkId, z__WifiConfig_Attribute_Enable, &enabled, sizeof enabled);
}

static inline int WifiConfig_PersistConfig(void)
{
    return z__WifiConfig_SetNetworkOpt(-1, z__WifiConfig_Attribute_Save, NULL, 0);
}

static inline int WifiConfig_ReloadConfig(void)
{
    return z__WifiConfig_SetNetworkOpt(-1, z__WifiConfig_Attribute_Reload, NULL, 0);
}

static inline int WifiConfig_SetPSK(int networkId, const char *psk, size_t pskLength)
{
    return z__WifiConfig_SetNetworkOpt(networkId, z__WifiConfig_Attribute_Preshared_Key, psk, pskLength);
}

static inline int WifiConfig_SetClientIdentity(int networkId, const char *identity)
{
    return z__WifiConfig_SetNetworkOpt(networkId, z__WifiConfig_Attribute_Client_Identity, identity, 0);
}

static inline int WifiConfig_SetClientCertStoreIdentifier(int networkId, const char *certStoreIdentifier)
{
    return z__WifiConfig_SetNetworkOpt(networkId, z__WifiConfig_Attribute_Client_CertStore_Identifier,
                                       certStoreIdentifier, 0);
}

static inline int WifiConfig_SetRootCACertStoreIdentifier(int networkId, const char *certStoreIdentifier)
{
    return z__WifiConfig_SetNetworkOpt(networkId, z__WifiConfig_Attribute_RootCA_CertStore_Identifier,
                                       certStoreIdentifier, 0);
}

static inline int WifiConfig_SetConfigName(int networkId, const char *configName)
{
    return z__WifiConfig_SetNetworkOpt(networkId, z__WifiConfig_Attribute_Config_Name, configName, 0);
}

static inline int WifiConfig_SetTargetedScanEnabled(int networkId, bool enabled)
{
    return z__WifiConfig_SetNetworkOpt(networkId, z__WifiConfig_Attribute_Targeted_Scan, &enabled, sizeof enabled);
}

static inline int z__WifiConfig_GetCertificateIdentifier(int networkId, z__WifiConfig_Attribute which,
                                                         CertStore_Identifier *outIdentifier)
{
    if (outIdentifier == NULL) {
        errno = EFAULT;
        return -1;
    }
    if (which != z__WifiConfig_Attribute_Client_CertStore_Identifier &&
        which != z__WifiConfig_Attribute_RootCA_CertStore_Identifier) {
        errno = EINVAL;
        return -1;
    }
    return z__WifiConfig_GetNetworkOpt(networkId, which, outIdentifier->identifier,
                                       sizeof outIdentifier->identifier) < 0 ? -1 : 0;
}

static inline int WifiConfig_GetClientCertStoreIdentifier(int networkId, CertStore_Identifier *outIdentifier)
{
    return z__WifiConfig_GetCertificateIdentifier(networkId, z__WifiConfig_Attribute_Client_CertStore_Identifier,
                                                  outIdentifier);
}

static inline int WifiConfig_GetRootCACertStoreIdentifier(int networkId, CertStore_Identifier *outIdentifier)
{
    return z__WifiConfig_GetCertificateIdentifier(networkId, z__WifiConfig_Attribute_RootCA_CertStore_Identifier,
                                                  outIdentifier);
}

static inline int WifiConfig_GetClientIdentity(int networkId, WifiConfig_ClientIdentity *outIdentity)
{
    if (outIdentity == NULL) {
        errno = EFAULT;
        return -1;
    }
    return z__WifiConfig_GetNetworkOpt(networkId, z__WifiConfig_Attribute_Client_Identity, outIdentity->identity,
                                       sizeof outIdentity->identity) < 0 ? -1 : 0;
}

static inline int WifiConfig_GetNetworkDiagnostics(int networkId, WifiConfig_NetworkDiagnostics *networkDiagnostics)
{
    if (networkDiagnostics == NULL) {
        errno = EFAULT;
        return -1;
    }
    return z__WifiConfig_GetNetworkOpt(networkId, z__WifiConfig_Attribute_Network_Diagnostics64, networkDiagnostics,
                                       sizeof *networkDiagnostics) < 0 ? -1 : 0;
}

#ifdef __cplusplus
}
#endif
