//! A small hand-written `lunatic` module: the lunatic host API as lunatic-rs 0.12 (November 2022)
//! calls it, without the crate (no crates.io here). Raw imports with lunatic's exact names and
//! WebAssembly types (docs/SEMANTICS.md §8), and on top of them the shapes lunatic-rs programs
//! use: `Process<M>` handles, a typed `Mailbox<M>`, tags, `spawn`/`spawn_link` through the
//! exported `_lunatic_spawn_by_index`, request/reply over `send_receive_skip_search`, the
//! registry, timers, configs and error objects.
//!
//! Messages are serialized into the scratch area with many small `write_data` calls and read
//! back with `read_data`, the way lunatic-rs's bincode serializer streams them.
#![allow(dead_code)]

use std::marker::PhantomData;
use std::sync::atomic::{AtomicI64, Ordering};

/// The raw imports, one module per lunatic namespace.
pub mod host {
    pub mod message {
        #[link(wasm_import_module = "lunatic::message")]
        extern "C" {
            pub fn create_data(tag: i64, buffer_capacity: u64);
            pub fn write_data(data: *const u8, data_len: usize) -> usize;
            pub fn read_data(data: *mut u8, data_len: usize) -> usize;
            pub fn seek_data(index: u64);
            pub fn get_tag() -> i64;
            pub fn data_size() -> u64;
            pub fn send(process_id: u64) -> u32;
            pub fn send_receive_skip_search(process_id: u64, timeout_ms: u64) -> u32;
            pub fn receive(tags: *const i64, tags_len: usize, timeout_ms: u64) -> u32;
        }
    }
    pub mod process {
        #[link(wasm_import_module = "lunatic::process")]
        extern "C" {
            pub fn spawn(
                link: i64, config_id: i64, module_id: i64, func: *const u8, func_len: usize,
                params: *const u8, params_len: usize, id: *mut u64,
            ) -> u32;
            pub fn compile_module(data: *const u8, data_len: usize, id: *mut u64) -> i32;
            pub fn drop_module(module_id: u64);
            pub fn create_config() -> i64;
            pub fn drop_config(config_id: u64);
            pub fn config_set_max_memory(config_id: u64, max_memory: u64);
            pub fn config_get_max_memory(config_id: u64) -> u64;
            pub fn config_set_max_fuel(config_id: u64, max_fuel: u64);
            pub fn config_get_max_fuel(config_id: u64) -> u64;
            pub fn config_set_can_spawn_processes(config_id: u64, can: u32);
            pub fn config_can_spawn_processes(config_id: u64) -> u32;
            pub fn config_set_can_create_configs(config_id: u64, can: u32);
            pub fn config_set_can_compile_modules(config_id: u64, can: u32);
            pub fn sleep_ms(ms: u64);
            pub fn die_when_link_dies(trap: u32);
            pub fn process_id() -> u64;
            pub fn environment_id() -> u64;
            pub fn link(tag: i64, process_id: u64);
            pub fn unlink(process_id: u64);
            pub fn kill(process_id: u64);
            pub fn exists(process_id: u64) -> i32;
        }
    }
    pub mod registry {
        #[link(wasm_import_module = "lunatic::registry")]
        extern "C" {
            pub fn put(name: *const u8, name_len: usize, node_id: u64, process_id: u64);
            pub fn get(name: *const u8, name_len: usize, node_id: *mut u64, process_id: *mut u64) -> u32;
            pub fn remove(name: *const u8, name_len: usize);
        }
    }
    pub mod timer {
        #[link(wasm_import_module = "lunatic::timer")]
        extern "C" {
            pub fn send_after(process_id: u64, delay_ms: u64) -> u64;
            pub fn cancel_timer(timer_id: u64) -> u32;
        }
    }
    pub mod distributed {
        #[link(wasm_import_module = "lunatic::distributed")]
        extern "C" {
            pub fn node_id() -> u64;
        }
    }
    pub mod error {
        #[link(wasm_import_module = "lunatic::error")]
        extern "C" {
            pub fn string_size(error_id: u64) -> u32;
            pub fn to_string(error_id: u64, error_str: *mut u8);
            pub fn drop(error_id: u64);
        }
    }
    pub mod version {
        #[link(wasm_import_module = "lunatic::version")]
        extern "C" {
            pub fn major() -> u32;
            pub fn minor() -> u32;
            pub fn patch() -> u32;
        }
    }
}

/// `receive`'s and `send_receive_skip_search`'s result when the timeout ran out.
pub const TIMEOUT: u32 = 9027;
/// Wait forever.
pub const FOREVER: u64 = u64::MAX;

