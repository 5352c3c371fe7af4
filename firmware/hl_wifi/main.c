/* hl_wifi: a WifiConfig / CertStore / Networking tool for the A7, driven by its command-line arguments (CmdArgs),
 * one command after another; every result is a Log_Debug line the tests and users read:
 *
 *   add SSID open | psk:PASSPHRASE | eap:IDENTITY:CLIENT_CERT_ID[:ROOT_CA_ID]   store, enable and persist a network
 *   root-ca ID FILE                    install a root CA (PEM file in the app package)
 *   client-cert ID CERT KEY [PASSWORD] install a client certificate and its key
 *   wait-ready SECONDS                 until Networking_IsNetworkingReady (prints the status bits as they change)
 *   wait-status BITS SECONDS           until the wlan0 status has all BITS (e.g. 6: connected + IP)
 *   wait-diag ID SECONDS               until network ID has diagnostics (a failed join), then print them
 *   status | scan | stored | diag ID | forget ID | enable ID | disable ID | forget-all | sleep MS
 *   static IP MASK GATEWAY             static address on wlan0;  dhcp: back to DHCP
 *   iface on|off                       Networking_SetInterfaceState
 *
 * Exit status: 0 when every command succeeded, else the number of the first failing command. */
#include <applibs/certstore.h>
#include <applibs/log.h>
#include <applibs/networking.h>
#include <applibs/wificonfig.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *security_name(int s)
{
    switch (s) {
    case WifiConfig_Security_Open: return "open";
    case WifiConfig_Security_Wpa2_Psk: return "psk";
    case WifiConfig_Security_Wpa2_EAP_TLS: return "eaptls";
    default: return "unknown";
    }
}

static int fail(const char *what)
{
    Log_Debug("ERROR: %s: errno %d (%s)\n", what, errno, strerror(errno));
    return -1;
}

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) < 0 && errno == EINTR) {
    }
}

static char *read_package_file(const char *name, size_t *length)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n < 0) {
        return NULL;
    }
    exe[n] = 0;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/../%s", dirname(exe), name);
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        return NULL;
    }
    char *buf = malloc(16384);
    ssize_t got = read(fd, buf, 16383);
    close(fd);
    if (got < 0) {
        free(buf);
        return NULL;
    }
    buf[got] = 0;
    *length = (size_t)got;
    return buf;
}

static int add_network(const char *ssid, const char *spec)
{
    int id = WifiConfig_AddNetwork();
    if (id < 0) {
        return fail("WifiConfig_AddNetwork");
    }
    if (WifiConfig_SetSSID(id, (const uint8_t *)ssid, strlen(ssid)) < 0) {
        return fail("WifiConfig_SetSSID");
    }
    if (strcmp(spec, "open") == 0) {
        if (WifiConfig_SetSecurityType(id, WifiConfig_Security_Open) < 0) {
            return fail("WifiConfig_SetSecurityType");
        }
    } else if (strncmp(spec, "psk:", 4) == 0) {
        if (WifiConfig_SetSecurityType(id, WifiConfig_Security_Wpa2_Psk) < 0) {
            return fail("WifiConfig_SetSecurityType");
        }
        if (WifiConfig_SetPSK(id, spec + 4, strlen(spec + 4)) < 0) {
            return fail("WifiConfig_SetPSK");
        }
    } else if (strncmp(spec, "eap:", 4) == 0) {
        char copy[256];
        snprintf(copy, sizeof copy, "%s", spec + 4);
        char *identity = strtok(copy, ":"), *client = strtok(NULL, ":"), *root = strtok(NULL, ":");
        if (identity == NULL || client == NULL) {
            errno = EINVAL;
            return fail("eap:IDENTITY:CLIENT_CERT_ID[:ROOT_CA_ID]");
        }
        if (WifiConfig_SetSecurityType(id, WifiConfig_Security_Wpa2_EAP_TLS) < 0) {
            return fail("WifiConfig_SetSecurityType");
        }
        if (WifiConfig_SetClientIdentity(id, identity) < 0) {
            return fail("WifiConfig_SetClientIdentity");
        }
        if (WifiConfig_SetClientCertStoreIdentifier(id, client) < 0) {
            return fail("WifiConfig_SetClientCertStoreIdentifier");
        }
        if (root != NULL && WifiConfig_SetRootCACertStoreIdentifier(id, root) < 0) {
            return fail("WifiConfig_SetRootCACertStoreIdentifier");
        }
    } else {
        errno = EINVAL;
        return fail("security must be open, psk:PASS or eap:...");
    }
    if (WifiConfig_SetNetworkEnabled(id, true) < 0) {
        return fail("WifiConfig_SetNetworkEnabled");
    }
    if (WifiConfig_PersistConfig() < 0) {
        return fail("WifiConfig_PersistConfig");
    }
    Log_Debug("added network %d: %s (%s)\n", id, ssid, spec[0] == 'p' ? "psk" : spec);
    return 0;
}

