import FileErrors
import Foundation

/// One row of a data file: its parsed JSON object and the line it starts on.
struct JSONRecord {
    /// 1-based line where the row starts.
    var line: Int
    /// The row, as `JSONSerialization` returns it.
    var object: [String: Any]
}

/// Reads a data file as rows: JSON Lines (one object per non-blank line) or a JSON array of objects.
///
/// Each row is checked for UTF-8 and parsed on its own with `JSONSerialization`, so an error names
/// the row's line. For a JSON array, a small scan finds where each top-level element starts and ends.
enum JSONRecords {
    /// The rows of the file at `url`, in order.
    static func read(_ url: URL) throws -> [JSONRecord] {
        let file = url.path
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw PreferenceDataError(file: file, problem: .unreadable(FileError.cause(of: error)))
        }
        let bytes = [UInt8](data)
        var start = 0
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { start = 3 }
        while start < bytes.count, isJSONWhitespace(bytes[start]) { start += 1 }
        guard start < bytes.count else { throw PreferenceDataError(file: file, problem: .empty) }
        let spans = bytes[start] == UInt8(ascii: "[")
            ? try arrayElements(bytes, from: start, file: file) : lines(bytes, from: start)
        guard !spans.isEmpty else { throw PreferenceDataError(file: file, problem: .empty) }
        return try spans.map { try parse(bytes[$0.range], line: $0.line, file: file) }
    }

    private static func isJSONWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    private static func parse(_ slice: ArraySlice<UInt8>, line: Int, file: String) throws -> JSONRecord {
        guard String(bytes: slice, encoding: .utf8) != nil else {
            throw PreferenceDataError(file: file, line: line, problem: .invalidUTF8)
        }
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: Data(slice), options: [.fragmentsAllowed])
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
            throw PreferenceDataError(file: file, line: line, problem: .malformedJSON(detail))
        }
        guard let object = value as? [String: Any] else {
            throw PreferenceDataError(
                file: file, line: line, field: "row",
                problem: .wrongType(expected: "an object", found: JSONType.name(of: value)))
        }
        return JSONRecord(line: line, object: object)
    }

    private static func lines(_ bytes: [UInt8], from start: Int) -> [(line: Int, range: Range<Int>)] {
        var spans = [(line: Int, range: Range<Int>)]()
        var line = 1 + bytes[..<start].lazy.filter { $0 == 0x0A }.count
        var lineStart = start
        for index in start...bytes.count where index == bytes.count || bytes[index] == 0x0A {
            if bytes[lineStart..<index].contains(where: { !isJSONWhitespace($0) }) {
                spans.append((line, lineStart..<index))
            }
            line += 1
            lineStart = index + 1
        }
        return spans
    }

    /// The byte ranges of the top-level elements of the array that opens at `open`.
    private static func arrayElements(
        _ bytes: [UInt8], from open: Int, file: String
    ) throws -> [(line: Int, range: Range<Int>)] {
        var spans = [(line: Int, range: Range<Int>)]()
        var line = 1 + bytes[..<open].lazy.filter { $0 == 0x0A }.count
        var depth = 0, inString = false, escaped = false
        var elementStart: Int?, elementLine = line
        var index = open + 1
        func close(at end: Int) {
            if let start = elementStart { spans.append((elementLine, start..<end)) }
            elementStart = nil
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x0A { line += 1 }
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true }
                else if byte == UInt8(ascii: "\"") { inString = false }
            } else if depth == 0 && (byte == UInt8(ascii: ",") || byte == UInt8(ascii: "]")) {
                if elementStart == nil && (byte == UInt8(ascii: ",") || !spans.isEmpty) {
                    throw PreferenceDataError(file: file, line: line, problem: .malformedJSON("empty array element"))
                }
                close(at: index)
                if byte == UInt8(ascii: "]") {
                    if let extra = bytes[(index + 1)...].firstIndex(where: { !isJSONWhitespace($0) }) {
                        let extraLine = line + bytes[index..<extra].lazy.filter { $0 == 0x0A }.count
                        throw PreferenceDataError(
                            file: file, line: extraLine, problem: .malformedJSON("text after the closing ]"))
                    }
                    return spans
                }
            } else if !isJSONWhitespace(byte) {
                if elementStart == nil { elementStart = index; elementLine = line }
                switch byte {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
                default: break
                }
            }
            index += 1
        }
        throw PreferenceDataError(
            file: file, line: elementStart == nil ? line : elementLine,
            problem: .malformedJSON("the array is not closed"))
    }
}
