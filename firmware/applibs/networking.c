/* libapplibs: Networking (applibs/networking.h) over the OS's networking service node. Networking_IpConfig,
 * Networking_SntpServerConfig and Networking_DhcpServerConfig are filled here, in the app's memory
 * (emulator-defined layout inside the opaque structs, docs/wifi.md). */
#include <applibs/networking.h>
#include <azs/service.h>

#include <string.h>

static int net_fd = -1;

static long call(int op, struct azs_request *req)
{
    return azs_call(&net_fd, "/dev/azure-sphere/networking", 'n', op, req);
}

enum {
    OP_IS_READY = 1, OP_IF_COUNT, OP_GET_IFS, OP_IF_STATUS, OP_SET_IF_STATE, OP_IP_APPLY, OP_TIMESYNC_SET,
    OP_TIMESYNC_GET, OP_NTP_DEFAULT, OP_NTP_AUTOMATIC, OP_NTP_CUSTOM, OP_LAST_NTP, OP_GET_IF_OPT,
};

#define IPCONFIG_MAGIC 0x31435049u     /* "IPC1" */

struct ip_config {                    /* inside Networking_IpConfig (40 bytes) */
    uint32_t magic;
    uint8_t is_static;
    uint8_t custom_dns;
    uint8_t dns_count;
    uint8_t reserved;
    struct in_addr address, netmask, gateway;
    struct in_addr dns[3];
};
_Static_assert(sizeof(struct ip_config) <= sizeof(Networking_IpConfig), "ip_config fits the opaque struct");

/* A yes/no the service answers as the call's result, stored in *out (EFAULT for a NULL out). */
static int get_flag(int op, bool *out)
{
    if (out == NULL) {
        errno = EFAULT;
        return -1;
    }
    struct azs_request req = {0};
    long r = call(op, &req);
    if (r < 0) {
        return -1;
    }
    *out = r != 0;
    return 0;
}

static struct azs_buffer name_buf(const char *name)
{
    return azs_buf(name, strnlen(name, IF_NAMESIZE) + 1);
}

int Networking_IsNetworkingReady(bool *outIsNetworkingReady)
{
    return get_flag(OP_IS_READY, outIsNetworkingReady);
}

ssize_t Networking_GetInterfaceCount(void)
{
    struct azs_request req = {0};
    return call(OP_IF_COUNT, &req);
}

ssize_t z__Networking_GetInterfaces(struct z__Networking_NetworkInterface_Base *array, size_t count,
                                    uint32_t version)
{
    struct azs_request req;
    if (azs_array_request(&req, array, count, version) < 0) {
        return -1;
    }
    return call(OP_GET_IFS, &req);
}

int Networking_GetInterfaceConnectionStatus(const char *networkInterfaceName,
                                            Networking_InterfaceConnectionStatus *outStatus)
{
    if (networkInterfaceName == NULL || outStatus == NULL) {
        errno = EFAULT;
        return -1;
    }
    struct azs_request req = {.buf = {name_buf(networkInterfaceName)}};
    long r = call(OP_IF_STATUS, &req);
    if (r < 0) {
        return -1;
    }
    *outStatus = (Networking_InterfaceConnectionStatus)r;
    return 0;
}

int Networking_SetInterfaceState(const char *networkInterfaceName, bool isEnabled)
{
    if (networkInterfaceName == NULL) {
        errno = EFAULT;
        return -1;
    }
    struct azs_request req = {.value = isEnabled, .buf = {name_buf(networkInterfaceName)}};
    return (int)call(OP_SET_IF_STATE, &req);
}

/* ---- IP configuration, kept in the app's struct until applied ---- */
void Networking_IpConfig_Init(Networking_IpConfig *ipConfig)
{
    if (ipConfig == NULL) {
        return;
    }
    memset(ipConfig, 0, sizeof *ipConfig);
    ((struct ip_config *)ipConfig)->magic = IPCONFIG_MAGIC;
}

void Networking_IpConfig_Destroy(Networking_IpConfig *ipConfig)
{
    if (ipConfig != NULL) {
        memset(ipConfig, 0, sizeof *ipConfig);
    }
}

