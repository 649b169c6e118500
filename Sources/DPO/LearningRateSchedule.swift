import Foundation

/// How the learning rate moves over the steps of a phase (names as Hugging Face's `lr_scheduler_type`).
public enum LearningRateScheduleKind: String, Codable, CaseIterable, Sendable {
    /// The peak rate after warm-up, unchanged.
    case constant
    /// Linear decay from the peak after warm-up to 0 at the last step.
    case linear
    /// Half-cosine decay from the peak after warm-up to 0 at the last step.
    case cosine
}

/// A warm-up-then-decay schedule over `totalSteps` optimiser steps, as `transformers.get_scheduler`.
public struct LearningRateSchedule: Equatable, Sendable {
    /// The shape after warm-up.
    public var kind: LearningRateScheduleKind
    /// The rate reached at the end of warm-up.
    public var peak: Double
    /// Steps of linear warm-up from 0.
    public var warmupSteps: Int
    /// Steps in the phase.
    public var totalSteps: Int

    /// A schedule; `warmupSteps` must not exceed `totalSteps`.
    public init(kind: LearningRateScheduleKind, peak: Double, warmupSteps: Int, totalSteps: Int) {
        self.kind = kind
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

    /// The learning rate applied at optimiser step `step` (0-based within the phase):
    /// `peak · step/warmup` during warm-up, then the decay of `kind` evaluated at
    /// `progress = (step − warmup) / (total − warmup)`.
    public func rate(at step: Int) -> Double {
        if step < warmupSteps { return peak * Double(step) / Double(max(1, warmupSteps)) }
        let progress = Double(step - warmupSteps) / Double(max(1, totalSteps - warmupSteps))
        switch kind {
        case .constant: return peak
        case .linear: return peak * max(0, 1 - progress)
        case .cosine: return peak * max(0, 0.5 * (1 + cos(Double.pi * progress)))
        }
    }
}
