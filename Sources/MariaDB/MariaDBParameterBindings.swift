import CMariaDB

/// The `MYSQL_BIND` array for a statement's parameters and the memory each one points at.
///
/// libmariadb keeps the pointers from `mysql_stmt_bind_param` and reads them during
/// `mysql_stmt_execute`, so the memory must outlive both: the caller deallocates it after executing.
struct MariaDBParameterBindings {
    let binds: UnsafeMutablePointer<MYSQL_BIND>
    private let count: Int
    private let buffers: [UnsafeMutableRawPointer]
    private let lengths: UnsafeMutablePointer<UInt>

    init(_ parameters: [MariaDBValue]) {
        self.count = parameters.count
        self.binds = .allocate(capacity: max(1, parameters.count))
        self.binds.initialize(repeating: MYSQL_BIND(), count: parameters.count)
        self.lengths = .allocate(capacity: max(1, parameters.count))
        self.lengths.initialize(repeating: 0, count: parameters.count)
        var buffers: [UnsafeMutableRawPointer] = []
        for (index, parameter) in parameters.enumerated() {
            let buffer: UnsafeMutableRawPointer
            switch parameter {
            case .string(let text):
                let bytes = Array(text.utf8)
                buffer = .allocate(byteCount: max(1, bytes.count), alignment: 1)
                buffer.copyMemory(from: bytes, byteCount: bytes.count)
                self.binds[index].buffer_type = MYSQL_TYPE_STRING
                self.binds[index].buffer_length = UInt(bytes.count)
                self.lengths[index] = UInt(bytes.count)
            case .int(let value):
                buffer = .allocate(byteCount: 8, alignment: 8)
                buffer.storeBytes(of: value, as: Int64.self)
                self.binds[index].buffer_type = MYSQL_TYPE_LONGLONG
            case .double(let value):
                buffer = .allocate(byteCount: 8, alignment: 8)
                buffer.storeBytes(of: value, as: Double.self)
                self.binds[index].buffer_type = MYSQL_TYPE_DOUBLE
            case .null:
                buffer = .allocate(byteCount: 1, alignment: 1)
                self.binds[index].buffer_type = MYSQL_TYPE_NULL
            }
            self.binds[index].buffer = buffer
            self.binds[index].length = self.lengths + index
            buffers.append(buffer)
        }
        self.buffers = buffers
    }

    func deallocate() {
        for buffer in self.buffers { buffer.deallocate() }
        self.binds.deinitialize(count: self.count)
        self.binds.deallocate()
        self.lengths.deallocate()
    }
}
