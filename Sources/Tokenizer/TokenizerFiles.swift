import FileErrors
import Foundation

/// The vocabulary, merges and special tokens of a byte-level BPE tokenizer, as read from disk.
public struct TokenizerFiles: Sendable {
    /// Token spelling (GPT-2's byte-level alphabet, e.g. `Ġthe` for " the") to id.
    public var vocabulary: [String: Int32]
    /// Merge rules in rank order: the left and right token spellings.
    public var merges: [(left: String, right: String)]
    /// Tokens matched verbatim in text before pre-tokenisation (GPT-2: `<|endoftext|>`).
    public var specialTokens: [String]

    /// Reads `tokenizer.json` if the directory has one, else `vocab.json` and `merges.txt`.
    /// `url` may also name a `tokenizer.json` file directly.
    public static func read(from url: URL) throws -> TokenizerFiles {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw TokenizerError.unreadable(file: url.path, reason: "no such file or directory")
        }
        if !isDirectory.boolValue { return try readTokenizerJSON(url) }
        let tokenizerJSON = url.appendingPathComponent("tokenizer.json")
        if FileManager.default.fileExists(atPath: tokenizerJSON.path) { return try readTokenizerJSON(tokenizerJSON) }
        let vocabularyURL = url.appendingPathComponent("vocab.json")
        let vocabulary = try readVocabulary(json: try readJSON(vocabularyURL), file: vocabularyURL.path, field: nil)
        let merges = try readMergesText(url.appendingPathComponent("merges.txt"))
        let special = vocabulary["<|endoftext|>"] == nil ? [] : ["<|endoftext|>"]
        return TokenizerFiles(vocabulary: vocabulary, merges: merges, specialTokens: special)
    }

    private static func readData(_ url: URL) throws -> Data {
        do {
            return try Data(contentsOf: url)
        } catch {
            throw TokenizerError.unreadable(file: url.path, reason: FileError.cause(of: error))
        }
    }

    private static func readJSON(_ url: URL) throws -> Any {
        do {
            return try JSONSerialization.jsonObject(with: try readData(url))
        } catch let error as TokenizerError {
            throw error
        } catch {
            throw TokenizerError.invalid(file: url.path, line: nil, field: nil, reason: "malformed JSON: \(error)")
        }
    }

    private static func readVocabulary(json: Any, file: String, field: String?) throws -> [String: Int32] {
        guard let entries = json as? [String: Any] else {
            throw TokenizerError.invalid(file: file, line: nil, field: field, reason: "expected an object of token to id")
        }
        var vocabulary = [String: Int32](minimumCapacity: entries.count)
        for (token, value) in entries {
            guard let id = value as? Int, let id32 = Int32(exactly: id), id32 >= 0 else {
                throw TokenizerError.invalid(
                    file: file, line: nil, field: (field.map { "\($0)." } ?? "") + token,
                    reason: "expected a non-negative integer id")
            }
            vocabulary[token] = id32
        }
        return vocabulary
    }

    private static func readMergesText(_ url: URL) throws -> [(left: String, right: String)] {
        guard let text = String(data: try readData(url), encoding: .utf8) else {
            throw TokenizerError.invalid(file: url.path, line: nil, field: nil, reason: "not valid UTF-8")
        }
        var merges = [(left: String, right: String)]()
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.isEmpty || (index == 0 && line.hasPrefix("#version")) { continue }
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw TokenizerError.invalid(
                    file: url.path, line: index + 1, field: nil, reason: "expected two tokens separated by one space")
            }
            merges.append((String(parts[0]), String(parts[1])))
        }
        return merges
    }

    private static func readTokenizerJSON(_ url: URL) throws -> TokenizerFiles {
        let file = url.path
        guard let root = try readJSON(url) as? [String: Any], let model = root["model"] as? [String: Any] else {
            throw TokenizerError.invalid(file: file, line: nil, field: "model", reason: "expected an object")
        }
        guard model["type"] as? String == "BPE" else {
            throw TokenizerError.invalid(
                file: file, line: nil, field: "model.type", reason: "expected \"BPE\", found \(model["type"] ?? "nothing")")
        }
        var vocabulary = try readVocabulary(json: model["vocab"] as Any, file: file, field: "model.vocab")
        guard let rawMerges = model["merges"] as? [Any] else {
            throw TokenizerError.invalid(file: file, line: nil, field: "model.merges", reason: "expected an array")
        }
        var merges = [(left: String, right: String)]()
        for (index, entry) in rawMerges.enumerated() {
            if let pair = entry as? [String], pair.count == 2 {
                merges.append((pair[0], pair[1]))
            } else if let text = entry as? String, case let parts = text.split(separator: " "), parts.count == 2 {
                merges.append((String(parts[0]), String(parts[1])))
            } else {
                throw TokenizerError.invalid(
                    file: file, line: nil, field: "model.merges[\(index)]", reason: "expected \"left right\" or [left, right]")
            }
        }
        var special = [String]()
        for (index, entry) in (root["added_tokens"] as? [Any] ?? []).enumerated() {
            guard let token = entry as? [String: Any], let content = token["content"] as? String,
                  let id = token["id"] as? Int, let id32 = Int32(exactly: id) else {
                throw TokenizerError.invalid(
                    file: file, line: nil, field: "added_tokens[\(index)]", reason: "expected {id, content}")
            }
            special.append(content)
            if vocabulary[content] == nil { vocabulary[content] = id32 }
        }
        return TokenizerFiles(vocabulary: vocabulary, merges: merges, specialTokens: special)
    }
}
