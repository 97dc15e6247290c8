import Foundation

/// The Erlang/OTP side of P5: `bench/luna_bench.erl`, compiled with `erlc` into a temporary
/// directory and run by `erl +S 1` (one scheduler) once per figure, so `luna-bench all` can
/// interleave Erlang's runs with Luna's and print Luna÷Erlang from one run on one machine.
///
/// When `erl` or `erlc` is missing, or the source is not found, `unavailable` says why and no
/// Erlang figure is produced: the table shows that reason instead of a number.
struct ErlangBench {
    /// Why Erlang cannot be run here (nil when it can).
    let unavailable: String?
    /// `erl`'s path and the directory holding the compiled `luna_bench.beam`.
    private let erl: String
    private let beamDirectory: String

    /// The OTP release `erl` reports ("25"), for the table.
    let release: String

    /// Finds `erl` (the `erl` argument, or on PATH when nil) and `erlc` beside it or on PATH,
    /// and compiles `luna_bench.erl` from `sourceDirectory`.
    init(erl erlOverride: String?, sourceDirectory: String) {
        let source = (sourceDirectory as NSString).appendingPathComponent("luna_bench.erl")
        let erl = erlOverride ?? Self.onPath("erl")
        self.erl = erl ?? ""
        // One directory per instance: two benches in one process must not remove each other's.
        beamDirectory = Measure.tempPath("erlang-\(UInt32.random(in: 0...UInt32.max))")
        guard let erl, FileManager.default.isExecutableFile(atPath: erl) else {
            unavailable = "Erlang not installed (no \(erlOverride ?? "erl on PATH"); bench/run.sh installs erlang-base)"
            release = ""
            return
        }
        let besideErl = ((erl as NSString).deletingLastPathComponent as NSString).appendingPathComponent("erlc")
        guard let erlc = FileManager.default.isExecutableFile(atPath: besideErl) ? besideErl : Self.onPath("erlc") else {
            unavailable = "Erlang not installed (erl found at \(erl) but no erlc)"
            release = ""
            return
        }
        guard FileManager.default.fileExists(atPath: source) else {
            unavailable = "Erlang not run: \(source) not found (pass --erlang-source DIR)"
            release = ""
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: beamDirectory, withIntermediateDirectories: true)
            _ = try Self.output([erlc, "-o", beamDirectory, source])
            let version = try Self.output([
                erl, "-noshell", "-eval",
                "io:format(\"~s\", [erlang:system_info(otp_release)]), halt().",
            ])
            release = version.trimmingCharacters(in: .whitespacesAndNewlines)
            unavailable = nil
        } catch {
            unavailable = "Erlang not run: \(error)"
            release = ""
        }
    }

    /// "Erlang/OTP 25 (erl +S 1)", or the reason it was not run.
    var label: String { unavailable ?? "Erlang/OTP \(release) (erl +S 1)" }

    /// Runs one workload of `luna_bench.erl` (one_way, one_way_int, ping_pong, ping_pong_int,
    /// spawn, idle_memory) with `count` and returns the figure it prints. The child inherits
    /// this process's CPU affinity, so a pinned luna-bench runs a pinned Erlang.
    func figure(_ workload: String, count: Int) throws -> Double {
        if let unavailable { throw BenchFailure(unavailable) }
        let text = try Self.output([
            erl, "+S", "1", "-noshell", "-pa", beamDirectory, "-eval",
            "luna_bench:main([\"\(workload)\", \"\(count)\"]), halt().",
        ])
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.count == 3, words[0] == "luna_bench", words[1] == workload, let value = Double(words[2]) {
                return value
            }
        }
        throw BenchFailure("erl luna_bench \(workload): no figure in its output: \(text.prefix(400))")
    }

    /// Removes the compiled module.
    func cleanUp() {
        try? FileManager.default.removeItem(atPath: beamDirectory)
    }

    /// The path of an executable `name` on PATH, or nil.
    static func onPath(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = String(dir) + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `arguments` and returns its standard output and error; throws with that text when
    /// it cannot start or exits non-zero.
    private static func output(_ arguments: [String]) throws -> String {
        let path = Measure.tempPath("erl-out-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        guard let out = FileHandle(forWritingAtPath: path) else { throw BenchFailure("cannot open \(path)") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.standardOutput = out
        process.standardError = out
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            try? out.close()
            throw BenchFailure("cannot run \(arguments.joined(separator: " ")): \(error)")
        }
        process.waitUntilExit()
        try? out.close()
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            throw BenchFailure(
                "\(arguments.joined(separator: " ")) exited with status \(process.terminationStatus): "
                    + text.suffix(400).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return text
    }
}
