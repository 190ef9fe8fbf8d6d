//! The seccomp side of a [`Sandbox`]: resolving `SystemCallFilter=`/`SystemCallLog=` lines
//! into system-call sets (systemd 252's merge rules and `@group` table), building one BPF
//! program per setting in the parent, and installing them in the child right before `execve`.
//!
//! Programs are compiled with `seccompiler` for the native architecture. Like systemd, every
//! setting becomes its own filter, installed in systemd's order (address families first, the
//! system-call filter last, so as little of the child's own set-up as possible runs under it);
//! the kernel runs all of them and the most restrictive verdict wins. Every program accepts
//! only the native ABI: a system call from another ABI (i386, x32) under any seccomp setting
//! kills the process — stricter than systemd, which translates each filter to the secondary
//! ABIs, and the same as `SystemCallArchitectures=native`, which systemd recommends.

pub mod groups;

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch, sock_filter,
};

use crate::spec::linux::{self, NAMESPACE_FLAGS_ALL};
use crate::spec::sandbox::{
    AddressFamilies, SYSCALL_ERRNO_KILL, Sandbox, SyscallAction, SyscallFilterLine,
};

/// `EXIT_SECCOMP`: a seccomp filter could not be installed.
pub const EXIT_SECCOMP: i32 = 228;
/// `EXIT_ADDRESS_FAMILIES`: the `RestrictAddressFamilies=` filter could not be installed.
pub const EXIT_ADDRESS_FAMILIES: i32 = 232;

/// The members of `@group` (with the `@`), nested groups unexpanded; `None` if unknown.
pub fn group(name: &str) -> Option<&'static [&'static str]> {
    groups::GROUPS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, _, m)| *m)
}

/// A resolved `SystemCallFilter=` (or `SystemCallLog=`): which names, and how the set is read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyscallSet {
    /// The names are the allowed (logged) ones; everything else gets the default action.
    /// False: the names are the denied (not logged) ones.
    pub allow_list: bool,
    /// System-call names (groups expanded) with their own `:ERRNO` (deny-lists only).
    pub entries: BTreeMap<String, Option<i32>>,
    /// `@group` names that are not systemd 252 groups (ignored, like systemd's parser does).
    pub unknown_groups: Vec<String>,
}

impl SyscallSet {
    /// Apply systemd's merge rules to `lines` (after the last reset): the first line decides
    /// allow- vs deny-list; later lines of the same kind add their names, lines of the other
    /// kind remove them. `implicit_default` adds `@default` to an allow-list, as
    /// `SystemCallFilter=` does (`SystemCallLog=` does not). `None` when there are no lines.
    pub fn resolve(lines: &[SyscallFilterLine], implicit_default: bool) -> Option<SyscallSet> {
        let first = lines.first()?;
        let mut set = SyscallSet {
            allow_list: !first.invert,
            ..SyscallSet::default()
        };
        if set.allow_list && implicit_default {
            set.apply("@default", None, true, 0);
        }
        for line in lines {
            // An allow-list grows with plain lines, a deny-list with `~` lines.
            let add = line.invert != set.allow_list;
            for (name, errno) in &line.entries {
                // Error numbers only mean something for denied calls.
                let errno = if set.allow_list { None } else { *errno };
                set.apply(name, errno, add, 0);
            }
        }
        Some(set)
    }

    fn apply(&mut self, name: &str, errno: Option<i32>, add: bool, depth: usize) {
        if let Some(rest) = name.strip_prefix('@') {
            let Some(members) = group(name).filter(|_| depth < 8) else {
                if !self.unknown_groups.iter().any(|g| g == rest) {
                    self.unknown_groups.push(name.to_owned());
                }
                return;
            };
            for m in members {
                self.apply(m, errno, add, depth + 1);
            }
        } else if add {
            self.entries.insert(name.to_owned(), errno);
        } else {
            self.entries.remove(name);
        }
    }
}

/// The native architecture's number of system call `name`; `None` if it has no such call.
pub fn syscall_number(name: &str) -> Option<i64> {
    syscalls::Sysno::from_str(name)
        .ok()
        .map(|s| i64::from(s.id()))
}

/// One compiled filter and the exit code of the child when installing it fails.
#[derive(Debug, Clone)]
pub struct Program {
    /// What it implements (`SystemCallFilter=`), for messages and tests.
    pub setting: &'static str,
    /// The BPF instructions.
    pub insns: BpfProgram,
    /// [`EXIT_SECCOMP`] or [`EXIT_ADDRESS_FAMILIES`].
    pub exit_code: i32,
}

