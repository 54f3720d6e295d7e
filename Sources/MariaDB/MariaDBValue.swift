/// A value bound to a `?` placeholder of a prepared statement.
///
/// Values travel separately from the SQL text (MariaDB's binary protocol), so quotes, `--`, CR/LF
/// or NUL in a value can never change what the statement does.
public enum MariaDBValue: Sendable, Hashable {
    case string(String)
    case int(Int64)
    case double(Double)
    case null
}

extension MariaDBValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) {
        self = .string(value)
    }
}

extension MariaDBValue: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int64) {
        self = .int(value)
    }
}

extension MariaDBValue: ExpressibleByFloatLiteral {
    public init(floatLiteral value: Double) {
        self = .double(value)
    }
}

extension MariaDBValue: ExpressibleByNilLiteral {
    public init(nilLiteral: ()) {
        self = .null
    }
}
