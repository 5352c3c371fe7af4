/* Applibs networking.h: the state of the device's network interfaces, their IP configuration, and time sync.
 * Reading the state needs no capability; changing the interface or its IP configuration needs NetworkConfig,
 * time sync TimeSyncConfig (EACCES otherwise). Define NETWORKING_STRUCTS_VERSION (1) before including, or 1 is used.
 *
 * Written for this project from Microsoft's public API reference: same names, signatures, constants and struct
 * layouts as the SDK's header, and the SDK's exported entry points behind the inline functions
 * (z__Networking_GetInterfaces with the struct version, z__Networking_Get/SetInterfaceOpt). Errors: -1 with errno:
 * EFAULT (NULL), ENOENT (no such interface), EAGAIN (the networking stack is not ready), ERANGE, EINVAL. */
#pragma once

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <applibs/networking_structs_v1.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef NETWORKING_STRUCTS_VERSION
#define NETWORKING_STRUCTS_VERSION 1
#endif

#if NETWORKING_STRUCTS_VERSION == 1
typedef struct z__Networking_NetworkInterface_v1 Networking_NetworkInterface;
#else
#error NETWORKING_STRUCTS_VERSION must be 1
#endif

/* Bits of Networking_GetInterfaceConnectionStatus. */
typedef uint32_t Networking_InterfaceConnectionStatus;
enum {
    Networking_InterfaceConnectionStatus_InterfaceUp = 1 << 0,
    Networking_InterfaceConnectionStatus_ConnectedToNetwork = 1 << 1,
    Networking_InterfaceConnectionStatus_IpAvailable = 1 << 2,
    Networking_InterfaceConnectionStatus_ConnectedToInternet = 1 << 3,
};

typedef uint32_t Networking_NtpOption;
enum {
    Networking_NtpOption_FallbackServerDisabled = 0,
    Networking_NtpOption_FallbackServerEnabled = 1,
};

#define HARDWARE_ADDRESS_LENGTH 6
typedef struct Networking_Interface_HardwareAddress {
    uint8_t address[HARDWARE_ADDRESS_LENGTH];
} Networking_Interface_HardwareAddress;

/* true when an interface is up, connected, has an address, and the clock is synced. */
int Networking_IsNetworkingReady(bool *outIsNetworkingReady);
ssize_t Networking_GetInterfaceCount(void);
int Networking_SetInterfaceState(const char *networkInterfaceName, bool isEnabled);
int Networking_GetInterfaceConnectionStatus(const char *networkInterfaceName,
                                            Networking_InterfaceConnectionStatus *outStatus);

void Networking_IpConfig_Init(Networking_IpConfig *ipConfig);          /* dynamic address, automatic DNS */
void Networking_IpConfig_Destroy(Networking_IpConfig *ipConfig);
void Networking_IpConfig_EnableDynamicIp(Networking_IpConfig *ipConfig);
void Networking_IpConfig_EnableStaticIp(Networking_IpConfig *ipConfig, struct in_addr ipAddress,
                                        struct in_addr subnetMask, struct in_addr gatewayAddress);
void Networking_IpConfig_EnableAutomaticDns(Networking_IpConfig *ipConfig);
int Networking_IpConfig_EnableCustomDns(Networking_IpConfig *ipConfig, const struct in_addr *dnsServerAddresses,
                                        size_t serverCount);             /* at most 3, none INADDR_ANY */
int Networking_IpConfig_Apply(const char *networkInterfaceName, const Networking_IpConfig *ipConfig);

int Networking_TimeSync_EnableDefaultNtp(void);
int Networking_TimeSync_EnableAutomaticNtp(Networking_NtpOption option);
int Networking_TimeSync_EnableCustomNtp(const char *primaryNtpServer, const char *secondaryNtpServer,
                                        Networking_NtpOption option);
