//! Programs shaped like lunatic-rs 0.12's examples: a `main` run as lunatic runs a program
//! (`_start`), and each example also exported as an entry (`luna-trace run --entry ex_NAME`).
//! `main` with no argument runs every example that ends normally, in order; `main NAME` runs one.
//! Every example prints what it checked; a wrong answer from the host panics (the process traps).

mod lunatic;

use lunatic::{
    compile_module, die_when_link_dies, sleep_ms, spawn, spawn_link, spawn_raw, spawn_with, LunaticError, Mailbox,
    MailboxResult, Msg, Process, ProcessConfig, Reader, SpawnOptions, Tag, Writer,
};
use std::collections::HashMap;

/// Ping-pong between two processes: the child answers each number with its double.
#[no_mangle]
pub extern "C" fn ex_ping_pong() {
    let mailbox = unsafe { Mailbox::<u64>::new() };
    let ponger = spawn(mailbox.this(), |parent: Process<u64>, mailbox: Mailbox<u64>| loop {
        let n = mailbox.receive();
        if n == 0 {
            break;
        }
        parent.send(n * 2);
    })
    .unwrap();
    let mut sum = 0;
    for i in 1..=20u64 {
        ponger.send(i);
        sum += mailbox.receive();
    }
    ponger.send(0);
    assert_eq!(sum, 420);
    println!("ping_pong: sum {}", sum);
}

/// A request/reply server in lunatic-rs's style: requests carry the caller's handle, replies go
/// back with the request's tag and are awaited with `send_receive_skip_search`.
#[derive(Debug)]
enum Request {
    Add(String, i64),
    Get(String),
    Stop,
}

impl Msg for Request {
    fn write(&self, w: &mut Writer) {
        match self {
            Request::Add(k, v) => { 0u8.write(w); k.write(w); v.write(w) }
            Request::Get(k) => { 1u8.write(w); k.write(w) }
            Request::Stop => 2u8.write(w),
        }
    }
    fn read(r: &mut Reader) -> Self {
        match u8::read(r) {
            0 => { let k = String::read(r); Request::Add(k, i64::read(r)) }
            1 => Request::Get(String::read(r)),
            _ => Request::Stop,
        }
    }
}

fn kv_server(_: (), mailbox: Mailbox<(Process<Option<i64>>, Request)>) {
    let mut store: HashMap<String, i64> = HashMap::new();
    loop {
        let (from, request) = mailbox.receive();
        match request {
            Request::Add(k, v) => {
                *store.entry(k.clone()).or_insert(0) += v;
                mailbox.reply(from, store.get(&k).copied());
            }
            Request::Get(k) => mailbox.reply(from, store.get(&k).copied()),
            Request::Stop => {
                mailbox.reply(from, None);
                break;
            }
        }
    }
}

#[no_mangle]
pub extern "C" fn ex_request_reply() {
    let server = spawn((), kv_server).unwrap();
    let me = Process::<Option<i64>>::this();
    // Untagged noise already queued must not be taken as a reply (skip search).
    me.send(Some(-1));
    for (k, v) in [("a", 1), ("b", 10), ("a", 2), ("c", 100), ("b", 5)] {
        let total: Option<i64> = server.request((me, Request::Add(k.to_string(), v)));
        println!("request_reply: add {} {} -> {:?}", k, v, total);
    }
    let a: Option<i64> = server.request((me, Request::Get("a".into())));
    let z: Option<i64> = server.request((me, Request::Get("z".into())));
    assert_eq!((a, z), (Some(3), None));
    let _: Option<i64> = server.request((me, Request::Stop));
    let mailbox = unsafe { Mailbox::<Option<i64>>::new() };
    assert_eq!(mailbox.receive(), Some(-1));
    // A request to a process that has ended times out.
    while server.is_alive() {
        sleep_ms(1);
    }
    let late: Option<Option<i64>> = server.request_timeout((me, Request::Get("a".into())), 20);
    assert_eq!(late, None);
    println!("request_reply: ok");
}

