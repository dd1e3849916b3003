/* store — SQLite state store. */
#include <sqlite3.h>

#include "store.h"

const char *store_library_version(void)
{
	return sqlite3_libversion();
}