static int status(void)
{
    Networking_InterfaceConnectionStatus bits = 0;
    if (Networking_GetInterfaceConnectionStatus("wlan0", &bits) < 0) {
        return fail("Networking_GetInterfaceConnectionStatus");
    }
    bool ready = false;
    Networking_IsNetworkingReady(&ready);
    WifiConfig_ConnectedNetwork net;
    if (WifiConfig_GetCurrentNetwork(&net) < 0) {
        Log_Debug("status: 0x%x ready %d, not connected (errno %d %s)\n", bits, ready, errno, strerror(errno));
        return 0;
    }
    Log_Debug("status: 0x%x ready %d, connected to %.*s id %d bssid %02x:%02x:%02x:%02x:%02x:%02x %u MHz "
              "%d dBm %s\n", bits, ready, net.ssidLength, net.ssid, WifiConfig_GetConnectedNetworkId(),
              net.bssid[0], net.bssid[1], net.bssid[2], net.bssid[3], net.bssid[4], net.bssid[5], net.frequencyMHz,
              net.signalRssi, security_name(net.security));
    return 0;
}

static int scan(void)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ssize_t count = WifiConfig_TriggerScanAndGetScannedNetworkCount();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (count < 0) {
        return fail("WifiConfig_TriggerScanAndGetScannedNetworkCount");
    }
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    Log_Debug("scan: %zd networks in %ld ms\n", count, ms);
    if (count == 0) {
        return 0;
    }
    WifiConfig_ScannedNetwork *found = calloc((size_t)count, sizeof *found);
    ssize_t n = WifiConfig_GetScannedNetworks(found, (size_t)count);
    if (n < 0) {
        free(found);
        return fail("WifiConfig_GetScannedNetworks");
    }
    for (ssize_t i = 0; i < n; i++) {
        Log_Debug("scanned: %.*s %02x:%02x:%02x:%02x:%02x:%02x %u MHz %d dBm %s\n", found[i].ssidLength,
                  found[i].ssid, found[i].bssid[0], found[i].bssid[1], found[i].bssid[2], found[i].bssid[3],
                  found[i].bssid[4], found[i].bssid[5], found[i].frequencyMHz, found[i].signalRssi,
                  security_name(found[i].security));
    }
    free(found);
    return 0;
}

static int stored(void)
{
    ssize_t count = WifiConfig_GetStoredNetworkCount();
    if (count < 0) {
        return fail("WifiConfig_GetStoredNetworkCount");
    }
    Log_Debug("stored: %zd networks\n", count);
    if (count == 0) {
        return 0;
    }
    WifiConfig_StoredNetwork *nets = calloc((size_t)count, sizeof *nets);
    ssize_t n = WifiConfig_GetStoredNetworks(nets, (size_t)count);
    if (n < 0) {
        free(nets);
        return fail("WifiConfig_GetStoredNetworks");
    }
    for (ssize_t i = 0; i < n; i++) {
        Log_Debug("stored %zd: %.*s %s enabled %d connected %d\n", i, nets[i].ssidLength, nets[i].ssid,
                  security_name(nets[i].security), nets[i].isEnabled, nets[i].isConnected);
    }
    free(nets);
    return 0;
}

static int diag(int id)
{
    WifiConfig_NetworkDiagnostics d;
    if (WifiConfig_GetNetworkDiagnostics(id, &d) < 0) {
        return fail("WifiConfig_GetNetworkDiagnostics");
    }
    Log_Debug("diag %d: error %d certError %d certDepth %d subject '%s' enabled %d connected %d\n", id, d.error,
              d.certError, d.certDepth, d.certSubject.name, d.isEnabled, d.isConnected);
    return 0;
}

static int wait_bits(unsigned want, long seconds, bool ready_too)
{
    unsigned last = 0xFFFFFFFFu;
    for (long ms = 0; ms <= seconds * 1000; ms += 100) {
        Networking_InterfaceConnectionStatus bits = 0;
        bool ready = false;
        Networking_GetInterfaceConnectionStatus("wlan0", &bits);
        Networking_IsNetworkingReady(&ready);
        if (bits != last) {
            Log_Debug("wlan0 status 0x%x at %ld ms\n", bits, ms);
            last = bits;
        }
        if ((bits & want) == want && (!ready_too || ready)) {
            Log_Debug("%s after %ld ms\n", ready_too ? "ready" : "status reached", ms);
            return 0;
        }
        sleep_ms(100);
    }
    errno = ETIMEDOUT;
    return fail("waiting for the network");
}

static int wait_diag(int id, long seconds)
{
    for (long ms = 0; ms <= seconds * 1000; ms += 100) {
        WifiConfig_NetworkDiagnostics d;
        if (WifiConfig_GetNetworkDiagnostics(id, &d) == 0) {
            return diag(id);
        }
        if (errno != ENODEV) {
            return fail("WifiConfig_GetNetworkDiagnostics");
        }
        sleep_ms(100);
    }
    errno = ETIMEDOUT;
    return fail("waiting for diagnostics");
}

