import Foundation
import Safetensors
import XCTest

/// Our reader against a file from the reference writer (huggingface/safetensors, via
/// `scripts/make_safetensors_fixtures.py`), and our writer against the reference's bytes.
final class ReferenceFixtureTests: XCTestCase {
    private func fixtureURL() throws -> URL {
        try XCTUnwrap(Bundle.module.url(forResource: "reference", withExtension: "safetensors", subdirectory: "Fixtures"))
    }

    private func fixture() throws -> SafetensorsFile { try SafetensorsFile(contentsOf: fixtureURL()) }

    func testNamesShapesAndMetadata() throws {
        let file = try fixture()
        XCTAssertEqual(file.metadata, ["format": "pt", "note": "dpo-ddp reference fixture: \"quoted\", unicode \u{2713}"])
        XCTAssertEqual(file.tensorNames, [
            "bf16.bits", "f16.bits", "f32.empty", "f32.matrix", "f32.scalar", "f32.special",
            "i32.values", "i64.values", "rounding.bf16", "rounding.f16", "rounding.source",
        ])
        XCTAssertEqual(file.info("f32.matrix")?.shape, [2, 3])
        XCTAssertEqual(file.info("f32.scalar")?.shape, [])
        XCTAssertEqual(file.info("f32.empty")?.shape, [0, 3])
        XCTAssertEqual(file.info("i32.values")?.shape, [5, 1])
        XCTAssertEqual(file.info("rounding.bf16")?.dtype, .bf16)
    }

    func testFloat32Values() throws {
        let file = try fixture()
        XCTAssertEqual(try file.floats("f32.matrix"), [-1, -0.5, 0, 0.5, 1, 1.5])
        let special: [Float] = [0, -0.0, 1, -2.5, 65504, .leastNonzeroMagnitude, .greatestFiniteMagnitude, .infinity, -.infinity]
        XCTAssertEqual(try file.floats("f32.special").map(\.bitPattern), special.map(\.bitPattern))
        XCTAssertEqual(try file.floats("f32.scalar"), [3.25])
        XCTAssertEqual(try file.floats("f32.empty"), [])
    }

    func testHalfPrecisionValuesFromKnownPatterns() throws {
        let file = try fixture()
        let f16: [Float] = [
            0, -0.0, 1, -2, 65504, -65504, 0x1p-24, -0x1p-24, 0x1.ff8p-15, 0x1p-14, 0x1.554p-2, .infinity, -.infinity,
            Float(bitPattern: 0x7FC0_0000), Float(bitPattern: 0xFFC0_2000),
        ]
        XCTAssertEqual(try file.floats("f16.bits").map(\.bitPattern), f16.map(\.bitPattern))
        let bf16: [Float] = [
            0, -0.0, 1, -2, 0x1.fep127, 0x1p-133, 0x1.fcp-127, 0x1p-126, 3.140625, .infinity, -.infinity,
            Float(bitPattern: 0x7FC0_0000),
        ]
        XCTAssertEqual(try file.floats("bf16.bits").map(\.bitPattern), bf16.map(\.bitPattern))
    }

    func testIntegerValues() throws {
        let file = try fixture()
        XCTAssertEqual(try file.int64s("i64.values"), [0, 1, -1, .max, .min, 123_456_789_012])
        XCTAssertEqual(try file.int64s("i32.values"), [0, -1, Int64(Int32.max), Int64(Int32.min), 7])
    }

    func testOurRoundingMatchesNumpyAndTorch() throws {
        let file = try fixture()
        let reference = try Data(contentsOf: fixtureURL())
        let source = try file.floats("rounding.source")
        var writer = SafetensorsWriter()
        try writer.add("rounding.f16", shape: [source.count], floats: source, dtype: .f16)
        try writer.add("rounding.bf16", shape: [source.count], floats: source, dtype: .bf16)
        let ours = writer.serialized()
        for name in ["rounding.f16", "rounding.bf16"] {
            XCTAssertSameElements(halfPatterns(try tensorBytes(name, in: ours)), halfPatterns(try tensorBytes(name, in: reference)), name)
        }
    }

    /// Rewrites the fixture's tensors with our writer and checks every byte survives.
    /// With SAFETENSORS_CHECK_OUTPUT set, also leaves the file there for
    /// `scripts/make_safetensors_fixtures.py --check`, which loads it with the reference reader.
    func testOurWriterReproducesTheFixture() throws {
        let file = try fixture()
        let reference = try Data(contentsOf: fixtureURL())
        var writer = SafetensorsWriter(metadata: file.metadata)
        let rewritten = file.tensorNames.filter { file.info($0)?.dtype != .i32 }
        for name in rewritten {
            let info = try XCTUnwrap(file.info(name))
            if info.dtype == .i64 {
                try writer.add(name, shape: info.shape, int64s: try file.int64s(name))
            } else {
                try writer.add(name, shape: info.shape, floats: try file.floats(name), dtype: info.dtype)
            }
        }
        let ours = writer.serialized()
        let reread = try SafetensorsFile(data: ours)
        XCTAssertEqual(reread.tensorNames, rewritten)
        XCTAssertEqual(reread.metadata, file.metadata)
        for name in rewritten {
            XCTAssertEqual(reread.info(name)?.shape, file.info(name)?.shape, name)
            XCTAssertEqual(reread.info(name)?.dtype, file.info(name)?.dtype, name)
            XCTAssertSameElements(try tensorBytes(name, in: ours), try tensorBytes(name, in: reference), name)
        }
        if let path = ProcessInfo.processInfo.environment["SAFETENSORS_CHECK_OUTPUT"] {
            try writer.write(to: URL(fileURLWithPath: path))
        }
    }
}
