import Foundation
import Testing

/// Runs the real `zstd` command-line tool.
enum ZstdCLI {
    struct Output {
        var status: Int32
        var stdout: [UInt8]
        var stderr: String
    }

    static var path: String? {
        ["/usr/bin/zstd", "/usr/local/bin/zstd", "/opt/homebrew/bin/zstd"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    static func run(_ arguments: [String]) throws -> Output {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try require(path, "the zstd CLI is not installed"))
        p.arguments = ["-q"] + arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        let stderrData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Output(
            status: p.terminationStatus, stdout: [UInt8](stdoutData),
            stderr: String(decoding: stderrData, as: UTF8.self))
    }
}

extension ZstdCLI {
    fileprivate static func require<T>(_ v: T?, _ message: String) throws -> T {
        guard let v else { throw CLIError(message: message) }
        return v
    }
    struct CLIError: Error { var message: String }
}
