import Foundation

/// Reads a JSON value produced by `JSONSerialization` as a non-negative `Int`, strictly.
///
/// `JSONSerialization` hands numbers back as `NSNumber`, which converts booleans to 0 or 1
/// and `2.0` or `1e3` to integers. The reference implementation (serde) accepts only
/// integer literals, so this does too: floating-point and boolean literals are refused by
/// their Objective-C type encoding ("d"/"f" for floats, "c" for booleans).
func nonNegativeJSONInteger(_ value: Any) -> Int? {
    guard let number = value as? NSNumber, !isJSONBoolean(number) else { return nil }
    switch String(cString: number.objCType) {
    case "d", "f": return nil
    default: break
    }
    guard let integer = value as? Int, integer >= 0 else { return nil }
    return integer
}

/// Whether a number from `JSONSerialization` was a JSON `true`/`false` literal.
///
/// `number is Bool` cannot tell: on Linux it holds for every `NSNumber` equal to 0 or 1, so a
/// `"n_layer": 1` would pass for a boolean. The Objective-C type encoding can ("c" or "B").
public func isJSONBoolean(_ number: NSNumber) -> Bool {
    ["c", "B"].contains(String(cString: number.objCType))
}
