/// GPT-2's pre-tokenisation: splits text into the pieces that byte-pair encoding handles one by one.
///
/// It implements, by hand over Unicode scalar properties, the regular expression
///
///     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
///
/// with the semantics of the regex engines GPT-2 tokenizers use: alternatives are tried in order at
/// each position, `\s` is the Unicode `White_Space` property and ` ?` is an optional U+0020 space.
/// A run of whitespace followed by a non-space keeps its last scalar for the next piece, so that
/// `"a   b"` splits as `"a"`, `"  "`, `" b"`.
public enum GPT2PreTokenizer {
    /// The pieces of `text`, in order; concatenated they give `text` back.
    public static func pieces(of text: String) -> [String] {
        var text = text
        return text.withUTF8 { bytes in
            var pieces = [String]()
            forEachPiece(in: bytes) { range in
                pieces.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self))
            }
            return pieces
        }
    }

    /// Calls `body` with the byte range of each piece of the valid UTF-8 text in `bytes`.
    @inline(__always)
    static func forEachPiece(in bytes: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
        ScalarClass.basicPlane.withUnsafeBufferPointer { table in
            let end = bytes.count
            @inline(__always) func classAt(_ index: Int) -> (ScalarClass, Int) {
                let (value, length) = bytes.scalar(at: index)
                if value < 0x1_0000 { return (table[Int(value)], length) }
                return (ScalarClass.classify(Unicode.Scalar(value)!), length)
            }
            var start = 0
            while start < end {
                let pieceEnd = endOfPiece(startingAt: start, in: bytes, end: end, classAt: classAt)
                body(start..<pieceEnd)
                start = pieceEnd
            }
        }
    }

    /// Where the piece that starts at byte `start` ends (exclusive).
    @inline(__always)
    private static func endOfPiece(
        startingAt start: Int, in bytes: UnsafeBufferPointer<UInt8>, end: Int,
        classAt: (Int) -> (ScalarClass, Int)
    ) -> Int {
        let first = bytes[start]
        if first == UInt8(ascii: "'"), let contractionEnd = contraction(after: start, in: bytes, end: end) {
            return contractionEnd
        }
        var (runClass, length) = classAt(start)
        var runStart = start
        if first == UInt8(ascii: " "), start + 1 < end {
            let (nextClass, nextLength) = classAt(start + 1)
            if nextClass != .whitespace {
                runClass = nextClass
                runStart = start + 1
                length = nextLength
            }
        }
        if runClass != .whitespace {
            var index = runStart + length
            while index < end {
                let (scalarClass, scalarLength) = classAt(index)
                if scalarClass != runClass { break }
                index += scalarLength
            }
            return index
        }
        // `\s+(?!\S)` then `\s+`: a whitespace run before a non-space leaves its last scalar behind.
        var lastScalarStart = start
        var index = start + length
        while index < end {
            let (scalarClass, scalarLength) = classAt(index)
            if scalarClass != .whitespace { break }
            lastScalarStart = index
            index += scalarLength
        }
        if index == end || lastScalarStart == start { return index }
        return lastScalarStart
    }

    /// The end of `'s`, `'t`, `'re`, `'ve`, `'m`, `'ll` or `'d` at `start`, if one is there.
    @inline(__always)
    private static func contraction(after start: Int, in bytes: UnsafeBufferPointer<UInt8>, end: Int) -> Int? {
        guard start + 1 < end else { return nil }
        switch bytes[start + 1] {
        case UInt8(ascii: "s"), UInt8(ascii: "t"), UInt8(ascii: "m"), UInt8(ascii: "d"):
            return start + 2
        case UInt8(ascii: "r"), UInt8(ascii: "v"):
            return start + 2 < end && bytes[start + 2] == UInt8(ascii: "e") ? start + 3 : nil
        case UInt8(ascii: "l"):
            return start + 2 < end && bytes[start + 2] == UInt8(ascii: "l") ? start + 3 : nil
        default:
            return nil
        }
    }
}
