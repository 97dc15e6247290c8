import Foundation

/// The package root (…/Tests/LunaTestSupport/BuildProducts.swift → …).
public let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// Executable `name` of the build these tests belong to: next to the test bundle (.build/debug
/// for `swift test`, .build/release for `swift test -c release`), never one of another
/// configuration, which may be stale. Nil when it is not built.
public func builtExecutable(_ name: String) -> String? {
    candidatePaths(name).first { FileManager.default.isExecutableFile(atPath: $0) }
}

/// `builtExecutable(name)`, or the path where it should be, so that running it fails naming
/// the file.
public func builtExecutablePath(_ name: String) -> String {
    builtExecutable(name) ?? candidatePaths(name)[0]
}

private func candidatePaths(_ name: String) -> [String] {
    var directories: [URL] = []
    if let exe = Bundle.main.executableURL { directories.append(exe.deletingLastPathComponent()) }
    directories.append(Bundle.main.bundleURL.deletingLastPathComponent())
    directories.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
    // swift-testing on Linux may run from inside the .xctest directory.
    directories += directories.map { $0.deletingLastPathComponent() }
    return directories.map { $0.appendingPathComponent(name).path }
}
