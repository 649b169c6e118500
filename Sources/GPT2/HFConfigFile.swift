import FileErrors
import Foundation
import Safetensors

/// Reading and writing GPT-2's Hugging Face `config.json`.
public enum HFConfigFile {
    /// Activation names that denote GPT-2's tanh-approximated GELU in `transformers`.
    static let supportedActivations = ["gelu_new", "gelu_pytorch_tanh", "gelu_fast"]

    /// Parses a `config.json`, refusing settings this engine does not implement.
    public static func read(_ url: URL) throws(CheckpointError) -> GPT2Config {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        } catch {
            throw CheckpointError(url, "cannot read config: \(FileError.cause(of: error))")
        }
        guard let json = object as? [String: Any] else {
            throw CheckpointError(url, "config is not a JSON object")
        }
        if let type = json["model_type"] as? String, type != "gpt2" {
            throw CheckpointError(url, "model_type is \"\(type)\"; only \"gpt2\" models are supported")
        }
        if let act = json["activation_function"] as? String, !supportedActivations.contains(act) {
            throw CheckpointError(url, "activation_function \"\(act)\" is not supported (use one of \(supportedActivations))")
        }
        for (key, required) in [("scale_attn_weights", true), ("scale_attn_by_inverse_layer_idx", false),
                                ("tie_word_embeddings", true)] {
            if let value = json[key] as? NSNumber, isJSONBoolean(value), value.boolValue != required {
                throw CheckpointError(url, "\(key) = \(value.boolValue) is not supported (only \(required))")
            }
        }
        func int(_ key: String, default value: Int? = nil) throws(CheckpointError) -> Int {
            switch json[key] {
            case let n as NSNumber where !isJSONBoolean(n) && n.doubleValue == n.doubleValue.rounded():
                return n.intValue
            case nil, is NSNull:
                if let value { return value }
                throw CheckpointError(url, "missing integer \"\(key)\"")
            default:
                let got = (json[key] as? NSNumber).flatMap { isJSONBoolean($0) ? "\($0.boolValue)" : nil } ?? "\(json[key]!)"
                throw CheckpointError(url, "\"\(key)\" must be an integer, got \(got)")
            }
        }
        let nEmbd = try int("n_embd")
        let epsilon: Float
        switch json["layer_norm_epsilon"] {
        case nil: epsilon = 1e-5
        case let n as NSNumber where !isJSONBoolean(n): epsilon = n.floatValue
        default: throw CheckpointError(url, "\"layer_norm_epsilon\" must be a number")
        }
        let config = GPT2Config(
            nLayer: try int("n_layer"), nHead: try int("n_head"), nEmbd: nEmbd,
            nPositions: try int("n_positions", default: 1024), vocabSize: try int("vocab_size", default: 50257),
            nInner: try int("n_inner", default: 4 * nEmbd), layerNormEpsilon: epsilon)
        do {
            try config.validate()
        } catch {
            throw CheckpointError(url, error.description)
        }
        return config
    }

    /// The `config.json` object `transformers` expects for a `GPT2LMHeadModel` of this shape.
    public static func jsonObject(for config: GPT2Config, torchDType: String = "float32") -> [String: Any] {
        [
            "architectures": ["GPT2LMHeadModel"],
            "model_type": "gpt2",
            "activation_function": "gelu_new",
            "n_layer": config.nLayer,
            "n_head": config.nHead,
            "n_embd": config.nEmbd,
            "n_positions": config.nPositions,
            "n_ctx": config.nPositions,
            "n_inner": config.nInner == 4 * config.nEmbd ? NSNull() : config.nInner,
            "vocab_size": config.vocabSize,
            "layer_norm_epsilon": Double(config.layerNormEpsilon),
            "bos_token_id": 50256,
            "eos_token_id": 50256,
            "initializer_range": 0.02,
            "resid_pdrop": 0.1,
            "embd_pdrop": 0.1,
            "attn_pdrop": 0.1,
            "scale_attn_weights": true,
            "tie_word_embeddings": true,
            "use_cache": true,
            "dtype": torchDType,
        ]
    }

    /// Writes `config.json` for `config` to `url`.
    public static func write(_ config: GPT2Config, to url: URL, torchDType: String = "float32") throws {
        let data = try JSONSerialization.data(withJSONObject: jsonObject(for: config, torchDType: torchDType),
                                              options: [.prettyPrinted, .sortedKeys])
        try data.write(to: url, options: .atomic)
    }
}

/// A checkpoint that cannot be loaded or saved, with the file and the reason.
public struct CheckpointError: Error, CustomStringConvertible, Equatable {
    /// The file or directory concerned.
    public let path: String
    /// Why it was refused.
    public let reason: String
    /// `path: reason`.
    public var description: String { "\(path): \(reason)" }

    /// An error about `url`.
    public init(_ url: URL, _ reason: String) {
        path = url.path
        self.reason = reason
    }
}
