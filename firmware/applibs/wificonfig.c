/* libapplibs: WifiConfig (applibs/wificonfig.h) over the OS's Wi-Fi service node. */
#include <applibs/wificonfig.h>
#include <azs/service.h>

#include <string.h>

static int wifi_fd = -1;

static long call(int op, struct azs_request *req)
{
    return azs_call(&wifi_fd, "/dev/azure-sphere/wificonfig", 'w', op, req);
}

enum {
    OP_ADD = 1, OP_ADD_DUPLICATE, OP_SET_OPT, OP_GET_OPT, OP_FORGET, OP_FORGET_ALL, OP_STORED_COUNT, OP_GET_STORED,
    OP_GET_CURRENT, OP_CONNECTED_ID, OP_SCAN, OP_GET_SCANNED, OP_ID_BY_NAME, OP_STORE_OPEN, OP_STORE_WPA2,
    OP_FORGET_STORED,
};

int WifiConfig_AddNetwork(void)
{
    struct azs_request req = {0};
    return (int)call(OP_ADD, &req);
}

int WifiConfig_AddDuplicateNetwork(int networkId, const char *configName)
{
    if (configName == NULL) {
        errno = EFAULT;
        return -1;
    }
    size_t n = strnlen(configName, WIFICONFIG_CONFIG_NAME_MAX_LENGTH + 1);
    if (n == 0 || n > WIFICONFIG_CONFIG_NAME_MAX_LENGTH) {
        errno = ERANGE;
        return -1;
    }
    struct azs_request req = {.id = networkId, .buf = {azs_buf(configName, n + 1)}};
    return (int)call(OP_ADD_DUPLICATE, &req);
}

int z__WifiConfig_SetNetworkOpt(int networkId, z__WifiConfig_Attribute attribute, const void *value, size_t length)
{
    int needs_value = attribute != z__WifiConfig_Attribute_Save && attribute != z__WifiConfig_Attribute_Reload;
    if (needs_value && value == NULL) {
        errno = EFAULT;
        return -1;
    }
    if (needs_value && networkId < 0) {
        errno = EINVAL;
        return -1;
    }
    struct azs_request req = {.id = networkId, .attr = attribute, .buf = {azs_buf(value, length)}};
    return (int)call(OP_SET_OPT, &req);
}

ssize_t z__WifiConfig_GetNetworkOpt(int networkId, z__WifiConfig_Attribute attribute, void *buffer, size_t capacity)
{
    if (buffer == NULL && capacity != 0) {
        errno = EFAULT;
        return -1;
    }
    if (networkId < 0) {
        errno = EINVAL;
        return -1;
    }
    struct azs_request req = {.id = networkId, .attr = attribute, .buf = {azs_buf(buffer, capacity)}};
    return call(OP_GET_OPT, &req);
}

int WifiConfig_ForgetNetworkById(int networkId)
{
    if (networkId < 0) {
        errno = EINVAL;
        return -1;
    }
    struct azs_request req = {.id = networkId};
    return (int)call(OP_FORGET, &req);
}

int WifiConfig_ForgetAllNetworks(void)
{
    struct azs_request req = {0};
    return (int)call(OP_FORGET_ALL, &req);
}

ssize_t WifiConfig_GetStoredNetworkCount(void)
{
    struct azs_request req = {0};
    return call(OP_STORED_COUNT, &req);
}

ssize_t z__WifiConfig_GetStoredNetworks(struct z__WifiConfig_StoredNetwork_Base *array, size_t count,
                                        uint32_t version)
{
    struct azs_request req;
    if (azs_array_request(&req, array, count, version) < 0) {
        return -1;
    }
    return call(OP_GET_STORED, &req);
}

int z__WifiConfig_GetCurrentNetwork(struct z__WifiConfig_ConnectedNetwork_Base *network, uint32_t version)
{
    if (network == NULL) {
        errno = EFAULT;
        return -1;
    }
    struct azs_request req = {.value = version, .buf = {azs_buf(network, 1)}};
    return (int)call(OP_GET_CURRENT, &req);
}

int WifiConfig_GetConnectedNetworkId(void)
{
    struct azs_request req = {0};
    return (int)call(OP_CONNECTED_ID, &req);
}

ssize_t WifiConfig_TriggerScanAndGetScannedNetworkCount(void)
{
    struct azs_request req = {0};
    return call(OP_SCAN, &req);
}

ssize_t z__WifiConfig_GetScannedNetworks(struct z__WifiConfig_ScannedNetwork_Base *array, size_t count,
                                         uint32_t version)
{
    struct azs_request req;
    if (azs_array_request(&req, array, count, version) < 0) {
        return -1;
    }
    return call(OP_GET_SCANNED, &req);
}

int WifiConfig_GetNetworkIdByConfigName(const char *configName)
{
    if (configName == NULL) {
        errno = EFAULT;
        return -1;
    }
    size_t n = strnlen(configName, WIFICONFIG_CONFIG_NAME_MAX_LENGTH + 1);
    if (n > WIFICONFIG_CONFIG_NAME_MAX_LENGTH) {
        errno = ERANGE;
        return -1;
    }
    struct azs_request req = {.buf = {azs_buf(configName, n + 1)}};
    return (int)call(OP_ID_BY_NAME, &req);
}

int WifiConfig_StoreOpenNetwork(const uint8_t *ssid, size_t ssidLength)
{
    if (ssid == NULL) {
        errno = EFAULT;
        return -1;
    }
    struct azs_request req = {.buf = {azs_buf(ssid, ssidLength)}};
    return (int)call(OP_STORE_OPEN, &req);
}

int WifiConfig_StoreWpa2Network(const uint8_t *ssid, size_t ssidLength, const char *psk, size_t pskLength)
{
    if (ssid == NULL || psk == NULL) {
        errno = EFAULT;
        return -1;
    }
    struct azs_request req = {.buf = {azs_buf(ssid, ssidLength), azs_buf(psk, pskLength)}};
    return (int)call(OP_STORE_WPA2, &req);
}

int z__WifiConfig_ForgetNetwork(const struct z__WifiConfig_StoredNetwork_Base *network)
{
    if (network == NULL) {
        errno = EFAULT;
        return -1;
    }
    struct azs_request req = {.buf = {azs_buf(network, sizeof(struct z__WifiConfig_StoredNetwork_v1))}};
    return (int)call(OP_FORGET_STORED, &req);
}