/// An error object of the host, read and dropped (`lunatic::error`).
#[derive(Debug, PartialEq)]
pub struct LunaticError {
    pub text: String,
}

impl LunaticError {
    /// Reads error `id`'s text and drops the error object.
    pub fn take(id: u64) -> LunaticError {
        let size = unsafe { host::error::string_size(id) } as usize;
        let mut bytes = vec![0u8; size];
        unsafe { host::error::to_string(id, bytes.as_mut_ptr()) };
        unsafe { host::error::drop(id) };
        LunaticError { text: String::from_utf8_lossy(&bytes).into_owned() }
    }
}

/// A message tag: unique per process (lunatic-rs counts them up from a process-local counter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tag(i64);

static NEXT_TAG: AtomicI64 = AtomicI64::new(128);

impl Tag {
    pub fn new() -> Tag {
        Tag(NEXT_TAG.fetch_add(1, Ordering::Relaxed))
    }
    pub fn none() -> Tag {
        Tag(0)
    }
    pub fn from(id: i64) -> Tag {
        Tag(id)
    }
    pub fn id(self) -> i64 {
        self.0
    }
}

// ---- serialization ---------------------------------------------------------------------------

/// The message being written: every field goes to the host as its own `write_data`.
pub struct Writer;
impl Writer {
    pub fn bytes(&mut self, b: &[u8]) {
        let n = unsafe { host::message::write_data(b.as_ptr(), b.len()) };
        assert_eq!(n, b.len(), "write_data wrote {} of {} bytes", n, b.len());
    }
}

/// The message being read.
pub struct Reader;
impl Reader {
    pub fn bytes(&mut self, b: &mut [u8]) {
        let n = unsafe { host::message::read_data(b.as_mut_ptr(), b.len()) };
        assert_eq!(n, b.len(), "read_data read {} of {} bytes", n, b.len());
    }
}

/// A value that travels in a message (lunatic-rs: `serde` + bincode).
pub trait Msg: Sized {
    fn write(&self, w: &mut Writer);
    fn read(r: &mut Reader) -> Self;
}

macro_rules! number_msg {
    ($($t:ty),*) => {$(
        impl Msg for $t {
            fn write(&self, w: &mut Writer) { w.bytes(&self.to_le_bytes()) }
            fn read(r: &mut Reader) -> Self {
                let mut b = [0u8; std::mem::size_of::<$t>()];
                r.bytes(&mut b);
                <$t>::from_le_bytes(b)
            }
        }
    )*};
}
number_msg!(u8, i32, u32, i64, u64, f64);

impl Msg for () {
    fn write(&self, _: &mut Writer) {}
    fn read(_: &mut Reader) -> Self {}
}

impl Msg for bool {
    fn write(&self, w: &mut Writer) { (*self as u8).write(w) }
    fn read(r: &mut Reader) -> Self { u8::read(r) != 0 }
}

impl Msg for String {
    fn write(&self, w: &mut Writer) {
        (self.len() as u64).write(w);
        w.bytes(self.as_bytes());
    }
    fn read(r: &mut Reader) -> Self {
        let mut b = vec![0u8; u64::read(r) as usize];
        r.bytes(&mut b);
        String::from_utf8(b).expect("a String message holds UTF-8")
    }
}

impl<T: Msg> Msg for Vec<T> {
    fn write(&self, w: &mut Writer) {
        (self.len() as u64).write(w);
        for x in self { x.write(w) }
    }
    fn read(r: &mut Reader) -> Self {
        let n = u64::read(r) as usize;
        (0..n).map(|_| T::read(r)).collect()
    }
}

impl<T: Msg> Msg for Option<T> {
    fn write(&self, w: &mut Writer) {
        match self {
            None => 0u8.write(w),
            Some(x) => { 1u8.write(w); x.write(w) }
        }
    }
    fn read(r: &mut Reader) -> Self {
        if u8::read(r) == 0 { None } else { Some(T::read(r)) }
    }
}

impl<A: Msg, B: Msg> Msg for (A, B) {
    fn write(&self, w: &mut Writer) { self.0.write(w); self.1.write(w) }
    fn read(r: &mut Reader) -> Self { let a = A::read(r); (a, B::read(r)) }
}

impl<A: Msg, B: Msg, C: Msg> Msg for (A, B, C) {
    fn write(&self, w: &mut Writer) { self.0.write(w); self.1.write(w); self.2.write(w) }
    fn read(r: &mut Reader) -> Self { let a = A::read(r); let b = B::read(r); (a, b, C::read(r)) }
}

