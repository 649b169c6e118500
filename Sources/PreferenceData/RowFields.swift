import Foundation

/// Typed reads of one row's fields that fail with a `PreferenceDataError` naming file, line and field.
struct RowFields {
    let file: String
    let line: Int
    let object: [String: Any]
    /// Path of this object inside the row, e.g. `conversations[2]`, or empty for the row itself.
    var path = ""

    private func name(_ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    func error(_ key: String, _ problem: PreferenceDataError.Problem) -> PreferenceDataError {
        PreferenceDataError(file: file, line: line, field: name(key), problem: problem)
    }

    private func value(_ key: String) throws -> Any {
        guard let value = object[key] else { throw error(key, .missingField) }
        return value
    }

    /// A string field; empty strings are an error unless `allowEmpty`.
    func string(_ key: String, allowEmpty: Bool = false) throws -> String {
        let value = try value(key)
        guard let string = value as? String else {
            throw error(key, .wrongType(expected: "a string", found: JSONType.name(of: value)))
        }
        if string.isEmpty && !allowEmpty { throw error(key, .emptyField) }
        return string
    }

    /// An optional string field (absent or null gives nil; empty is allowed).
    func optionalString(_ key: String) throws -> String? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        return try string(key, allowEmpty: true)
    }

    /// An object field, as fields of its own.
    func object(_ key: String) throws -> RowFields {
        let value = try value(key)
        guard let nested = value as? [String: Any] else {
            throw error(key, .wrongType(expected: "an object", found: JSONType.name(of: value)))
        }
        return RowFields(file: file, line: line, object: nested, path: name(key))
    }

    /// A non-empty array of objects, each as fields of its own.
    func objects(_ key: String) throws -> [RowFields] {
        let value = try value(key)
        guard let array = value as? [Any] else {
            throw error(key, .wrongType(expected: "an array of objects", found: JSONType.name(of: value)))
        }
        if array.isEmpty { throw error(key, .emptyField) }
        return try array.enumerated().map { index, element in
            guard let nested = element as? [String: Any] else {
                throw error("\(key)[\(index)]", .wrongType(expected: "an object", found: JSONType.name(of: element)))
            }
            return RowFields(file: file, line: line, object: nested, path: name("\(key)[\(index)]"))
        }
    }

    /// True when the field holds an array (a conversation) rather than a string.
    func isArray(_ key: String) -> Bool {
        object[key] is [Any]
    }
}
