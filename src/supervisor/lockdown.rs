//! Credential and system-call confinement of one spawned command: `NoNewPrivileges=`,
//! `CapabilityBoundingSet=` (which already holds the drops `PrivateDevices=`,
//! `ProtectKernelModules=`, `ProtectKernelLogs=` and `ProtectClock=` imply: the parser applies
//! them as systemd does at load), `AmbientCapabilities=`, `SecureBits=`,
//! `RestrictRealtime=`'s `RLIMIT_RTPRIO`, and every seccomp program of [`super::seccomp`]
//! (`ProtectHostname=`'s UTS namespace belongs to `namespace`, its seccomp half is here).
//!
//! [`Lockdown::prepare`] decides everything in the parent (it allocates: BPF programs, the
//! capability plan). The child then calls, in systemd 252's order, [`Lockdown::before_credentials`]
//! (before `setgroups`/`setresgid`/`setresuid`), [`Lockdown::after_setuid`] and, as the last
//! step before `execve`, [`Lockdown::before_exec`]; these make only system calls. A failed step
//! yields systemd's exit code (205 `LIMITS`, 217 `USER`, 218 `CAPABILITIES`, 213 `SECUREBITS`, 227
//! `NO_NEW_PRIVILEGES`, 228 `SECCOMP`, 232 `ADDRESS_FAMILIES`, …) and the errno.
//!
//! A manager that is not root enforces no capability setting (the sandbox contract reports
//! them as not enforced); it does install every seccomp program, setting `NO_NEW_PRIVS` first
//! as systemd does for any process lacking `CAP_SYS_ADMIN` at that point.

use crate::spec::sandbox::Sandbox;

use super::seccomp::{self, Program};

/// Capability numbers used here (linux/capability.h).
pub mod cap {
    /// `CAP_SETPCAP`.
    pub const SETPCAP: u32 = 8;
    /// `CAP_SYS_ADMIN`.
    pub const SYS_ADMIN: u32 = 21;
}

/// Exit codes of the steps (systemd.exec(5) "Process exit codes").
pub mod exit {
    /// `EXIT_LIMITS`.
    pub const LIMITS: i32 = 205;
    /// `EXIT_SECUREBITS`.
    pub const SECUREBITS: i32 = 213;
    /// `EXIT_USER`.
    pub const USER: i32 = 217;
    /// `EXIT_CAPABILITIES`.
    pub const CAPABILITIES: i32 = 218;
    /// `EXIT_NO_NEW_PRIVILEGES`.
    pub const NO_NEW_PRIVILEGES: i32 = 227;
    /// `EXIT_SECCOMP` (`EXIT_ADDRESS_FAMILIES` for `RestrictAddressFamilies=` comes with
    /// its program).
    pub const SECCOMP: i32 = super::seccomp::EXIT_SECCOMP;
}

const SECBIT_KEEP_CAPS: u32 = 1 << 4;

/// The highest capability the kernel knows (`/proc/sys/kernel/cap_last_cap`; 40 if unreadable).
/// Read once: it is fixed for the running kernel, and spawns with capability settings would
/// otherwise read it every time.
pub fn cap_last_cap() -> u32 {
    static LAST: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *LAST.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .filter(|n| *n < 64)
            .unwrap_or(40)
    })
}

/// What happens to the capability sets (root managers only).
#[derive(Debug, Clone)]
struct CapPlan {
    last_cap: u32,
    /// Capabilities kept in the bounding (and inheritable) set; `None` = all.
    bounding: Option<u64>,
    /// `AmbientCapabilities=`.
    ambient: u64,
    /// `SecureBits=`.
    secure_bits: u32,
    /// The uid changes to a non-root one and capabilities must survive it (`SECBIT_KEEP_CAPS`
    /// around `setresuid`): ambient capabilities or secure bits are asked for.
    keep_caps: bool,
}

/// Everything the child does for credential and system-call confinement, decided in the
/// parent. `Default` does nothing (a `+` command, or nothing asked for).
#[derive(Debug, Default)]
pub(crate) struct Lockdown {
    rtprio_zero: bool,
    caps: Option<CapPlan>,
    no_new_privs: bool,
    /// Some seccomp setting is asked for: `NO_NEW_PRIVS` unless `CAP_SYS_ADMIN` is effective.
    seccomp_wanted: bool,
    programs: Vec<Program>,
    /// errno for a program that could not be built (the child fails with `EXIT_SECCOMP`).
    build_error: Option<i32>,
}