void Networking_IpConfig_EnableDynamicIp(Networking_IpConfig *ipConfig)
{
    if (ipConfig != NULL) {
        ((struct ip_config *)ipConfig)->is_static = 0;
    }
}

void Networking_IpConfig_EnableStaticIp(Networking_IpConfig *ipConfig, struct in_addr ipAddress,
                                        struct in_addr subnetMask, struct in_addr gatewayAddress)
{
    if (ipConfig == NULL) {
        return;
    }
    struct ip_config *c = (struct ip_config *)ipConfig;
    c->is_static = 1;
    c->address = ipAddress;
    c->netmask = subnetMask;
    c->gateway = gatewayAddress;
}

void Networking_IpConfig_EnableAutomaticDns(Networking_IpConfig *ipConfig)
{
    if (ipConfig != NULL) {
        ((struct ip_config *)ipConfig)->custom_dns = 0;
        ((struct ip_config *)ipConfig)->dns_count = 0;
    }
}

int Networking_IpConfig_EnableCustomDns(Networking_IpConfig *ipConfig, const struct in_addr *dnsServerAddresses,
                                        size_t serverCount)
{
    if (ipConfig == NULL || dnsServerAddresses == NULL) {
        errno = EFAULT;
        return -1;
    }
    if (serverCount > 3) {
        errno = EINVAL;
        return -1;
    }
    struct ip_config *c = (struct ip_config *)ipConfig;
    for (size_t i = 0; i < serverCount; i++) {
        if (dnsServerAddresses[i].s_addr == INADDR_ANY) {
            errno = EINVAL;
            return -1;
        }
    }
    memset(c->dns, 0, sizeof c->dns);
    memcpy(c->dns, dnsServerAddresses, serverCount * sizeof *dnsServerAddresses);
    c->dns_count = (uint8_t)serverCount;
    c->custom_dns = 1;
    return 0;
}

int Networking_IpConfig_Apply(const char *networkInterfaceName, const Networking_IpConfig *ipConfig)
{
    if (networkInterfaceName == NULL || ipConfig == NULL) {
        errno = EFAULT;
        return -1;
    }
    struct azs_request req = {.buf = {name_buf(networkInterfaceName), azs_buf(ipConfig, sizeof(struct ip_config))}};
    return (int)call(OP_IP_APPLY, &req);
}

/* ---- time sync ---- */
int Networking_TimeSync_SetEnabled(bool enabled)
{
    struct azs_request req = {.value = enabled};
    return (int)call(OP_TIMESYNC_SET, &req);
}

int Networking_TimeSync_GetEnabled(bool *outIsEnabled)
{
    return get_flag(OP_TIMESYNC_GET, outIsEnabled);
}

int Networking_TimeSync_EnableDefaultNtp(void)
{
    struct azs_request req = {0};
    return (int)call(OP_NTP_DEFAULT, &req);
}

int Networking_TimeSync_EnableAutomaticNtp(Networking_NtpOption option)
{
    struct azs_request req = {.value = option};
    return (int)call(OP_NTP_AUTOMATIC, &req);
}

int Networking_TimeSync_EnableCustomNtp(const char *primaryNtpServer, const char *secondaryNtpServer,
                                        Networking_NtpOption option)
{
    if (primaryNtpServer == NULL) {
        errno = EFAULT;
        return -1;
    }
    size_t p = strnlen(primaryNtpServer, 254), s = secondaryNtpServer ? strnlen(secondaryNtpServer, 254) : 0;
    if (p > 253 || s > 253) {
        errno = ERANGE;
        return -1;
    }
    struct azs_request req = {.value = option,
                              .buf = {azs_buf(primaryNtpServer, p + 1),
                                      azs_buf(secondaryNtpServer, secondaryNtpServer ? s + 1 : 0)}};
    return (int)call(OP_NTP_CUSTOM, &req);
}

