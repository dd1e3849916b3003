/* error — error codes and their sentences. */
#include <stdarg.h>
#include <stdlib.h>

#include "error.h"
#include "log.h"

static const char *const msgs[] = {
	[-E_OK] = "success",
	[-E_NOMEM] = "out of memory",
	[-E_LIMIT] = "input exceeds a configured limit",
	[-E_IO] = "input/output error",
	[-E_USAGE] = "invalid usage",
	[-E_CONFIG] = "invalid configuration",
	[-E_FORMAT] = "malformed input",
	[-E_CRYPTO] = "cryptographic operation failed",
	[-E_SIGNATURE] = "signature check failed",
	[-E_UNTRUSTED] = "signed by an untrusted key",
	[-E_DIGEST] = "content does not match its signed digest",
	[-E_EXPIRED] = "signed metadata has expired",
	[-E_ROLLBACK] = "older than a release already accepted",
	[-E_NETWORK] = "server unreachable",
	[-E_HTTP] = "server returned an error",
	[-E_API] = "Kubernetes API request refused",
	[-E_UNAVAILABLE] = "Kubernetes API unreachable",
	[-E_NOTFOUND] = "not found",
	[-E_STATE] = "not allowed in the current state",
	[-E_STORE] = "state database error",
	[-E_UNSUPPORTED] = "not supported by this build",
	[-E_INTERNAL] = "internal error",
	[-E_TRUNCATED] = "input is truncated",
	[-E_DENIED] = "not this app's to touch",
};

const char *err_str(int e)
{
	if (e > 0 || e <= E_NERR)
		return "unknown error";
	return msgs[-e];
}

int error(int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERROR, fmt, ap);
	va_end(ap);
	return e;
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}
