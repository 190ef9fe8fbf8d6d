//! Filter resolution (systemd's merge rules and groups) and the compiled programs, the latter
//! run for real in forked children.

use super::*;
use crate::spec::sandbox::AddressFamilies;

fn line(invert: bool, entries: &[(&str, Option<i32>)]) -> SyscallFilterLine {
    SyscallFilterLine {
        invert,
        entries: entries.iter().map(|(n, e)| ((*n).to_owned(), *e)).collect(),
    }
}

fn names(set: &SyscallSet) -> Vec<&str> {
    set.entries.keys().map(String::as_str).collect()
}

#[test]
fn no_lines_no_filter() {
    assert_eq!(SyscallSet::resolve(&[], true), None);
}

#[test]
fn allow_list_gets_default_and_later_lines_add_or_remove() {
    let set = SyscallSet::resolve(
        &[
            line(false, &[("read", None), ("write", None)]),
            line(true, &[("write", Some(libc::EPERM))]),
            line(false, &[("openat", None)]),
        ],
        true,
    )
    .unwrap();
    assert!(set.allow_list);
    assert!(set.entries.contains_key("read"));
    assert!(set.entries.contains_key("openat"));
    assert!(!set.entries.contains_key("write"), "~write removes it");
    // @default members are implicitly allowed …
    for n in [
        "execve",
        "exit_group",
        "rt_sigreturn",
        "clock_gettime",
        "getrlimit",
    ] {
        assert!(set.entries.contains_key(n), "{n}");
    }
    // … and allow-lists carry no error numbers.
    assert!(set.entries.values().all(Option::is_none));
    // SystemCallLog= has no implicit @default.
    let log = SyscallSet::resolve(&[line(false, &[("read", None)])], false).unwrap();
    assert_eq!(names(&log), ["read"]);
}

#[test]
fn deny_list_keeps_errno_and_plain_lines_remove() {
    let set = SyscallSet::resolve(
        &[
            line(true, &[("@clock", Some(libc::EACCES)), ("uname", None)]),
            line(false, &[("settimeofday", None)]),
            line(true, &[("adjtimex", Some(libc::EROFS))]),
        ],
        true,
    )
    .unwrap();
    assert!(!set.allow_list);
    assert_eq!(set.entries.get("uname"), Some(&None));
    assert_eq!(set.entries.get("clock_settime"), Some(&Some(libc::EACCES)));
    assert_eq!(
        set.entries.get("adjtimex"),
        Some(&Some(libc::EROFS)),
        "later wins"
    );
    assert!(!set.entries.contains_key("settimeofday"));
    assert!(
        !set.entries.contains_key("execve"),
        "no @default in a deny-list"
    );
}

#[test]
fn groups_nest_and_unknown_groups_are_reported() {
    let set = SyscallSet::resolve(
        &[line(
            true,
            &[("@system-service", None), ("@nonsense", None)],
        )],
        true,
    )
    .unwrap();
    // @system-service pulls in @aio, @default, @network-io, …
    for n in ["io_setup", "execve", "socket", "capget", "sendfile"] {
        assert!(set.entries.contains_key(n), "{n}");
    }
    assert!(!set.entries.contains_key("mount"));
    assert_eq!(set.unknown_groups, ["@nonsense"]);
    assert_eq!(
        group("@module").unwrap(),
        ["delete_module", "finit_module", "init_module"]
    );
    assert_eq!(group("@swap").unwrap(), ["swapoff", "swapon"]);
    assert!(group("@known").unwrap().len() > 400);
}

#[test]
fn every_group_member_is_a_group_or_a_plausible_name() {
    for (g, _, members) in groups::GROUPS {
        assert!(g.starts_with('@'));
        for m in *members {
            if m.starts_with('@') {
                assert!(group(m).is_some(), "{g} → {m}");
            } else {
                assert!(
                    m.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                    "{m}"
                );
            }
        }
    }
    // Names of the native ABI resolve, others are skipped.
    assert!(syscall_number("openat").is_some());
    assert!(syscall_number("clock_gettime64").is_none() || cfg!(target_pointer_width = "32"));
}

