import Foundation

/// Reads a JSON value produced by `JSONSerialization` as a non-negative `Int`, strictly.
///
/// `JSONSerialization` hands numbers back as `NSNumber`, which converts booleans to 0 or 1
/// and `2.0` or `1e3` to integers. The reference implementation (serde) accepts only
/// integer literals, so this does too: floating-point and boolean literals are refused by
/// their Objective-C type encoding ("d"/"f" for floats, "c" for booleans).
func nonNegativeJSONInteger(_ value: Any) -> Int? {
    guard let number = value as? NSNumber else { return nil }
    switch String(cString: number.objCType) {
    case "d", "f", "c", "B": return nil
    default: break
    }
    guard let integer = value as? Int, integer >= 0 else { return nil }
    return integer
}
