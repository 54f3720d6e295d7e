import CMariaDB

/// libmariadb's process-wide set-up.
///
/// `mysql_library_init` must run before the first `mysql_init`; `mysql_init` would run it
/// implicitly, which is documented as unsafe when several threads connect at once. A Swift static
/// is initialised exactly once, thread-safely, so every connection goes through here first.
///
/// `mysql_thread_init`/`mysql_thread_end` are not needed: in MariaDB Connector/C 3.x (Debian 12
/// ships 3.3) they are empty functions kept for API compatibility, so the thread-pool threads that
/// run the blocking calls need no per-thread set-up.
enum MariaDBLibrary {
    private static let initialisationStatus: Int32 = amib_mysql_library_init()

    static func ensureInitialised() throws(MariaDBError) {
        guard self.initialisationStatus == 0 else {
            throw MariaDBError(code: .init(rawValue: UInt32(CR_UNKNOWN_ERROR)), message: "mysql_library_init failed")
        }
    }
}