fn full_sandbox() -> Sandbox {
    Sandbox {
        private_devices: true,
        protect_clock: true,
        protect_hostname: true,
        protect_kernel_tunables: true,
        protect_kernel_modules: true,
        protect_kernel_logs: true,
        restrict_address_families: Some(AddressFamilies {
            allow: true,
            families: vec![libc::AF_UNIX, libc::AF_INET, libc::AF_INET6],
        }),
        restrict_namespaces: Some(0),
        memory_deny_write_execute: true,
        restrict_realtime: true,
        restrict_suid_sgid: true,
        lock_personality: true,
        system_call_architectures: vec!["native".into()],
        system_call_log: vec![line(false, &[("reboot", None)])],
        system_call_filter: vec![
            line(false, &[("@system-service", None)]),
            line(true, &[("@resources", None), ("@privileged", None)]),
        ],
        system_call_error: SyscallAction::Errno(libc::EPERM),
        ..Sandbox::default()
    }
}

#[test]
fn programs_in_systemd_order() {
    let progs = build(&full_sandbox(), 0).unwrap();
    let settings: Vec<&str> = progs.iter().map(|p| p.setting).collect();
    let mut expected = vec![
        "ProtectHostname=",
        "RestrictAddressFamilies=",
        "MemoryDenyWriteExecute=",
        "RestrictRealtime=",
        "RestrictSUIDSGID=",
        "RestrictNamespaces=",
        "RestrictNamespaces=",
    ];
    if syscall_number("_sysctl").is_some() {
        expected.push("ProtectKernelTunables=");
    }
    expected.extend([
        "ProtectKernelModules=",
        "ProtectKernelLogs=",
        "ProtectClock=",
        "PrivateDevices=",
        "SystemCallArchitectures=",
        "LockPersonality=",
        "SystemCallLog=",
        "SystemCallFilter=",
    ]);
    assert_eq!(settings, expected);
    for p in &progs {
        assert!(!p.insns.is_empty() && p.insns.len() < 4096, "{}", p.setting);
        let code = if p.setting == "RestrictAddressFamilies=" {
            EXIT_ADDRESS_FAMILIES
        } else {
            EXIT_SECCOMP
        };
        assert_eq!(p.exit_code, code);
    }
    assert!(wants_seccomp(&full_sandbox()));
    assert!(!wants_seccomp(&Sandbox::default()));
    assert!(build(&Sandbox::default(), 0).unwrap().is_empty());
}

#[test]
fn deny_list_splits_by_verdict() {
    let s = Sandbox {
        system_call_filter: vec![line(
            true,
            &[
                ("uname", Some(libc::EACCES)),
                ("getcpu", None),
                ("sysinfo", Some(libc::EACCES)),
            ],
        )],
        ..Sandbox::default()
    };
    let progs = build(&s, 0).unwrap();
    // One program for EACCES, one for the default (kill).
    assert_eq!(progs.len(), 2);
    // `:kill` under an errno default is a verdict of its own.
    let s = Sandbox {
        system_call_filter: vec![line(
            true,
            &[("uname", Some(SYSCALL_ERRNO_KILL)), ("getcpu", None)],
        )],
        system_call_error: SyscallAction::Errno(libc::EPERM),
        ..Sandbox::default()
    };
    let progs = build(&s, 0).unwrap();
    assert_eq!(progs.len(), 2);
    let st = in_child(&progs, || unsafe {
        let r = libc::syscall(libc::SYS_getcpu, 0usize, 0usize, 0usize);
        if errno_of(r) != libc::EPERM {
            return 1;
        }
        let mut u: libc::utsname = std::mem::zeroed();
        libc::uname(&mut u);
        2
    });
    assert!(
        libc::WIFSIGNALED(st) && libc::WTERMSIG(st) == libc::SIGSYS,
        "{st:#x}"
    );
}

