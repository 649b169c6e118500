import Foundation

/// Text and numbers made safe to put in HTML and SVG.
enum Markup {
    /// `text` with `&`, `<`, `>`, `"` and `'` replaced by character references, for element
    /// content and quoted attribute values alike.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// A metric value with four significant digits (`0.6931`, `-41.2`, `1e-4`, `1234`).
    static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e7 { return String(Int(value)) }
        return String(format: "%.4g", value)
            .replacingOccurrences(of: "e-0", with: "e-")
            .replacingOccurrences(of: "e+0", with: "e")
            .replacingOccurrences(of: "e+", with: "e")
    }

    /// A pixel coordinate with one decimal, as SVG attributes want them (`12.5`, `40`).
    static func coordinate(_ value: Double) -> String {
        let tenths = (value * 10).rounded()
        return tenths.truncatingRemainder(dividingBy: 10) == 0 ? String(Int(tenths / 10)) : String(tenths / 10)
    }
}