/// x32 system calls on x86-64 carry the native audit arch with this bit set in `nr`.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// Whether seccomp programs can be built for the native architecture (x86-64, arm64,
/// riscv64: the ones seccompiler targets).
pub fn supported() -> bool {
    arch().is_ok()
}

fn arch() -> Result<TargetArch, String> {
    TargetArch::try_from(std::env::consts::ARCH).map_err(|_| {
        format!(
            "seccomp filters are not supported on {}",
            std::env::consts::ARCH
        )
    })
}

fn action_of(a: SyscallAction) -> SeccompAction {
    match a {
        SyscallAction::Kill => SeccompAction::KillProcess,
        SyscallAction::Errno(e) => SeccompAction::Errno(e as u32),
        SyscallAction::Log => SeccompAction::Log,
    }
}

fn cond(arg: u8, op: SeccompCmpOp, value: u64) -> SeccompCondition {
    SeccompCondition::new(arg, SeccompCmpArgLen::Dword, op, value).expect("argument index ≤ 5")
}

fn masked(arg: u8, mask: u64) -> SeccompCondition {
    cond(arg, SeccompCmpOp::MaskedEq(mask), mask)
}

fn rule(conds: Vec<SeccompCondition>) -> SeccompRule {
    SeccompRule::new(conds).expect("non-empty rule")
}

/// Rules keyed by system-call name (an empty rule list matches the whole call; several
/// entries of one call are alternatives), compiled into a program returning `matched` for a
/// match and `mismatch` otherwise. Names the native architecture lacks are skipped.
fn compile(
    setting: &'static str,
    rules: Vec<(&str, Vec<SeccompRule>)>,
    mismatch: SeccompAction,
    matched: SeccompAction,
    exit_code: i32,
) -> Result<Program, String> {
    // `None` = the whole call matches (an entry without conditions wins over any other).
    let mut calls: BTreeMap<i64, Option<Vec<SeccompRule>>> = BTreeMap::new();
    for (name, r) in rules {
        let Some(nr) = syscall_number(name) else {
            continue;
        };
        let slot = calls.entry(nr).or_insert_with(|| Some(Vec::new()));
        match (slot.as_mut(), r.is_empty()) {
            (Some(_), true) => *slot = None,
            (Some(v), false) => v.extend(r),
            (None, _) => {}
        }
    }
    let map: BTreeMap<i64, Vec<SeccompRule>> = calls
        .into_iter()
        .map(|(nr, r)| (nr, r.unwrap_or_default()))
        .collect();
    let filter = SeccompFilter::new(map, mismatch, matched, arch()?)
        .map_err(|e| format!("{setting}: {e}"))?;
    let mut insns: BpfProgram = filter
        .try_into()
        .map_err(|e: seccompiler::BackendError| format!("{setting}: {e}"))?;
    guard_x32(&mut insns);
    Ok(Program {
        setting,
        insns,
        exit_code,
    })
}

/// On x86-64, refuse x32 system calls right after seccompiler's architecture check (which
/// cannot tell them apart): kill the process, as for any other foreign ABI.
fn guard_x32(insns: &mut BpfProgram) {
    if std::env::consts::ARCH != "x86_64" || insns.len() < 3 {
        return;
    }
    let guard = [LD_NR, JGE_X32, RET_KILL];
    // Seccompiler's architecture check is the first three instructions; no jump crosses them.
    insns.splice(3..3, guard);
}

