import Foundation
import Safetensors
import XCTest

/// Builds a safetensors file by hand: an 8-byte little-endian length, the header bytes as
/// given (so tests can lie), and `dataBytes` bytes of tensor data counting 0, 1, 2, ...
func rawFile(header: String, dataBytes: Int = 0, declaredLength: UInt64? = nil) -> Data {
    rawFile(headerBytes: Array(header.utf8), dataBytes: dataBytes, declaredLength: declaredLength)
}

/// As ``rawFile(header:dataBytes:declaredLength:)``, with header bytes that need not be UTF-8.
func rawFile(headerBytes: [UInt8], dataBytes: Int = 0, declaredLength: UInt64? = nil) -> Data {
    var data = Data()
    withUnsafeBytes(of: (declaredLength ?? UInt64(headerBytes.count)).littleEndian) { data.append(contentsOf: $0) }
    data.append(contentsOf: headerBytes)
    data.append(contentsOf: (0 ..< dataBytes).map { UInt8(truncatingIfNeeded: $0) })
    return data
}

/// The raw bytes of tensor `name` inside the complete file `file`.
func tensorBytes(_ name: String, in file: Data) throws -> [UInt8] {
    let parsed = try SafetensorsFile(data: file)
    let info = try XCTUnwrap(parsed.info(name))
    let headerLength = file.prefix(8).withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
    let start = 8 + headerLength + info.dataOffsets.lowerBound
    return Array(file[start ..< start + info.dataOffsets.count])
}

/// Little-endian bytes of 16-bit patterns, as a safetensors F16 or BF16 tensor stores them.
func littleEndianBytes(_ patterns: [UInt16]) -> [UInt8] {
    patterns.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)] }
}

/// A one-tensor file holding 16-bit `patterns` as `dtype` (F16 or BF16), named "t".
func halfFile(_ patterns: [UInt16], dtype: String) -> Data {
    let header = #"{"t":{"dtype":"\#(dtype)","shape":[\#(patterns.count)],"data_offsets":[0,\#(2 * patterns.count)]}}"#
    var data = rawFile(header: header)
    data.append(contentsOf: littleEndianBytes(patterns))
    return data
}

/// The 16-bit patterns stored little-endian in `bytes`.
func halfPatterns(_ bytes: [UInt8]) -> [UInt16] {
    stride(from: 0, to: bytes.count - 1, by: 2).map { UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8 }
}

/// Asserts `actual == expected`, reporting the number of differences and the first one
/// instead of printing both (possibly 65536-element) arrays.
func XCTAssertSameElements<T: Equatable>(
    _ actual: [T], _ expected: [T], _ label: String = "", file: StaticString = #filePath, line: UInt = #line
) {
    guard actual.count == expected.count else {
        return XCTFail("\(label) has \(actual.count) elements, expected \(expected.count)", file: file, line: line)
    }
    let differences = zip(actual, expected).enumerated().filter { $0.element.0 != $0.element.1 }
    if let first = differences.first {
        XCTFail("\(label) differs at \(differences.count) indices; first at \(first.offset): \(first.element.0) != \(first.element.1)",
                file: file, line: line)
    }
}

/// Asserts that `body` throws a ``SafetensorsError`` with exactly `reason`.
func XCTAssertRefused<T>(
    _ reason: SafetensorsError.Reason, _ body: @autoclosure () throws -> T,
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        guard let error = error as? SafetensorsError else {
            return XCTFail("expected SafetensorsError, got \(error)", file: file, line: line)
        }
        XCTAssertEqual(error.reason, reason, "\(error)", file: file, line: line)
    }
}
