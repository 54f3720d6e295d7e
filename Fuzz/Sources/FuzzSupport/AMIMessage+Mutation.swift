import AMIProtocol

extension AMIMessage {
    /// This message with `name` set to `value`: the first such field replaced, or a new one
    /// appended (`first: true` puts it first, where `Response:` must be).
    public func setting(_ name: String, to value: String, first: Bool = false) -> AMIMessage {
        var fields = self.fields.map { (name: $0.name, value: $0.value) }
        if let index = fields.firstIndex(where: { $0.name.lowercased() == name.lowercased() }) {
            fields[index].value = value
            if first { fields.insert(fields.remove(at: index), at: 0) }
        } else if first {
            fields.insert((name, value), at: 0)
        } else {
            fields.append((name, value))
        }
        return AMIMessage(fields)
    }
}