/// Tags and selective receive: messages are taken by tag, out of arrival order.
#[no_mangle]
pub extern "C" fn ex_selective_receive() {
    let mailbox = unsafe { Mailbox::<String>::new() };
    let me = mailbox.this();
    let (red, green, blue) = (Tag::new(), Tag::new(), Tag::new());
    me.tag_send(red, "red".into());
    me.tag_send(green, "green".into());
    me.tag_send(blue, "blue".into());
    me.send("untagged".into());
    assert_eq!(mailbox.tag_receive(&[blue]), "blue");
    assert_eq!(mailbox.tag_receive(&[green, red]), "red");
    assert_eq!(mailbox.receive(), "green");
    assert_eq!(mailbox.last_tag(), green);
    assert_eq!(mailbox.receive(), "untagged");
    assert_eq!(mailbox.last_tag(), Tag::none());
    println!("selective_receive: blue red green untagged");
}

/// Receive timeouts: nothing arrives, then a message sent later by a sleeping child.
#[no_mangle]
pub extern "C" fn ex_timeouts() {
    let mailbox = unsafe { Mailbox::<u32>::new() };
    assert_eq!(mailbox.receive_timeout(0), None);
    assert_eq!(mailbox.receive_timeout(10), None);
    spawn(mailbox.this(), |parent: Process<u32>, _: Mailbox<()>| {
        sleep_ms(5);
        parent.send(7);
    })
    .unwrap();
    assert_eq!(mailbox.receive_timeout(10_000), Some(7));
    println!("timeouts: none, none, 7");
}

/// Links: a linked child's panic reaches a parent that catches link failures as a message with
/// the link's tag; unlink before a failure means no notice at all.
#[no_mangle]
pub extern "C" fn ex_links() {
    die_when_link_dies(false);
    let mailbox = unsafe { Mailbox::<u32>::new() };
    let (_, tag) = spawn_link((), |_: (), _: Mailbox<()>| {
        panic!("child fails on purpose");
    })
    .unwrap();
    match mailbox.receive_or_link_died(&[], lunatic::FOREVER) {
        MailboxResult::LinkDied(t) => assert_eq!(t, tag),
        other => panic!("expected a link death, got {:?}", other),
    }
    println!("links: linked child failed, notice with its tag");

    let (child, _) = spawn_link(mailbox.this(), |parent: Process<u32>, mailbox: Mailbox<u32>| {
        let _ = mailbox.receive();
        parent.send(1);
        panic!("unlinked child fails");
    })
    .unwrap();
    child.unlink();
    child.send(0);
    assert_eq!(mailbox.receive(), 1);
    while child.is_alive() {
        sleep_ms(1);
    }
    assert_eq!(mailbox.receive_timeout(20), None);
    println!("links: unlinked child failed, no notice");

    // A normal end of a linked process is no failure.
    let (done, _) = spawn_link((), |_: (), _: Mailbox<()>| {}).unwrap();
    while done.is_alive() {
        sleep_ms(1);
    }
    assert_eq!(mailbox.receive_timeout(10), None);
    die_when_link_dies(true);
    println!("links: ok");
}

/// Kill: a child blocked in receive is killed; a linked watcher hears of it; killing it again
/// (it is gone) does nothing.
#[no_mangle]
pub extern "C" fn ex_kill() {
    let mailbox = unsafe { Mailbox::<u64>::new() };
    let blocked = spawn((), |_: (), mailbox: Mailbox<u64>| {
        mailbox.receive();
        unreachable!("the blocked child never returns from receive");
    })
    .unwrap();
    let watcher = spawn((mailbox.this(), blocked), |(parent, watched): (Process<u64>, Process<u64>), m: Mailbox<u64>| {
        die_when_link_dies(false);
        watched.link();
        parent.send(1);
        match m.receive_or_link_died(&[], lunatic::FOREVER) {
            MailboxResult::LinkDied(_) => parent.send(2),
            _ => parent.send(99),
        }
    })
    .unwrap();
    assert_eq!(mailbox.receive(), 1);
    sleep_ms(5);
    blocked.kill();
    assert_eq!(mailbox.receive(), 2);
    blocked.kill();
    assert!(!blocked.is_alive());
    while watcher.is_alive() {
        sleep_ms(1);
    }
    println!("kill: blocked child killed, watcher told");
}

