import ArgumentParser
import DPO
import FileErrors
import Foundation
import GPT2
import Yams

/// A YAML config file whose snake_case keys are the long options of `train`
/// (`learning_rate: 1e-4` is `--learning-rate=1e-4`), turned into those options so that the
/// file and the command line are parsed, typed and validated by the same code.
enum ConfigFile {
    /// The options the file at `path` stands for. Unknown keys, keys set twice and values of the
    /// wrong shape are refused with the file, line and key named.
    static func options(path: String) throws -> TrainOptions {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ValidationError("\(path): cannot read the config file: \(FileError.cause(of: error))")
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw ValidationError("\(path): not valid YAML: \(error)")
        }
        guard let mapping = node?.mapping else {
            throw ValidationError("\(path): the config must be a mapping of option names to values")
        }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent()
        var firstLines: [String: Int] = [:]
        var arguments: [String] = []
        for (keyNode, valueNode) in mapping {
            let line = keyNode.mark?.line ?? 0
            guard let key = keyNode.scalar?.string else {
                throw ValidationError("\(path):\(line): a key must be an option name")
            }
            if let first = firstLines[key] {
                throw ValidationError("\(path):\(line): \(key) is set twice (also on line \(first)); keep one")
            }
            firstLines[key] = line
            guard TrainingConfig.keys.contains(key) else {
                let known = TrainingConfig.keys.filter { $0.hasPrefix(String(key.prefix(3))) }
                throw ValidationError("\(path):\(line): unknown key \(key)"
                    + (known.isEmpty ? "" : " (did you mean \(known.joined(separator: ", "))?)"))
            }
            arguments += try Self.arguments(key: key, value: Constructor.default.any(from: valueNode), path: path, base: base)
        }
        do {
            return try TrainOptions.parse(arguments)
        } catch {
            throw ValidationError("\(path): \(TrainOptions.message(for: error))")
        }
    }

    /// Paths in a config file are relative to the file's directory.
    static let pathKeys: Set<String> = ["model", "ref_model", "tokenizer", "data", "eval_data", "chat_template", "output_dir", "ref_cache_dir", "adapter"]

    /// The command-line arguments for one key. A value is attached to its option (`--beta=-0.1`)
    /// so that one starting with `-` is read as the value, not as another option.
    static func arguments(key: String, value: Any, path: String, base: URL) throws -> [String] {
        let option = "--" + key.replacingOccurrences(of: "_", with: "-")
        /// A path relative to the file's directory; for `data`, each of its files (a YAML list
        /// `[a.json, b.jsonl]` or a comma-separated string).
        func relative(_ text: String) -> String {
            if key == "data", text.contains(",") {
                return text.split(separator: ",").map { relative($0.trimmingCharacters(in: .whitespaces)) }.joined(separator: ",")
            }
            guard pathKeys.contains(key), !text.hasPrefix("/"), !(key == "model" && GPT2Config.named(text) != nil) else { return text }
            return base.appendingPathComponent(text).standardizedFileURL.path
        }
        switch value {
        case let flag as Bool:
            return [flag ? option : "--no-" + option.dropFirst(2)]
        case let list as [Any]:
            return [option + "=" + list.map { relative("\($0)") }.joined(separator: ",")]
        case is [AnyHashable: Any]:
            throw ValidationError("\(path): \(key) must be a single value or a list, not a mapping")
        case is NSNull:
            return []
        default:
            return [option + "=" + relative("\(value)")]
        }
    }
}
