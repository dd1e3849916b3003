/*
 * mbedTLS 2.28 configuration for outpost: what the agent and its tools use,
 * nothing more. It replaces include/mbedtls/config.h of the Debian source
 * before the library is built and is installed with its headers, so curl
 * and outpost compile against the same configuration.
 *
 * Needed by: TLS 1.2 client (curl): ECDHE-ECDSA and ECDHE-RSA with AES-GCM
 * and ChaCha20-Poly1305, P-256/P-384/X25519, RSA PKCS#1 v1.5 and v2.1
 * certificates, SNI, ALPN, EtM, EMS, session tickets; curl's own use of MD5,
 * SHA-256 and public-key DER writing (pinning).
 * Signatures (outpost): ECDSA P-256 over SHA-256 verify; key generation and
 * deterministic signing for the tools; PEM and base64.
 */
#ifndef OUTPOST_MBEDTLS_CONFIG_H
#define OUTPOST_MBEDTLS_CONFIG_H

/* System support */
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_HAVE_TIME_DATE
#define MBEDTLS_DEPRECATED_REMOVED

/* Elliptic curves and key exchange */
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECDSA_DETERMINISTIC
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PKCS1_V21

/* TLS 1.2 client */
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_ALPN
#define MBEDTLS_SSL_ENCRYPT_THEN_MAC
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_SESSION_TICKETS
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE
#define MBEDTLS_X509_CHECK_KEY_USAGE
#define MBEDTLS_X509_CHECK_EXTENDED_KEY_USAGE

/* Modules */
#define MBEDTLS_AES_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_CHACHAPOLY_C
#define MBEDTLS_CIPHER_C
#define MBEDTLS_CTR_DRBG_C
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_ERROR_C
#define MBEDTLS_FS_IO
#define MBEDTLS_GCM_C
#define MBEDTLS_HMAC_DRBG_C
#define MBEDTLS_MD_C
#define MBEDTLS_MD5_C
#define MBEDTLS_OID_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_PEM_WRITE_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_RSA_C
#define MBEDTLS_SHA1_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA512_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_VERSION_C
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C

/*
 * Records: the server may send full 16 KiB records, but what we send is
 * small (requests and JSON reports), so a 4 KiB output buffer saves 12 KiB
 * per connection in the API pool.
 */
#define MBEDTLS_SSL_IN_CONTENT_LEN 16384
#define MBEDTLS_SSL_OUT_CONTENT_LEN 4096

/*
 * Cipher suites, in the order the client offers them. mbedTLS 2.28 has AES
 * instructions only for x86_64 (AES-NI, used when the CPU has it, checked
 * at run time); on ARM its AES-GCM is table-driven software, several times
 * the cost of ChaCha20-Poly1305, so ARM builds offer ChaCha20 first. A Go
 * server, as the API server of k3s is, then takes ChaCha20-Poly1305: it
 * keeps AES-GCM only for a client whose first known suite is AES-GCM (Go's
 * crypto/tls, cipher_suites.go: aesgcmPreferred, named isAESGCMPreferred
 * in later releases). Only AEAD suites are compiled in (no CBC mode).
 */
#define OUTPOST_SUITES_AES_GCM \
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, \
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, \
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, \
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
#define OUTPOST_SUITES_CHACHA \
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, \
	MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
#if defined(__x86_64__)
#define MBEDTLS_AESNI_C
#define MBEDTLS_SSL_CIPHERSUITES OUTPOST_SUITES_AES_GCM, OUTPOST_SUITES_CHACHA
#else
#define MBEDTLS_SSL_CIPHERSUITES OUTPOST_SUITES_CHACHA, OUTPOST_SUITES_AES_GCM
#endif

#include "mbedtls/check_config.h"

#endif /* OUTPOST_MBEDTLS_CONFIG_H */
