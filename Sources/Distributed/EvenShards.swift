/// `0..<count` split into `parts` contiguous ranges, in order, as evenly as possible: the first
/// `count % parts` ranges hold one element more than the others (ranges are empty when `count`
/// is smaller than `parts`). Every rank computes the same split, so shard `r` is rank `r`'s.
///
/// - Precondition: `count >= 0` and `parts >= 1`.
public func evenShards(count: Int, parts: Int) -> [Range<Int>] {
    precondition(count >= 0 && parts >= 1, "evenShards: count \(count), parts \(parts)")
    let base = count / parts, extra = count % parts
    return (0..<parts).map { part in
        let start = part * base + min(part, extra)
        return start..<(start + base + (part < extra ? 1 : 0))
    }
}
