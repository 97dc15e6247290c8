/// File path text every module shares.
package enum Paths {
    /// The last path component (`dir/run.trace` → `run.trace`); the path itself when it has none.
    package static func baseName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
}