/// A process handle travels as its pid (lunatic-rs 0.12: processes are plain u64 ids).
impl<M: Msg> Msg for Process<M> {
    fn write(&self, w: &mut Writer) { self.id.write(w) }
    fn read(r: &mut Reader) -> Self { Process::from_id(u64::read(r)) }
}

/// Puts `msg` with `tag` into the scratch area.
fn prepare<M: Msg>(tag: Tag, msg: &M) {
    unsafe { host::message::create_data(tag.id(), 0) };
    msg.write(&mut Writer);
}

/// Reads the scratch area's message as an `M`.
fn read_message<M: Msg>() -> M {
    M::read(&mut Reader)
}

// ---- processes -------------------------------------------------------------------------------

/// A process that receives messages of type `M`.
pub struct Process<M> {
    id: u64,
    _m: PhantomData<M>,
}

impl<M> Clone for Process<M> {
    fn clone(&self) -> Self { Process { id: self.id, _m: PhantomData } }
}
impl<M> Copy for Process<M> {}
impl<M> std::fmt::Debug for Process<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { write!(f, "Process({})", self.id) }
}
impl<M> PartialEq for Process<M> {
    fn eq(&self, other: &Self) -> bool { self.id == other.id }
}

impl<M: Msg> Process<M> {
    pub fn from_id(id: u64) -> Self { Process { id, _m: PhantomData } }
    pub fn id(&self) -> u64 { self.id }

    /// `Process::this()`: the calling process, as a handle of any message type.
    pub fn this() -> Self { Process::from_id(unsafe { host::process::process_id() }) }

    pub fn send(&self, msg: M) { self.tag_send(Tag::none(), msg) }

    pub fn tag_send(&self, tag: Tag, msg: M) {
        prepare(tag, &msg);
        unsafe { host::message::send(self.id) };
    }

    /// Sends `msg` with a fresh tag and waits for the reply with that tag, searching only
    /// messages that arrive after the request (`send_receive_skip_search`).
    pub fn request<R: Msg>(&self, msg: M) -> R {
        self.request_timeout(msg, FOREVER).expect("request without a timeout timed out")
    }

    pub fn request_timeout<R: Msg>(&self, msg: M, timeout_ms: u64) -> Option<R> {
        prepare(Tag::new(), &msg);
        match unsafe { host::message::send_receive_skip_search(self.id, timeout_ms) } {
            TIMEOUT => None,
            _ => Some(read_message()),
        }
    }

    /// Sends `msg` after `ms` milliseconds (`lunatic::timer::send_after`).
    pub fn send_after(&self, msg: M, ms: u64) -> TimerRef {
        prepare(Tag::none(), &msg);
        TimerRef(unsafe { host::timer::send_after(self.id, ms) })
    }

    pub fn link(&self) { unsafe { host::process::link(Tag::new().id(), self.id) } }
    pub fn unlink(&self) { unsafe { host::process::unlink(self.id) } }
    pub fn kill(&self) { unsafe { host::process::kill(self.id) } }
    pub fn is_alive(&self) -> bool { (unsafe { host::process::exists(self.id) }) == 1 }

    /// Registers this process under `name` (lunatic-rs keys the registry by name and type).
    pub fn register(&self, name: &str) {
        let key = registry_key::<M>(name);
        unsafe { host::registry::put(key.as_ptr(), key.len(), host::distributed::node_id(), self.id) }
    }

    pub fn lookup(name: &str) -> Option<Self> {
        let key = registry_key::<M>(name);
        let (mut node, mut id) = (0u64, 0u64);
        match unsafe { host::registry::get(key.as_ptr(), key.len(), &mut node, &mut id) } {
            0 => Some(Process::from_id(id)),
            _ => None,
        }
    }

    pub fn unregister(name: &str) {
        let key = registry_key::<M>(name);
        unsafe { host::registry::remove(key.as_ptr(), key.len()) }
    }
}

fn registry_key<M>(name: &str) -> String {
    format!("{} + Process + {}", name, std::any::type_name::<M>())
}

/// A pending `send_after`.
pub struct TimerRef(u64);
impl TimerRef {
    /// Cancels the timer; true when it had not fired yet.
    pub fn cancel(self) -> bool { (unsafe { host::timer::cancel_timer(self.0) }) == 1 }
}

/// What a receive that catches link failures returns.
#[derive(Debug, PartialEq)]
pub enum MailboxResult<M> {
    Message(M),
    LinkDied(Tag),
    TimedOut,
}

