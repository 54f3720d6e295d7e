#ifndef AMIBRIDGE_CMARIADB_SHIM_H
#define AMIBRIDGE_CMARIADB_SHIM_H

// mysql.h uses size_t and friends without including the header that declares them.
#include <stddef.h>
#include <stdbool.h>
#include <mysql.h>

// MYSQL_BIND's `buffer_type` is an enum whose constants are macros in some libmariadb versions;
// these helpers keep Swift code away from the macro forms.
static inline unsigned int amib_mysql_errno(MYSQL *mysql) { return mysql_errno(mysql); }

#endif
