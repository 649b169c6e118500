/// The classes GPT-2's pre-tokenisation pattern distinguishes: `\p{L}`, `\p{N}`, `\s`, and the rest.
enum ScalarClass: UInt8 {
    case letter, number, whitespace, other

    /// Classes of the Basic Multilingual Plane, computed once; scalars above it are classified on demand.
    static let basicPlane: [ScalarClass] = (0..<0x1_0000).map { value in
        guard let scalar = Unicode.Scalar(UInt32(value)) else { return .other }
        return classify(scalar)
    }

    /// The class of one scalar from its Unicode properties (`White_Space`, general category L* / N*).
    static func classify(_ scalar: Unicode.Scalar) -> ScalarClass {
        let properties = scalar.properties
        if properties.isWhitespace { return .whitespace }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return .other
        }
    }
}
