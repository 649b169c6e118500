import Foundation

/// GPT-2's byte-level byte-pair-encoding tokenizer.
///
/// Text is cut at special tokens (`<|endoftext|>`, which becomes its own id), the rest is split by
/// `GPT2PreTokenizer`, and each piece's UTF-8 bytes are merged by rank. Ids equal those of
/// tiktoken's `gpt2` encoding and Hugging Face's `GPT2TokenizerFast`. Calls are thread-safe; they
/// take turns on the merge cache.
public final class GPT2Tokenizer: @unchecked Sendable {
    /// Id of `<|endoftext|>`, GPT-2's end-of-sequence (and padding) token.
    public let endOfTextID: Int32
    /// The end-of-sequence text, `<|endoftext|>`.
    public let endOfText = "<|endoftext|>"
    /// Number of ids (largest id + 1).
    public let vocabularySize: Int

    private let merger: BytePairMerger
    private let tokenBytes: [[UInt8]]
    private let specialTokens: [(bytes: [UInt8], id: Int32)]
    private let lock = NSLock()
    private var cache = PieceCache(capacity: 1 << 18)
    private var mergeStepCount = 0

    /// The merge loop's work over all `encode` calls so far, in steps: one per byte of each piece it
    /// merged, one per entry taken from its priority queue and one per comparison inside that queue
    /// (pieces the cache answers cost none). It grows as n log n in a piece's length n; tests read
    /// it to check that by counting instead of timing.
    public var mergeSteps: Int {
        lock.lock()
        defer { lock.unlock() }
        return mergeStepCount
    }

    /// Builds a tokenizer from its files; `source` names them in errors.
    public init(files: TokenizerFiles, source: String) throws {
        let vocabulary = files.vocabulary
        guard let endOfTextID = vocabulary[endOfText] else {
            throw TokenizerError.invalid(file: source, line: nil, field: nil, reason: "the vocabulary has no \(endOfText)")
        }
        let size = Int(vocabulary.values.max() ?? -1) + 1
        var tokenBytes = [[UInt8]](repeating: [], count: size)
        for (token, id) in vocabulary {
            tokenBytes[Int(id)] = files.specialTokens.contains(token)
                ? Array(token.utf8) : (ByteLevelAlphabet.unspell(token) ?? Array(token.utf8))
        }
        var byteTokenIDs = [Int32]()
        for scalar in ByteLevelAlphabet.scalars {
            guard let id = vocabulary[String(scalar)] else {
                throw TokenizerError.invalid(
                    file: source, line: nil, field: nil, reason: "the vocabulary has no token for byte \(scalar)")
            }
            byteTokenIDs.append(id)
        }
        var merges = [UInt64: UInt64](minimumCapacity: files.merges.count)
        for (rank, merge) in files.merges.enumerated() {
            guard let left = vocabulary[merge.left], let right = vocabulary[merge.right],
                  let merged = vocabulary[merge.left + merge.right] else {
                throw TokenizerError.invalid(
                    file: source, line: nil, field: "merges[\(rank)]",
                    reason: "\"\(merge.left) \(merge.right)\" uses or makes a token missing from the vocabulary")
            }
            let key = UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
            if merges[key] == nil { merges[key] = UInt64(rank) << 32 | UInt64(UInt32(bitPattern: merged)) }
        }
        self.endOfTextID = endOfTextID
        self.vocabularySize = size
        self.tokenBytes = tokenBytes
        self.merger = BytePairMerger(byteTokenIDs: byteTokenIDs, merges: merges)
        self.specialTokens = files.specialTokens.compactMap { token in
            vocabulary[token].map { (Array(token.utf8), $0) }
        }
    }

    /// Loads `tokenizer.json`, or `vocab.json` + `merges.txt`, from a directory (or a `tokenizer.json` path).
    public convenience init(contentsOf url: URL) throws {
        try self.init(files: try TokenizerFiles.read(from: url), source: url.path)
    }

    /// GPT-2's own tokenizer, from the `vocab.json` and `merges.txt` shipped inside this package.
    public static func bundledGPT2() throws -> GPT2Tokenizer {
        guard let directory = bundledGPT2Directory else {
            throw TokenizerError.unreadable(file: "dpo-ddp_Tokenizer.resources", reason:
                "GPT-2's bundled tokenizer files are not next to the binary; copy that directory along or pass --tokenizer DIR")
        }
        return try GPT2Tokenizer(contentsOf: directory)
    }

    /// The token ids of `text`; special tokens written in the text become their ids.
    public func encode(_ text: String) -> [Int32] {
        var text = text
        return text.withUTF8 { bytes in
            var ids = [Int32]()
            ids.reserveCapacity(bytes.count / 3)
            lock.lock()
            defer { lock.unlock() }
            var start = 0
            while let (matchStart, special) = nextSpecialToken(in: bytes, from: start) {
                encodeOrdinary(UnsafeBufferPointer(rebasing: bytes[start..<matchStart]), into: &ids)
                ids.append(special.id)
                start = matchStart + special.bytes.count
            }
            encodeOrdinary(UnsafeBufferPointer(rebasing: bytes[start...]), into: &ids)
            return ids
        }
    }

    /// The bytes the ids stand for.
    public func decodeBytes(_ ids: [Int32]) throws -> [UInt8] {
        var bytes = [UInt8]()
        for id in ids {
            guard id >= 0, Int(id) < tokenBytes.count, !tokenBytes[Int(id)].isEmpty else {
                throw TokenizerError.unknownTokenID(id)
            }
            bytes.append(contentsOf: tokenBytes[Int(id)])
        }
        return bytes
    }

    /// The text the ids stand for; `decode(encode(s)) == s` for every string. Ids that end inside a
    /// UTF-8 sequence decode to U+FFFD there.
    public func decode(_ ids: [Int32]) throws -> String {
        String(decoding: try decodeBytes(ids), as: UTF8.self)
    }

    private func nextSpecialToken(
        in bytes: UnsafeBufferPointer<UInt8>, from start: Int
    ) -> (Int, (bytes: [UInt8], id: Int32))? {
        guard !specialTokens.isEmpty else { return nil }
        var index = start
        while index < bytes.count {
            for special in specialTokens where bytes[index] == special.bytes[0]
                && index + special.bytes.count <= bytes.count
                && special.bytes.indices.allSatisfy({ bytes[index + $0] == special.bytes[$0] }) {
                return (index, special)
            }
            index += 1
        }
        return nil
    }

    private func encodeOrdinary(_ bytes: UnsafeBufferPointer<UInt8>, into ids: inout [Int32]) {
        GPT2PreTokenizer.forEachPiece(in: bytes) { range in
            cache.encode(UnsafeBufferPointer(rebasing: bytes[range]), into: &ids, with: merger, steps: &mergeStepCount)
        }
    }
}
