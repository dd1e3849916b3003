/*
 * signer — signing with key files, for the publishing tools: the one place
 * that loads a private key, signs bytes and updates a signature file.
 */
#ifndef OUTPOST_SIGNER_H
#define OUTPOST_SIGNER_H

#include <stddef.h>

#include "buf.h"

#define KEY_FILE_MAX (16 * 1024)

/*
 * Sign data with the private key in keypath (PEM; "NAME" also finds
 * "NAME.key") and set that key's line in the signature file held in sig
 * (its bytes are replaced by the updated file). Errors logged.
 */
int signer_sign(const char *keypath, const void *data, size_t len, struct buf *sig);

/*
 * Read a public key file into out ("NAME" also finds "NAME.pub"), at most
 * KEY_FILE_MAX bytes. Errors logged.
 */
int signer_read_pub(const char *path, struct buf *out);

#endif
