/* libapplibs: CertStore (applibs/certstore.h) over the OS's certificate store node. */
#include <applibs/certstore.h>
#include <azs/service.h>

#include <string.h>

static int cert_fd = -1;

static long call(int op, struct azs_request *req)
{
    return azs_call(&cert_fd, "/dev/azure-sphere/certstore", 'c', op, req);
}

enum { OP_INSTALL_CLIENT = 1, OP_INSTALL_ROOT, OP_DELETE, OP_COUNT, OP_ID_AT, OP_AVAILABLE, OP_INFO, OP_MOVE };

static struct azs_buffer ident_buf(const char *identifier)
{
    return azs_buf(identifier, strnlen(identifier, 64) + 1);
}

int CertStore_InstallClientCertificate(const char *identifier, const char *certBlob, size_t certBlobLength,
                                       const char *privateKeyBlob, size_t privateKeyBlobLength,
                                       const char *privateKeyPassword)
{
    if (identifier == NULL || certBlob == NULL || privateKeyBlob == NULL) {
        errno = EFAULT;
        return -1;
    }
    if (certBlobLength == 0 || certBlobLength > CERTSTORE_MAX_CERT_SIZE || privateKeyBlobLength == 0 ||
        privateKeyBlobLength > CERTSTORE_MAX_CERT_SIZE) {
        errno = ERANGE;
        return -1;
    }
    if (privateKeyPassword != NULL &&
        strnlen(privateKeyPassword, CERTSTORE_MAX_PRIVATE_KEY_PASSWORD_LENGTH + 1) >
            CERTSTORE_MAX_PRIVATE_KEY_PASSWORD_LENGTH) {
        errno = ERANGE;
        return -1;
    }
    struct azs_request req = {.buf = {ident_buf(identifier), azs_buf(certBlob, certBlobLength),
                                      azs_buf(privateKeyBlob, privateKeyBlobLength),
                                      azs_buf(privateKeyPassword, privateKeyPassword ? 1 : 0)}};
    return (int)call(OP_INSTALL_CLIENT, &req);
}

int CertStore_InstallRootCACertificate(const char *identifier, const char *certBlob, size_t certBlobLength)
{
    if (identifier == NULL || certBlob == NULL) {
        errno = EFAULT;
        return -1;
    }
    if (certBlobLength == 0 || certBlobLength > CERTSTORE_MAX_CERT_SIZE) {
        errno = ERANGE;
        return -1;
    }
    struct azs_request req = {.buf = {ident_buf(identifier), azs_buf(certBlob, certBlobLength)}};
    return (int)call(OP_INSTALL_ROOT, &req);
}

int CertStore_DeleteCertificate(const char *identifier)
{
    if (identifier == NULL) {
        errno = EFAULT;
        return -1;
    }
    struct azs_request req = {.buf = {ident_buf(identifier)}};
    return (int)call(OP_DELETE, &req);
}

ssize_t CertStore_GetCertificateCount(void)
{
    struct azs_request req = {0};
    return call(OP_COUNT, &req);
}

int CertStore_GetCertificateIdentifierAt(size_t index, CertStore_Identifier *outIdentifier)
{
    if (outIdentifier == NULL) {
        errno = EFAULT;
        return -1;
    }
    struct azs_request req = {.value = (uint32_t)index,
                              .buf = {azs_buf(outIdentifier->identifier, sizeof outIdentifier->identifier)}};
    if (index > 0xFFFFFFFFu) {
        errno = ERANGE;
        return -1;
    }
    return (int)call(OP_ID_AT, &req);
}

ssize_t CertStore_GetAvailableSpace(void)
{
    struct azs_request req = {0};
    return call(OP_AVAILABLE, &req);
}

int CertStore_MoveCertificate(const char *sourceIdentifier, const char *destIdentifier)
{
    if (sourceIdentifier == NULL || destIdentifier == NULL) {
        errno = EFAULT;
        return -1;
    }
    struct azs_request req = {.buf = {ident_buf(sourceIdentifier), ident_buf(destIdentifier)}};
    return (int)call(OP_MOVE, &req);
}

int z__CertStore_GetCertificateInfo(const char *identifier, enum z__CertInfoField field, void *data, size_t size)
{
    if (identifier == NULL || data == NULL) {
        errno = EFAULT;
        return -1;
    }
    struct azs_request req = {.attr = (uint32_t)field, .buf = {ident_buf(identifier), azs_buf(data, size)}};
    return (int)call(OP_INFO, &req);
}
