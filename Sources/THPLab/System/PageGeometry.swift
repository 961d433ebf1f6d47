/// The sizes every layer works in: the base page, the PMD (one huge page,
/// one extent) and how many base pages one PMD maps. thplab runs on x86-64,
/// where these are 4 KiB and 2 MiB; `HostChecks` refuses a kernel whose
/// `hpage_pmd_size` says otherwise, so nothing else needs to ask.
public enum PageGeometry {
    public static let pageSize = 4096
    public static let pmdSize = 2 << 20
    public static let pagesPerPmd = pmdSize / pageSize
    public static let pageKB = pageSize >> 10
    public static let pmdKB = pmdSize >> 10

    /// Whether the kernel's own `hpage_pmd_size` (and the page size) agree;
    /// nil when it does not say.
    public static func matches(hpagePmdSize: String?, pageSize kernelPage: Int) -> Bool? {
        guard let text = hpagePmdSize, let n = Int(text) else { return nil }
        return n == pmdSize && kernelPage == pageSize
    }
}
