import Foundation

extension TrainingConfig {
    /// The settings as YAML, one `key: value` line per set key in declaration order, readable by
    /// YAML 1.1 and 1.2 parsers alike (floats always carry a decimal point: `1.0e-08`, `0.1`).
    /// This is what `--config` reads back.
    public var yaml: String {
        let object = (try? JSONSerialization.jsonObject(with: JSONEncoder().encode(self))) as? [String: Any] ?? [:]
        return Self.keys.compactMap { key in
            object[key].map { "\(key): \(Self.yamlValue($0))" }
        }.joined(separator: "\n") + "\n"
    }

    static func yamlValue(_ value: Any) -> String {
        switch value {
        case let number as NSNumber where String(cString: number.objCType) == "c":  // how Foundation marks booleans
            return number.boolValue ? "true" : "false"
        case let number as NSNumber:
            let double = number.doubleValue
            if double != double.rounded() {
                var text = "\(double)"
                if let e = text.firstIndex(of: "e"), !text[..<e].contains(".") { text.insert(contentsOf: ".0", at: e) }
                return text
            }
            return "\(number.int64Value)"
        case let list as [Any]:
            return "[" + list.map(yamlValue).joined(separator: ", ") + "]"
        default:
            let data = (try? JSONSerialization.data(withJSONObject: ["\(value)"], options: [.withoutEscapingSlashes])) ?? Data()
            return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())  // a JSON string is a YAML string
        }
    }
}
