import CMariaDB

extension MariaDBConnection {
    /// Runs a statement with `?` placeholders through the binary protocol: the SQL is prepared
    /// first and the values are sent apart from it, so no value is ever parsed as SQL.
    static func runPrepared(
        _ sql: String,
        _ parameters: [MariaDBValue],
        on mysql: UnsafeMutablePointer<MYSQL>,
        sent: inout Bool
    ) throws(MariaDBError) -> StatementResult {
        guard let statement = mysql_stmt_init(mysql) else { throw Self.error(of: mysql, query: sql) }
        defer { mysql_stmt_close(statement) }

        guard mysql_stmt_prepare(statement, sql, UInt(sql.utf8.count)) == 0 else {
            throw Self.error(of: statement, query: sql)
        }
        // libmariadb reads as many binds as the statement has placeholders, whatever the array holds.
        let placeholders = Int(mysql_stmt_param_count(statement))
        guard placeholders == parameters.count else {
            throw MariaDBError(
                code: .parameterCountMismatch,
                message: "the statement has \(placeholders) placeholders but \(parameters.count) values were given",
                query: sql
            )
        }
        let bindings = MariaDBParameterBindings(parameters)
        defer { bindings.deallocate() }
        guard mysql_stmt_bind_param(statement, bindings.binds) == 0 else {
            throw Self.error(of: statement, query: sql)
        }
        let metadata = mysql_stmt_result_metadata(statement)
        defer { if let metadata { mysql_free_result(metadata) } }
        if metadata == nil, mysql_stmt_errno(statement) != 0 { throw Self.error(of: statement, query: sql) }

        sent = true
        guard mysql_stmt_execute(statement) == 0 else { throw Self.error(of: statement, query: sql) }
        let rows = try metadata.map { metadata throws(MariaDBError) in
            try Self.fetchRows(of: statement, columns: Self.columns(of: metadata), metadata: metadata, query: sql)
        }
        return StatementResult(
            rows: rows ?? [],
            execution: MariaDBExecuteResult(
                affectedRows: mysql_stmt_affected_rows(statement),
                lastInsertID: mysql_stmt_insert_id(statement)
            )
        )
    }

    /// Reads every row as text. Each text column gets a small inline buffer; a longer value is
    /// fetched again with `mysql_stmt_fetch_column` into a buffer of its exact length.
    ///
    /// FLOAT and DOUBLE columns are fetched in binary and formatted by Swift: libmariadb formats
    /// them to the width of the bind buffer, so their text would depend on the buffer size.
    private static func fetchRows(
        of statement: UnsafeMutablePointer<MYSQL_STMT>,
        columns: MariaDBColumns,
        metadata: UnsafeMutablePointer<MYSQL_RES>,
        query sql: String
    ) throws(MariaDBError) -> [MariaDBRow] {
        let count = columns.names.count
        let fields = mysql_fetch_fields(metadata)!
        let inlineCapacity = 64
        let binds = UnsafeMutablePointer<MYSQL_BIND>.allocate(capacity: count)
        binds.initialize(repeating: MYSQL_BIND(), count: count)
        let lengths = UnsafeMutablePointer<UInt>.allocate(capacity: count)
        lengths.initialize(repeating: 0, count: count)
        let nulls = UnsafeMutablePointer<my_bool>.allocate(capacity: count)
        nulls.initialize(repeating: 0, count: count)
        let truncations = UnsafeMutablePointer<my_bool>.allocate(capacity: count)
        truncations.initialize(repeating: 0, count: count)
        let storage = UnsafeMutableRawPointer.allocate(byteCount: max(1, count * inlineCapacity), alignment: 8)
        defer {
            binds.deallocate()
            lengths.deallocate()
            nulls.deallocate()
            truncations.deallocate()
            storage.deallocate()
        }
        for column in 0..<count {
            switch fields[column].type {
            case MYSQL_TYPE_DOUBLE, MYSQL_TYPE_FLOAT: binds[column].buffer_type = fields[column].type
            default: binds[column].buffer_type = MYSQL_TYPE_STRING
            }
            binds[column].buffer = storage + column * inlineCapacity
            binds[column].buffer_length = UInt(inlineCapacity)
            binds[column].length = lengths + column
            binds[column].is_null = nulls + column
            binds[column].error = truncations + column
        }
        guard mysql_stmt_bind_result(statement, binds) == 0 else { throw Self.error(of: statement, query: sql) }
        // Buffering the whole result frees the server at once: on ViciDial's MyISAM tables a
        // result still being streamed holds a table read lock that blocks ViciDial's own writes.
        guard mysql_stmt_store_result(statement) == 0 else { throw Self.error(of: statement, query: sql) }

        var rows: [MariaDBRow] = []
        while true {
            let status = mysql_stmt_fetch(statement)
            if status == MYSQL_NO_DATA { break }
            // MYSQL_DATA_TRUNCATED only says some value outgrew its inline buffer; handled below.
            guard status == 0 || status == MYSQL_DATA_TRUNCATED else { throw Self.error(of: statement, query: sql) }
            var values: [String?] = []
            values.reserveCapacity(count)
            for column in 0..<count {
                if nulls[column] != 0 {
                    values.append(nil)
                } else if binds[column].buffer_type == MYSQL_TYPE_DOUBLE {
                    values.append(Self.text(of: binds[column].buffer.load(as: Double.self)))
                } else if binds[column].buffer_type == MYSQL_TYPE_FLOAT {
                    values.append(Self.text(of: binds[column].buffer.load(as: Float.self)))
                } else if lengths[column] <= UInt(inlineCapacity) {
                    let bytes = UnsafeRawBufferPointer(start: binds[column].buffer, count: Int(lengths[column]))
                    values.append(String(decoding: bytes, as: UTF8.self))
                } else {
                    values.append(try Self.fetchLongColumn(column, length: Int(lengths[column]), of: statement, query: sql))
                }
            }
            rows.append(MariaDBRow(columns: columns, values: values))
        }
        return rows
    }

    /// The shortest text that reads back as `value`, without Swift's `.0` on whole numbers so
    /// that it matches what the text protocol sends (`2`, not `2.0`).
    private static func text<Value: BinaryFloatingPoint & LosslessStringConvertible>(of value: Value) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    private static func fetchLongColumn(
        _ column: Int,
        length: Int,
        of statement: UnsafeMutablePointer<MYSQL_STMT>,
        query sql: String
    ) throws(MariaDBError) -> String {
        var status: Int32 = 0
        let value = String(unsafeUninitializedCapacity: length) { buffer in
            var bind = MYSQL_BIND()
            bind.buffer_type = MYSQL_TYPE_STRING
            bind.buffer = UnsafeMutableRawPointer(buffer.baseAddress)
            bind.buffer_length = UInt(length)
            status = mysql_stmt_fetch_column(statement, &bind, UInt32(column), 0)
            return status == 0 ? length : 0
        }
        guard status == 0 else { throw Self.error(of: statement, query: sql) }
        return value
    }

    static func error(of statement: UnsafeMutablePointer<MYSQL_STMT>, query: String?) -> MariaDBError {
        MariaDBError(
            code: .init(rawValue: mysql_stmt_errno(statement)),
            message: String(cString: mysql_stmt_error(statement)),
            sqlState: String(cString: mysql_stmt_sqlstate(statement)),
            query: query
        )
    }
}
