import CShims

extension Sys {
    /// `steps` dependent loads through the chain of byte offsets stored at
    /// `base`, from `start`: the nanoseconds they took, and where they ended.
    static func chase(base: UInt, start: UInt64, steps: UInt64) -> (nanoseconds: UInt64, end: UInt64) {
        guard let p = UnsafeRawPointer(bitPattern: base) else { return (0, start) }
        let t0 = monotonicNanoseconds()
        let end = cshims_chase(p, start, steps)
        return (monotonicNanoseconds() - t0, end)
    }

    /// `passes` sequential reads of every 64-byte line of [base, base +
    /// length): the nanoseconds they took, and the sum read.
    static func stream(base: UInt, length: Int, passes: Int) -> (nanoseconds: UInt64, sum: UInt64) {
        guard let p = UnsafeRawPointer(bitPattern: base) else { return (0, 0) }
        let t0 = monotonicNanoseconds()
        let sum = cshims_stream(p, length, UInt32(passes))
        return (monotonicNanoseconds() - t0, sum)
    }
}

extension Sys {
    /// The hypervisor's CPUID signature: "KVMKVMKVM", "TCGTCGTCGTCG"
    /// (QEMU's software emulation), ...; empty on bare metal.
    static func hypervisorSignature() -> String {
        var buf = [CChar](repeating: 0, count: 13)
        cshims_hypervisor_signature(&buf)
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether a hypervisor signature is QEMU's software emulation (TCG),
    /// where access times say nothing about hardware.
    static func isSoftwareEmulation(_ signature: String) -> Bool { signature.hasPrefix("TCGTCG") }
}
