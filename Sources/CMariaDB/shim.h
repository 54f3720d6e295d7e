#ifndef AMIBRIDGE_CMARIADB_SHIM_H
#define AMIBRIDGE_CMARIADB_SHIM_H

// mysql.h uses size_t and friends without including the header that declares them.
#include <stddef.h>
#include <stdbool.h>
#include <mysql.h>
// The CR_* client error numbers (server gone away, lost connection...).
#include <errmsg.h>

// mysql_errno is a macro in some client libraries (MySQL's embedded builds); the wrapper keeps
// Swift code independent of that.
static inline unsigned int amib_mysql_errno(MYSQL *mysql) { return mysql_errno(mysql); }

// mysql_library_init is a function-like macro (for mysql_server_init), which Swift does not import.
static inline int amib_mysql_library_init(void) { return mysql_library_init(0, NULL, NULL); }

#endif