/// Every `(name, rules)` of a whole-call list.
fn whole(names: &[&'static str]) -> Vec<(&'static str, Vec<SeccompRule>)> {
    names.iter().map(|n| (*n, Vec::new())).collect()
}

/// The members of a group, nested groups expanded.
fn group_calls(name: &str) -> Vec<String> {
    let set = SyscallSet::resolve(
        &[SyscallFilterLine {
            invert: false,
            entries: vec![(name.to_owned(), None)],
        }],
        false,
    )
    .unwrap_or_default();
    set.entries.into_keys().collect()
}

fn deny_group(setting: &'static str, name: &str) -> Result<Program, String> {
    let calls = group_calls(name);
    compile(
        setting,
        calls.iter().map(|c| (c.as_str(), Vec::new())).collect(),
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        EXIT_SECCOMP,
    )
}

/// `RestrictAddressFamilies=`: `socket()` with a family outside the allow-list (or inside the
/// deny-list) fails with `EAFNOSUPPORT`; other ways to get a socket are untouched.
fn address_families(af: &AddressFamilies) -> Result<Program, String> {
    let rules = if af.allow {
        // Families outside 1..AF_MAX can never be allowed (systemd ignores them too).
        let allowed: BTreeSet<i32> = af
            .families
            .iter()
            .copied()
            .filter(|f| *f > 0 && *f < AF_MAX)
            .collect();
        if allowed.is_empty() {
            vec![("socket", Vec::new())]
        } else {
            let conds = allowed
                .iter()
                .map(|f| cond(0, SeccompCmpOp::Ne, *f as u64))
                .collect();
            vec![("socket", vec![rule(conds)])]
        }
    } else {
        if af.families.is_empty() {
            return compile(
                "RestrictAddressFamilies=",
                Vec::new(),
                SeccompAction::Allow,
                SeccompAction::Errno(libc::EAFNOSUPPORT as u32),
                EXIT_ADDRESS_FAMILIES,
            );
        }
        let denied: BTreeSet<i32> = af.families.iter().copied().collect();
        vec![(
            "socket",
            denied
                .iter()
                .map(|f| rule(vec![cond(0, SeccompCmpOp::Eq, *f as u64)]))
                .collect(),
        )]
    };
    compile(
        "RestrictAddressFamilies=",
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EAFNOSUPPORT as u32),
        EXIT_ADDRESS_FAMILIES,
    )
}

/// The `AF_MAX` of the kernel headers systemd 252 was built against.
const AF_MAX: i32 = 46;

/// `MemoryDenyWriteExecute=`.
fn memory_deny_write_execute() -> Result<Program, String> {
    let wx = (libc::PROT_WRITE | libc::PROT_EXEC) as u64;
    let x = libc::PROT_EXEC as u64;
    compile(
        "MemoryDenyWriteExecute=",
        vec![
            ("mmap", vec![rule(vec![masked(2, wx)])]),
            ("mprotect", vec![rule(vec![masked(2, x)])]),
            ("pkey_mprotect", vec![rule(vec![masked(2, x)])]),
            ("shmat", vec![rule(vec![masked(2, libc::SHM_EXEC as u64)])]),
        ],
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        EXIT_SECCOMP,
    )
}

/// `RestrictRealtime=`: `sched_setscheduler()` only with `SCHED_OTHER`, `SCHED_BATCH` or
/// `SCHED_IDLE` (any flag such as `SCHED_RESET_ON_FORK` makes the value too large, as in
/// systemd).
fn restrict_realtime() -> Result<Program, String> {
    let permitted = [libc::SCHED_OTHER, libc::SCHED_BATCH, libc::SCHED_IDLE];
    let max = *permitted.iter().max().expect("non-empty") as u64;
    let mut rules: Vec<SeccompRule> = (0..max)
        .filter(|p| !permitted.contains(&(*p as i32)))
        .map(|p| rule(vec![cond(1, SeccompCmpOp::Eq, p)]))
        .collect();
    rules.push(rule(vec![cond(1, SeccompCmpOp::Gt, max)]));
    compile(
        "RestrictRealtime=",
        vec![("sched_setscheduler", rules)],
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        EXIT_SECCOMP,
    )
}

/// `RestrictSUIDSGID=`: no mode with `S_ISUID` or `S_ISGID` through `chmod()` & co, file or
/// directory creation; `openat2()` (whose flags cannot be inspected) is refused outright.
fn restrict_suid_sgid() -> Result<Program, String> {
    let mut rules: Vec<(&str, Vec<SeccompRule>)> = Vec::new();
    let creat = libc::O_CREAT as u64;
    for bit in [libc::S_ISUID as u64, libc::S_ISGID as u64] {
        rules.extend([
            ("chmod", vec![rule(vec![masked(1, bit)])]),
            ("fchmod", vec![rule(vec![masked(1, bit)])]),
            ("fchmodat", vec![rule(vec![masked(2, bit)])]),
            ("mkdir", vec![rule(vec![masked(1, bit)])]),
            ("mkdirat", vec![rule(vec![masked(2, bit)])]),
            ("mknod", vec![rule(vec![masked(1, bit)])]),
            ("mknodat", vec![rule(vec![masked(2, bit)])]),
            ("open", vec![rule(vec![masked(1, creat), masked(2, bit)])]),
            ("openat", vec![rule(vec![masked(2, creat), masked(3, bit)])]),
            ("creat", vec![rule(vec![masked(1, bit)])]),
        ]);
    }
    rules.push(("openat2", Vec::new()));
    compile(
        "RestrictSUIDSGID=",
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        EXIT_SECCOMP,
    )
}

