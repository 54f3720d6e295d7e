import CMariaDB

extension MariaDBConnection {
    /// Runs a statement without parameters through `mysql_real_query`: one round trip, and the
    /// server sends every value as text, which is what ``MariaDBRow`` holds.
    static func runText(
        _ sql: String,
        on mysql: UnsafeMutablePointer<MYSQL>,
        sent: inout Bool
    ) throws(MariaDBError) -> StatementResult {
        sent = true
        guard mysql_real_query(mysql, sql, UInt(sql.utf8.count)) == 0 else {
            throw Self.error(of: mysql, query: sql)
        }
        guard let result = mysql_store_result(mysql) else {
            // No result set is normal for a write; for a statement that has one it is an error.
            guard mysql_field_count(mysql) == 0 else { throw Self.error(of: mysql, query: sql) }
            return StatementResult(
                rows: [],
                execution: MariaDBExecuteResult(affectedRows: mysql_affected_rows(mysql), lastInsertID: mysql_insert_id(mysql))
            )
        }
        defer { mysql_free_result(result) }

        let columns = Self.columns(of: result)
        let count = columns.names.count
        var rows: [MariaDBRow] = []
        while let row = mysql_fetch_row(result), let lengths = mysql_fetch_lengths(result) {
            let values = (0..<count).map { column -> String? in
                row[column].map {
                    String(decoding: UnsafeRawBufferPointer(start: $0, count: Int(lengths[column])), as: UTF8.self)
                }
            }
            rows.append(MariaDBRow(columns: columns, values: values))
        }
        return StatementResult(
            rows: rows,
            execution: MariaDBExecuteResult(affectedRows: mysql_affected_rows(mysql), lastInsertID: mysql_insert_id(mysql))
        )
    }
}
