extension Duration {
    /// The duration in seconds, as a `Double` (for rates and progress displays).
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }
}