/// `RestrictNamespaces=` with the mask of namespace types that stay allowed: `unshare()` and
/// `clone()` with a refused flag and `setns()` into a refused type (or with type 0) fail with
/// `EPERM`; `clone3()`, whose flags cannot be inspected, fails with `ENOSYS` (a second
/// program) so that libc falls back to `clone()`. Empty when everything stays allowed.
fn restrict_namespaces(retain: u64) -> Result<Vec<Program>, String> {
    if retain & NAMESPACE_FLAGS_ALL == NAMESPACE_FLAGS_ALL {
        return Ok(Vec::new());
    }
    let mut eperm: Vec<(&str, Vec<SeccompRule>)> = Vec::new();
    if retain & NAMESPACE_FLAGS_ALL == 0 {
        eperm.push(("setns", Vec::new()));
    } else {
        eperm.push(("setns", vec![rule(vec![cond(1, SeccompCmpOp::Eq, 0)])]));
    }
    for &(_, f) in linux::NAMESPACES {
        if retain & f == f {
            continue;
        }
        eperm.push(("unshare", vec![rule(vec![masked(0, f)])]));
        eperm.push(("clone", vec![rule(vec![masked(0, f)])]));
        if retain & NAMESPACE_FLAGS_ALL != 0 {
            eperm.push(("setns", vec![rule(vec![masked(1, f)])]));
        }
    }
    Ok(vec![
        compile(
            "RestrictNamespaces=",
            eperm,
            SeccompAction::Allow,
            SeccompAction::Errno(libc::EPERM as u32),
            EXIT_SECCOMP,
        )?,
        compile(
            "RestrictNamespaces=",
            whole(&["clone3"]),
            SeccompAction::Allow,
            SeccompAction::Errno(libc::ENOSYS as u32),
            EXIT_SECCOMP,
        )?,
    ])
}

/// `LockPersonality=`: `personality()` may only set the current personality again.
fn lock_personality(personality: u64) -> Result<Program, String> {
    compile(
        "LockPersonality=",
        vec![(
            "personality",
            vec![rule(vec![cond(0, SeccompCmpOp::Ne, personality)])],
        )],
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        EXIT_SECCOMP,
    )
}

/// Audit architecture numbers of `SystemCallArchitectures=` names this build can run.
fn audit_arch(name: &str) -> Option<u32> {
    const LE64: u32 = 0x8000_0000 | 0x4000_0000;
    const LE32: u32 = 0x4000_0000;
    Some(match name {
        "x86-64" => 62 | LE64,
        "x86" => 3 | LE32,
        "x32" => 62 | LE64, // x32 shares the x86-64 audit arch (numbers carry a flag bit)
        "arm64" => 183 | LE64,
        "arm" => 40 | LE32,
        "riscv64" => 243 | LE64,
        _ => return None,
    })
}

/// The native architecture's `SystemCallArchitectures=` name.
fn native_arch_name() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "x86-64",
        "aarch64" => "arm64",
        "riscv64" => "riscv64",
        other => other,
    }
}

/// A classic-BPF instruction.
const fn insn(code: u16, jt: u8, jf: u8, k: u32) -> sock_filter {
    sock_filter { code, jt, jf, k }
}
const LD_ARCH: sock_filter = insn(0x20, 0, 0, 4); // BPF_LD|BPF_W|BPF_ABS, seccomp_data.arch
const LD_NR: sock_filter = insn(0x20, 0, 0, 0); // BPF_LD|BPF_W|BPF_ABS, seccomp_data.nr
const RET_KILL: sock_filter = insn(0x06, 0, 0, libc::SECCOMP_RET_KILL_PROCESS);
const RET_ALLOW: sock_filter = insn(0x06, 0, 0, libc::SECCOMP_RET_ALLOW);
/// `BPF_JMP|BPF_JGE|BPF_K X32_SYSCALL_BIT`: falls through to the next instruction (a kill)
/// for x32 numbers, skips it otherwise.
const JGE_X32: sock_filter = insn(0x35, 0, 1, X32_SYSCALL_BIT);