/// The calling process's mailbox, receiving `M`s.
pub struct Mailbox<M> {
    _m: PhantomData<M>,
}

impl<M: Msg> Mailbox<M> {
    /// Only lunatic-rs's entry wrappers make mailboxes: one per process.
    pub unsafe fn new() -> Self { Mailbox { _m: PhantomData } }

    pub fn this(&self) -> Process<M> { Process::this() }

    pub fn receive(&self) -> M {
        match self.receive_inner(&[], FOREVER) {
            MailboxResult::Message(m) => m,
            other => panic!("receive without a timeout got {:?}", other.kind()),
        }
    }

    pub fn receive_timeout(&self, ms: u64) -> Option<M> {
        match self.receive_inner(&[], ms) {
            MailboxResult::Message(m) => Some(m),
            MailboxResult::TimedOut => None,
            MailboxResult::LinkDied(tag) => panic!("link died ({:?}) while die_when_link_dies is on", tag),
        }
    }

    /// Selective receive: the first message carrying one of `tags`.
    pub fn tag_receive(&self, tags: &[Tag]) -> M {
        match self.receive_inner(tags, FOREVER) {
            MailboxResult::Message(m) => m,
            other => panic!("tag_receive got {:?}", other.kind()),
        }
    }

    /// The tag of the last received message.
    pub fn last_tag(&self) -> Tag { Tag(unsafe { host::message::get_tag() }) }

    /// Receives with link deaths as messages (the caller turned `die_when_link_dies` off).
    pub fn receive_or_link_died(&self, tags: &[Tag], ms: u64) -> MailboxResult<M> {
        self.receive_inner(tags, ms)
    }

    fn receive_inner(&self, tags: &[Tag], ms: u64) -> MailboxResult<M> {
        let ids: Vec<i64> = tags.iter().map(|t| t.id()).collect();
        match unsafe { host::message::receive(ids.as_ptr(), ids.len(), ms) } {
            0 => MailboxResult::Message(read_message()),
            1 => MailboxResult::LinkDied(Tag(unsafe { host::message::get_tag() })),
            TIMEOUT => MailboxResult::TimedOut,
            other => panic!("receive returned {}", other),
        }
    }

    /// Replies to the request just received (same tag, to `to`).
    pub fn reply<R: Msg>(&self, to: Process<R>, msg: R) {
        let tag = self.last_tag();
        to.tag_send(tag, msg);
    }
}

impl<M> MailboxResult<M> {
    fn kind(&self) -> &'static str {
        match self {
            MailboxResult::Message(_) => "a message",
            MailboxResult::LinkDied(_) => "a link death",
            MailboxResult::TimedOut => "a timeout",
        }
    }
}

// ---- spawning --------------------------------------------------------------------------------

/// lunatic-rs's spawn entry: every process it spawns starts here, with the table index of a
/// `fn(i32)` (a monomorphised type helper) and the argument to call it with (the user's entry).
#[export_name = "_lunatic_spawn_by_index"]
pub extern "C" fn lunatic_spawn_by_index(function: i32, arg: i32) {
    let function: fn(i32) = unsafe { std::mem::transmute(function as usize) };
    function(arg);
}

/// Receives the captured value (the child's first message, unless `C` is zero-sized), then
/// calls the entry with it and the mailbox.
fn type_helper<C: Msg, M: Msg>(entry: i32) {
    let captured: C = if std::mem::size_of::<C>() == 0 {
        C::read(&mut Reader)
    } else {
        unsafe { Mailbox::<C>::new() }.receive()
    };
    let entry: fn(C, Mailbox<M>) = unsafe { std::mem::transmute(entry as usize) };
    entry(captured, unsafe { Mailbox::new() })
}

/// A process configuration (`lunatic::process::create_config` and setters).
pub struct ProcessConfig(u64);

