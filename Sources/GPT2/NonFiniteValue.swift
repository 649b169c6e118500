/// A NaN or infinity found by the debug-mode checks, with the layer it came out of.
public struct NonFiniteValue: Error, CustomStringConvertible, Equatable {
    /// The layer (Hugging Face module name) whose output holds it.
    public let place: String
    /// Flat index of the first such value in that output.
    public let index: Int
    /// The value (NaN, +inf or -inf).
    public let value: Float

    /// `non-finite value nan in the output of h.3.mlp.c_fc + gelu (element 17)`.
    public var description: String { "non-finite value \(value) in the output of \(place) (element \(index))" }
}
