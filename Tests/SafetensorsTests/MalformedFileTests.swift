import Foundation
import Safetensors
import XCTest

/// Files whose headers lie, each refused with its own reason and never a crash.
final class MalformedFileTests: XCTestCase {
    private func open(_ data: Data) throws -> SafetensorsFile { try SafetensorsFile(data: data, source: "bad.safetensors") }

    private let one = #""a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#

    func testFileShorterThanPrefix() {
        XCTAssertRefused(.fileTooShort(byteCount: 5), try self.open(Data([1, 0, 0, 0, 0])))
    }

    func testHugeHeaderLengthIsRefusedBeforeAllocating() {
        let data = rawFile(header: "{}", declaredLength: 1 << 60)
        XCTAssertRefused(.headerLengthExceedsFile(declared: 1 << 60, available: 2), try self.open(data))
        let maximal = rawFile(header: "{}", declaredLength: .max)
        XCTAssertRefused(.headerLengthExceedsFile(declared: .max, available: 2), try self.open(maximal))
    }

    func testHeaderAboveReferenceLimit() {
        let length = 100_000_008
        var data = rawFile(header: "{}", declaredLength: UInt64(length))
        data.append(Data(count: length - 2))
        XCTAssertRefused(.headerTooLarge(declared: length, limit: 100_000_000), try self.open(data))
    }

    func testHeaderNotUTF8() {
        XCTAssertRefused(.headerNotUTF8, try self.open(rawFile(headerBytes: [0x7B, 0xFF, 0xFE, 0x7D])))
    }

    func testHeaderNotJSON() {
        XCTAssertRefused(.headerNotJSON, try self.open(rawFile(header: #"{"a": {"dtype": "F32""#)))
    }

    func testDeeplyNestedHeaderIsRefusedWithoutOverflowingTheStack() {
        let depth = 1_000_000
        let header = #"{"a":"# + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}"
        XCTAssertRefused(.headerNotJSON, try self.open(rawFile(header: header)))
    }

    func testHeaderNotObject() {
        XCTAssertRefused(.headerNotObject, try self.open(rawFile(header: "[1, 2, 3]")))
    }

    func testMetadataNotStringToString() {
        let data = rawFile(header: #"{"__metadata__":{"epoch":3}}"#)
        XCTAssertRefused(.metadataNotStringMap, try self.open(data))
    }

    func testTensorEntryNotObject() {
        XCTAssertRefused(.tensorEntryNotObject(tensor: "a"), try self.open(rawFile(header: #"{"a":[0,8]}"#)))
    }

    func testMissingField() {
        let data = rawFile(header: #"{"a":{"dtype":"F32","data_offsets":[0,8]}}"#, dataBytes: 8)
        XCTAssertRefused(.missingField(tensor: "a", field: "shape"), try self.open(data))
    }

    func testWrongTypedField() {
        let data = rawFile(header: #"{"a":{"dtype":"F32","shape":"2","data_offsets":[0,8]}}"#, dataBytes: 8)
        XCTAssertRefused(.fieldWrongType(tensor: "a", field: "shape"), try self.open(data))
    }

    func testUnknownDType() {
        let data = rawFile(header: #"{"a":{"dtype":"F128","shape":[2],"data_offsets":[0,32]}}"#, dataBytes: 32)
        XCTAssertRefused(.unknownDType(tensor: "a", dtype: "F128"), try self.open(data))
    }

    func testNegativeNonIntegerAndBooleanShapeEntries() {
        for shape in ["[-2]", "[2.0]", "[1e0]", "[true]", #"["2"]"#, "[18446744073709551615]"] {
            let data = rawFile(header: #"{"a":{"dtype":"F32","shape":\#(shape),"data_offsets":[0,8]}}"#, dataBytes: 8)
            XCTAssertRefused(.invalidShapeEntry(tensor: "a"), try self.open(data))
        }
    }

    func testShapeProductOverflow() {
        let data = rawFile(header: #"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#)
        XCTAssertRefused(.shapeOverflow(tensor: "a"), try self.open(data))
        let bytes = rawFile(header: #"{"a":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,8]}}"#)
        XCTAssertRefused(.shapeOverflow(tensor: "a"), try self.open(bytes))
    }

    func testDataOffsetsNotTwoAscendingIntegers() {
        for offsets in ["[8,0]", "[0]", "[0,8,8]", "[0,8.5]", "[-8,0]", #"{"begin":0}"#] {
            let data = rawFile(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":\#(offsets)}}"#, dataBytes: 8)
            XCTAssertRefused(.invalidDataOffsets(tensor: "a"), try self.open(data))
        }
    }

    func testDataPastEndOfBuffer() {
        let data = rawFile(header: #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, dataBytes: 12)
        XCTAssertRefused(.dataOffsetsPastEnd(tensor: "a", end: 16, dataByteCount: 12), try self.open(data))
    }

    func testByteSizeDisagreesWithShape() {
        let data = rawFile(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, dataBytes: 8)
        XCTAssertRefused(.byteSizeMismatch(tensor: "a", expected: 12, actual: 8), try self.open(data))
    }

    func testOverlappingTensors() {
        let header = #"{\#(one),"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        XCTAssertRefused(.overlappingTensors(first: "a", second: "b"), try self.open(rawFile(header: header, dataBytes: 12)))
    }

    func testHoleBetweenTensors() {
        let header = #"{\#(one),"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}"#
        XCTAssertRefused(
            .gapBeforeTensor(tensor: "b", gapStart: 8, gapEnd: 12), try self.open(rawFile(header: header, dataBytes: 16)))
    }

    func testTrailingBytesAfterLastTensor() {
        XCTAssertRefused(.trailingBytes(count: 3), try self.open(rawFile(header: "{\(one)}", dataBytes: 11)))
    }

    func testDuplicateKeyLeavesItsBytesUnclaimed() {
        // JSONSerialization keeps one of two equal keys; the other's bytes then form a hole.
        let header = #"{\#(one),"a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#
        XCTAssertThrowsError(try self.open(rawFile(header: header, dataBytes: 12))) { error in
            let reason = (error as? SafetensorsError)?.reason
            let refusals: [SafetensorsError.Reason] = [.gapBeforeTensor(tensor: "a", gapStart: 0, gapEnd: 8), .trailingBytes(count: 4)]
            XCTAssertTrue(refusals.contains { $0 == reason }, "\(error)")
        }
    }

    func testMessageNamesTheFileAndTheProblem() {
        let data = rawFile(header: "{}", declaredLength: 1 << 60)
        XCTAssertThrowsError(try self.open(data)) { error in
            let message = String(describing: error)
            XCTAssertTrue(message.hasPrefix("bad.safetensors: "), message)
            XCTAssertTrue(message.contains("1152921504606846976"), message)
        }
    }

    func testMissingFileIsAnIOError() {
        let url = URL(fileURLWithPath: "/nonexistent/dpo-ddp/model.safetensors")
        XCTAssertThrowsError(try SafetensorsFile(contentsOf: url)) { error in
            guard let error = error as? SafetensorsError, case .io = error.reason else { return XCTFail("\(error)") }
            XCTAssertEqual(error.source, url.path)
        }
    }

    func testSpacePaddedHeaderAndEmptyTensorsAreAccepted() throws {
        let header = #"{"z":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]},\#(one)}      "#
        let file = try open(rawFile(header: header, dataBytes: 8))
        XCTAssertEqual(file.tensorNames, ["a", "z"])
        XCTAssertEqual(try file.floats("z"), [])
        XCTAssertEqual(file.metadata, [:])
    }
}