int main(int argc, char *argv[])
{
    for (int i = 1, step = 1; i < argc; step++) {
        const char *cmd = argv[i++];
        int r = 0;
#define ARG(n) (i + (n) <= argc ? argv[i + (n) - 1] : NULL)
        if (strcmp(cmd, "add") == 0 && ARG(2)) {
            r = add_network(ARG(1), ARG(2));
            i += 2;
        } else if (strcmp(cmd, "root-ca") == 0 && ARG(2)) {
            size_t len = 0;
            char *pem = read_package_file(ARG(2), &len);
            r = pem ? CertStore_InstallRootCACertificate(ARG(1), pem, len) : -1;
            if (r < 0) {
                fail("CertStore_InstallRootCACertificate");
            } else {
                Log_Debug("installed root CA %s\n", ARG(1));
            }
            free(pem);
            i += 2;
        } else if (strcmp(cmd, "client-cert") == 0 && ARG(3)) {
            size_t clen = 0, klen = 0;
            char *cert = read_package_file(ARG(2), &clen), *key = read_package_file(ARG(3), &klen);
            const char *password = NULL;
            i += 3;
            if (i < argc && strncmp(argv[i], "password:", 9) == 0) {
                password = argv[i++] + 9;
            }
            r = cert && key ? CertStore_InstallClientCertificate(argv[i - 3 - (password != NULL)], cert, clen,
                                                                 key, klen, password) : -1;
            if (r < 0) {
                fail("CertStore_InstallClientCertificate");
            } else {
                Log_Debug("installed client certificate, %zd bytes left\n", CertStore_GetAvailableSpace());
            }
            free(cert);
            free(key);
        } else if (strcmp(cmd, "wait-ready") == 0 && ARG(1)) {
            r = wait_bits(0x7, atol(ARG(1)), true);
            i += 1;
        } else if (strcmp(cmd, "wait-status") == 0 && ARG(2)) {
            r = wait_bits((unsigned)strtoul(ARG(1), NULL, 0), atol(ARG(2)), false);
            i += 2;
        } else if (strcmp(cmd, "wait-diag") == 0 && ARG(2)) {
            r = wait_diag(atoi(ARG(1)), atol(ARG(2)));
            i += 2;
        } else if (strcmp(cmd, "status") == 0) {
            r = status();
        } else if (strcmp(cmd, "scan") == 0) {
            r = scan();
        } else if (strcmp(cmd, "stored") == 0) {
            r = stored();
        } else if (strcmp(cmd, "diag") == 0 && ARG(1)) {
            r = diag(atoi(ARG(1)));
            i += 1;
        } else if (strcmp(cmd, "forget") == 0 && ARG(1)) {
            r = WifiConfig_ForgetNetworkById(atoi(ARG(1))) < 0 ? fail("WifiConfig_ForgetNetworkById") : 0;
            i += 1;
        } else if (strcmp(cmd, "forget-all") == 0) {
            r = WifiConfig_ForgetAllNetworks() < 0 ? fail("WifiConfig_ForgetAllNetworks") : 0;
        } else if ((strcmp(cmd, "enable") == 0 || strcmp(cmd, "disable") == 0) && ARG(1)) {
            r = WifiConfig_SetNetworkEnabled(atoi(ARG(1)), cmd[0] == 'e') < 0 ? fail("WifiConfig_SetNetworkEnabled")
                                                                              : 0;
            i += 1;
        } else if (strcmp(cmd, "sleep") == 0 && ARG(1)) {
            sleep_ms(atol(ARG(1)));
            i += 1;
        } else if (strcmp(cmd, "static") == 0 && ARG(3)) {
            Networking_IpConfig config;
            struct in_addr ip, mask, gw;
            inet_aton(ARG(1), &ip);
            inet_aton(ARG(2), &mask);
            inet_aton(ARG(3), &gw);
            Networking_IpConfig_Init(&config);
            Networking_IpConfig_EnableStaticIp(&config, ip, mask, gw);
            r = Networking_IpConfig_Apply("wlan0", &config) < 0 ? fail("Networking_IpConfig_Apply") : 0;
            Networking_IpConfig_Destroy(&config);
            i += 3;
        } else if (strcmp(cmd, "dhcp") == 0) {
            Networking_IpConfig config;
            Networking_IpConfig_Init(&config);
            Networking_IpConfig_EnableDynamicIp(&config);
            r = Networking_IpConfig_Apply("wlan0", &config) < 0 ? fail("Networking_IpConfig_Apply") : 0;
        } else if (strcmp(cmd, "iface") == 0 && ARG(1)) {
            r = Networking_SetInterfaceState("wlan0", strcmp(ARG(1), "on") == 0) < 0
                    ? fail("Networking_SetInterfaceState") : 0;
            i += 1;
        } else {
            Log_Debug("ERROR: unknown command or missing arguments: %s\n", cmd);
            return step;
        }
        if (r < 0) {
            return step;
        }
    }
    Log_Debug("hl_wifi: done\n");
    return 0;
}
