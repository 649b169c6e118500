extension Duration {
    /// The duration in seconds, as a `Double` (for rates and progress displays).
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }
}

/// Runs `body` and returns the seconds it took.
func secondsSpent(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    return (ContinuousClock.now - start).inSeconds
}
