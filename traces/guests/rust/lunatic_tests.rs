//! Tests in lunatic-rs 0.12's `#[lunatic::test]` shape, for `luna-trace test` (cargo's runner):
//! each test is an export named `#lunatic_test_` [`#ignore_`] [`#panic_MESSAGE#`] + module path
//! + `::` + name, taking no arguments (a test with a mailbox parameter makes its own, as the
//! macro's wrapper does). A failing assertion panics, so the test process traps.

mod lunatic;

/// `#[lunatic::test]`, `#[lunatic::test] #[ignore]` and `#[lunatic::test] #[should_panic(...)]`
/// as the attribute macro expands them on wasm32.
macro_rules! lunatic_test {
    ($(#[$prefix:literal])? fn $name:ident() $body:block) => {
        #[export_name = concat!("#lunatic_test_", $($prefix,)? module_path!(), "::", stringify!($name))]
        pub fn $name() $body
    };
    ($(#[$prefix:literal])? fn $name:ident($m:ident: $t:ty) $body:block) => {
        #[export_name = concat!("#lunatic_test_", $($prefix,)? module_path!(), "::", stringify!($name))]
        pub fn $name() {
            fn with_mailbox($m: $t) $body
            with_mailbox(unsafe { $crate::lunatic::Mailbox::new() })
        }
    };
}

mod process {
    use crate::lunatic::{self, spawn, spawn_link, sleep_ms, die_when_link_dies, Mailbox, MailboxResult, Process, Tag};

    lunatic_test! { fn spawn_test(mailbox: Mailbox<i32>) {
        let child = spawn((mailbox.this(), 1i32), |(parent, captured): (Process<i32>, i32), mailbox: Mailbox<i32>| {
            assert_eq!(captured, 1);
            let n = mailbox.receive();
            parent.send(n + captured);
        })
        .unwrap();
        child.send(2);
        assert_eq!(mailbox.receive(), 3);
    }}

    lunatic_test! { fn spawn_link_failure_is_a_message(mailbox: Mailbox<()>) {
        die_when_link_dies(false);
        let (_, tag) = spawn_link((), |_: (), _: Mailbox<()>| panic!("fails")).unwrap();
        assert_eq!(mailbox.receive_or_link_died(&[], lunatic::FOREVER), MailboxResult::LinkDied(tag));
    }}

    lunatic_test! { fn this_and_exists() {
        let me = Process::<()>::this();
        assert!(me.is_alive());
        assert!(me.id() > 0);
        assert!(!Process::<()>::from_id(u64::MAX).is_alive());
    }}

    lunatic_test! { fn kill_blocked_process(mailbox: Mailbox<u8>) {
        let blocked = spawn(mailbox.this(), |parent: Process<u8>, m: Mailbox<u8>| {
            parent.send(1);
            m.receive();
            unreachable!();
        })
        .unwrap();
        assert_eq!(mailbox.receive(), 1);
        blocked.kill();
        while blocked.is_alive() {
            sleep_ms(1);
        }
        // Killing a process that is gone, or one that never was, is a no-op.
        blocked.kill();
        Process::<u8>::from_id(u64::MAX - 1).kill();
    }}

    lunatic_test! { fn link_then_unlink(mailbox: Mailbox<u8>) {
        die_when_link_dies(false);
        let child = spawn(mailbox.this(), |parent: Process<u8>, m: Mailbox<u8>| {
            m.receive();
            parent.send(2);
            panic!("after unlink");
        })
        .unwrap();
        child.link();
        child.unlink();
        child.send(0);
        assert_eq!(mailbox.receive(), 2);
        while child.is_alive() {
            sleep_ms(1);
        }
        assert_eq!(mailbox.receive_or_link_died(&[], 10), MailboxResult::TimedOut);
    }}

    lunatic_test! { fn tagged_link_death_while_waiting_for_a_tag(mailbox: Mailbox<u8>) {
        die_when_link_dies(false);
        let wanted = Tag::new();
        let (_, link_tag) = spawn_link((), |_: (), _: Mailbox<()>| {
            sleep_ms(2);
            panic!("dies");
        })
        .unwrap();
        // A LinkDied message matches a tag set holding its link tag.
        match mailbox.receive_or_link_died(&[wanted, link_tag], lunatic::FOREVER) {
            MailboxResult::LinkDied(t) => assert_eq!(t, link_tag),
            other => panic!("got {:?}", other),
        }
    }}

    lunatic_test! { #["#panic_linked child panics here#"] fn linked_child_panic_ends_the_test(_m: Mailbox<()>) {
        spawn_link((), |_: (), _: Mailbox<()>| panic!("linked child panics here")).unwrap();
        sleep_ms(10_000);
    }}
}

mod mailbox {
    use crate::lunatic::{Mailbox, Process, Tag};

    lunatic_test! { fn receive_in_order(mailbox: Mailbox<String>) {
        let me = mailbox.this();
        for word in ["one", "two", "three"] {
            me.send(word.to_string());
        }
        assert_eq!(mailbox.receive(), "one");
        assert_eq!(mailbox.receive(), "two");
        assert_eq!(mailbox.receive(), "three");
    }}

    lunatic_test! { fn selective_receive(mailbox: Mailbox<u64>) {
        let me = mailbox.this();
        let tags: Vec<Tag> = (0..4).map(|_| Tag::new()).collect();
        for (i, tag) in tags.iter().enumerate() {
            me.tag_send(*tag, i as u64);
        }
        assert_eq!(mailbox.tag_receive(&[tags[2]]), 2);
        assert_eq!(mailbox.tag_receive(&[tags[3], tags[0]]), 0);
        assert_eq!(mailbox.receive(), 1);
        assert_eq!(mailbox.receive(), 3);
    }}

    lunatic_test! { fn receive_timeout(mailbox: Mailbox<u32>) {
        assert_eq!(mailbox.receive_timeout(5), None);
        Process::<u32>::this().send(9);
        assert_eq!(mailbox.receive_timeout(5), Some(9));
    }}

    lunatic_test! { fn nested_messages(mailbox: Mailbox<Vec<(String, Option<u64>)>>) {
        let value = vec![("a".to_string(), Some(1)), ("b".to_string(), None), ("é".to_string(), Some(u64::MAX))];
        mailbox.this().send(value.clone());
        assert_eq!(mailbox.receive(), value);
    }}
}

mod request {
    use crate::lunatic::{spawn, Mailbox, Process};

    lunatic_test! { fn request_reply() {
        let adder = spawn((), |_: (), m: Mailbox<(Process<u64>, u64, u64)>| loop {
            let (from, a, b) = m.receive();
            m.reply(from, a + b);
        })
        .unwrap();
        let me = Process::<u64>::this();
        for i in 0..50u64 {
            let sum: u64 = adder.request((me, i, i * 2));
            assert_eq!(sum, i * 3);
        }
        adder.kill();
    }}

    lunatic_test! { fn request_timeout_without_reply() {
        let silent = spawn((), |_: (), m: Mailbox<(Process<u64>, u64, u64)>| loop {
            m.receive();
        })
        .unwrap();
        let answer: Option<u64> = silent.request_timeout((Process::this(), 1, 2), 5);
        assert_eq!(answer, None);
    }}
}

mod registry_timer {
    use crate::lunatic::{spawn, Mailbox, Process};

    lunatic_test! { fn registry_put_get_remove() {
        let p = spawn((), |_: (), m: Mailbox<u32>| { m.receive(); }).unwrap();
        p.register("worker");
        assert_eq!(Process::<u32>::lookup("worker"), Some(p));
        assert_eq!(Process::<u32>::lookup("other"), None);
        Process::<u32>::unregister("worker");
        assert_eq!(Process::<u32>::lookup("worker"), None);
        p.send(0);
    }}

    lunatic_test! { fn send_after_and_cancel(mailbox: Mailbox<u8>) {
        let me = mailbox.this();
        let t = me.send_after(1, 20);
        assert!(t.cancel());
        me.send_after(2, 1);
        assert_eq!(mailbox.receive(), 2);
        assert_eq!(mailbox.receive_timeout(30), None);
    }}
}

mod host {
    use crate::lunatic::{self, compile_module, ProcessConfig};

    lunatic_test! { fn config_limits_round_trip() {
        let mut config = ProcessConfig::new().unwrap();
        config.set_max_memory(1 << 20);
        config.set_max_fuel(10);
        config.set_can_spawn_processes(false);
        assert_eq!(config.max_memory(), 1 << 20);
        assert_eq!(config.max_fuel(), 10);
        assert!(!config.can_spawn_processes());
    }}

    lunatic_test! { fn compile_error_has_text() {
        let err = compile_module(&[0, 1, 2, 3]).unwrap_err();
        assert!(!err.text.is_empty(), "the error object has a text");
    }}

    lunatic_test! { fn version_is_0_12() {
        assert_eq!(lunatic::version().0, 0);
        println!("version {:?}", lunatic::version());
    }}

    lunatic_test! { #["#panic_two is not three#"] fn failing_assert_panics() {
        let two = lunatic::opaque(2);
        assert!(two == 3, "two is not three");
    }}

    lunatic_test! { #["#panic_#"] fn overflow_or_index_panics() {
        let v = vec![1u8, 2, 3];
        let i = lunatic::opaque(7usize);
        println!("{}", v[i]);
    }}

    lunatic_test! { #["#ignore_"] fn ignored_would_fail() {
        panic!("ignored tests do not run");
    }}
}

fn main() {}