int Networking_TimeSync_GetLastNtpSyncInfo(char *outNtpServer, size_t *inOutNtpServerLength,
                                           struct tm *outTimeBeforeSync, struct tm *outNtpTime)
{
    if (outNtpServer != NULL && inOutNtpServerLength == NULL) {
        errno = EFAULT;
        return -1;
    }
    uint32_t needed = 0;
    struct azs_request req = {.buf = {azs_buf(outNtpServer, outNtpServer ? *inOutNtpServerLength : 0),
                                      azs_buf(&needed, sizeof needed), azs_buf(outTimeBeforeSync, 0),
                                      azs_buf(outNtpTime, 0)}};
    long r = call(OP_LAST_NTP, &req);
    if (r < 0) {
        if (errno == ENOBUFS && inOutNtpServerLength != NULL) {
            *inOutNtpServerLength = needed;
        }
        return -1;
    }
    if (inOutNtpServerLength != NULL) {
        *inOutNtpServerLength = (size_t)r;
    }
    return 0;
}

ssize_t z__Networking_GetInterfaceOpt(const char *networkInterfaceName, z__Networking_Attribute attribute,
                                      void *buffer, size_t capacity)
{
    if (networkInterfaceName == NULL || (buffer == NULL && capacity != 0)) {
        errno = EFAULT;
        return -1;
    }
    struct azs_request req = {.attr = attribute, .buf = {name_buf(networkInterfaceName), azs_buf(buffer, capacity)}};
    return call(OP_GET_IF_OPT, &req);
}

int z__Networking_SetInterfaceOpt(const char *networkInterfaceName, z__Networking_Attribute attribute,
                                  const void *value, size_t valueLength)
{
    (void)attribute;
    (void)value;
    (void)valueLength;
    if (networkInterfaceName == NULL) {
        errno = EFAULT;
        return -1;
    }
    errno = EACCES;      /* the hardware address is settable only on Ethernet with HardwareAddressConfig */
    return -1;
}

/* ---- private-network services: not on wlan0 ---- */
void Networking_SntpServerConfig_Init(Networking_SntpServerConfig *c)
{
    if (c != NULL) {
        memset(c, 0, sizeof *c);
    }
}

void Networking_SntpServerConfig_Destroy(Networking_SntpServerConfig *c)
{
    Networking_SntpServerConfig_Init(c);
}

void Networking_DhcpServerConfig_Init(Networking_DhcpServerConfig *c)
{
    if (c != NULL) {
        memset(c, 0, sizeof *c);
    }
}

void Networking_DhcpServerConfig_Destroy(Networking_DhcpServerConfig *c)
{
    Networking_DhcpServerConfig_Init(c);
}

int Networking_DhcpServerConfig_SetLease(Networking_DhcpServerConfig *c, struct in_addr start, uint8_t count,
                                         struct in_addr mask, struct in_addr gateway, uint32_t hours)
{
    (void)start;
    (void)mask;
    (void)gateway;
    if (c == NULL) {
        errno = EFAULT;
        return -1;
    }
    if (count != 1 || hours < 1 || hours > 24) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

int Networking_DhcpServerConfig_SetNtpServerAddresses(Networking_DhcpServerConfig *c, const struct in_addr *servers,
                                                      size_t count)
{
    if (c == NULL || servers == NULL) {
        errno = EFAULT;
        return -1;
    }
    if (count > 3) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

static int private_service_start(const char *name, const void *config)
{
    if (name == NULL || config == NULL) {
        errno = EFAULT;
        return -1;
    }
    Networking_InterfaceConnectionStatus status;
    if (Networking_GetInterfaceConnectionStatus(name, &status) < 0) {
        return -1;       /* ENOENT: no such interface */
    }
    errno = EPERM;       /* wlan0 is not a private network interface */
    return -1;
}

int Networking_SntpServer_Start(const char *networkInterfaceName, const Networking_SntpServerConfig *c)
{
    return private_service_start(networkInterfaceName, c);
}

int Networking_DhcpServer_Start(const char *networkInterfaceName, const Networking_DhcpServerConfig *c)
{
    return private_service_start(networkInterfaceName, c);
}