/// Inputs of [`Lockdown::prepare`] beyond the sandbox.
pub(crate) struct LockdownInput {
    /// Sandboxing applies (not a `+` command).
    pub sandboxed: bool,
    /// The manager runs as root and may change capability sets.
    pub privileged: bool,
    /// The uid the child switches to, if it does.
    pub target_uid: Option<u32>,
    /// The unit sets `LimitRTPRIO=` itself.
    pub explicit_rtprio: bool,
}

impl Lockdown {
    /// Plan the confinement of one command. Never fails: a filter that cannot be built makes
    /// the child exit with `EXIT_SECCOMP` (logged here), as a failed `seccomp_load` would.
    pub(crate) fn prepare(s: &Sandbox, input: LockdownInput) -> Lockdown {
        if !input.sandboxed {
            return Lockdown::default();
        }
        let mut l = Lockdown {
            rtprio_zero: s.restrict_realtime && !input.explicit_rtprio,
            no_new_privs: s.no_new_privileges,
            seccomp_wanted: seccomp::wants_seccomp(s),
            ..Lockdown::default()
        };
        if input.privileged {
            let last_cap = cap_last_cap();
            let all = if last_cap >= 63 {
                u64::MAX
            } else {
                (1u64 << (last_cap + 1)) - 1
            };
            let bounding = s.capability_bounding_set.filter(|keep| keep & all != all);
            let uid_change = input.target_uid.is_some_and(|u| u != 0);
            if bounding.is_some() || s.ambient_capabilities != 0 || s.secure_bits != 0 {
                l.caps = Some(CapPlan {
                    last_cap,
                    bounding,
                    ambient: s.ambient_capabilities & all,
                    secure_bits: s.secure_bits,
                    keep_caps: uid_change && (s.ambient_capabilities != 0 || s.secure_bits != 0),
                });
            }
        }
        if l.seccomp_wanted && !seccomp::supported() {
            // Never a start failure systemd would not have: run unfiltered, loudly.
            tracing::warn!(
                "seccomp settings are not enforced on {}",
                std::env::consts::ARCH
            );
            l.seccomp_wanted = false;
        }
        if l.seccomp_wanted {
            // SAFETY: personality(0xffffffff) only queries.
            let current = unsafe { libc::personality(0xffff_ffff) };
            // systemd locks PER_LINUX32 if that is what runs, else PER_LINUX.
            const PER_LINUX: u64 = 0x0000;
            const PER_LINUX32: u64 = 0x0008;
            let lock = if current >= 0 && (current as u64 & 0xff) == PER_LINUX32 {
                PER_LINUX32
            } else {
                PER_LINUX
            };
            match seccomp::build(s, lock) {
                Ok(p) => l.programs = p,
                Err(e) => {
                    tracing::warn!("seccomp filter: {e}");
                    l.build_error = Some(libc::EINVAL);
                }
            }
        }
        l
    }

    /// The programs the child will install, in order.
    #[cfg(test)]
    pub(crate) fn programs(&self) -> &[Program] {
        &self.programs
    }

    /// Child, after the namespaces and before `setgroups` and the uid change:
    /// `RLIMIT_RTPRIO`, the bounding set, ambient capabilities (raised while still root) and
    /// `SECBIT_KEEP_CAPS`. Async-signal-safe.
    ///
    /// # Safety
    /// Only in the forked child.
    pub(crate) unsafe fn before_credentials(&self) -> Result<(), (i32, i32)> {
        unsafe {
            if self.rtprio_zero {
                let zero = libc::rlimit {
                    rlim_cur: 0,
                    rlim_max: 0,
                };
                if libc::setrlimit(libc::RLIMIT_RTPRIO, &zero) < 0 {
                    return Err((exit::LIMITS, errno()));
                }
            }
            let Some(c) = &self.caps else {
                return Ok(());
            };
            if let Some(keep) = c.bounding {
                for i in 0..=c.last_cap {
                    if keep & (1u64 << i) != 0 {
                        continue;
                    }
                    if libc::prctl(libc::PR_CAPBSET_DROP, i as libc::c_ulong, 0, 0, 0) < 0 {
                        let e = errno();
                        // Not having it in the first place is as good as dropping it.
                        if libc::prctl(libc::PR_CAPBSET_READ, i as libc::c_ulong, 0, 0, 0) != 0 {
                            return Err((exit::CAPABILITIES, e));
                        }
                    }
                }
                // Out of the inheritable set too, so nothing executed gets it back.
                let mut sets = capget().map_err(|e| (exit::CAPABILITIES, e))?;
                sets.inheritable &= keep;
                capset(&sets).map_err(|e| (exit::CAPABILITIES, e))?;
            }
            if c.ambient != 0 {
                apply_ambient(c, true).map_err(|e| (exit::CAPABILITIES, e))?;
            }
            if c.keep_caps {
                let sb = c.secure_bits | SECBIT_KEEP_CAPS;
                if libc::prctl(libc::PR_GET_SECUREBITS, 0, 0, 0, 0) != sb as i32
                    && libc::prctl(libc::PR_SET_SECUREBITS, sb as libc::c_ulong, 0, 0, 0) < 0
                {
                    return Err((exit::USER, errno()));
                }
            }
            Ok(())
        }
    }

