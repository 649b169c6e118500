import CBLAS
import Foundation

/// Which OpenBLAS kernel family runs the matmuls, and which one this CPU deserves.
///
/// OpenBLAS picks its kernels from the CPU model when the library loads. On CPUs newer than the
/// library (or virtual CPUs that report a generic model) it falls back to `Prescott` SSE3
/// kernels, 3-4x slower than the AVX-512 (`SkylakeX`) or AVX2 (`Haswell`) ones the CPU can run.
/// The choice can only be made through `OPENBLAS_CORETYPE` before the library loads, so the
/// executable re-executes itself once with it set (see `preferredCoreType`).
public enum BLASCore {
    /// The kernel family OpenBLAS selected, e.g. `SkylakeX`, `Haswell`, `Prescott`.
    public static var current: String { String(cString: openblas_get_corename()) }

    /// The `OPENBLAS_CORETYPE` value to restart with, or nil when nothing should change: the user
    /// set `OPENBLAS_CORETYPE` already, OpenBLAS already chose a modern kernel, or the CPU's
    /// flags (from `/proc/cpuinfo`) offer nothing better.
    public static func preferredCoreType(environment: [String: String] = ProcessInfo.processInfo.environment,
                                         cpuFlags: Set<String>? = nil) -> String? {
        guard environment["OPENBLAS_CORETYPE"] == nil else { return nil }
        let fallbacks: Set<String> = ["prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "katmai",
                                      "coppermine", "northwood", "banias", "unknown"]
        guard fallbacks.contains(current.lowercased()) else { return nil }
        let flags = cpuFlags ?? procCPUFlags()
        if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"]) { return "SkylakeX" }
        if flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }

    /// The `flags` of the first processor in `/proc/cpuinfo` (empty when unreadable).
    static func procCPUFlags() -> Set<String> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":")
        else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }
}