int Networking_TimeSync_GetLastNtpSyncInfo(char *outNtpServer, size_t *inOutNtpServerLength,
                                           struct tm *outTimeBeforeSync, struct tm *outNtpTime);
int Networking_TimeSync_SetEnabled(bool enabled);
int Networking_TimeSync_GetEnabled(bool *outIsEnabled);

/* Services for a private network (an Ethernet shield): wlan0 refuses them with EPERM. */
void Networking_SntpServerConfig_Init(Networking_SntpServerConfig *sntpServerConfig);
void Networking_SntpServerConfig_Destroy(Networking_SntpServerConfig *sntpServerConfig);
int Networking_SntpServer_Start(const char *networkInterfaceName,
                                const Networking_SntpServerConfig *sntpServerConfig);
void Networking_DhcpServerConfig_Init(Networking_DhcpServerConfig *dhcpServerConfig);
void Networking_DhcpServerConfig_Destroy(Networking_DhcpServerConfig *dhcpServerConfig);
int Networking_DhcpServerConfig_SetLease(Networking_DhcpServerConfig *dhcpServerConfig, struct in_addr startIpAddress,
                                         uint8_t ipAddressCount, struct in_addr subnetMask,
                                         struct in_addr gatewayAddress, uint32_t leaseTimeInHours);
int Networking_DhcpServerConfig_SetNtpServerAddresses(Networking_DhcpServerConfig *dhcpServerConfig,
                                                      const struct in_addr *ntpServerAddresses,
                                                      size_t serverCount);
int Networking_DhcpServer_Start(const char *networkInterfaceName,
                                const Networking_DhcpServerConfig *dhcpServerConfig);

/* ---- exported entry points behind the inline functions ---- */
struct z__Networking_NetworkInterface_Base { uint32_t z__magicAndVersion; };
#define z__NETWORKING_NETWORK_INTERFACE_STRUCT_MAGIC 0xfa9a0000
typedef uint8_t z__Networking_Attribute;
enum {
    z__Networking_Attribute_Unknown = 0,
    z__Networking_Attribute_Hardware_Address = 1,
};

ssize_t z__Networking_GetInterfaces(struct z__Networking_NetworkInterface_Base *outNetworkInterfacesArray,
                                    size_t networkInterfacesArrayCount, uint32_t networkInterfaceStructVersion);
int z__Networking_SetInterfaceOpt(const char *networkInterfaceName, z__Networking_Attribute attribute,
                                  const void *value, size_t valueLength);
ssize_t z__Networking_GetInterfaceOpt(const char *networkInterfaceName, z__Networking_Attribute attribute,
                                      void *buffer, size_t capacity);

static inline ssize_t Networking_GetInterfaces(Networking_NetworkInterface *outNetworkInterfacesArray,
                                               size_t networkInterfacesArrayCount)
{
    return z__Networking_GetInterfaces((struct z__Networking_NetworkInterface_Base *)outNetworkInterfacesArray,
                                       networkInterfacesArrayCount, NETWORKING_STRUCTS_VERSION);
}

static inline int Networking_SetHardwareAddress(const char *networkInterfaceName, const uint8_t *hardwareAddress,
                                                size_t hardwareAddressLength)
{
    return z__Networking_SetInterfaceOpt(networkInterfaceName, z__Networking_Attribute_Hardware_Address,
                                         hardwareAddress, hardwareAddressLength);
}

static inline int Networking_GetHardwareAddress(const char *networkInterfaceName,
                                                Networking_Interface_HardwareAddress *outAddress)
{
    if (outAddress == NULL || networkInterfaceName == NULL) {
        errno = EFAULT;
        return -1;
    }
    ssize_t n = z__Networking_GetInterfaceOpt(networkInterfaceName, z__Networking_Attribute_Hardware_Address,
                                              outAddress->address, sizeof outAddress->address);
    return n == (ssize_t)sizeof outAddress->address ? 0 : -1;
}

#ifdef __cplusplus
}
#endif
