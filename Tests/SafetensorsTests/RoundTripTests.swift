import Foundation
import Safetensors
import XCTest

/// What the writer writes, the reader reads back; and both refuse misuse.
final class RoundTripTests: XCTestCase {
    private let weights: [Float] = [1, -2, 3.5, 0, -0.0, 1e-30]

    private func sample() throws -> SafetensorsWriter {
        var writer = SafetensorsWriter(metadata: ["format": "pt", "step": "42"])
        try writer.add("wte.weight", shape: [2, 3], floats: weights)
        try writer.add("h.0.ln_1.bias", shape: [3], floats: [0.1, 0.2, 0.3], dtype: .bf16)
        try writer.add("h.0.ln_1.weight", shape: [3], floats: [0.5, 65504, 1e-7], dtype: .f16)
        try writer.add("step", shape: [], int64s: [7])
        try writer.add("ids", shape: [2, 2], int64s: [0, -1, .max, .min])
        return writer
    }

    func testRoundTripThroughMemory() throws {
        let file = try SafetensorsFile(data: try sample().serialized())
        XCTAssertEqual(file.metadata, ["format": "pt", "step": "42"])
        XCTAssertEqual(file.tensorNames, ["h.0.ln_1.bias", "h.0.ln_1.weight", "ids", "step", "wte.weight"])
        XCTAssertEqual(try file.floats("wte.weight").map(\.bitPattern), weights.map(\.bitPattern))
        XCTAssertEqual(try file.floats("h.0.ln_1.bias"), [0.10009765625, 0.2001953125, 0.30078125])
        XCTAssertEqual(try file.floats("h.0.ln_1.weight"), [0.5, 65504, 0x1p-23])
        XCTAssertEqual(try file.int64s("step"), [7])
        XCTAssertEqual(try file.int64s("ids"), [0, -1, .max, .min])
        let info = try XCTUnwrap(file.info("wte.weight"))
        XCTAssertEqual(info.dtype, .f32)
        XCTAssertEqual(info.shape, [2, 3])
        XCTAssertEqual(info.elementCount, 6)
        XCTAssertEqual(file.info("step")?.shape, [])
        XCTAssertEqual(file.info("step")?.elementCount, 1)
        XCTAssertNil(file.info("missing"))
    }

    func testLayoutIsAlignedLikeTheReferenceWriter() throws {
        let data = try sample().serialized()
        let headerLength = data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        XCTAssertEqual(headerLength % 8, 0)
        let file = try SafetensorsFile(data: data)
        // 8-byte types first, then 4-byte, then 2-byte; names ascending within a dtype.
        let order = file.tensorNames.sorted { file.info($0)!.dataOffsets.lowerBound < file.info($1)!.dataOffsets.lowerBound }
        XCTAssertEqual(order, ["ids", "step", "wte.weight", "h.0.ln_1.bias", "h.0.ln_1.weight"])
        for name in order {
            let info = try XCTUnwrap(file.info(name))
            XCTAssertEqual(info.dataOffsets.lowerBound % info.dtype.byteSize, 0, name)
        }
    }

