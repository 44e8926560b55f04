import TOMLKit

/// The node's configuration file (`darknode.toml`), parsed once with TOMLKit into plain values.
///
/// Each module reads its own `[section]` through `ConfigurationSection`, which rejects keys it does not know (a
/// typo would otherwise be ignored silently) and values of the wrong type, naming the key (`mesh.listen`). The
/// file comes from the host, which is not trusted: it is size-capped and holds only settings that do not weaken the
/// enclave's guarantees.
public struct ConfigurationFile: Sendable, Equatable {
    /// A TOML value with the types a configuration uses; dates and times are refused.
    public indirect enum Value: Sendable, Equatable {
        case string(String)
        case integer(Int)
        case boolean(Bool)
        case float(Double)
        case array([Value])
        case table([String: Value])

        var typeName: String {
            switch self {
            case .string: "string"
            case .integer: "integer"
            case .boolean: "boolean"
            case .float: "float"
            case .array: "array"
            case .table: "table"
            }
        }
    }

    /// A configuration file is written by hand; 64 KiB is far more than one needs.
    public static let fileBytesMax = 64 * 1024

    /// Top-level sections by name.
    public let sections: [String: [String: Value]]

    public init(sections: [String: [String: Value]] = [:]) {
        self.sections = sections
    }

    /// Parses TOML text. Every top-level entry must be a `[section]` table.
    public init(text: String) throws(ConfigurationError) {
        guard text.utf8.count <= Self.fileBytesMax else { throw .tooLarge(text.utf8.count) }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw .syntax(line: error.source.begin.line, column: error.source.begin.column, message: error.description)
        } catch {
            throw .syntax(line: 0, column: 0, message: "\(error)")
        }
        var sections: [String: [String: Value]] = [:]
        for key in table.keys {
            guard let entry = table[key] else { continue }
            guard case .table(let section) = try Self.value(entry, key: key) else { throw .notASection(key) }
            sections[key] = section
        }
        self.sections = sections
    }

    private static func value(_ node: any TOMLValueConvertible, key: String) throws(ConfigurationError) -> Value {
        switch node.type {
        case .string: return .string(node.string ?? "")
        case .int: return .integer(node.int ?? 0)
        case .bool: return .boolean(node.bool ?? false)
        case .double: return .float(node.double ?? 0)
        case .array:
            var values: [Value] = []
            for element in node.array.map(Array.init) ?? [] { values.append(try value(element, key: key)) }
            return .array(values)
        case .table:
            guard let table = node.table else { return .table([:]) }
            var values: [String: Value] = [:]
            for inner in table.keys {
                if let element = table[inner] { values[inner] = try value(element, key: key + "." + inner) }
            }
            return .table(values)
        default:
            throw .wrongType(key: key, expected: "string, integer, boolean, float, array or table", found: node.type.description)
        }
    }

    /// One section's reader; an absent section reads as empty.
    public func section(_ name: String, keys: Set<String>) throws(ConfigurationError) -> ConfigurationSection {
        let entries = sections[name] ?? [:]
        if let unknown = entries.keys.sorted().first(where: { !keys.contains($0) }) {
            throw .unknownKey(section: name, key: unknown)
        }
        return ConfigurationSection(name: name, entries: entries)
    }

    /// Refuses sections no module reads.
    public func requireOnly(sections known: Set<String>) throws(ConfigurationError) {
        if let unknown = sections.keys.sorted().first(where: { !known.contains($0) }) { throw .unknownSection(unknown) }
    }
}

/// Why a configuration file was refused. Keys are named `section.key`.
public enum ConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not TOML: where the parser stopped and why.
    case syntax(line: Int, column: Int, message: String)
    /// A top-level entry that is not a `[section]`.
    case notASection(String)
    case unknownSection(String)
    case unknownKey(section: String, key: String)
    case wrongType(key: String, expected: String, found: String)
    /// A value of the right type outside what the key allows, with what is allowed.
    case invalidValue(key: String, value: String, expected: String)
    /// The file is larger than `ConfigurationFile.fileBytesMax`.
    case tooLarge(Int)

    public var description: String {
        switch self {
        case .syntax(let line, let column, let message): "line \(line), column \(column): \(message)"
        case .notASection(let key): "`\(key)` is outside any [section]"
        case .unknownSection(let name): "unknown section [\(name)]"
        case .unknownKey(let section, let key): "unknown key `\(key)` in [\(section)]"
        case .wrongType(let key, let expected, let found): "`\(key)` must be \(expected), not \(found)"
        case .invalidValue(let key, let value, let expected): "`\(key)` = \(value): expected \(expected)"
        case .tooLarge(let bytes): "the file has \(bytes) bytes; at most \(ConfigurationFile.fileBytesMax)"
        }
    }
}

/// Typed access to one section's keys.
public struct ConfigurationSection: Sendable {
    public let name: String
    let entries: [String: ConfigurationFile.Value]

    func path(_ key: String) -> String { name + "." + key }

    public func string(_ key: String) throws(ConfigurationError) -> String? {
        guard let value = entries[key] else { return nil }
        guard case .string(let text) = value else { throw .wrongType(key: path(key), expected: "a string", found: value.typeName) }
        return text
    }

    public func integer(_ key: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let value = entries[key] else { return nil }
        guard case .integer(let number) = value else { throw .wrongType(key: path(key), expected: "an integer", found: value.typeName) }
        guard range.contains(number) else {
            throw .invalidValue(key: path(key), value: "\(number)", expected: "\(range.lowerBound)…\(range.upperBound)")
        }
        return number
    }

    public func strings(_ key: String, countMax: Int = 1_024) throws(ConfigurationError) -> [String]? {
        guard let value = entries[key] else { return nil }
        guard case .array(let elements) = value else { throw .wrongType(key: path(key), expected: "an array of strings", found: value.typeName) }
        guard elements.count <= countMax else {
            throw .invalidValue(key: path(key), value: "\(elements.count) entries", expected: "at most \(countMax)")
        }
        var result: [String] = []
        for element in elements {
            guard case .string(let text) = element else {
                throw .wrongType(key: path(key), expected: "an array of strings", found: "an array holding a \(element.typeName)")
            }
            result.append(text)
        }
        return result
    }

    /// A string that must be one of a `RawRepresentable`'s values.
    public func choice<T: RawRepresentable & CaseIterable>(_ key: String, as type: T.Type) throws(ConfigurationError) -> T?
    where T.RawValue == String {
        guard let text = try string(key) else { return nil }
        guard let choice = T(rawValue: text) else {
            throw .invalidValue(key: path(key), value: "\"\(text)\"", expected: T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " | "))
        }
        return choice
    }
}