/// The registry: put, get (by name and type), remove.
#[no_mangle]
pub extern "C" fn ex_registry() {
    let mailbox = unsafe { Mailbox::<String>::new() };
    let echo = spawn((), |_: (), mailbox: Mailbox<(Process<String>, String)>| loop {
        let (from, text) = mailbox.receive();
        if text == "stop" {
            break;
        }
        from.send(format!("echo: {}", text));
    })
    .unwrap();
    echo.register("echo");
    let found = Process::<(Process<String>, String)>::lookup("echo").expect("registered");
    assert_eq!(found, echo);
    assert!(Process::<u64>::lookup("echo").is_none(), "another message type is another name");
    found.send((mailbox.this(), "hello".into()));
    let answer = mailbox.receive();
    assert_eq!(answer, "echo: hello");
    Process::<(Process<String>, String)>::unregister("echo");
    assert!(Process::<(Process<String>, String)>::lookup("echo").is_none());
    echo.send((mailbox.this(), "stop".into()));
    println!("registry: {}", answer);
}

/// Timers: send_after delivers later; a cancelled timer delivers nothing.
#[no_mangle]
pub extern "C" fn ex_timers() {
    let mailbox = unsafe { Mailbox::<u32>::new() };
    let me = mailbox.this();
    let _late = me.send_after(2, 30);
    let early = me.send_after(1, 5);
    let cancelled = me.send_after(3, 10_000);
    assert!(cancelled.cancel());
    assert_eq!(mailbox.receive(), 1);
    assert_eq!(mailbox.receive(), 2);
    assert!(!early.cancel(), "a fired timer cannot be cancelled");
    assert_eq!(mailbox.receive_timeout(20), None);
    println!("timers: 1 then 2, cancelled never came");
}

/// Configs: a child without spawn permission traps when it spawns; a child with little fuel
/// traps in a loop; a child with little memory fails to allocate. The parent catches each
/// failure as a link death.
#[no_mangle]
pub extern "C" fn ex_configs() {
    die_when_link_dies(false);
    let mailbox = unsafe { Mailbox::<u32>::new() };
    let expect_death = |what: &str| match mailbox.receive_or_link_died(&[], lunatic::FOREVER) {
        MailboxResult::LinkDied(_) => println!("configs: {} failed as expected", what),
        other => panic!("configs: {} should fail, got {:?}", what, other),
    };

    let mut no_spawn = ProcessConfig::new().unwrap();
    no_spawn.set_can_spawn_processes(false);
    assert!(!no_spawn.can_spawn_processes());
    spawn_with(SpawnOptions { link: Some(Tag::new()), config: Some(&no_spawn), module: None }, (), |_: (), _: Mailbox<()>| {
        let _ = spawn((), |_: (), _: Mailbox<()>| {});
    })
    .unwrap();
    expect_death("spawn without permission");

    let mut little_fuel = ProcessConfig::new().unwrap();
    little_fuel.set_max_fuel(1);
    assert_eq!(little_fuel.max_fuel(), 1);
    spawn_with(SpawnOptions { link: Some(Tag::new()), config: Some(&little_fuel), module: None }, (), |_: (), _: Mailbox<()>| {
        let mut x: u64 = 1;
        for i in 0..u64::MAX {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
            lunatic::opaque(x);
        }
    })
    .unwrap();
    expect_death("running out of fuel");

    let mut little_memory = ProcessConfig::new().unwrap();
    little_memory.set_max_memory(4 << 20);
    assert_eq!(little_memory.max_memory(), 4 << 20);
    spawn_with(SpawnOptions { link: Some(Tag::new()), config: Some(&little_memory), module: None }, (), |_: (), _: Mailbox<()>| {
        let big = vec![1u8; 64 << 20];
        lunatic::opaque(&big);
    })
    .unwrap();
    expect_death("allocating beyond max_memory");

    // A config that allows everything: the child runs to its end.
    let roomy = ProcessConfig::new().unwrap();
    let child = spawn_with(SpawnOptions { link: None, config: Some(&roomy), module: None }, mailbox.this(), |parent: Process<u32>, _: Mailbox<()>| {
        parent.send(5);
    })
    .unwrap();
    assert_eq!(mailbox.receive(), 5);
    let _ = child;
    die_when_link_dies(true);
    println!("configs: ok");
}