    func testRoundTripThroughDiskWithMemoryMapping() throws {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("safetensors-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let writer = try sample()
        try writer.write(to: url)
        XCTAssertEqual(try Data(contentsOf: url), writer.serialized())
        let file = try SafetensorsFile(contentsOf: url)
        XCTAssertEqual(file.source, url.path)
        var destination = [Float](repeating: .nan, count: 6)
        try destination.withUnsafeMutableBufferPointer { try file.copyFloats("wte.weight", into: $0) }
        XCTAssertEqual(destination.map(\.bitPattern), weights.map(\.bitPattern))
    }

    /// A borrowed float32 tensor gives the same file as a copied one, on disk (written in slices)
    /// and in memory, and is read when the file is written, not when it is added (no copy).
    func testBorrowedTensorIsWrittenFromTheCallersMemory() throws {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("safetensors-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let values = (0..<1_000).map { Float($0) * 0.37 - 11 }
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: values.count)
        defer { buffer.deallocate() }
        _ = buffer.initialize(from: values.map { _ in Float.nan })
        var borrowed = SafetensorsWriter(metadata: ["format": "pt"])
        try borrowed.add("w", shape: [10, 100], borrowing: UnsafeBufferPointer(buffer))
        try borrowed.add("ids", shape: [2], int64s: [7, 9])
        _ = buffer.update(from: values)  // after `add`: the file must hold these values
        var copied = SafetensorsWriter(metadata: ["format": "pt"])
        try copied.add("w", shape: [10, 100], floats: values)
        try copied.add("ids", shape: [2], int64s: [7, 9])
        try borrowed.write(to: url)
        XCTAssertEqual(try Data(contentsOf: url), copied.serialized())
        XCTAssertEqual(borrowed.serialized(), copied.serialized())
        XCTAssertThrowsError(try borrowed.add("w2", shape: [3], borrowing: UnsafeBufferPointer(buffer)),
                             "a shape that does not match the element count is refused")
    }

    func testEmptyWriterMatchesReferenceBytes() {
        // The reference implementation's test_empty: "{}" padded to 8 bytes with spaces.
        XCTAssertEqual(Array(SafetensorsWriter().serialized()), [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32])
    }

    func testReaderRefusesMisuse() throws {
        let file = try SafetensorsFile(data: try sample().serialized(), source: "model.safetensors")
        XCTAssertRefused(.tensorNotFound(name: "nope"), try file.floats("nope"))
        XCTAssertRefused(.unsupportedDType(tensor: "ids", dtype: .i64, requested: "Float"), try file.floats("ids"))
        XCTAssertRefused(
            .unsupportedDType(tensor: "wte.weight", dtype: .f32, requested: "Int64"), try file.int64s("wte.weight"))
        var tooSmall = [Float](repeating: 0, count: 5)
        XCTAssertRefused(
            .elementCountMismatch(tensor: "wte.weight", expected: 6, actual: 5),
            try tooSmall.withUnsafeMutableBufferPointer { try file.copyFloats("wte.weight", into: $0) })
        XCTAssertThrowsError(try file.floats("nope")) { error in
            XCTAssertEqual(String(describing: error), "model.safetensors: no tensor named 'nope'")
        }
    }

    func testWriterRefusesMisuse() throws {
        var writer = try sample()
        XCTAssertRefused(.duplicateTensorName(name: "step"), try writer.add("step", shape: [1], int64s: [1]))
        XCTAssertRefused(.reservedTensorName, try writer.add("__metadata__", shape: [1], floats: [1]))
        XCTAssertRefused(
            .elementCountMismatch(tensor: "x", expected: 6, actual: 5), try writer.add("x", shape: [2, 3], floats: [1, 2, 3, 4, 5]))
        XCTAssertRefused(.invalidShapeEntry(tensor: "x"), try writer.add("x", shape: [-1], int64s: []))
        XCTAssertRefused(.shapeOverflow(tensor: "x"), try writer.add("x", shape: [1 << 40, 1 << 40], int64s: []))
        XCTAssertRefused(
            .unsupportedDType(tensor: "x", dtype: .i64, requested: "Float"), try writer.add("x", shape: [1], floats: [1], dtype: .i64))
        XCTAssertEqual(try SafetensorsFile(data: writer.serialized()).tensorNames.count, 5)
    }

    func testWriteToUnwritablePathIsAnIOError() throws {
        let url = URL(fileURLWithPath: "/nonexistent/dpo-ddp/out.safetensors")
        XCTAssertThrowsError(try SafetensorsWriter().write(to: url)) { error in
            guard let error = error as? SafetensorsError, case .io = error.reason else { return XCTFail("\(error)") }
            XCTAssertEqual(error.source, url.path)
        }
    }

    func testF64AndI32AreReadable() throws {
        var data = rawFile(header: #"{"d":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},"i":{"dtype":"I32","shape":[2],"data_offsets":[16,24]}}"#)
        for value in [0.1, -3e40] { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        for value: Int32 in [-5, .max] { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        let file = try SafetensorsFile(data: data)
        XCTAssertEqual(try file.floats("d"), [Float(0.1), -.infinity])
        XCTAssertEqual(try file.int64s("i"), [-5, Int64(Int32.max)])
    }

    func testReadsFromADataSliceWithNonZeroStartIndex() throws {
        let padded = Data([0xAA, 0xBB]) + (try sample().serialized())
        let file = try SafetensorsFile(data: padded[2...])
        XCTAssertEqual(try file.int64s("ids"), [0, -1, .max, .min])
    }
}
