/// Folio sizes as thplab writes them: `16k`, `64k`, `2M`; pages by size in
/// kB as `64k x15, 16k x3, 4k x4` (whole folios) or `64k 120 pages`.
public enum FolioSizes {
    public static func kB(_ size: Int) -> String { size >= 1024 && size % 1024 == 0 ? "\(size / 1024)M" : "\(size)k" }

    /// kB by folio size ("64" -> kB, as results store it) as pairs, largest
    /// size first, zeros dropped.
    public static func pairs(_ kbBySize: [String: Int]) -> [(size: Int, kb: Int)] {
        kbBySize.compactMap { k, v in Int(k).map { ($0, v) } }.filter { $0.1 > 0 }.sorted { $0.0 > $1.0 }
    }

    /// kB by folio size as one CSV field: `64:4032;16:48`.
    public static func field(_ kbBySize: [String: Int]) -> String {
        pairs(kbBySize).map { "\($0.size):\($0.kb)" }.joined(separator: ";")
    }

    /// kB by folio size as text, `64k:4032k 16k:48k`, or `-`.
    public static func text(_ kbBySize: [String: Int]?, size: (Int) -> String) -> String {
        let p = pairs(kbBySize ?? [:])
        return p.isEmpty ? "-" : p.map { "\(kB($0.size)):\(size($0.kb))" }.joined(separator: " ")
    }

    /// Pages by folio size in kB, largest first.
    public static func describe(_ pages: [Int: Int]) -> String {
        let parts = pages.keys.sorted(by: >).compactMap { kb -> String? in
            guard let p = pages[kb], p > 0 else { return nil }
            let perFolio = max(1, kb / PageGeometry.pageKB)
            return p % perFolio == 0 ? "\(kB(kb)) x\(p / perFolio)" : "\(kB(kb)) \(p) pages"
        }
        return parts.isEmpty ? "nothing resident" : parts.joined(separator: ", ")
    }
}

extension ClassCounts {
    /// mTHP pages by folio size in kB.
    public var mthpBySize: [Int: Int] {
        var out: [Int: Int] = [:]
        for (k, v) in mthpSizes where v > 0 { if let n = Int(k) { out[n, default: 0] += v } }
        return out
    }

    /// mTHP kB by folio size, `64:4032;16:48`, largest first (CSV); "" without mTHP.
    public var mthpSizesField: String { FolioSizes.field(mthpSizesKB) }

    /// mTHP kB by folio size ("64" -> kB).
    public var mthpSizesKB: [String: Int] { mthpSizes.filter { $0.value > 0 }.mapValues { $0 * PageGeometry.pageKB } }

    /// The mTHP class with its sizes: `4080k (64k x63, 16k x3)`.
    public func mthpCell(_ size: (Int) -> String) -> String {
        mthp == 0 ? size(0) : size(mthp * PageGeometry.pageKB) + " (" + FolioSizes.describe(mthpBySize) + ")"
    }
}