/// `SystemCallArchitectures=`: system calls of any ABI but the listed ones (the native one is
/// always included) kill the process. Hand-written, as seccompiler programs know one ABI.
fn system_call_architectures(names: &[String]) -> Program {
    let native = native_arch_name();
    let mut allowed: BTreeSet<u32> = BTreeSet::new();
    let mut x32 = false;
    for n in names.iter().map(String::as_str).chain([native]) {
        let n = if n == "native" { native } else { n };
        x32 |= n == "x32";
        if let Some(a) = audit_arch(n) {
            allowed.insert(a);
        }
    }
    // ld arch; for each allowed arch "jeq arch → allow"; then kill. On x86-64 without x32,
    // the native arch first checks for x32 numbers.
    let x32_guard = std::env::consts::ARCH == "x86_64" && !x32;
    let x86_64 = audit_arch("x86-64").expect("known");
    let mut insns = vec![LD_ARCH];
    let list: Vec<u32> = allowed.into_iter().collect();
    let others: Vec<u32> = list
        .iter()
        .copied()
        .filter(|a| !(x32_guard && *a == x86_64))
        .collect();
    if x32_guard {
        // jne x86-64 → skip the guard
        insns.push(insn(0x15, 0, 4, x86_64));
        insns.extend([LD_NR, JGE_X32, RET_KILL, RET_ALLOW]);
        insns.push(LD_ARCH);
    }
    let n = others.len();
    for (i, a) in others.iter().enumerate() {
        // jeq a → the allow after the final kill.
        insns.push(insn(0x15, (n - i) as u8, 0, *a));
    }
    insns.extend([RET_KILL, RET_ALLOW]);
    Program {
        setting: "SystemCallArchitectures=",
        insns,
        exit_code: EXIT_SECCOMP,
    }
}

/// `SystemCallFilter=` (with `SystemCallErrorNumber=`): an allow-list compiles to one program
/// (listed calls allowed, the rest get the default action); a deny-list to one program per
/// distinct verdict, since a seccompiler filter has a single match action.
fn system_call_filter(set: &SyscallSet, default: SyscallAction) -> Result<Vec<Program>, String> {
    let deflt = action_of(default);
    if set.allow_list {
        let names: Vec<(&str, Vec<SeccompRule>)> = set
            .entries
            .keys()
            .map(|n| (n.as_str(), Vec::new()))
            .collect();
        return Ok(vec![compile(
            "SystemCallFilter=",
            names,
            deflt,
            SeccompAction::Allow,
            EXIT_SECCOMP,
        )?]);
    }
    let mut by_action: BTreeMap<Option<i32>, Vec<&str>> = BTreeMap::new();
    for (name, errno) in &set.entries {
        by_action.entry(*errno).or_default().push(name);
    }
    let mut out = Vec::new();
    for (errno, names) in by_action {
        let action = match errno {
            Some(SYSCALL_ERRNO_KILL) => SeccompAction::KillProcess,
            Some(e) => SeccompAction::Errno(e as u32),
            None => deflt.clone(),
        };
        if action == SeccompAction::Allow {
            continue;
        }
        out.push(compile(
            "SystemCallFilter=",
            names.into_iter().map(|n| (n, Vec::new())).collect(),
            SeccompAction::Allow,
            action,
            EXIT_SECCOMP,
        )?);
    }
    Ok(out)
}

/// `SystemCallLog=`: listed calls (or, for `~`, all but the listed) are logged.
fn system_call_log(set: &SyscallSet) -> Result<Program, String> {
    let names: Vec<(&str, Vec<SeccompRule>)> = set
        .entries
        .keys()
        .map(|n| (n.as_str(), Vec::new()))
        .collect();
    let (mismatch, matched) = if set.allow_list {
        (SeccompAction::Allow, SeccompAction::Log)
    } else {
        (SeccompAction::Log, SeccompAction::Allow)
    };
    compile("SystemCallLog=", names, mismatch, matched, EXIT_SECCOMP)
}

