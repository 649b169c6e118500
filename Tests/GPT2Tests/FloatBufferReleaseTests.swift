import Glibc
import GPT2
import XCTest

/// `FloatBuffer.release`: zeros a range and gives the whole pages inside it back to the system.
final class FloatBufferReleaseTests: XCTestCase {
    let page = Int(sysconf(Int32(_SC_PAGESIZE))) / MemoryLayout<Float>.size

    /// Pages of `buffer` resident in memory (mincore), counted over its whole mapping.
    func residentPages(_ buffer: FloatBuffer) -> Int {
        let pages = (buffer.count + page - 1) / page
        var flags = [UInt8](repeating: 0, count: pages)
        XCTAssertEqual(mincore(buffer.base, buffer.count * MemoryLayout<Float>.size, &flags), 0)
        return flags.filter { $0 & 1 != 0 }.count
    }

    func filled(_ count: Int, releasable: Bool) -> FloatBuffer {
        let buffer = FloatBuffer(count: count, releasable: releasable)
        for i in 0..<count { buffer.base[i] = Float(i % 7 + 1) }
        return buffer
    }

    /// A range from 10 elements into page 1 to 5 elements into page 6 of an 11-page buffer: the
    /// four whole pages 2...5 leave the resident set, every element of the range reads zero, and
    /// everything else (the partial pages' other elements too) keeps its value.
    func testReleaseZeroesTheRangeAndGivesBackItsWholePages() {
        let buffer = filled(10 * page + 100, releasable: true)
        XCTAssertEqual(residentPages(buffer), 11, "untouched pages of the mapping are not resident before the writes")
        let range = (page + 10)..<(6 * page + 5)
        buffer.release(range)
        XCTAssertEqual(residentPages(buffer), 11 - 4)
        buffer.base[3 * page] = 5  // a released page is writable again
        XCTAssertEqual(residentPages(buffer), 11 - 3)
        // Reading maps the system's zero page, which mincore counts as resident: check values last.
        for i in 0..<buffer.count where buffer.base[i] != (i == 3 * page ? 5 : range.contains(i) ? 0 : Float(i % 7 + 1)) {
            return XCTFail("element \(i) is \(buffer.base[i]) after releasing \(range)")
        }
    }

    /// A range inside one page, and a buffer on the heap, are only zeroed.
    func testReleaseWithinAPageOrOnTheHeapOnlyZeroes() {
        for releasable in [true, false] {
            let buffer = filled(4 * page, releasable: releasable)
            let ranges = [(page + 1)..<(2 * page - 1), (2 * page + 3)..<(4 * page)]
            for range in ranges { buffer.release(range) }
            for i in 0..<buffer.count where buffer.base[i] != (ranges.contains { $0.contains(i) } ? 0 : Float(i % 7 + 1)) {
                return XCTFail("element \(i) is \(buffer.base[i]) (releasable \(releasable))")
            }
        }
    }
}
