/*
 * config — the agent's configuration file (/etc/outpost/config.yaml by
 * default; docs/config.md is its reference).
 *
 * config_load() reads the file (at most CFG_FILE_MAX bytes), checks every
 * key and value, fills in the defaults of this build (Kconfig), and keeps
 * the parsed YAML document alive inside struct config: every string of the
 * struct points into it (or at a constant), so one config_free() releases
 * everything. Unknown keys, bad values and keys of features this build does
 * not have are refused, each logged once as "file:line:column: why"; the
 * parser goes on after an error, so one run names every problem it can.
 */
#ifndef OUTPOST_AGENT_CONFIG_H
#define OUTPOST_AGENT_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define CFG_FILE_MAX (256 * 1024)  /* bytes of config.yaml */
#define CFG_APPS_MAX 32
#define CFG_LABELS_MAX 32
#define CFG_URL_MAX 2048
#define CFG_PATH_MAX 4095
#define CFG_PROBE_HOSTS_MAX 16
#define CFG_SCOPE_MAX 32           /* apps[].namespaces, apps[].cluster_kinds */
#define CFG_ANY "*"                /* a scope entry that allows every one */
#define CFG_DEPENDS_MAX 8          /* apps[].depends_on entries */
#define CFG_DEVICE_ID_MAX 128
#define CFG_IDENTITIES_MAX 8       /* secrets.identities */
#define CFG_IDENTITY_FILE "identity.txt" /* in state_dir: the gateway's own */
#define CFG_PEM_MAX (64 * 1024)    /* inline tls.ca */
#define CFG_INTERVAL_MIN 10        /* seconds, for every poll bound */
#define CFG_INTERVAL_MAX 86400
#define CFG_KEEP_RELEASES_DEFAULT 3 /* older releases kept for rollback --to */
#define CFG_KEEP_RELEASES_MAX 100
#define CFG_MACHINE_ID "/etc/machine-id"
#define CFG_CA_DEFAULT "/etc/ssl/certs/ca-certificates.crt"
#define CFG_INSECURE_ENV "OUTPOST_TEST_INSECURE"

/* apps[].on_first_install_failure: unset leaves it to the bundle's policy. */
enum cfg_first_failure {
	CFG_FIRST_FAILURE_BUNDLE = 0,
	CFG_FIRST_FAILURE_PRUNE,
	CFG_FIRST_FAILURE_KEEP,
};

struct config_app {
	const char *name;           /* DNS label, unique */
	const char *channel;        /* DNS label, unique; default: name */
	const char *namespace;      /* DNS label; default "default" */
	enum cfg_first_failure on_first_install_failure;
	const char *service_account; /* DNS label: apply as it, or NULL */
	/* where its objects may go: namespaces (DNS labels or CFG_ANY; the
	 * first is always namespace) and cluster-scoped kinds (kind names
	 * or CFG_ANY; none by default) */
	size_t nnamespaces, ncluster_kinds;
	const char *namespaces[CFG_SCOPE_MAX + 1];
	const char *cluster_kinds[CFG_SCOPE_MAX];
	/* apps[].depends_on (CONFIG_DEPENDS_ON): names of other apps of
	 * this config whose newest release must be healthy before a new
	 * release of this one is applied; no cycle (config_parse checks) */
	size_t ndepends;
	const char *depends_on[CFG_DEPENDS_MAX];
};

struct config_label {
	const char *key, *value;
};

/*
 * Everything the file says, with defaults filled in. Field names follow the
 * YAML keys. Optional things that are absent are NULL (or 0 where noted).
 */
