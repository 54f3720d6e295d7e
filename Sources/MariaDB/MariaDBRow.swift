/// One row of a result, every value as MariaDB's text form (`NULL` as `nil`).
///
/// Values are read by column name, the way the ViciDial queries are written, so reordering a
/// SELECT list cannot silently shift values into the wrong fields.
public struct MariaDBRow: Sendable {
    /// The column names of the result, shared by all of its rows.
    public let columns: MariaDBColumns
    /// The values in column order.
    public let values: [String?]

    init(columns: MariaDBColumns, values: [String?]) {
        self.columns = columns
        self.values = values
    }

    /// The value of `column` as text, `nil` for SQL NULL. Throws when the result has no such column.
    public func string(_ column: String) throws(MariaDBRowError) -> String? {
        guard let index = self.columns.index(of: column) else {
            throw MariaDBRowError(column: column, reason: .noSuchColumn(available: self.columns.names))
        }
        return self.values[index]
    }

    /// The value of `column` as an integer, `nil` for SQL NULL. Throws when the result has no such
    /// column or the value is not an integer that fits in 64 bits (a DECIMAL with a fraction, text).
    public func int(_ column: String) throws(MariaDBRowError) -> Int64? {
        guard let text = try self.string(column) else { return nil }
        guard let value = Int64(text) else {
            throw MariaDBRowError(column: column, reason: .notAnInteger(text))
        }
        return value
    }
}

/// The column names of a result, with a lookup by name.
public struct MariaDBColumns: Sendable {
    /// The names (or `AS` aliases) in SELECT order.
    public let names: [String]
    private let indexByName: [String: Int]

    init(names: [String]) {
        self.names = names
        // MariaDB column names are case-insensitive; on duplicates (a join of two `status`
        // columns) the first wins, as with positional reading. Alias them to read both.
        var indexByName: [String: Int] = [:]
        for (index, name) in names.enumerated() where indexByName[name.lowercased()] == nil {
            indexByName[name.lowercased()] = index
        }
        self.indexByName = indexByName
    }

    /// The position of `name`, compared case-insensitively as MariaDB does.
    public func index(of name: String) -> Int? {
        self.indexByName[name.lowercased()]
    }
}

/// A value could not be read from a ``MariaDBRow`` as asked.
public struct MariaDBRowError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Why the value could not be read.
    public enum Reason: Sendable, Hashable {
        /// The result has no column of that name; the ones it has are listed.
        case noSuchColumn(available: [String])
        /// The value is not an integer.
        case notAnInteger(String)
    }

    /// The column asked for.
    public var column: String
    public var reason: Reason

    public var description: String {
        switch self.reason {
        case .noSuchColumn(let available):
            "no column '\(self.column)' in the result (columns: \(available.joined(separator: ", ")))"
        case .notAnInteger(let text):
            "column '\(self.column)' is not an integer: '\(text)'"
        }
    }
}
