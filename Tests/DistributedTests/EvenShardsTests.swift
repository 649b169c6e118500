import Distributed
import XCTest

/// ZeRO-1's split of the flat parameter buffer: contiguous, in rank order, covering every element
/// once, sizes differing by at most one (the larger ones first).
final class EvenShardsTests: XCTestCase {
    func testSplitsAsEvenlyAsPossibleLargerFirst() {
        XCTAssertEqual(evenShards(count: 10, parts: 1), [0..<10])
        XCTAssertEqual(evenShards(count: 10, parts: 2), [0..<5, 5..<10])
        XCTAssertEqual(evenShards(count: 10, parts: 3), [0..<4, 4..<7, 7..<10])
        XCTAssertEqual(evenShards(count: 11, parts: 4), [0..<3, 3..<6, 6..<9, 9..<11])
    }

    func testFewerElementsThanPartsLeavesTheLastShardsEmpty() {
        XCTAssertEqual(evenShards(count: 2, parts: 3), [0..<1, 1..<2, 2..<2])
        XCTAssertEqual(evenShards(count: 0, parts: 2), [0..<0, 0..<0])
    }

    func testEverySplitCoversEveryElementOnceInOrder() {
        for count in [0, 1, 7, 124_439_808] {
            for parts in 1...9 {
                let shards = evenShards(count: count, parts: parts)
                XCTAssertEqual(shards.count, parts)
                XCTAssertEqual(shards.first?.lowerBound, 0)
                XCTAssertEqual(shards.last?.upperBound, count)
                for (a, b) in zip(shards, shards.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
                let sizes = shards.map(\.count)
                XCTAssertLessThanOrEqual(sizes.max()! - sizes.min()!, 1, "\(count) over \(parts)")
                XCTAssertEqual(sizes, sizes.sorted(by: >), "larger shards first")
            }
        }
    }
}