struct config {
	const char *path;           /* the file, as named in messages */
	const char *server;         /* http(s) base URL, always ending in '/' */
	struct {
		const char *id;     /* device.id, else /etc/machine-id */
		size_t nlabels;
		struct config_label labels[CFG_LABELS_MAX];
	} device;
	struct {
		const char *root;   /* absolute path of root.yaml */
		const char *root_sig; /* root + ".sig" */
	} trust;
	size_t napps;               /* 1..CFG_APPS_MAX */
	struct config_app apps[CFG_APPS_MAX];
	struct {
		const char *kubeconfig;
		unsigned parallel;  /* 1..32 */
		const char *field_manager;
	} kubernetes;
	const char *state_dir;
	struct {
		unsigned min_interval, max_interval, default_interval;
	} poll;
	struct {
		unsigned interval;  /* seconds; 0 = off (always 0 without CONFIG_DRIFT) */
	} drift;
	struct {
		unsigned default_timeout;
		/* hosts a bundle's HTTP probes may target beyond loopback and
		 * this node's own addresses (health.probe_hosts) */
		size_t nprobe_hosts;
		const char *probe_hosts[CFG_PROBE_HOSTS_MAX];
	} health;
	struct {
		const char *url;    /* NULL: reports are not posted */
	} reports;
	struct {
		const char *ca;     /* a PEM file; NULL when ca_pem is set */
		const char *ca_pem; /* inline PEM text, or NULL */
		size_t ca_pem_len;
		const char *client_cert, *client_key;  /* both or neither */
		int insecure_skip_verify;  /* tests only: see docs/config.md */
	} tls;
	struct {
		unsigned max_bundle_kb;
		/* releases kept besides the current, the last-known-good and
		 * the newest (for `outpost rollback --to`); the rest is
		 * collected after each healthy release */
		unsigned keep_releases;
	} limits;
	struct {
		const char *path;   /* NULL: no metrics file */
	} metrics;
	struct {
		/* the gateway's own age identity: NULL means
		 * <state_dir>/identity.txt, made on the first start */
		const char *identity;
		/* extra identity files (a fleet or site-group key) */
		size_t nidentities;
		const char *identities[CFG_IDENTITIES_MAX];
	} secrets;
	int log_level;              /* enum log_level */
	/* pause_file (CONFIG_PAUSE): while this file exists, every app is
	 * paused (the site's switch); NULL when not set */
	const char *pause_file;

	unsigned errors;            /* problems the last load found (kept on failure) */
	struct doc *doc;            /* owns the strings above */
};

/*
 * What a load takes from the system, injectable for tests: the file that
 * gives the default device id, and whether OUTPOST_TEST_INSECURE=1 is set.
 */
struct config_env {
	const char *machine_id_path;    /* NULL: CFG_MACHINE_ID */
	int allow_insecure;
};

/*
 * Load the configuration at path (NULL: the path given to config_set_path(),
 * else CONFIG_CONFIG_PATH) into *c, with the real environment. 0, or
 * E_CONFIG (each problem logged, c->errors counts them), E_NOTFOUND /
 * E_IO / E_LIMIT (the file; logged), E_NOMEM. On failure *c holds nothing
 * to free but c->errors; on success free it with config_free().
 */
int config_load(const char *path, struct config *c);

/*
 * The same from text data[0..len) named name (for messages), with env
 * (NULL: the real environment, as config_load() uses).
 */
int config_parse(const char *name, const char *data, size_t len,
		 const struct config_env *env, struct config *c);

/* Release what a load made and zero *c. A zeroed or failed *c is fine. */
void config_free(struct config *c);

/* The app of c named name, or whose channel is name; NULL when none is. */
const struct config_app *config_app_find(const struct config *c, const char *name);

/*
 * The app of c that follows channel: the one identity of stored releases
 * and of a bundle's (and a release pointer's) app. NULL when none does.
 */
const struct config_app *config_app_by_channel(const struct config *c, const char *channel);

/*
 * The indexes of c's apps, each after the apps it depends on (config_parse()
 * refused cycles), else in the file's order: order[0..c->napps).
 */
void config_app_order(const struct config *c, size_t order[CFG_APPS_MAX]);

/*
 * The path config_load(NULL, ...) uses (the global --config option sets
 * it); NULL restores CONFIG_CONFIG_PATH. path is not copied.
 */
void config_set_path(const char *path);
const char *config_path(void);

#endif
