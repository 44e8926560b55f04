#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Plain POSIX file access for pseudo-files (configfs, Gramine's `/dev/attestation`) and the node's own secret
/// files. Pseudo-files report no useful size, so reads loop until end of file, bounded by a caller's limit.
enum PlatformFiles {
    /// Reads a whole file, failing when it holds more than `lengthMax` bytes.
    static func read(_ path: String, lengthMax: Int) throws(EnclaveError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .fileUnreadable(path: path, reason: errnoDescription()) }
        defer { close(descriptor) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 8192)
        while true {
            let count = chunk.withUnsafeMutableBytes { posixRead(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .fileUnreadable(path: path, reason: errnoDescription())
            }
            if count == 0 { break }
            result += chunk[0..<count]
            guard result.count <= lengthMax else { throw .evidenceTooLarge(path: path, length: result.count) }
        }
        return result
    }

    /// Streams a (possibly large) file through `body` in 1 MiB chunks.
    static func forEachChunk(of path: String, _ body: ([UInt8]) -> Void) throws(EnclaveError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .fileUnreadable(path: path, reason: errnoDescription()) }
        defer { close(descriptor) }
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { posixRead(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .fileUnreadable(path: path, reason: errnoDescription())
            }
            if count == 0 { return }
            body(Array(chunk[0..<count]))
        }
    }

    /// A small text attribute (`provider`, `generation`, `attestation_type`) without surrounding whitespace.
    static func text(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self).trimmingPseudoFileWhitespace()
    }

    /// A name no other request of this or another process uses: pid plus 64 random bits.
    static func uniqueEntryName(prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let random = String(generator.next() as UInt64, radix: 16)
        return "\(prefix)-\(getpid())-\(random)"
    }

    /// Writes all of `bytes` to an existing file in one `write` call, as pseudo-files expect.
    static func write(_ path: String, _ bytes: [UInt8]) throws(EnclaveError) {
        let descriptor = open(path, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .fileUnwritable(path: path, reason: errnoDescription()) }
        defer { close(descriptor) }
        let written = bytes.withUnsafeBytes { posixWrite(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            throw .fileUnwritable(path: path, reason: written < 0 ? errnoDescription() : "short write \(written)")
        }
    }

    /// Creates a new file readable only by its owner (mode 0600) and fsyncs it; fails if the file exists, so a
    /// secret is never silently replaced.
    static func createSecretFile(_ path: String, _ bytes: [UInt8]) throws(EnclaveError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .fileUnwritable(path: path, reason: errnoDescription()) }
        defer { close(descriptor) }
        let written = bytes.withUnsafeBytes { posixWrite(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(descriptor) == 0 else {
            throw .fileUnwritable(path: path, reason: errnoDescription())
        }
    }

    /// Replaces a small file atomically: writes `path.tmp` (mode 0600) and renames it over `path`. No fsync: a
    /// crash may leave the old contents (a lagging anchor, which is safe) and ext4 orders the data before the rename.
    static func replaceFile(_ path: String, _ bytes: [UInt8]) throws(EnclaveError) {
        let temporary = path + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .fileUnwritable(path: temporary, reason: errnoDescription()) }
        let written = bytes.withUnsafeBytes { posixWrite(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
        guard written == bytes.count else { throw .fileUnwritable(path: temporary, reason: errnoDescription()) }
        guard rename(temporary, path) == 0 else { throw .fileUnwritable(path: path, reason: errnoDescription()) }
    }

    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && (status.st_mode & 0o170000) == 0o040000
    }

    /// Creates one directory (not its parents). configfs needs exactly this: `mkdir` makes the report entry.
    static func makeDirectory(_ path: String, mode: mode_t = 0o700) throws(EnclaveError) {
        guard mkdir(path, mode) == 0 else { throw .directoryFailure(path: path, reason: errnoDescription()) }
    }

    /// Creates a directory and any missing parents; an existing directory is fine.
    static func makeDirectories(_ path: String, mode: mode_t = 0o700) throws(EnclaveError) {
        if isDirectory(path) { return }
        let parent = parentPath(path)
        if !parent.isEmpty, parent != path { try makeDirectories(parent, mode: mode) }
        if mkdir(path, mode) != 0, errno != EEXIST {
            throw .directoryFailure(path: path, reason: errnoDescription())
        }
    }

    /// Makes `path` and everything under it owner-only: directories 0700, files 0600 (symbolic links are left
    /// alone, never followed). A data directory may pre-exist with looser modes, or be loosened later.
    static func restrictTree(_ path: String) throws(EnclaveError) {
        var status = stat()
        guard lstat(path, &status) == 0 else { throw .directoryFailure(path: path, reason: errnoDescription()) }
        let type = status.st_mode & 0o170000
        if type == 0o120000 { return }
        let isDirectory = type == 0o040000
        let wanted: mode_t = isDirectory ? 0o700 : 0o600
        if status.st_mode & 0o7777 != wanted, chmod(path, wanted) != 0 {
            throw .directoryFailure(path: path, reason: "chmod: \(errnoDescription())")
        }
        guard isDirectory, let directory = opendir(path) else { return }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != ".", name != ".." { names.append(name) }
        }
        closedir(directory)
        for name in names { try restrictTree(join(path, name)) }
    }

    static func removeDirectory(_ path: String) throws(EnclaveError) {
        guard rmdir(path) == 0 else { throw .directoryFailure(path: path, reason: errnoDescription()) }
    }

    static func parentPath(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    static func errnoDescription() -> String {
        String(cString: strerror(errno))
    }
}

private func posixRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}

private func posixWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}

extension String {
    /// Pseudo-files end text attributes with a newline (and sometimes a NUL).
    fileprivate func trimmingPseudoFileWhitespace() -> String {
        let scalars = Set(" \t\r\n\0".unicodeScalars)
        var view = Substring(self)
        while let first = view.unicodeScalars.first, scalars.contains(first) { view = view.dropFirst() }
        while let last = view.unicodeScalars.last, scalars.contains(last) { view = view.dropLast() }
        return String(view)
    }
}