/// Whether `sandbox` asks for any seccomp filter (each of these implies `NoNewPrivileges=`
/// for a process without `CAP_SYS_ADMIN`).
pub fn wants_seccomp(s: &Sandbox) -> bool {
    s.lock_personality
        || s.memory_deny_write_execute
        || s.private_devices
        || s.protect_clock
        || s.protect_hostname
        || s.protect_kernel_tunables
        || s.protect_kernel_modules
        || s.protect_kernel_logs
        || s.restrict_address_families.is_some()
        || s.restrict_namespaces
            .is_some_and(|m| m & NAMESPACE_FLAGS_ALL != NAMESPACE_FLAGS_ALL)
        || s.restrict_realtime
        || s.restrict_suid_sgid
        || !s.system_call_architectures.is_empty()
        || !s.system_call_filter.is_empty()
        || !s.system_call_log.is_empty()
}

/// Every program `sandbox` needs, in the order they are installed (systemd's). `personality`
/// is the personality `LockPersonality=` locks (the manager's own).
pub fn build(s: &Sandbox, personality: u64) -> Result<Vec<Program>, String> {
    let mut out = Vec::new();
    if s.protect_hostname {
        out.push(compile(
            "ProtectHostname=",
            whole(&["sethostname", "setdomainname"]),
            SeccompAction::Allow,
            SeccompAction::Errno(libc::EPERM as u32),
            EXIT_SECCOMP,
        )?);
    }
    if let Some(af) = &s.restrict_address_families {
        out.push(address_families(af)?);
    }
    if s.memory_deny_write_execute {
        out.push(memory_deny_write_execute()?);
    }
    if s.restrict_realtime {
        out.push(restrict_realtime()?);
    }
    if s.restrict_suid_sgid {
        out.push(restrict_suid_sgid()?);
    }
    if let Some(retain) = s.restrict_namespaces {
        out.extend(restrict_namespaces(retain)?);
    }
    if s.protect_kernel_tunables && syscall_number("_sysctl").is_some() {
        out.push(compile(
            "ProtectKernelTunables=",
            whole(&["_sysctl"]),
            SeccompAction::Allow,
            SeccompAction::Errno(libc::EPERM as u32),
            EXIT_SECCOMP,
        )?);
    }
    if s.protect_kernel_modules {
        out.push(deny_group("ProtectKernelModules=", "@module")?);
    }
    if s.protect_kernel_logs {
        out.push(compile(
            "ProtectKernelLogs=",
            whole(&["syslog"]),
            SeccompAction::Allow,
            SeccompAction::Errno(libc::EPERM as u32),
            EXIT_SECCOMP,
        )?);
    }
    if s.protect_clock {
        out.push(deny_group("ProtectClock=", "@clock")?);
    }
    if s.private_devices {
        out.push(deny_group("PrivateDevices=", "@raw-io")?);
    }
    if !s.system_call_architectures.is_empty() {
        out.push(system_call_architectures(&s.system_call_architectures));
    }
    if s.lock_personality {
        out.push(lock_personality(personality)?);
    }
    if let Some(set) = SyscallSet::resolve(&s.system_call_log, false) {
        out.push(system_call_log(&set)?);
    }
    if let Some(set) = SyscallSet::resolve(&s.system_call_filter, true) {
        out.extend(system_call_filter(&set, s.system_call_error)?);
    }
    Ok(out)
}

/// Install `prog` in the calling process (`seccomp(SECCOMP_SET_MODE_FILTER)`, falling back to
/// `prctl(PR_SET_SECCOMP)`). Async-signal-safe, no allocation. `Err(errno)` on failure.
///
/// # Safety
/// Plain system calls; the filter applies to the caller from now on.
pub(crate) unsafe fn install(prog: &[sock_filter]) -> Result<(), i32> {
    let fprog = libc::sock_fprog {
        len: prog.len() as libc::c_ushort,
        // seccompiler's sock_filter is #[repr(C)] with the kernel's layout.
        filter: prog.as_ptr() as *mut libc::sock_filter,
    };
    unsafe {
        if libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &fprog as *const libc::sock_fprog,
        ) == 0
        {
            return Ok(());
        }
        let e = *libc::__errno_location();
        if e != libc::ENOSYS {
            return Err(e);
        }
        if libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER,
            &fprog as *const libc::sock_fprog,
        ) == 0
        {
            return Ok(());
        }
        Err(*libc::__errno_location())
    }
}

#[cfg(test)]
mod tests;
