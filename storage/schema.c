/*
 * schema — the migration steps. Step i takes PRAGMA user_version from i to
 * i + 1 inside one transaction (store.c applies them). Never edit a step
 * that has shipped: append a new one.
 *
 * Times are unix seconds (INTEGER). Digests are lowercase hex TEXT.
 * States are TEXT so that `sqlite3 outpost.db` reads well in the field.
 */
#include "sql.h"

static const char v1[] =
	/* The current trust root is the one with the highest version; the
	 * older rows are the audit trail of accepted roots. */
	"CREATE TABLE trust_roots ("
	" version INTEGER PRIMARY KEY,"
	" expires INTEGER NOT NULL,"
	" root BLOB NOT NULL,"
	" sig BLOB NOT NULL,"
	" accepted INTEGER NOT NULL);"

	"CREATE TABLE releases ("
	" id INTEGER PRIMARY KEY,"
	" app TEXT NOT NULL,"
	" sequence INTEGER NOT NULL CHECK (sequence >= 0),"
	" version TEXT NOT NULL,"
	" digest TEXT NOT NULL,"
	" state TEXT NOT NULL CHECK (state IN ('fetched', 'verified',"
	"  'applying', 'applied', 'healthy', 'failed', 'rolling-back',"
	"  'rolled-back')),"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT NOT NULL DEFAULT '',"
	" created INTEGER NOT NULL,"
	" updated INTEGER NOT NULL,"
	" UNIQUE (app, sequence));"

	/* One row per file, in bundle order: rollback re-applies the
	 * last-known-good from here with the network down. */
	"CREATE TABLE release_files ("
	" release_id INTEGER NOT NULL REFERENCES releases(id) ON DELETE CASCADE,"
	" position INTEGER NOT NULL,"
	" name TEXT NOT NULL,"
	" size INTEGER NOT NULL,"
	" sha256 TEXT NOT NULL,"
	" content BLOB NOT NULL,"
	" PRIMARY KEY (release_id, name),"
	" UNIQUE (release_id, position));"

	"CREATE TABLE inventory ("
	" release_id INTEGER NOT NULL REFERENCES releases(id) ON DELETE CASCADE,"
	" api_version TEXT NOT NULL,"
	" kind TEXT NOT NULL,"
	" namespace TEXT NOT NULL,"
	" name TEXT NOT NULL,"
	" uid TEXT NOT NULL,"
	" resource_version TEXT NOT NULL,"
	" PRIMARY KEY (release_id, api_version, kind, namespace, name));"

	/* Per app: last-known-good and the anti-rollback floor. The floor is
	 * not tied to a release row so that it survives release gc. */
	"CREATE TABLE apps ("
	" app TEXT PRIMARY KEY,"
	" lkg_release_id INTEGER REFERENCES releases(id) ON DELETE SET NULL,"
	" sequence_floor INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"

	"CREATE TABLE history ("
	" id INTEGER PRIMARY KEY,"
	" app TEXT NOT NULL,"
	" sequence INTEGER NOT NULL,"
	" from_state TEXT NOT NULL,"     /* '' for a new release */
	" to_state TEXT NOT NULL,"
	" message TEXT NOT NULL,"
	" time INTEGER NOT NULL);"
	/* newest-N per app: list and prune walk this index */
	"CREATE INDEX history_by_app ON history (app, id);"

	"CREATE TABLE outbox ("
	" id INTEGER PRIMARY KEY,"
	" app TEXT NOT NULL,"
	" sequence INTEGER NOT NULL,"
	" step TEXT NOT NULL,"
	" payload TEXT NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL,"
	" UNIQUE (app, sequence, step));"

	"CREATE TABLE discovery ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" fetched INTEGER NOT NULL,"
	" json BLOB NOT NULL);"

	"CREATE TABLE settings ("
	" key TEXT PRIMARY KEY,"
	" value BLOB NOT NULL) WITHOUT ROWID;"

	/* A chunk table: appending 64 KiB never rewrites what is stored. */
	"CREATE TABLE downloads ("
	" id INTEGER PRIMARY KEY,"
	" app TEXT NOT NULL,"
	" sequence INTEGER NOT NULL,"
	" url TEXT NOT NULL,"
	" size INTEGER NOT NULL,"
	" sha256 TEXT NOT NULL,"
	" received INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL,"
	" updated INTEGER NOT NULL,"
	" UNIQUE (app, sequence));"
	"CREATE TABLE download_chunks ("
	" download_id INTEGER NOT NULL REFERENCES downloads(id) ON DELETE CASCADE,"
	" offset INTEGER NOT NULL,"
	" data BLOB NOT NULL,"
	" PRIMARY KEY (download_id, offset));";

/* 2: each inventory row keeps its object's wave, so that prune deletes
 * in reverse wave order; NULL (rows written before) means "its kind's". */
static const char v2[] =
	"ALTER TABLE inventory ADD COLUMN wave INTEGER;";

const char *const schema_steps[] = { v1, v2 };
const int schema_version = (int)(sizeof(schema_steps) / sizeof(schema_steps[0]));