    /// Child, right after `setresuid`: raise the ambient capabilities again (a uid change to
    /// non-root clears the ambient set even with `SECBIT_KEEP_CAPS`).
    ///
    /// # Safety
    /// Only in the forked child.
    pub(crate) unsafe fn after_setuid(&self) -> Result<(), (i32, i32)> {
        if let Some(c) = &self.caps
            && c.keep_caps
            && c.ambient != 0
        {
            unsafe { apply_ambient(c, false).map_err(|e| (exit::CAPABILITIES, e))? };
        }
        Ok(())
    }

    /// Child, the last step before `execve`: `SecureBits=`, `NO_NEW_PRIVS` (asked for, or
    /// implied by a seccomp setting when `CAP_SYS_ADMIN` is not effective) and every seccomp
    /// program, in order.
    ///
    /// # Safety
    /// Only in the forked child; nothing but `execve` may follow.
    pub(crate) unsafe fn before_exec(&self) -> Result<(), (i32, i32)> {
        unsafe {
            if let Some(c) = &self.caps
                && (c.secure_bits != 0 || c.keep_caps)
                && libc::prctl(libc::PR_GET_SECUREBITS, 0, 0, 0, 0) != c.secure_bits as i32
            {
                // Setting secure bits needs CAP_SETPCAP in the effective set, which a uid
                // change to non-root emptied; it is still permitted (keep-caps).
                if let Ok(mut sets) = capget()
                    && sets.permitted & (1 << cap::SETPCAP) != 0
                    && sets.effective & (1 << cap::SETPCAP) == 0
                {
                    sets.effective |= 1 << cap::SETPCAP;
                    let _ = capset(&sets);
                }
                if libc::prctl(
                    libc::PR_SET_SECUREBITS,
                    c.secure_bits as libc::c_ulong,
                    0,
                    0,
                    0,
                ) < 0
                {
                    return Err((exit::SECUREBITS, errno()));
                }
            }
            let nnp = self.no_new_privs
                || (self.seccomp_wanted
                    && !capget().is_ok_and(|s| s.effective & (1 << cap::SYS_ADMIN) != 0));
            if nnp && libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 {
                return Err((exit::NO_NEW_PRIVILEGES, errno()));
            }
            if let Some(e) = self.build_error {
                return Err((exit::SECCOMP, e));
            }
            for p in &self.programs {
                seccomp::install(&p.insns).map_err(|e| (p.exit_code, e))?;
            }
            Ok(())
        }
    }
}

fn errno() -> i32 {
    // SAFETY: reading the thread's errno is async-signal-safe.
    unsafe { *libc::__errno_location() }
}

