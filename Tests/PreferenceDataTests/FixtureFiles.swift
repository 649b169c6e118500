import Foundation

/// The committed fixtures beside these tests (expected/ is made by `scripts/make_trl_fixtures.py`).
enum FixtureFiles {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
    /// The 300-pair LLaMA-Factory ShareGPT demo set shipped in `data/`.
    static let demo = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("data/dpo_en_demo.json")

    static func url(_ name: String) -> URL {
        directory.appendingPathComponent(name)
    }
}
