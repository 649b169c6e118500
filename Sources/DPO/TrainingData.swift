import Foundation
import PreferenceData
import Tokenizer

/// The tokenized data sets of a run and what the trainer needs to batch them.
public struct TrainingData: Sendable {
    /// Training pairs.
    public var train: PreferenceDataset
    /// Where they were read from (the reference cache is written beside it).
    public var trainURL: URL
    /// Held-out pairs, if any.
    public var eval: PreferenceDataset?
    /// Where they were read from.
    public var evalURL: URL?
    /// Token id used for right padding.
    public var padID: Int32
    /// Tokenizer files copied into every checkpoint.
    public var tokenizerFiles: [URL]
    /// The tokenizer, to turn `generate_during_eval` samples into text (ids are written without it).
    public var tokenizer: GPT2Tokenizer?

    /// Bundles the data of a run.
    public init(train: PreferenceDataset, trainURL: URL, eval: PreferenceDataset?, evalURL: URL?,
                padID: Int32, tokenizerFiles: [URL], tokenizer: GPT2Tokenizer? = nil) {
        self.train = train
        self.trainURL = trainURL
        self.eval = eval
        self.evalURL = evalURL
        self.padID = padID
        self.tokenizerFiles = tokenizerFiles
        self.tokenizer = tokenizer
    }
}
