import Foundation

/// swift-argument-parser reads a value that starts with `-` as another option, so `--beta -0.1`
/// fails with "Missing value for '--beta <beta>'". Attaching a negative number (or a
/// comma-separated list of numbers, the first negative) to the long option before it
/// (`--beta=-0.1`) lets it reach the option's own validation, which names what is accepted.
enum NegativeNumberArguments {
    /// `arguments` with every negative number that follows a long option without `=` attached to
    /// it; nothing after `--` is touched.
    static func attached(_ arguments: [String]) -> [String] {
        var result: [String] = []
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            if argument == "--" {
                result += arguments[index...]
                break
            }
            let next = index + 1
            if argument.hasPrefix("--"), !argument.contains("="), next < arguments.endIndex, isNegativeNumber(arguments[next]) {
                result.append(argument + "=" + arguments[next])
                index += 2
            } else {
                result.append(argument)
                index += 1
            }
        }
        return result
    }

    /// Whether `text` is a negative number or a comma-separated list of numbers starting with one.
    static func isNegativeNumber(_ text: String) -> Bool {
        text.hasPrefix("-") && text.split(separator: ",", omittingEmptySubsequences: false)
            .allSatisfy { Double($0.trimmingCharacters(in: .whitespaces)) != nil }
    }
}