/// Fork; in the child install `progs` (after NO_NEW_PRIVS), run `probe` and exit with its
/// result. Returns the wait status.
fn in_child(progs: &[Program], probe: fn() -> i32) -> i32 {
    // SAFETY: the child makes only system calls before _exit.
    unsafe {
        let pid = libc::fork();
        assert!(pid >= 0);
        if pid == 0 {
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 {
                libc::_exit(100);
            }
            for p in progs {
                if install(&p.insns).is_err() {
                    libc::_exit(101);
                }
            }
            libc::_exit(probe());
        }
        let mut status = 0;
        // The child runs a handful of system calls; no timeout needed beyond its own exit.
        assert_eq!(libc::waitpid(pid, &mut status, 0), pid);
        status
    }
}

fn exit_code(status: i32) -> Option<i32> {
    libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status))
}

fn errno_of(r: libc::c_long) -> i32 {
    if r < 0 {
        // SAFETY: reading errno.
        unsafe { *libc::__errno_location() }
    } else {
        0
    }
}

#[test]
fn denied_call_returns_configured_errno() {
    let s = Sandbox {
        system_call_filter: vec![line(true, &[("getcpu", Some(libc::EROFS))])],
        ..Sandbox::default()
    };
    let progs = build(&s, 0).unwrap();
    let st = in_child(&progs, || unsafe {
        let r = libc::syscall(libc::SYS_getcpu, 0usize, 0usize, 0usize);
        errno_of(r)
    });
    assert_eq!(exit_code(st), Some(libc::EROFS));
}

#[test]
fn default_action_kills_with_sigsys() {
    let s = Sandbox {
        system_call_filter: vec![line(true, &[("getcpu", None)])],
        ..Sandbox::default()
    };
    let progs = build(&s, 0).unwrap();
    let st = in_child(&progs, || unsafe {
        libc::syscall(libc::SYS_getcpu, 0usize, 0usize, 0usize);
        0
    });
    assert!(libc::WIFSIGNALED(st), "status {st:#x}");
    assert_eq!(libc::WTERMSIG(st), libc::SIGSYS);
}

#[test]
fn allow_list_lets_listed_and_default_calls_through() {
    let s = Sandbox {
        system_call_filter: vec![line(false, &[("getpid", None)])],
        system_call_error: SyscallAction::Errno(libc::EUCLEAN),
        ..Sandbox::default()
    };
    let progs = build(&s, 0).unwrap();
    let st = in_child(&progs, || unsafe {
        if libc::syscall(libc::SYS_getpid) < 0 {
            return 1;
        }
        // uname is in no list: the default action (EUCLEAN).
        let mut u: libc::utsname = std::mem::zeroed();
        errno_of(libc::syscall(libc::SYS_uname, &mut u) as libc::c_long)
    });
    assert_eq!(exit_code(st), Some(libc::EUCLEAN));
}

#[test]
fn address_families_allow_list() {
    let s = Sandbox {
        restrict_address_families: Some(AddressFamilies {
            allow: true,
            families: vec![libc::AF_UNIX],
        }),
        ..Sandbox::default()
    };
    let progs = build(&s, 0).unwrap();
    let st = in_child(&progs, || unsafe {
        let u = libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0);
        if u < 0 {
            return 1;
        }
        errno_of(libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0) as libc::c_long)
    });
    assert_eq!(exit_code(st), Some(libc::EAFNOSUPPORT));
    // `none`: nothing at all.
    let none = Sandbox {
        restrict_address_families: Some(AddressFamilies {
            allow: true,
            families: vec![],
        }),
        ..Sandbox::default()
    };
    let st = in_child(&build(&none, 0).unwrap(), || unsafe {
        errno_of(libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0) as libc::c_long)
    });
    assert_eq!(exit_code(st), Some(libc::EAFNOSUPPORT));
    // Deny-list.
    let deny = Sandbox {
        restrict_address_families: Some(AddressFamilies {
            allow: false,
            families: vec![libc::AF_INET6],
        }),
        ..Sandbox::default()
    };
    let st = in_child(&build(&deny, 0).unwrap(), || unsafe {
        if libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM, 0) < 0 {
            return 1;
        }
        errno_of(libc::socket(libc::AF_INET6, libc::SOCK_DGRAM, 0) as libc::c_long)
    });
    assert_eq!(exit_code(st), Some(libc::EAFNOSUPPORT));
}

