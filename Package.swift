// swift-tools-version:6.0
// dpo-ddp: Direct Preference Optimization for GPT-2, data parallel over MPI, on CPUs with BLAS.
//
// Targets are layered lowest first; each imports only targets below it (see docs/architecture.md):
//   CMPI, CBLAS, CDNNL, CLaneMath -> MPIShim -> Kernels -> Safetensors -> GPT2 -> Tokenizer -> PreferenceData
//   -> Distributed -> DPO -> dpo-ddp; FileErrors (file failures in plain words) under every target that reads or writes files
import PackageDescription

import Foundation

/// The vector instructions of the building machine, for the kernels' SIMD code (baseline x86-64
/// has only 4-wide SSE): like `-march=native`, the binary then needs a CPU with them. Set
/// DPO_DDP_PORTABLE=1 to build for any x86-64 (a binary to copy to older machines).
let targetCPU: String? = {
    #if os(Linux) && arch(x86_64)
    guard ProcessInfo.processInfo.environment["DPO_DDP_PORTABLE"] == nil,
          let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") })?.split(separator: " ")
    else { return nil }
    if ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains) { return "skylake-avx512" }
    if ["avx2", "fma", "bmi2"].allSatisfy(flags.contains) { return "haswell" }
    #endif
    return nil
}()

let optimize: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"] + (targetCPU.map { ["-target-cpu", $0] } ?? []),
                                             .when(configuration: .release))]

let package = Package(
    name: "dpo-ddp",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "dpo-ddp", targets: ["dpo-ddp"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        // oneDNN's matmuls (Debian's libdnnl-dev has no pkg-config file: the module map links "dnnl").
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),
        // Header only: a vector square root (see its shim.h).
        .systemLibrary(name: "CLaneMath"),
        .target(name: "MPIShim", dependencies: ["CMPI"]),
        .target(name: "Kernels", dependencies: ["CBLAS", "CDNNL", "CLaneMath"], swiftSettings: optimize),
        .target(name: "FileErrors"),
        .target(name: "Safetensors", dependencies: ["FileErrors"]),
        .target(name: "GPT2", dependencies: ["Kernels", "Safetensors", "FileErrors"], swiftSettings: optimize),
        .target(name: "Tokenizer", dependencies: ["FileErrors"], resources: [.copy("Resources/gpt2")], swiftSettings: optimize),
        .target(name: "PreferenceData", dependencies: ["Tokenizer", "FileErrors"]),
        .target(name: "Distributed", dependencies: ["MPIShim"]),
        .target(name: "DPO", dependencies: ["GPT2", "PreferenceData", "Distributed", "Kernels", "FileErrors"],
                swiftSettings: optimize),
        .target(name: "RunReport", dependencies: ["FileErrors"]),
        .executableTarget(name: "dpo-ddp", dependencies: [
            "DPO", "GPT2", "Kernels", "Safetensors", "Tokenizer", "PreferenceData", "Distributed", "RunReport", "FileErrors",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Yams", package: "Yams"),
        ]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "TestSupport"]),
        .testTarget(name: "DPOTests", dependencies: ["DPO"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SafetensorsTests", dependencies: ["Safetensors"], resources: [.copy("Fixtures")]),
        .testTarget(name: "GPT2Tests", dependencies: ["GPT2", "Kernels", "Safetensors"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ParityTests", dependencies: ["GPT2", "DPO", "Safetensors"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer"], exclude: ["Fixtures"]),
        .testTarget(name: "PreferenceDataTests", dependencies: ["PreferenceData", "Tokenizer"], exclude: ["Fixtures"]),
        .testTarget(name: "DistributedTests", dependencies: ["Distributed", "TestSupport", "dpo-ddp"]),
        .testTarget(name: "TrainerTests", dependencies: ["DPO", "GPT2", "Distributed", "PreferenceData", "Tokenizer",
                                                         "Safetensors", "TestSupport", "dpo-ddp", "FileErrors", "RunReport"],
                    resources: [.copy("Fixtures")]),
        // Helpers shared by test targets (running the built binary under a time limit).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "RunReportTests", dependencies: ["RunReport"]),
    ],
    // Kernels hand raw buffers to worker threads by design; Swift 5 mode keeps that free of
    // Sendable noise while the data-race safety is argued per kernel (disjoint writes).
    swiftLanguageModes: [.v5]
)
