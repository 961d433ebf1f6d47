import Glibc

extension String {
    /// printf-style formatting (`%.2f`, `%5.1f`, `%d`, `%lld`) through the
    /// C library, so that figures round as printf rounds them. Arguments
    /// are numbers: a string goes into the format by interpolation.
    /// The corresponding C function is `vsnprintf`.
    public init(cFormat format: String, _ arguments: CVarArg...) {
        var capacity = 128
        while true {
            var buffer = [CChar](repeating: 0, count: capacity)
            let n = Int(withVaList(arguments) { vsnprintf(&buffer, capacity, format, $0) })
            guard n >= 0 else { self = format; return }
            if n < capacity {
                self = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                return
            }
            capacity = n + 1
        }
    }
}