impl ProcessConfig {
    /// A new config, or the error lunatic gives without `can_create_configs` (-1).
    pub fn new() -> Result<ProcessConfig, i64> {
        match unsafe { host::process::create_config() } {
            -1 => Err(-1),
            id => Ok(ProcessConfig(id as u64)),
        }
    }
    pub fn id(&self) -> u64 { self.0 }
    pub fn set_max_memory(&mut self, bytes: u64) { unsafe { host::process::config_set_max_memory(self.0, bytes) } }
    pub fn max_memory(&self) -> u64 { unsafe { host::process::config_get_max_memory(self.0) } }
    pub fn set_max_fuel(&mut self, units: u64) { unsafe { host::process::config_set_max_fuel(self.0, units) } }
    pub fn max_fuel(&self) -> u64 { unsafe { host::process::config_get_max_fuel(self.0) } }
    pub fn set_can_spawn_processes(&mut self, can: bool) {
        unsafe { host::process::config_set_can_spawn_processes(self.0, can as u32) }
    }
    pub fn can_spawn_processes(&self) -> bool { (unsafe { host::process::config_can_spawn_processes(self.0) }) != 0 }
    pub fn set_can_create_configs(&mut self, can: bool) {
        unsafe { host::process::config_set_can_create_configs(self.0, can as u32) }
    }
    pub fn set_can_compile_modules(&mut self, can: bool) {
        unsafe { host::process::config_set_can_compile_modules(self.0, can as u32) }
    }
}

impl Drop for ProcessConfig {
    fn drop(&mut self) { unsafe { host::process::drop_config(self.0) } }
}

/// How a spawn links and configures the child.
pub struct SpawnOptions<'a> {
    pub link: Option<Tag>,
    pub config: Option<&'a ProcessConfig>,
    pub module: Option<u64>,
}

/// Spawns `entry` in a new process of this module, sending it `captured` first.
pub fn spawn<C: Msg, M: Msg>(captured: C, entry: fn(C, Mailbox<M>)) -> Result<Process<M>, LunaticError> {
    spawn_with(SpawnOptions { link: None, config: None, module: None }, captured, entry)
}

/// Spawns linked: when either ends by failure or kill, the other hears of it (`link` tag).
pub fn spawn_link<C: Msg, M: Msg>(captured: C, entry: fn(C, Mailbox<M>)) -> Result<(Process<M>, Tag), LunaticError> {
    let tag = Tag::new();
    let p = spawn_with(SpawnOptions { link: Some(tag), config: None, module: None }, captured, entry)?;
    Ok((p, tag))
}

pub fn spawn_with<C: Msg, M: Msg>(
    options: SpawnOptions, captured: C, entry: fn(C, Mailbox<M>),
) -> Result<Process<M>, LunaticError> {
    let helper = type_helper::<C, M> as fn(i32) as usize as i32;
    let entry = entry as usize as i32;
    let mut params = Vec::with_capacity(34);
    for value in [helper, entry] {
        params.push(0x7Fu8);
        params.extend_from_slice(&(value as i128).to_le_bytes());
    }
    let func = "_lunatic_spawn_by_index";
    spawn_raw(options, func, &params).map(|id| {
        if std::mem::size_of::<C>() != 0 {
            Process::<C>::from_id(id).send(captured);
        }
        Process::from_id(id)
    })
}

/// `lunatic::process::spawn` of export `func` with encoded `params`: the pid or the error.
pub fn spawn_raw(options: SpawnOptions, func: &str, params: &[u8]) -> Result<u64, LunaticError> {
    let mut id = 0u64;
    let link = options.link.map_or(0, |t| t.id());
    let config = options.config.map_or(-1, |c| c.id() as i64);
    let module = options.module.map_or(-1, |m| m as i64);
    let r = unsafe {
        host::process::spawn(link, config, module, func.as_ptr(), func.len(), params.as_ptr(), params.len(), &mut id)
    };
    if r == 0 { Ok(id) } else { Err(LunaticError::take(id)) }
}

/// Compiles a WebAssembly module (`lunatic::process::compile_module`).
pub fn compile_module(bytes: &[u8]) -> Result<u64, LunaticError> {
    let mut id = 0u64;
    match unsafe { host::process::compile_module(bytes.as_ptr(), bytes.len(), &mut id) } {
        0 => Ok(id),
        -1 => Err(LunaticError { text: "no permission to compile modules".into() }),
        _ => Err(LunaticError::take(id)),
    }
}

pub fn sleep_ms(ms: u64) { unsafe { host::process::sleep_ms(ms) } }

/// lunatic-rs's `Mailbox::catch_link_failure`/`die_when_link_dies(true)`.
pub fn die_when_link_dies(on: bool) { unsafe { host::process::die_when_link_dies(on as u32) } }

pub fn this_id() -> u64 { unsafe { host::process::process_id() } }

pub fn version() -> (u32, u32, u32) {
    unsafe { (host::version::major(), host::version::minor(), host::version::patch()) }
}

/// Hides a value from the optimiser (`std::hint::black_box` is unstable in rustc 1.63).
pub fn opaque<T>(x: T) -> T {
    let r = unsafe { std::ptr::read_volatile(&x) };
    std::mem::forget(x);
    r
}