/// Error ids: a bad module compiles to an error object whose text is read and dropped; spawning
/// a function the module lacks makes the child fail (in lunatic the lookup happens in the child);
/// a module compiled at run time is spawned.
#[no_mangle]
pub extern "C" fn ex_errors() {
    let err: LunaticError = compile_module(b"\0asm\x01\0\0\0garbage").unwrap_err();
    assert!(!err.text.is_empty());
    println!("errors: compile_module failed: {}", err.text.lines().next().unwrap_or(""));

    // (module (func (export "hello")))
    let tiny: &[u8] = &[
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
        0x07, 0x09, 0x01, 0x05, b'h', b'e', b'l', b'l', b'o', 0x00, 0x00, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b,
    ];
    let module = compile_module(tiny).expect("a valid module compiles");
    die_when_link_dies(false);
    let mailbox = unsafe { Mailbox::<u32>::new() };
    let tag = Tag::new();
    let child = spawn_raw(SpawnOptions { link: Some(tag), config: None, module: Some(module) }, "hello", &[]).unwrap();
    while Process::<u32>::from_id(child).is_alive() {
        sleep_ms(1);
    }
    assert_eq!(mailbox.receive_timeout(10), None, "a normal end sends no notice");
    let missing = spawn_raw(SpawnOptions { link: Some(tag), config: None, module: Some(module) }, "nope", &[]).unwrap();
    match mailbox.receive_or_link_died(&[], lunatic::FOREVER) {
        MailboxResult::LinkDied(t) => assert_eq!(t, tag),
        other => panic!("spawning a missing function should fail the child, got {:?}", other),
    }
    let _ = missing;
    unsafe { lunatic::host::process::drop_module(module) };
    die_when_link_dies(true);
    println!("errors: ok");
}

/// WASI through std as lunatic programs use it: arguments, environment, clocks, random-seeded
/// hashing, stderr.
#[no_mangle]
pub extern "C" fn ex_wasi() {
    let args: Vec<String> = std::env::args().collect();
    assert!(!args.is_empty());
    let started = std::time::Instant::now();
    sleep_ms(2);
    std::thread::sleep(std::time::Duration::from_millis(1));
    assert!(started.elapsed() >= std::time::Duration::from_millis(1));
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    assert!(since_epoch.as_secs() > 1_600_000_000);
    let mut words: HashMap<&str, usize> = HashMap::new();
    for w in "the quick brown fox jumps over the lazy dog the end".split(' ') {
        *words.entry(w).or_default() += 1;
    }
    assert_eq!(words["the"], 3);
    eprintln!("wasi: a line on stderr");
    let (major, minor, patch) = lunatic::version();
    println!("wasi: {} args, version {}.{}.{}, pid {} ", args.len(), major, minor, patch, lunatic::this_id() > 0);
}

/// Many processes fan out and back in (a small supervisor-less map/reduce).
#[no_mangle]
pub extern "C" fn ex_fan_out() {
    let mailbox = unsafe { Mailbox::<(u64, u64)>::new() };
    for i in 0..32u64 {
        spawn((mailbox.this(), i), |(parent, i): (Process<(u64, u64)>, u64), _: Mailbox<()>| {
            parent.send((i, (1..=i).sum()));
        })
        .unwrap();
    }
    let mut results: Vec<(u64, u64)> = (0..32).map(|_| mailbox.receive()).collect();
    results.sort();
    assert_eq!(results.iter().map(|r| r.1).sum::<u64>(), 5456);
    println!("fan_out: 32 processes, total {}", results.iter().map(|r| r.1).sum::<u64>());
}

