/* A TLS client with its own TLS library (mbed TLS, linked statically): resolve, connect, verify the server's
 * certificate chain against a CA file in the app package and its name, send a line, print the reply.
 * Arguments: HOST PORT CA_FILE MESSAGE. Prints "tls: ..." lines; exit 0 on success. */
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int fail(const char *what, int rc)
{
    char text[160];
    mbedtls_strerror(rc, text, sizeof text);
    printf("tls: %s failed: -0x%04x %s\n", what, (unsigned)-rc, text);
    return 1;
}

int main(int argc, char *argv[])
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 5) {
        printf("usage: HOST PORT CA_FILE MESSAGE\n");
        return 2;
    }
    const char *host = argv[1], *port = argv[2], *message = argv[4];
    char exe[PATH_MAX], ca_path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n < 0 ? 0 : n] = 0;
    snprintf(ca_path, sizeof ca_path, "%s/../%s", dirname(exe), argv[3]);

    mbedtls_net_context net;
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_net_init(&net);
    mbedtls_ssl_init(&ssl);
    mbedtls_ssl_config_init(&conf);
    mbedtls_x509_crt_init(&ca);
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    int rc = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, (const unsigned char *)"hl", 2);
    if (rc) {
        return fail("seeding", rc);
    }
    if ((rc = mbedtls_x509_crt_parse_file(&ca, ca_path)) != 0) {
        return fail("loading the CA", rc);
    }
    if ((rc = mbedtls_net_connect(&net, host, port, MBEDTLS_NET_PROTO_TCP)) != 0) {
        return fail("connect", rc);
    }
    printf("tls: connected to %s:%s\n", host, port);
    mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                MBEDTLS_SSL_PRESET_DEFAULT);
    mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&conf, &ca, NULL);
    mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
    mbedtls_ssl_setup(&ssl, &conf);
    mbedtls_ssl_set_hostname(&ssl, host);
    mbedtls_ssl_set_bio(&ssl, &net, mbedtls_net_send, mbedtls_net_recv, NULL);
    while ((rc = mbedtls_ssl_handshake(&ssl)) != 0) {
        if (rc != MBEDTLS_ERR_SSL_WANT_READ && rc != MBEDTLS_ERR_SSL_WANT_WRITE) {
            uint32_t flags = mbedtls_ssl_get_verify_result(&ssl);
            if (flags) {
                char info[256];
                mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
                printf("tls: certificate rejected: %s", info);
            }
            return fail("handshake", rc);
        }
    }
    printf("tls: handshake done: %s %s\n", mbedtls_ssl_get_version(&ssl), mbedtls_ssl_get_ciphersuite(&ssl));
    char line[256];
    int len = snprintf(line, sizeof line, "%s\n", message);
    if ((rc = mbedtls_ssl_write(&ssl, (const unsigned char *)line, (size_t)len)) < 0) {
        return fail("write", rc);
    }
    unsigned char reply[256];
    int got = 0;
    while (got < (int)sizeof reply - 1) {
        rc = mbedtls_ssl_read(&ssl, reply + got, sizeof reply - 1 - (size_t)got);
        if (rc <= 0) {
            break;
        }
        got += rc;
        if (reply[got - 1] == '\n') {
            break;
        }
    }
    if (got <= 0) {
        return fail("read", rc);
    }
    reply[got] = 0;
    printf("tls: reply: %s", reply);
    mbedtls_ssl_close_notify(&ssl);
    mbedtls_net_free(&net);
    return 0;
}