/// The three capability sets as 64-bit masks.
#[derive(Debug, Clone, Copy)]
struct CapSets {
    effective: u64,
    permitted: u64,
    inheritable: u64,
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// `capget` of the calling thread. Async-signal-safe.
fn capget() -> Result<CapSets, i32> {
    let mut hdr = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: capget writes two CapData for version 3.
    if unsafe { libc::syscall(libc::SYS_capget, &mut hdr, data.as_mut_ptr()) } < 0 {
        return Err(errno());
    }
    let join = |lo: u32, hi: u32| u64::from(lo) | (u64::from(hi) << 32);
    Ok(CapSets {
        effective: join(data[0].effective, data[1].effective),
        permitted: join(data[0].permitted, data[1].permitted),
        inheritable: join(data[0].inheritable, data[1].inheritable),
    })
}

/// `capset` of the calling thread. Async-signal-safe.
fn capset(s: &CapSets) -> Result<(), i32> {
    let mut hdr = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let data = [
        CapData {
            effective: s.effective as u32,
            permitted: s.permitted as u32,
            inheritable: s.inheritable as u32,
        },
        CapData {
            effective: (s.effective >> 32) as u32,
            permitted: (s.permitted >> 32) as u32,
            inheritable: (s.inheritable >> 32) as u32,
        },
    ];
    // SAFETY: capset reads two CapData for version 3.
    if unsafe { libc::syscall(libc::SYS_capset, &mut hdr, data.as_ptr()) } < 0 {
        return Err(errno());
    }
    Ok(())
}

/// Make the ambient set exactly `c.ambient` minus what the bounding set lacks (systemd
/// suppresses those): raise each (into the inheritable set first when `also_inherit`, since
/// only permitted+inheritable capabilities can become ambient) and lower any other.
/// Async-signal-safe.
unsafe fn apply_ambient(c: &CapPlan, also_inherit: bool) -> Result<(), i32> {
    unsafe {
        let mut set = c.ambient;
        for i in 0..=c.last_cap {
            if set & (1u64 << i) != 0
                && libc::prctl(libc::PR_CAPBSET_READ, i as libc::c_ulong, 0, 0, 0) != 1
            {
                set &= !(1u64 << i);
            }
        }
        if also_inherit {
            let mut sets = capget()?;
            sets.inheritable |= set;
            capset(&sets)?;
        }
        for i in 0..=c.last_cap {
            let bit = 1u64 << i;
            if set & bit != 0 {
                if libc::prctl(
                    libc::PR_CAP_AMBIENT,
                    libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
                    i as libc::c_ulong,
                    0,
                    0,
                ) < 0
                {
                    return Err(errno());
                }
            } else {
                let r = libc::prctl(
                    libc::PR_CAP_AMBIENT,
                    libc::PR_CAP_AMBIENT_IS_SET as libc::c_ulong,
                    i as libc::c_ulong,
                    0,
                    0,
                );
                if r < 0 {
                    return Err(errno());
                }
                if r == 1
                    && libc::prctl(
                        libc::PR_CAP_AMBIENT,
                        libc::PR_CAP_AMBIENT_LOWER as libc::c_ulong,
                        i as libc::c_ulong,
                        0,
                        0,
                    ) < 0
                {
                    return Err(errno());
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans() {
        let input = |privileged, uid| LockdownInput {
            sandboxed: true,
            privileged,
            target_uid: uid,
            explicit_rtprio: false,
        };
        let s = Sandbox {
            ambient_capabilities: 1 << 10,
            no_new_privileges: true,
            ..Sandbox::default()
        };
        let l = Lockdown::prepare(&s, input(true, Some(65534)));
        let c = l.caps.as_ref().unwrap();
        assert!(c.keep_caps && c.bounding.is_none() && c.ambient == 1 << 10);
        assert!(l.no_new_privs && !l.seccomp_wanted && l.programs().is_empty());
        // Root service: no keep-caps dance.
        let l = Lockdown::prepare(&s, input(true, None));
        assert!(!l.caps.unwrap().keep_caps);
        // Unprivileged manager: no capability plan at all (reported as not enforced).
        let l = Lockdown::prepare(&s, input(false, None));
        assert!(l.caps.is_none() && l.no_new_privs);
        // `+` commands: nothing.
        let l = Lockdown::prepare(
            &s,
            LockdownInput {
                sandboxed: false,
                ..input(true, None)
            },
        );
        assert!(l.caps.is_none() && !l.no_new_privs);
        // A full bounding set is no change.
        let all = Sandbox {
            capability_bounding_set: Some(u64::MAX >> 1),
            ..Sandbox::default()
        };
        assert!(Lockdown::prepare(&all, input(true, None)).caps.is_none());
        let rt = Sandbox {
            restrict_realtime: true,
            ..Sandbox::default()
        };
        let l = Lockdown::prepare(&rt, input(false, None));
        assert!(l.rtprio_zero && l.seccomp_wanted && l.programs().len() == 1);
    }
}
