/// Checks where tensors lie in the data buffer.
enum TensorLayout {
    /// The reference implementation's layout rule: sorted by offsets, the tensors tile the
    /// data buffer exactly, each starting where the previous one ended, the last one ending
    /// at the end of the file. Anything else is a gap, an overlap, or trailing bytes.
    static func validate(
        _ tensors: [SafetensorsTensorInfo], dataByteCount: Int,
        fail: (SafetensorsError.Reason) -> SafetensorsError
    ) throws {
        let ordered = tensors.sorted {
            ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound, $0.name)
                < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound, $1.name)
        }
        var covered = 0
        var previous = ""
        for info in ordered {
            let range = info.dataOffsets
            guard range.upperBound <= dataByteCount else {
                throw fail(.dataOffsetsPastEnd(tensor: info.name, end: range.upperBound, dataByteCount: dataByteCount))
            }
            if range.lowerBound < covered {
                throw fail(.overlappingTensors(first: previous, second: info.name))
            }
            if range.lowerBound > covered {
                throw fail(.gapBeforeTensor(tensor: info.name, gapStart: covered, gapEnd: range.lowerBound))
            }
            covered = range.upperBound
            previous = info.name
        }
        guard covered == dataByteCount else { throw fail(.trailingBytes(count: dataByteCount - covered)) }
    }
}
