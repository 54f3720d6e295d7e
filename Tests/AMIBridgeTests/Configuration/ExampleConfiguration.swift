import Foundation

/// `Config/amibridge.example.yaml` as a flat list of dotted keys and their YAML value text, and
/// back: tests change one key and write the file again.
enum ExampleConfiguration {
    /// The keys set (not commented out) in the example file, in file order.
    static func keyValues() throws -> [(key: String, value: String)] {
        let text = try String(contentsOf: DaemonProcessTests.exampleConfig, encoding: .utf8)
        var path: [(indent: Int, name: String)] = []
        var values: [(key: String, value: String)] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let indent = line.prefix { $0 == " " }.count
            let content = line.dropFirst(indent)
            guard !content.hasPrefix("#"), let colon = content.firstIndex(of: ":") else { continue }
            let name = String(content[..<colon])
            var value = String(content[content.index(after: colon)...])
            if let comment = value.range(of: " #") { value = String(value[..<comment.lowerBound]) }
            value = value.trimmingCharacters(in: .whitespaces)
            path.removeAll { $0.indent >= indent }
            if value.isEmpty {
                path.append((indent, name))
            } else {
                values.append(((path.map(\.name) + [name]).joined(separator: "."), value))
            }
        }
        return values
    }

    /// Nested block YAML for the dotted keys, two spaces per level.
    static func render(_ values: [(key: String, value: String)]) -> String {
        final class Node {
            var order: [String] = []
            var children: [String: Node] = [:]
            var value: String?
        }
        let root = Node()
        for (key, value) in values {
            var node = root
            for component in key.split(separator: ".").map(String.init) {
                if node.children[component] == nil {
                    node.children[component] = Node()
                    node.order.append(component)
                }
                node = node.children[component]!
            }
            node.value = value
        }
        var lines: [String] = []
        func write(_ node: Node, depth: Int) {
            for name in node.order {
                let child = node.children[name]!
                let indent = String(repeating: "  ", count: depth)
                if let value = child.value {
                    lines.append("\(indent)\(name): \(value)")
                } else {
                    lines.append("\(indent)\(name):")
                    write(child, depth: depth + 1)
                }
            }
        }
        write(root, depth: 0)
        return lines.joined(separator: "\n") + "\n"
    }
}