#[test]
fn memory_deny_write_execute_refuses_wx_mappings() {
    let s = Sandbox {
        memory_deny_write_execute: true,
        ..Sandbox::default()
    };
    let st = in_child(&build(&s, 0).unwrap(), || unsafe {
        let rw = libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if rw == libc::MAP_FAILED {
            return 1;
        }
        let wx = libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_WRITE | libc::PROT_EXEC,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if wx != libc::MAP_FAILED {
            return 2;
        }
        if libc::mprotect(rw, 4096, libc::PROT_READ | libc::PROT_EXEC) == 0 {
            return 3;
        }
        *libc::__errno_location()
    });
    assert_eq!(exit_code(st), Some(libc::EPERM));
}

#[test]
fn namespaces_realtime_suid_and_personality() {
    let s = Sandbox {
        restrict_namespaces: Some(libc::CLONE_NEWUTS as u64),
        restrict_realtime: true,
        restrict_suid_sgid: true,
        lock_personality: true,
        ..Sandbox::default()
    };
    let st = in_child(&build(&s, 0).unwrap(), || unsafe {
        if libc::unshare(libc::CLONE_NEWNET) == 0 || *libc::__errno_location() != libc::EPERM {
            return 1;
        }
        if libc::setns(0, 0) == 0 || *libc::__errno_location() != libc::EPERM {
            return 2;
        }
        let p = libc::sched_param { sched_priority: 1 };
        if libc::sched_setscheduler(0, libc::SCHED_FIFO, &p) == 0
            || *libc::__errno_location() != libc::EPERM
        {
            return 3;
        }
        if libc::chmod(c"/nonexistent/unitd-seccomp-test".as_ptr(), 0o4755) == 0
            || *libc::__errno_location() != libc::EPERM
        {
            return 4;
        }
        if libc::personality(0x0006) != -1 || *libc::__errno_location() != libc::EPERM {
            return 5;
        }
        if libc::syscall(libc::SYS_clone3, 0usize, 0usize) != -1
            || *libc::__errno_location() != libc::ENOSYS
        {
            return 6;
        }
        0
    });
    assert_eq!(exit_code(st), Some(0));
}

#[test]
fn everything_at_once_still_runs_ordinary_calls() {
    let st = in_child(&build(&full_sandbox(), 0).unwrap(), || unsafe {
        if libc::getpid() <= 0 {
            return 1;
        }
        let s = libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0);
        if s < 0 {
            return 2;
        }
        libc::close(s);
        // @resources was removed from the allow-list: EPERM, not death.
        if libc::setpriority(libc::PRIO_PROCESS, 0, 5) == 0 {
            return 3;
        }
        *libc::__errno_location()
    });
    assert_eq!(exit_code(st), Some(libc::EPERM));
}

#[test]
fn architectures_program_accepts_the_native_abi() {
    let s = Sandbox {
        system_call_architectures: vec!["native".into(), "x86".into()],
        ..Sandbox::default()
    };
    let progs = build(&s, 0).unwrap();
    assert_eq!(progs.len(), 1);
    let st = in_child(&progs, || unsafe { (libc::getppid() <= 0) as i32 });
    assert_eq!(exit_code(st), Some(0));
}

#[test]
fn a_whole_call_entry_wins_over_conditional_ones() {
    let p = compile(
        "test",
        vec![
            (
                "getpriority",
                vec![rule(vec![cond(0, SeccompCmpOp::Eq, 77)])],
            ),
            ("getpriority", Vec::new()),
        ],
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOTTY as u32),
        EXIT_SECCOMP,
    )
    .unwrap();
    let st = in_child(&[p], || unsafe {
        errno_of(libc::syscall(libc::SYS_getpriority, libc::PRIO_PROCESS, 0))
    });
    assert_eq!(exit_code(st), Some(libc::ENOTTY));
}