/// A supervisor in lunatic-rs's style: it catches its worker's failures (die_when_link_dies off),
/// restarts the worker and re-registers it under the same name; clients find the worker by
/// name and talk to it by request/reply.
#[no_mangle]
pub extern "C" fn ex_supervisor() {
    type Counter = (Process<i64>, i64);
    fn counter(start: i64, mailbox: Mailbox<Counter>) {
        let mut total = start;
        loop {
            let (from, n) = mailbox.receive();
            if n < 0 {
                panic!("counter asked to crash at {}", total);
            }
            total += n;
            mailbox.reply(from, total);
        }
    }
    fn supervise(parent: Process<i64>, _: Mailbox<()>) {
        die_when_link_dies(false);
        let mailbox = unsafe { Mailbox::<i64>::new() };
        let mut restarts = 0i64;
        loop {
            let (worker, tag) = spawn_link(restarts * 100, counter).unwrap();
            worker.register("counter");
            parent.send(restarts);
            match mailbox.receive_or_link_died(&[], lunatic::FOREVER) {
                MailboxResult::LinkDied(t) => assert_eq!(t, tag),
                other => panic!("supervisor expected a worker failure, got {:?}", other),
            }
            restarts += 1;
            if restarts == 3 {
                Process::<Counter>::unregister("counter");
                parent.send(-1);
                return;
            }
        }
    }
    let mailbox = unsafe { Mailbox::<i64>::new() };
    let me = mailbox.this();
    spawn(me, supervise).unwrap();
    for round in 0..3i64 {
        assert_eq!(mailbox.receive(), round, "supervisor started the worker");
        let worker = Process::<Counter>::lookup("counter").expect("the worker is registered");
        let a: i64 = worker.request((me, 1));
        let b: i64 = worker.request((me, 2));
        assert_eq!((a, b), (round * 100 + 1, round * 100 + 3));
        println!("supervisor: round {} counted to {}", round, b);
        worker.send((me, -1));
    }
    assert_eq!(mailbox.receive(), -1);
    assert!(Process::<Counter>::lookup("counter").is_none());
    println!("supervisor: 3 restarts, ok");
}

// ---- examples that end the program abnormally ------------------------------------------------

/// The main process panics: the panic message goes to stderr and the process traps.
#[no_mangle]
pub extern "C" fn ex_panic() {
    println!("panic: about to panic");
    let v: Vec<u32> = Vec::new();
    let i = lunatic::opaque(3);
    println!("{}", v[i]);
}

/// A linked child panics and the parent, dying with its links (the default), fails too.
#[no_mangle]
pub extern "C" fn ex_linked_panic() {
    let mailbox = unsafe { Mailbox::<u32>::new() };
    spawn_link((), |_: (), _: Mailbox<()>| {
        sleep_ms(2);
        panic!("linked child panics");
    })
    .unwrap();
    println!("linked_panic: waiting");
    let _ = mailbox.receive();
    unreachable!("the parent dies with its linked child");
}

/// `std::process::exit(3)`: WASI proc_exit with the status.
#[no_mangle]
pub extern "C" fn ex_exit() {
    println!("exit: leaving with 3");
    std::process::exit(3);
}

const TOUR: &[(&str, extern "C" fn())] = &[
    ("ping_pong", ex_ping_pong),
    ("request_reply", ex_request_reply),
    ("selective_receive", ex_selective_receive),
    ("timeouts", ex_timeouts),
    ("links", ex_links),
    ("kill", ex_kill),
    ("registry", ex_registry),
    ("timers", ex_timers),
    ("configs", ex_configs),
    ("errors", ex_errors),
    ("wasi", ex_wasi),
    ("fan_out", ex_fan_out),
    ("supervisor", ex_supervisor),
];

const ABNORMAL: &[(&str, extern "C" fn())] = &[("panic", ex_panic), ("linked_panic", ex_linked_panic), ("exit", ex_exit)];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1) {
        None => {
            for (_, example) in TOUR {
                example();
            }
            println!("all examples ok");
        }
        Some(name) => match TOUR.iter().chain(ABNORMAL).find(|(n, _)| n == name) {
            Some((_, example)) => example(),
            None => {
                eprintln!("no example {}", name);
                std::process::exit(2);
            }
        },
    }
}
