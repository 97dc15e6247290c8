#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts a detached OS thread named `name` running `body`; false when the OS refuses a thread.
@discardableResult
package func startThread(stackSize: Int, name: String, _ body: @escaping @Sendable () -> Void) -> Bool {
    final class Box: @unchecked Sendable {
        // @unchecked Sendable: handed once to the new thread and only read there.
        let body: @Sendable () -> Void
        let name: String
        init(_ b: @escaping @Sendable () -> Void, _ n: String) { body = b; name = n }
    }
    var attr = pthread_attr_t()
    pthread_attr_init(&attr)
    pthread_attr_setstacksize(&attr, stackSize)
    pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
    let box = Unmanaged.passRetained(Box(body, name)).toOpaque()
    #if canImport(Glibc)
    var tid = pthread_t()
    #else
    var tid: pthread_t?
    #endif
    let rc = pthread_create(
        &tid, &attr,
        { raw in
            let box = Unmanaged<AnyObject>.fromOpaque(raw!).takeRetainedValue() as! Box
            nameCurrentThread(box.name)
            box.body()
            return nil
        }, box)
    pthread_attr_destroy(&attr)
    if rc != 0 { Unmanaged<AnyObject>.fromOpaque(box).release() }
    return rc == 0
}

/// Names the calling thread (Linux keeps 15 bytes), so that profiles (`perf report --sort comm`)
/// tell the threads apart. Glibc's `pthread_setname_np` needs `_GNU_SOURCE`, which the Glibc
/// module does not define, so it is looked up once at run time.
package func nameCurrentThread(_ name: String) {
    #if canImport(Glibc)
    typealias SetName = @convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32
    guard let setName = UnsafeRawPointer(bitPattern: setThreadNameAddress) else { return }
    let short = String(decoding: name.utf8.prefix(15), as: UTF8.self)
    _ = unsafeBitCast(setName, to: SetName.self)(pthread_self(), short)
    #else
    _ = pthread_setname_np(name)
    #endif
}

#if canImport(Glibc)
/// The address of `pthread_setname_np` in the C library, if present (an integer, to be Sendable).
private let setThreadNameAddress = UInt(bitPattern: dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pthread_setname_np"))
#endif
