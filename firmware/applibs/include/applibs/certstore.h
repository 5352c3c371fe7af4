/* Applibs certstore.h: install, list and remove the certificates EAP-TLS Wi-Fi networks use (root CAs, and client
 * certificates with their private keys). Needs the CertStore capability in app_manifest.json (EACCES otherwise).
 *
 * Written for this project from Microsoft's public API reference; same names, signatures and constants as the
 * SDK's header, with the SDK's exported entry points (z__CertStore_GetCertificateInfo behind the inline
 * accessors). Every function returns -1 and sets errno on failure. */
#pragma once

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include <applibs/certstore_structs.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CERTSTORE_MAX_CERT_SIZE 8192                  /* bytes of PEM */
#define CERTSTORE_MAX_PRIVATE_KEY_PASSWORD_LENGTH 256

/* Identifiers: 1-16 characters of A-Z a-z 0-9 . - _ (ERANGE when longer, EINVAL for other characters). An
 * identifier already in use is replaced. Blobs are PEM, 1 to CERTSTORE_MAX_CERT_SIZE bytes (ERANGE). */
int CertStore_InstallClientCertificate(const char *identifier, const char *certBlob, size_t certBlobLength,
                                       const char *privateKeyBlob, size_t privateKeyBlobLength,
                                       const char *privateKeyPassword);
int CertStore_InstallRootCACertificate(const char *identifier, const char *certBlob, size_t certBlobLength);
int CertStore_DeleteCertificate(const char *identifier);                 /* ENOENT when absent */
ssize_t CertStore_GetCertificateCount(void);
int CertStore_GetCertificateIdentifierAt(size_t index, CertStore_Identifier *outIdentifier);   /* ERANGE */
ssize_t CertStore_GetAvailableSpace(void);
int CertStore_MoveCertificate(const char *sourceIdentifier, const char *destIdentifier);

enum z__CertInfoField {
    z__CertInfo_NotBefore = 1,
    z__CertInfo_NotAfter = 2,
    z__CertInfo_SubjectName = 3,
    z__CertInfo_IssuerName = 4
};

int z__CertStore_GetCertificateInfo(const char *identifier, enum z__CertInfoField field, void *data, size_t size);

static inline int CertStore_GetCertificateSubjectName(const char *identifier,
                                                      struct CertStore_SubjectName *outSubjectName)
{
    return z__CertStore_GetCertificateInfo(identifier, z__CertInfo_SubjectName, outSubjectName,
                                           sizeof(struct CertStore_SubjectName));
}

static inline int CertStore_GetCertificateIssuerName(const char *identifier,
                                                     struct CertStore_IssuerName *outIssuerName)
{
    return z__CertStore_GetCertificateInfo(identifier, z__CertInfo_IssuerName, outIssuerName,
                                           sizeof(struct CertStore_IssuerName));
}

static inline int CertStore_GetCertificateNotBefore(const char *identifier, struct tm *outNotBefore)
{
    return z__CertStore_GetCertificateInfo(identifier, z__CertInfo_NotBefore, outNotBefore, sizeof(struct tm));
}

static inline int CertStore_GetCertificateNotAfter(const char *identifier, struct tm *outNotAfter)
{
    return z__CertStore_GetCertificateInfo(identifier, z__CertInfo_NotAfter, outNotAfter, sizeof(struct tm));
}

#ifdef __cplusplus
}
#endif
