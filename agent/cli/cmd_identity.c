/*
 * cmd_identity — `outpost identity new|show`: the gateway's age identity,
 * which opens the encrypted members of releases (docs/secrets.md). Only
 * the recipient ("age1...") is ever printed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "config.h"
#include "error.h"
#include "log.h"
#include "opts.h"
#include "secrets.h"

const char cmd_identity_usage[] = "new [-o FILE] | show [FILE]";

/* FILE when given, else the configured identity (secrets.identity or the state dir). */
static int identity_file(const char *given, struct buf *path)
{
	struct config cfg;
	int rc;

	if (given)
		return buf_addstr(path, given);
	rc = config_load(NULL, &cfg);
	if (!rc)
		rc = secrets_identity_path(&cfg, path);
	/* the state dir, as the agent makes it, for an identity made before its first start */
	if (!rc && !cfg.secrets.identity && mkdir(cfg.state_dir, 0700) && errno != EEXIST)
		rc = error(E_IO, "%s: %s", cfg.state_dir, strerror(errno));
	config_free(&cfg);
	return rc;
}

static int identity_new(int argc, char **argv)
{
	const char *out = NULL;
	struct buf path = BUF_INIT(CFG_PATH_MAX + 32);
	char recipient[128];
	int rc;
	const struct opt table[] = {
		OPT_STRING(NULL, 'o', &out, "FILE", "where to write it (default: the configured one)"),
		{ 0 }
	};
	struct opts o = OPTS_INIT("identity new", NULL, table, NULL, 0);

	if (opts_parse(&o, argc, argv))
		return 2;
	rc = identity_file(out, &path);
	if (!rc)
		rc = secrets_identity_new(path.data, recipient, sizeof(recipient));
	if (!rc) {
		printf("%s\n", recipient);
		log_info("identity: wrote %s (mode 0600); its recipient is %s", path.data, recipient);
	}
	buf_free(&path);
	return rc ? 1 : 0;
}

static int identity_show(int argc, char **argv)
{
	const char *file = NULL;
	struct buf path = BUF_INIT(CFG_PATH_MAX + 32);
	char recipient[128];
	int rc;
	const struct opt table[] = { { 0 } };
	struct opts o = OPTS_INIT("identity show", NULL, table, &file, 1);

	if (opts_parse(&o, argc, argv))
		return 2;
	rc = identity_file(file, &path);
	if (!rc)
		rc = secrets_identity_show(path.data, recipient, sizeof(recipient));
	if (!rc)
		printf("%s\n", recipient);
	buf_free(&path);
	return rc ? 1 : 0;
}

int cmd_identity(int argc, char **argv)
{
	static const struct subcmd subs[] = {
		{ "new", identity_new }, { "show", identity_show }, { NULL, NULL }
	};

	return cmd_dispatch("identity", subs, argc, argv);
}
