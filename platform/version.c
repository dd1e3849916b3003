/* version — build facts and linked library versions. */
#include <curl/curl.h>
#include <mbedtls/version.h>
#include <yaml.h>
#include <zlib.h>

#include "buildinfo.h"
#include "features.h"
#include "version.h"

/* Features, as Kconfig left them: name and whether compiled in. */
static const struct {
	const char *name;
	int on;
} features[] = {
	{ "gzip", IS_ENABLED(CONFIG_GZIP) },
	{ "tls-client-cert", IS_ENABLED(CONFIG_TLS_CLIENT_CERT) },
	{ "http-probes", IS_ENABLED(CONFIG_HTTP_PROBES) },
	{ "drift", IS_ENABLED(CONFIG_DRIFT) },
	{ "reports", IS_ENABLED(CONFIG_REPORTS) },
	{ "metrics", IS_ENABLED(CONFIG_METRICS) },
	{ "secrets", IS_ENABLED(CONFIG_SECRETS) },
	{ "root-walk", IS_ENABLED(CONFIG_ROOT_WALK) },
	{ "privsep", IS_ENABLED(CONFIG_PRIVSEP) },
};

const char *version_short(void)
{
	return OUTPOST_VERSION " (" OUTPOST_GITREV ")";
}

int version_describe(struct buf *out, const char *sqlite_version)
{
	char mbed[32];

	mbedtls_version_get_string(mbed);
	buf_addf(out, "outpost %s\nrevision %s\ntarget %s\nfeatures",
		 OUTPOST_VERSION, OUTPOST_GITREV, OUTPOST_TARGET);
	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++)
		buf_addf(out, " %c%s", features[i].on ? '+' : '-', features[i].name);
	buf_addf(out,
		 "\nlimits state-dir=%s config=%s poll=%ds max-bundle=%dKiB"
		 " api-connections=%d\n"
		 "libraries curl %s, mbedtls %s, sqlite %s, libyaml %s, zlib %s\n"
		 "debian-sources %s\n",
		 CONFIG_STATE_DIR, CONFIG_CONFIG_PATH, CONFIG_POLL_INTERVAL,
		 CONFIG_MAX_BUNDLE_KB, CONFIG_API_CONNECTIONS,
		 curl_version_info(CURLVERSION_NOW)->version, mbed,
		 sqlite_version, yaml_get_version_string(),
		 zlibVersion(), OUTPOST_DEBIAN_SOURCES);
	/* the build could not have cross/sources.lock's versions: say which */
	if (OUTPOST_SOURCES_DIFFER[0])
		buf_addf(out, "debian-sources-not-locked %s\n", OUTPOST_SOURCES_DIFFER);
	return buf_error(out);
}
