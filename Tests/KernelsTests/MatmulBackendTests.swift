import Kernels
import TestSupport
import XCTest

/// `Float.gemm` (oneDNN, OpenBLAS as fallback) in float32 and with bfloat16 inputs, against
/// float64 products of the same inputs (for bfloat16: of the inputs rounded by `referenceBF16`),
/// with every transposition, a row stride wider than the matrix, and accumulation into C.
///
/// Bound per value: (k + 2) · ε_f32 · (Σ_p |a_ip · b_pj| + |c_ij before|). A float32 sum of k
/// products, each rounded once (bfloat16 products are exact in float32: 8 × 8 significant bits),
/// plus the accumulated C, is within γ_(k+1) = (k + 1) · ε/2 / (1 − ...) of that sum of magnitudes
/// in any summation order; the factor 2 is margin. A lost term, a wrong stride or transposition,
/// an unrounded bfloat16 operand or a dropped accumulation is off by far more.
final class MatmulBackendTests: XCTestCase {
    enum Inputs { case float32, bf16RoundedHere, bf16PreRounded }

    func check(transA: Bool, transB: Bool, accumulate: Bool, inputs: Inputs, openBLAS: Bool,
               m: Int = 37, n: Int = 70, k: Int = 131, pad: Int = 0, file: StaticString = #filePath, line: UInt = #line) {
        var r = TestRandom(UInt64(m * 1000 + n + (transA ? 1 : 0) + (transB ? 2 : 0) + pad))
        let aRows = transA ? k : m, aCols = transA ? m : k, lda = aCols + pad
        let bRows = transB ? n : k, bCols = transB ? k : n, ldb = bCols + pad
        let a = r.array(aRows * lda).map(Float.init), b = r.array(bRows * ldb).map(Float.init)
        let c0 = accumulate ? r.array(m * n).map(Float.init) : [Float](repeating: .nan, count: m * n)
        var c = c0
        var a16 = [UInt16](repeating: 0, count: a.count), b16 = [UInt16](repeating: 0, count: b.count)
        BFloat16.round(a, into: &a16, count: a.count)
        BFloat16.round(b, into: &b16, count: b.count)
        let oneDNNFloat32 = MatmulBackends.oneDNNFloat32
        MatmulBackends.openBLASOnly = openBLAS
        MatmulBackends.oneDNNFloat32 = !openBLAS
        defer {
            MatmulBackends.openBLASOnly = false
            MatmulBackends.oneDNNFloat32 = oneDNNFloat32
        }
        a16.withUnsafeBufferPointer { a16 in
            b16.withUnsafeBufferPointer { b16 in
                let operands: BF16Operands? = switch inputs {
                case .float32: nil
                case .bf16RoundedHere: BF16Operands()
                case .bf16PreRounded: BF16Operands(a: a16.baseAddress, b: b16.baseAddress)
                }
                Float.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb,
                           beta: accumulate ? 1 : 0, c: &c, ldc: n, bf16: operands)
            }
        }
        let value = { (x: Float) -> Double in inputs == .float32 ? Double(x) : referenceBF16(x) }
        var expected = [Double](repeating: 0, count: m * n), bounds = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var sum = accumulate ? Double(c0[i * n + j]) : 0, magnitude = accumulate ? abs(sum) : 0
                for p in 0..<k {
                    let term = value(a[transA ? p * lda + i : i * lda + p]) * value(b[transB ? j * ldb + p : p * ldb + j])
                    sum += term
                    magnitude += abs(term)
                }
                expected[i * n + j] = sum
                bounds[i * n + j] = Double(k + 2) * float32Epsilon * magnitude + Double(Float.leastNormalMagnitude)
            }
        }
        assertWithinBounds("gemm transA \(transA) transB \(transB) accumulate \(accumulate) \(inputs) openBLAS \(openBLAS) pad \(pad)",
                           float: c, double: expected, bounds: bounds, file: file, line: line)
    }

    func testEveryLayoutMatchesFloat64() {
        for inputs in [Inputs.float32, .bf16RoundedHere, .bf16PreRounded] {
            for openBLAS in [false, true] {
                for transA in [false, true] {
                    for transB in [false, true] {
                        for accumulate in [false, true] {
                            check(transA: transA, transB: transB, accumulate: accumulate, inputs: inputs, openBLAS: openBLAS)
                        }
                    }
                }
                check(transA: true, transB: true, accumulate: true, inputs: inputs, openBLAS: openBLAS, pad: 3)
                check(transA: false, transB: false, accumulate: false, inputs: inputs, openBLAS: openBLAS, pad: 5)
            }
        }
    }

    /// A product as large as GPT-2's LM head backward in one dimension (k = 4,099), where a float32
    /// accumulation bound is wide, and one with a single row.
    func testLongAndThinProductsMatchFloat64() {
        for inputs in [Inputs.float32, .bf16PreRounded] {
            check(transA: true, transB: false, accumulate: true, inputs: inputs, openBLAS: false, m: 64, n: 48, k: 4099)
            check(transA: false, transB: true, accumulate: false, inputs: inputs, openBLAS: false, m: 1, n: 300, k: 77)
        }
    }

    /// oneDNN runs a token dimension that is not a multiple of 64 in two pieces (`Problem.pieces`):
    /// 130 rows = 128 + 2 of an `A` stored as is, a depth of 131 = 128 + 3 of one stored transposed;
    /// every layout, strides wider than the matrix.
    func testProductsRunInPiecesMatchFloat64() {
        checkOneDNNLayouts(transA: [false, true], m: 130, n: 20, k: 131)
    }

    /// `check` on oneDNN in float32 and bfloat16, each given transposition of A, both of B, with and
    /// without accumulation, strides 3 wider than the matrices.
    func checkOneDNNLayouts(transA: [Bool], m: Int, n: Int, k: Int, line: UInt = #line) {
        for inputs in [Inputs.float32, .bf16PreRounded] {
            for transA in transA {
                for transB in [false, true] {
                    for accumulate in [false, true] {
                        check(transA: transA, transB: transB, accumulate: accumulate, inputs: inputs, openBLAS: false,
                              m: m, n: n, k: k, pad: 3, line: line)
                    }
                }
            }
        }
    }

    /// Products of 336 different row counts create a bounded set of primitives, not one per row
    /// count: the multiples of 64 up to 400 and the 63 remainders, for products on oneDNN's threads
    /// and again for the single-threaded row parts of the kernel threads (`Problem.rowParts`).
    func testVaryingRowCountsShareTheirPrimitives() {
        let oneDNNFloat32 = MatmulBackends.oneDNNFloat32
        MatmulBackends.oneDNNFloat32 = true
        defer { MatmulBackends.oneDNNFloat32 = oneDNNFloat32 }
        let a = [Float](repeating: 0.5, count: 400 * 8), b = [Float](repeating: 0.25, count: 8 * 5)
        var c = [Float](repeating: 0, count: 400 * 5)
        let before = MatmulBackends.oneDNNPrimitivesCreated
        for m in 65...400 {
            Float.gemm(transA: false, transB: false, m: m, n: 5, k: 8, alpha: 1, a: a, lda: 8, b: b, ldb: 5,
                       beta: 0, c: &c, ldc: 5, bf16: nil)
            XCTAssertEqual(c[(m - 1) * 5], 1, "last row of \(m)")
        }
        XCTAssertLessThanOrEqual(MatmulBackends.oneDNNPrimitivesCreated - before, 2 * (400 / 64 + 63))
    }

    /// Products whose rows are split over three kernel threads (200 rows: parts of 64, 64 and
    /// 64 + 8, each a single-threaded primitive on its own slot), every layout with a stride wider
    /// than the matrix, against float64. A transposed `A` runs whole (see the next test).
    func testRowPartsOnKernelThreadsMatchFloat64() {
        KernelThreads.set(3)
        defer { KernelThreads.set(0) }
        checkOneDNNLayouts(transA: [false], m: 200, n: 20, k: 70)
    }

    /// With OpenBLAS's AVX-512 kernels kept for float32 (`oneDNNFloat32` false), a float32 product
    /// whose B is stored transposed still goes to oneDNN (a primitive is created) when its `n` and
    /// `k` reach `transposedBMinimum`; one whose B is stored as is, or a narrower one, does not.
    /// Every value against the exact sum.
    func testFloat32ProductsWithTransposedBGoToOneDNN() {
        let oneDNNFloat32 = MatmulBackends.oneDNNFloat32
        MatmulBackends.oneDNNFloat32 = false
        defer { MatmulBackends.oneDNNFloat32 = oneDNNFloat32 }
        let wide = MatmulBackends.transposedBMinimum
        for (transB, n, k, oneDNN) in [(true, wide, wide + 3, true), (false, wide, wide + 3, false), (true, wide - 1, wide + 3, false)] {
            let m = 67
            let a = [Float](repeating: 0.5, count: m * k), b = [Float](repeating: 0.25, count: k * n)
            var c = [Float](repeating: .nan, count: m * n)
            let before = MatmulBackends.oneDNNPrimitivesCreated
            Float.gemm(transA: false, transB: transB, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: transB ? k : n,
                       beta: 0, c: &c, ldc: n, bf16: nil)
            XCTAssertEqual(MatmulBackends.oneDNNPrimitivesCreated > before, oneDNN, "transB \(transB) n \(n)")
            XCTAssertEqual(Set(c), [Float(k) / 8], "every value: k · 0.5 · 0.25")
        }
    }

    /// A product whose `A` is stored transposed (a weight gradient: rows are input channels or the
    /// vocabulary) keeps its rows whole, so oneDNN sees `A`'s stride equal to its rows (what its brgemm
    /// kernels need): 130 rows and a depth of 128 are one primitive, not 128 + 2 rows in two.
    func testTransposedRowsStayWhole() {
        checkRunsAsOnePrimitive(transA: true, m: 130, n: 24, k: 128)
    }

    /// A product whose `A` is stored as is keeps its depth whole (a model dimension: channels, or the
    /// vocabulary of the LM head's input gradient), so oneDNN sees `A`'s stride equal to its depth
    /// (what its brgemm kernels need): 128 rows and a depth of 130 are one primitive, not 128 + 2
    /// deep in two.
    func testDepthOfUntransposedAStaysWhole() {
        checkRunsAsOnePrimitive(transA: false, m: 128, n: 24, k: 130)
    }

    /// A product of new dimensions creates exactly one oneDNN primitive, in float32 and in bfloat16,
    /// and every value is the exact sum (k · 0.5 · 0.25).
    func checkRunsAsOnePrimitive(transA: Bool, m: Int, n: Int, k: Int, line: UInt = #line) {
        let oneDNNFloat32 = MatmulBackends.oneDNNFloat32
        MatmulBackends.oneDNNFloat32 = true
        defer { MatmulBackends.oneDNNFloat32 = oneDNNFloat32 }
        let a = [Float](repeating: 0.5, count: m * k), b = [Float](repeating: 0.25, count: k * n)
        for bf16 in [nil, BF16Operands()] {
            var c = [Float](repeating: .nan, count: m * n)
            let before = MatmulBackends.oneDNNPrimitivesCreated
            Float.gemm(transA: transA, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: transA ? m : k, b: b, ldb: n,
                       beta: 0, c: &c, ldc: n, bf16: bf16)
            XCTAssertEqual(MatmulBackends.oneDNNPrimitivesCreated - before, 1, "bf16 \(bf16 != nil)", line: line)
            XCTAssertEqual(Set(c), [Float(k) / 8], "every value: k · 0.5 · 0.25, bf16 \(bf16 != nil)", line: line)
        }
    }
}
