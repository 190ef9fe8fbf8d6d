//! Building and starting one command (systemd's `exec_spawn` + `exec_child`, §7).
//!
//! Everything that may allocate or take locks happens in the parent before `fork()`: the final
//! environment (EnvironmentFile= read now), `$VAR` expansion, executable lookup, user and group
//! resolution, the opened stdio files and pipes, and every C string and pointer array. The child
//! then runs only async-signal-safe system calls in the v252 order and reports a set-up failure
//! (exit code 200–245 plus errno) through a close-on-exec pipe; EOF on that pipe means `execve`
//! succeeded (or the command was skipped).

use std::ffi::{CString, c_char};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use crate::engine::SpawnRequest;
use crate::settings::Scope;
use crate::spec::{ExecContext, ExecDirectoryType, StdInput, StdOutput, WorkingDirectory};

use super::env::{EnvBlock, expand_argv, parse_environment_file};
use super::lockdown::{Lockdown, LockdownInput};

/// The PATH executables given as bare names are looked up in (systemd's compile-time default,
/// split-usr variant).
pub const DEFAULT_EXEC_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Exit codes of the child before `execve` (systemd.exec(5) "Process exit codes").
pub mod exit {
    pub const CHDIR: i32 = 200;
    pub const NICE: i32 = 201;
    pub const FDS: i32 = 202;
    pub const EXEC: i32 = 203;
    pub const LIMITS: i32 = 205;
    pub const SIGNAL_MASK: i32 = 207;
    pub const STDIN: i32 = 208;
    pub const STDOUT: i32 = 209;
    pub const GROUP: i32 = 216;
    pub const USER: i32 = 217;
    pub const SETSID: i32 = 220;
    pub const STDERR: i32 = 222;
}

/// systemd's name for a 200–245 exit code (`exit_status_to_string(…, EXIT_STATUS_SYSTEMD)`).
pub fn exit_status_name(code: i32) -> Option<&'static str> {
    Some(match code {
        200 => "CHDIR",
        201 => "NICE",
        202 => "FDS",
        203 => "EXEC",
        204 => "MEMORY",
        205 => "LIMITS",
        206 => "OOM_ADJUST",
        207 => "SIGNAL_MASK",
        208 => "STDIN",
        209 => "STDOUT",
        210 => "CHROOT",
        211 => "IOPRIO",
        212 => "TIMERSLACK",
        213 => "SECUREBITS",
        214 => "SETSCHEDULER",
        215 => "CPUAFFINITY",
        216 => "GROUP",
        217 => "USER",
        218 => "CAPABILITIES",
        219 => "CGROUP",
        220 => "SETSID",
        221 => "CONFIRM",
        222 => "STDERR",
        224 => "PAM",
        225 => "NETWORK",
        226 => "NAMESPACE",
        227 => "NO_NEW_PRIVILEGES",
        228 => "SECCOMP",
        229 => "SELINUX_CONTEXT",
        230 => "PERSONALITY",
        231 => "APPARMOR_PROFILE",
        232 => "ADDRESS_FAMILIES",
        233 => "RUNTIME_DIRECTORY",
        235 => "CHOWN",
        236 => "SMACK_PROCESS_LABEL",
        237 => "KEYRING",
        238 => "STATE_DIRECTORY",
        239 => "CACHE_DIRECTORY",
        240 => "LOGS_DIRECTORY",
        241 => "CONFIGURATION_DIRECTORY",
        242 => "NUMA_POLICY",
        243 => "CREDENTIALS",
        245 => "BPF",
        _ => return None,
    })
}

/// Placeholder for `SYSTEMD_EXEC_PID` (and `$SYSTEMD_EXEC_PID` in argv): the child replaces it
/// in place with its own pid. At least 10 bytes, so any pid fits; control characters keep it
/// from colliding with real data.
pub const PID_MARKER: &[u8] = b"\x01\x02SYSTEMD_EXEC_PID\x02\x01";

/// Replace every [`PID_MARKER`] in the NUL-terminated `buf` by `digits`, shifting the rest
/// left and padding with NULs. Allocation-free and async-signal-safe.
pub fn patch_pid_marker(buf: &mut [u8], digits: &[u8]) {
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    let m = PID_MARKER.len();
    let mut r = 0; // read index
    let mut w = 0; // write index
    while r < end {
        if r + m <= end && &buf[r..r + m] == PID_MARKER {
            for &d in digits {
                buf[w] = d;
                w += 1;
            }
            r += m;
        } else {
            buf[w] = buf[r];
            w += 1;
            r += 1;
        }
    }
    for b in &mut buf[w..end] {
        *b = 0;
    }
}

/// Decimal digits of `n` into `out`, returning the used length. Async-signal-safe.
fn format_u32(mut n: u32, out: &mut [u8; 10]) -> usize {
    let mut tmp = [0u8; 10];
    let mut len = 0;
    loop {
        tmp[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for i in 0..len {
        out[i] = tmp[len - 1 - i];
    }
    len
}

/// What the supervisor's configuration contributes to a spawn.
pub(crate) struct SpawnEnv<'a> {
    pub scope: Scope,
    pub manager_uid: u32,
    pub manager_gid: u32,
    pub manager_home: &'a Path,
    pub notify_socket: Option<&'a Path>,
    /// Roots of the five `*Directory=` kinds, by [`ExecDirectoryType::index`].
    pub directory_roots: &'a [PathBuf; 5],
}

/// The absolute paths of one `*Directory=` setting of `exec`.
fn exec_directory_paths(
    exec: &ExecContext,
    senv: &SpawnEnv<'_>,
    t: ExecDirectoryType,
) -> Vec<PathBuf> {
    let root = &senv.directory_roots[t.index()];
    exec.directories[t.index()]
        .paths
        .iter()
        .map(|p| root.join(p))
        .collect()
}

/// Change the owner of `path` and everything below it (not following symlinks), unless the
/// top already has that owner (systemd's `path_chown_recursive` fast path).
fn chown_recursive(path: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let md = std::fs::symlink_metadata(path)?;
    if md.uid() == uid && md.gid() == gid {
        return Ok(());
    }
    fn walk(path: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
        let md = std::fs::symlink_metadata(path)?;
        std::os::unix::fs::lchown(path, Some(uid), Some(gid))?;
        if md.is_dir() {
            for entry in std::fs::read_dir(path)? {
                walk(&entry?.path(), uid, gid)?;
            }
        }
        Ok(())
    }
    walk(path, uid, gid)
}

/// `path:symlink` of a `*Directory=` setting: `root/link` becomes a relative symlink to
/// `root/path` (parents 0755); an existing symlink with that target is fine, anything else
/// there is an error (systemd's `symlink_idempotent`).
fn exec_directory_symlink(root: &Path, path: &Path, link: &Path) -> Result<(), i32> {
    let errno = |e: std::io::Error| e.raw_os_error().unwrap_or(libc::EIO);
    let at = root.join(link);
    let depth = link.components().count().saturating_sub(1);
    let mut target = PathBuf::new();
    for _ in 0..depth {
        target.push("..");
    }
    target.push(path);
    if let Some(parent) = at.parent() {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(parent)
            .map_err(errno)?;
    }
    match std::os::unix::fs::symlink(&target, &at) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => match std::fs::read_link(&at) {
            Ok(existing) if existing == target => Ok(()),
            _ => Err(libc::EEXIST),
        },
        Err(e) => Err(errno(e)),
    }
}

/// Create one `*Directory=` entry before a spawn (systemd's `setup_exec_directory`): parents
/// 0755, the directory itself with `mode`; an existing directory gets `mode` again and, when
/// `owner` is given (a system manager running as root), the owner of the whole tree — except
/// an existing `ConfigurationDirectory=`, which is left as it is. Returns the errno on failure.
fn setup_exec_directory(
    t: ExecDirectoryType,
    path: &Path,
    mode: u32,
    owner: Option<(u32, u32)>,
) -> Result<(), i32> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let errno = |e: std::io::Error| e.raw_os_error().unwrap_or(libc::EIO);
    if let Some(parent) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(parent)
            .map_err(errno)?;
    }
    match std::fs::DirBuilder::new().mode(mode).create(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            if !std::fs::metadata(path).map_err(errno)?.is_dir() {
                return Err(libc::ENOTDIR);
            }
            if t == ExecDirectoryType::Configuration {
                return Ok(());
            }
        }
        Err(e) => return Err(errno(e)),
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(errno)?;
    if let Some((uid, gid)) = owner {
        chown_recursive(path, uid, gid).map_err(errno)?;
    }
    Ok(())
}

/// A resolved `User=`.
#[derive(Debug, Clone)]
struct UserInfo {
    name: String,
    uid: u32,
    gid: u32,
    home: String,
    shell: String,
}

fn lookup_user(spec: &str) -> Result<UserInfo, i32> {
    if spec == "root" || spec == "0" {
        return Ok(UserInfo {
            name: "root".into(),
            uid: 0,
            gid: 0,
            home: "/root".into(),
            shell: "/bin/sh".into(),
        });
    }
    let found = match spec.parse::<u32>() {
        Ok(uid) => nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)),
        Err(_) => nix::unistd::User::from_name(spec),
    };
    match found {
        Ok(Some(u)) => Ok(UserInfo {
            name: u.name,
            uid: u.uid.as_raw(),
            gid: u.gid.as_raw(),
            home: u.dir.to_string_lossy().into_owned(),
            shell: u.shell.to_string_lossy().into_owned(),
        }),
        Ok(None) => Err(libc::ESRCH),
        Err(e) => Err(e as i32),
    }
}

fn lookup_group(spec: &str) -> Result<u32, i32> {
    if spec == "root" || spec == "0" {
        return Ok(0);
    }
    let found = match spec.parse::<u32>() {
        Ok(gid) => nix::unistd::Group::from_gid(nix::unistd::Gid::from_raw(gid)),
        Err(_) => nix::unistd::Group::from_name(spec),
    };
    match found {
        Ok(Some(g)) => Ok(g.gid.as_raw()),
        Ok(None) => Err(libc::ESRCH),
        Err(e) => Err(e as i32),
    }
}

fn shell_is_placeholder(shell: &str) -> bool {
    shell.is_empty()
        || matches!(
            shell,
            "/bin/nologin" | "/sbin/nologin" | "/usr/bin/nologin" | "/usr/sbin/nologin"
        )
}

/// Where a child's fd 0/1/2 comes from.
pub(crate) enum Stdio {
    /// dup2 this fd (kept ≥ 3, close-on-exec in the parent).
    Fd(OwnedFd),
    /// dup2 the child's own stdout (stderr only).
    SameAsStdout,
    /// Opening failed in the parent: the child exits with the step's code and this errno.
    Error(i32),
}

/// Credentials the child switches to.
#[derive(Default)]
struct Creds {
    groups: Option<Vec<libc::gid_t>>,
    gid: Option<u32>,
    uid: Option<u32>,
}

/// Everything the child needs, prepared in the parent.
pub(crate) struct Prepared {
    /// The executable, resolved (or the command's path when the lookup failed).
    pub exec_path: String,
    exec_path_c: CString,
    /// errno of a failed lookup (0 = found).
    exec_errno: i32,
    /// `-` prefix and the executable is missing: exit 0 without exec.
    pub skip: bool,
    /// Own the strings `argv_ptrs`/`env_ptrs` point into.
    _argv_bufs: Vec<Vec<u8>>,
    argv_ptrs: Vec<*const c_char>,
    _env_bufs: Vec<Vec<u8>>,
    env_ptrs: Vec<*const c_char>,
    /// Buffers (pointer, length incl. NUL) containing [`PID_MARKER`].
    patch: Vec<(*mut u8, usize)>,
    pub stdin: Stdio,
    pub stdout: Stdio,
    pub stderr: Stdio,
    /// Read ends of journal pipes, to hand to the log pump after fork.
    pub log_pipes: Vec<OwnedFd>,
    /// `(code, errno)` of a credential problem found in the parent.
    cred_error: Option<(i32, i32)>,
    /// `(code, errno)` of a `*Directory=` that could not be set up in the parent.
    dir_error: Option<(i32, i32)>,
    creds: Creds,
    nice: Option<i32>,
    limits: Vec<(i32, libc::rlimit)>,
    umask: Option<libc::mode_t>,
    cwd: Option<(CString, bool)>,
    ignore_sigpipe: bool,
    /// fds to hand over as 3, 4, … (`LISTEN_FDS`); owned by the caller, open across fork.
    pub pass_fds: Vec<RawFd>,
    /// Mount/network/IPC/UTS namespaces to enter (set by the supervisor after `prepare`).
    pub namespace: Option<super::namespace::Plan>,
    /// Capabilities, `NoNewPrivileges=` and seccomp programs ([`Lockdown`]).
    lockdown: Lockdown,
}

/// Move `fd` to a number ≥ 3 (so dup2 onto 0–2 never clobbers a source), close-on-exec.
pub(crate) fn high_fd(fd: OwnedFd) -> std::io::Result<OwnedFd> {
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    // SAFETY: F_DUPFD_CLOEXEC on an fd we own returns a new fd we then own.
    let n = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 3) };
    if n < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(unsafe { OwnedFd::from_raw_fd(n) })
}

/// A close-on-exec pipe `(read, write)`, both ends ≥ 3.
pub(crate) fn pipe_cloexec() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    Ok((high_fd(r)?, high_fd(w)?))
}

fn open_fd(path: &Path, flags: i32, mode: libc::mode_t) -> Result<OwnedFd, i32> {
    let c = CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| libc::EINVAL)?;
    // SAFETY: open with a valid C string; the returned fd is owned by us.
    let fd = unsafe { libc::open(c.as_ptr(), flags | libc::O_CLOEXEC | libc::O_NOCTTY, mode) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO));
    }
    high_fd(unsafe { OwnedFd::from_raw_fd(fd) }).map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))
}

/// Expand every glob of `EnvironmentFile=` and parse the files, in order (§7.2). A missing
/// non-optional file, or one that cannot be read or parsed, fails the spawn.
pub fn load_environment_files(files: &[(String, bool)]) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (pattern, optional) in files {
        let paths = match glob_paths(pattern) {
            Ok(p) if !p.is_empty() => p,
            Ok(_) | Err(_) if *optional => continue,
            Ok(_) => {
                return Err(format!(
                    "Failed to load environment files: {pattern}: No such file or directory"
                ));
            }
            Err(e) => return Err(format!("Failed to load environment files: {pattern}: {e}")),
        };
        for p in paths {
            let parsed = std::fs::read(&p)
                .map_err(|e| e.to_string())
                .and_then(|data| parse_environment_file(&data));
            match parsed {
                Ok(vars) => out.extend(vars),
                Err(_) if *optional => continue,
                Err(e) => {
                    return Err(format!(
                        "Failed to load environment file {}: {e}",
                        p.display()
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// The paths matching a glob pattern, sorted (literal paths only if they exist).
fn glob_paths(pattern: &str) -> std::io::Result<Vec<PathBuf>> {
    use std::os::unix::ffi::OsStrExt;
    let c = CString::new(pattern).map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: glob fills the zeroed glob_t, which we read and then free with globfree.
    unsafe {
        let mut g: libc::glob_t = std::mem::zeroed();
        let r = libc::glob(c.as_ptr(), 0, None, &mut g);
        let result = match r {
            0 => {
                let mut v = Vec::with_capacity(g.gl_pathc);
                for i in 0..g.gl_pathc {
                    let p = *g.gl_pathv.add(i);
                    if !p.is_null() {
                        let s = std::ffi::CStr::from_ptr(p);
                        v.push(PathBuf::from(std::ffi::OsStr::from_bytes(s.to_bytes())));
                    }
                }
                Ok(v)
            }
            libc::GLOB_NOMATCH => Ok(Vec::new()),
            libc::GLOB_NOSPACE => Err(std::io::Error::from_raw_os_error(libc::ENOMEM)),
            _ => Err(std::io::Error::from_raw_os_error(libc::EIO)),
        };
        libc::globfree(&mut g);
        result
    }
}

/// Find the executable: absolute paths as given, bare names in [`DEFAULT_EXEC_PATH`].
/// Returns the path and 0, or the path tried and the errno.
pub fn resolve_executable(path: &str) -> (String, i32) {
    fn check(p: &str) -> i32 {
        let Ok(c) = CString::new(p) else {
            return libc::EINVAL;
        };
        // SAFETY: access/stat with a valid C string.
        if unsafe { libc::access(c.as_ptr(), libc::X_OK) } < 0 {
            return std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::ENOENT);
        }
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => libc::EISDIR,
            Ok(_) => 0,
            Err(e) => e.raw_os_error().unwrap_or(libc::ENOENT),
        }
    }
    if path.contains('/') {
        return (path.to_string(), check(path));
    }
    let mut last = libc::ENOENT;
    for dir in DEFAULT_EXEC_PATH.split(':') {
        let cand = format!("{dir}/{path}");
        match check(&cand) {
            0 => return (cand, 0),
            libc::ENOENT | libc::ENOTDIR => {}
            e => last = e,
        }
    }
    (path.to_string(), last)
}

fn nul_buf(s: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(s.len() + 1);
    v.extend_from_slice(s);
    v.push(0);
    v
}

fn contains_marker(s: &[u8]) -> bool {
    s.windows(PID_MARKER.len()).any(|w| w == PID_MARKER)
}

/// Build the final environment of a spawn (§7.1) — everything but the pid, which stays
/// [`PID_MARKER`] — and whether a `User=` is involved.
fn assemble_environment(
    req: &SpawnRequest,
    senv: &SpawnEnv<'_>,
    user: Option<&UserInfo>,
) -> Result<EnvBlock, String> {
    let exec = &req.exec;
    let mut env = EnvBlock::from_pairs(&req.env);
    env.remove("NOTIFY_SOCKET");
    if req.notify_socket
        && let Some(sock) = senv.notify_socket
    {
        env.set("NOTIFY_SOCKET", &sock.to_string_lossy());
    }
    env.set(
        "SYSTEMD_EXEC_PID",
        std::str::from_utf8(PID_MARKER).expect("ascii marker"),
    );
    // Variables that name the child itself: the engine asks for them (empty value), the
    // child writes its own pid.
    for own in ["WATCHDOG_PID", "LISTEN_PID"] {
        if env.get(own).is_some() {
            env.set(own, std::str::from_utf8(PID_MARKER).expect("ascii marker"));
        }
    }
    for t in ExecDirectoryType::ALL {
        let paths = exec_directory_paths(exec, senv, t);
        if !paths.is_empty() {
            let joined: Vec<String> = paths
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            env.set(t.env_name(), &joined.join(":"));
        }
    }
    if let Some(u) = user {
        if !u.home.is_empty() && u.home != "/" {
            env.set("HOME", &u.home);
        }
        env.set("LOGNAME", &u.name);
        env.set("USER", &u.name);
        if !shell_is_placeholder(&u.shell) {
            env.set("SHELL", &u.shell);
        }
    }
    for name in &exec.pass_environment {
        if let Ok(v) = std::env::var(name) {
            env.set(name, &v);
        }
    }
    for (k, v) in &exec.environment {
        env.set(k, v);
    }
    for (k, v) in load_environment_files(&exec.environment_files)? {
        env.set(&k, &v);
    }
    for u in &exec.unset_environment {
        env.unset_entry(u);
    }
    Ok(env)
}

/// Prepare everything for spawning `req`. `Err` = the spawn fails in the manager
/// (`Result=resources`); problems the child reports with an exit code are kept for the child.
pub(crate) fn prepare(
    req: &SpawnRequest,
    senv: &SpawnEnv<'_>,
    mut new_pipe: impl FnMut() -> std::io::Result<(OwnedFd, OwnedFd)>,
) -> Result<Prepared, String> {
    let exec = &req.exec;
    let cmd = &req.command;
    let apply_creds = !(cmd.flags.full_privileges || cmd.flags.no_setuid);

    // Credentials.
    let mut cred_error = None;
    let user = match exec.user.as_deref() {
        Some(spec) => match lookup_user(spec) {
            Ok(u) => Some(u),
            Err(e) => {
                cred_error = Some((exit::USER, e));
                None
            }
        },
        None => None,
    };
    let mut creds = Creds::default();
    if apply_creds && cred_error.is_none() {
        let group = match exec.group.as_deref() {
            Some(g) => match lookup_group(g) {
                Ok(gid) => Some(gid),
                Err(e) => {
                    cred_error = Some((exit::GROUP, e));
                    None
                }
            },
            None => None,
        };
        let mut supplementary = Vec::new();
        for g in &exec.supplementary_groups {
            match lookup_group(g) {
                Ok(gid) => supplementary.push(gid),
                Err(e) => {
                    cred_error.get_or_insert((exit::GROUP, e));
                }
            }
        }
        let gid = group.or(user.as_ref().map(|u| u.gid));
        if cred_error.is_none() && (user.is_some() || gid.is_some() || !supplementary.is_empty()) {
            if senv.manager_uid == 0 {
                let gid = gid.unwrap_or(senv.manager_gid);
                let mut groups: Vec<libc::gid_t> = Vec::new();
                if let Some(u) = &user {
                    let name = CString::new(u.name.clone()).map_err(|_| "bad user name")?;
                    if let Ok(list) =
                        nix::unistd::getgrouplist(&name, nix::unistd::Gid::from_raw(gid))
                    {
                        groups.extend(list.into_iter().map(|g| g.as_raw()));
                    }
                }
                for g in supplementary {
                    if !groups.contains(&g) {
                        groups.push(g);
                    }
                }
                creds.groups = Some(groups);
                creds.gid = Some(gid);
                creds.uid = user.as_ref().map(|u| u.uid);
            } else {
                // An unprivileged manager can only run things as itself.
                let own_groups: Vec<u32> = nix::unistd::getgroups()
                    .map(|v| v.into_iter().map(|g| g.as_raw()).collect())
                    .unwrap_or_default();
                let foreign_group = gid.is_some_and(|g| g != senv.manager_gid)
                    || supplementary
                        .iter()
                        .any(|g| *g != senv.manager_gid && !own_groups.contains(g));
                if user.as_ref().is_some_and(|u| u.uid != senv.manager_uid) {
                    cred_error = Some((exit::USER, libc::EPERM));
                } else if foreign_group {
                    cred_error = Some((exit::GROUP, libc::EPERM));
                }
            }
        }
    }

    // `RuntimeDirectory=` & co., created (and owned by User=/Group= when a system manager runs
    // as root) before every spawn, so ExecStartPre already finds them.
    let mut dir_error = None;
    let owner = (senv.scope == Scope::System && senv.manager_uid == 0).then(|| {
        let uid = user.as_ref().map_or(0, |u| u.uid);
        let gid = exec
            .group
            .as_deref()
            .and_then(|g| lookup_group(g).ok())
            .or(user.as_ref().map(|u| u.gid))
            .unwrap_or(0);
        (uid, gid)
    });
    'dirs: for t in ExecDirectoryType::ALL {
        let dir = &exec.directories[t.index()];
        for p in exec_directory_paths(exec, senv, t) {
            if let Err(e) = setup_exec_directory(t, &p, dir.mode(), owner) {
                dir_error = Some((t.exit_code(), e));
                break 'dirs;
            }
        }
        let root = &senv.directory_roots[t.index()];
        for (path, link) in &dir.symlinks {
            if let Err(e) = exec_directory_symlink(root, path, link) {
                dir_error = Some((t.exit_code(), e));
                break 'dirs;
            }
        }
    }

    // Environment and argv.
    let env = assemble_environment(req, senv, user.as_ref())?;
    let argv = if cmd.flags.no_env_expand {
        cmd.argv.clone()
    } else {
        let lookup = |name: &str| env.get(name).map(str::to_string);
        expand_argv(&cmd.argv, &lookup)
    };

    // Executable.
    let (exec_path, exec_errno) = resolve_executable(&cmd.path);
    let skip = exec_errno != 0 && cmd.flags.ignore_failure;
    let exec_path_c =
        CString::new(exec_path.clone()).map_err(|_| "executable path contains NUL")?;

    // C strings and pointer arrays. Buffers never move after their pointers are taken.
    let mut patch = Vec::new();
    let mut argv_bufs: Vec<Vec<u8>> = argv
        .iter()
        .filter(|a| !a.as_bytes().contains(&0))
        .map(|a| nul_buf(a.as_bytes()))
        .collect();
    let mut env_bufs: Vec<Vec<u8>> = env
        .entries()
        .iter()
        .filter(|(k, v)| {
            !k.is_empty() && !k.contains('=') && !k.contains('\0') && !v.contains('\0')
        })
        .map(|(k, v)| nul_buf(format!("{k}={v}").as_bytes()))
        .collect();
    let mut argv_ptrs = Vec::with_capacity(argv_bufs.len() + 1);
    for b in argv_bufs.iter_mut() {
        let p = b.as_mut_ptr();
        if contains_marker(b) {
            patch.push((p, b.len()));
        }
        argv_ptrs.push(p as *const c_char);
    }
    argv_ptrs.push(std::ptr::null());
    let mut env_ptrs = Vec::with_capacity(env_bufs.len() + 1);
    for b in env_bufs.iter_mut() {
        let p = b.as_mut_ptr();
        if contains_marker(b) {
            patch.push((p, b.len()));
        }
        env_ptrs.push(p as *const c_char);
    }
    env_ptrs.push(std::ptr::null());

    // umask and stdio.
    let umask = exec.umask.map(|m| m as libc::mode_t).or(match senv.scope {
        Scope::System => Some(0o022),
        Scope::User => None,
    });
    let mode = 0o666 & !umask.unwrap_or(0);
    let mut log_pipes = Vec::new();
    let stdin = match &exec.stdin {
        // The supervisor puts the unit's descriptor in place after `prepare`.
        StdInput::Fd => Stdio::Error(libc::EBADF),
        StdInput::Null | StdInput::Socket => {
            match open_fd(Path::new("/dev/null"), libc::O_RDONLY, 0) {
                Ok(fd) => Stdio::Fd(fd),
                Err(e) => Stdio::Error(e),
            }
        }
        // O_NONBLOCK so a FIFO without writer cannot block the manager; cleared right after.
        StdInput::File(p) => match open_fd(p, libc::O_RDONLY | libc::O_NONBLOCK, 0) {
            Ok(fd) => {
                // SAFETY: fcntl on an fd we own.
                unsafe {
                    let fl = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
                    libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, fl & !libc::O_NONBLOCK);
                }
                Stdio::Fd(fd)
            }
            Err(e) => Stdio::Error(e),
        },
    };
    // `inherit` on stdout: stdin is never a tty or socket here, so the default (journal).
    let stdout_kind = match &exec.stdout {
        StdOutput::Inherit => StdOutput::Journal,
        o => o.clone(),
    };
    let mut open_output = |kind: &StdOutput| -> Stdio {
        let r = match kind {
            StdOutput::Inherit | StdOutput::Journal => match new_pipe() {
                Ok((r, w)) => {
                    log_pipes.push(r);
                    Ok(w)
                }
                Err(e) => Err(e.raw_os_error().unwrap_or(libc::EIO)),
            },
            StdOutput::Null | StdOutput::Socket => {
                open_fd(Path::new("/dev/null"), libc::O_WRONLY, 0)
            }
            // The supervisor puts the unit's descriptor in place after `prepare`.
            StdOutput::Fd => Err(libc::EBADF),
            StdOutput::File(p) => open_fd(p, libc::O_WRONLY | libc::O_CREAT, mode),
            StdOutput::Append(p) => {
                open_fd(p, libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND, mode)
            }
            StdOutput::Truncate(p) => {
                open_fd(p, libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC, mode)
            }
        };
        match r {
            Ok(fd) => Stdio::Fd(fd),
            Err(e) => Stdio::Error(e),
        }
    };
    let stdout = open_output(&stdout_kind);
    let stderr = match &exec.stderr {
        StdOutput::Inherit => Stdio::SameAsStdout,
        StdOutput::Fd => Stdio::Error(libc::EBADF),
        // Same target as stdout: share the fd (one pipe, one file offset).
        k if *k == stdout_kind => Stdio::SameAsStdout,
        k => open_output(k),
    };

    // Working directory: `~` is User='s home (or the manager's); default `/` for the system
    // manager, the manager's home (missing ok) for the user manager.
    let home_of = || -> PathBuf {
        user.as_ref()
            .map(|u| PathBuf::from(&u.home))
            .unwrap_or_else(|| senv.manager_home.to_path_buf())
    };
    let (cwd, missing_ok) = match &exec.working_directory {
        Some(WorkingDirectory::Path(p)) => (p.clone(), exec.working_directory_missing_ok),
        Some(WorkingDirectory::Home) => (home_of(), exec.working_directory_missing_ok),
        None => match senv.scope {
            Scope::System => (PathBuf::from("/"), false),
            Scope::User => (senv.manager_home.to_path_buf(), true),
        },
    };
    let cwd = CString::new(cwd.as_os_str().as_encoded_bytes())
        .ok()
        .map(|c| (c, missing_ok));

    let limits = exec
        .limits
        .iter()
        .map(|l| {
            (
                l.resource,
                libc::rlimit {
                    rlim_cur: l.soft as libc::rlim_t,
                    rlim_max: l.hard as libc::rlim_t,
                },
            )
        })
        .collect();

    let lockdown = Lockdown::prepare(
        &exec.sandbox,
        LockdownInput {
            sandboxed: !cmd.flags.full_privileges,
            privileged: senv.manager_uid == 0,
            target_uid: creds.uid,
            explicit_rtprio: exec
                .limits
                .iter()
                .any(|l| l.resource == libc::RLIMIT_RTPRIO as i32),
        },
    );

    Ok(Prepared {
        exec_path,
        exec_path_c,
        exec_errno,
        skip,
        _argv_bufs: argv_bufs,
        argv_ptrs,
        _env_bufs: env_bufs,
        env_ptrs,
        patch,
        stdin,
        stdout,
        stderr,
        log_pipes,
        cred_error,
        dir_error,
        creds,
        nice: exec.nice,
        limits,
        umask,
        cwd,
        ignore_sigpipe: exec.ignore_sigpipe,
        pass_fds: Vec::new(),
        namespace: None,
        lockdown,
    })
}

/// `setrlimit`, and when the kernel refuses (`EPERM`: a hard limit above the caller's without
/// `CAP_SYS_RESOURCE`, or `LimitNOFILE=` above `fs.nr_open`) the closest limit it allows —
/// both values capped at the current hard limit — as systemd does: a limit the environment
/// cannot grant is not a start failure. Async-signal-safe (two system calls). False on any
/// other error (`errno` set).
fn set_rlimit_closest(res: i32, lim: &libc::rlimit) -> bool {
    // SAFETY: plain system calls on valid pointers to stack/heap values.
    unsafe {
        if libc::setrlimit(res as _, lim) == 0 {
            return true;
        }
        if errno() != libc::EPERM {
            return false;
        }
        let mut cur: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(res as _, &mut cur) < 0 {
            return false;
        }
        let fixed = libc::rlimit {
            rlim_cur: lim.rlim_cur.min(cur.rlim_max),
            rlim_max: lim.rlim_max.min(cur.rlim_max),
        };
        libc::setrlimit(res as _, &fixed) == 0
    }
}

/// Report a failed set-up step to the parent and exit with its code. Async-signal-safe.
unsafe fn child_fail(status_fd: RawFd, code: i32, errno: i32) -> ! {
    let mut msg = [0u8; 8];
    msg[..4].copy_from_slice(&code.to_ne_bytes());
    msg[4..].copy_from_slice(&errno.to_ne_bytes());
    unsafe {
        libc::write(status_fd, msg.as_ptr().cast(), msg.len());
        libc::_exit(code)
    }
}

fn errno() -> i32 {
    // SAFETY: reading the thread's errno is async-signal-safe.
    unsafe { *libc::__errno_location() }
}

fn dup_onto(src: &Stdio, target: RawFd) -> Result<(), i32> {
    match src {
        Stdio::Fd(fd) => {
            // SAFETY: dup2 between fds we own; async-signal-safe.
            if unsafe { libc::dup2(fd.as_raw_fd(), target) } < 0 {
                return Err(errno());
            }
        }
        Stdio::SameAsStdout => {
            if unsafe { libc::dup2(1, target) } < 0 {
                return Err(errno());
            }
        }
        Stdio::Error(e) => return Err(*e),
    }
    Ok(())
}

/// The child after `fork()`: only async-signal-safe calls, no allocation. Never returns.
///
/// # Safety
/// Must be called in a freshly forked child whose signals are all blocked, with `p` prepared
/// in the parent.
pub(crate) unsafe fn child(p: &Prepared, status_fd: RawFd) -> ! {
    unsafe {
        // Signals: default dispositions, SIGPIPE ignored when asked, empty mask.
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = libc::SIG_DFL;
        libc::sigemptyset(&mut sa.sa_mask);
        for sig in 1..65 {
            if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                libc::sigaction(sig, &sa, std::ptr::null_mut());
            }
        }
        if p.ignore_sigpipe {
            sa.sa_sigaction = libc::SIG_IGN;
            libc::sigaction(libc::SIGPIPE, &sa, std::ptr::null_mut());
        }
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        if libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut()) < 0 {
            child_fail(status_fd, exit::SIGNAL_MASK, errno());
        }

        if libc::setsid() < 0 {
            child_fail(status_fd, exit::SETSID, errno());
        }
        if let Some((code, e)) = p.cred_error
            && code == exit::USER
        {
            child_fail(status_fd, code, e);
        }
        if let Err(e) = dup_onto(&p.stdin, 0) {
            child_fail(status_fd, exit::STDIN, e);
        }
        if let Err(e) = dup_onto(&p.stdout, 1) {
            child_fail(status_fd, exit::STDOUT, e);
        }
        if let Err(e) = dup_onto(&p.stderr, 2) {
            child_fail(status_fd, exit::STDERR, e);
        }
        if let Some(n) = p.nice
            && libc::setpriority(libc::PRIO_PROCESS, 0, n) < 0
        {
            child_fail(status_fd, exit::NICE, errno());
        }
        for (res, lim) in &p.limits {
            if !set_rlimit_closest(*res, lim) {
                child_fail(status_fd, exit::LIMITS, errno());
            }
        }
        if let Some(m) = p.umask {
            libc::umask(m);
        }
        if let Some((code, e)) = p.dir_error {
            child_fail(status_fd, code, e);
        }
        if let Some((code, e)) = p.cred_error {
            child_fail(status_fd, code, e);
        }
        // Namespaces need CAP_SYS_ADMIN: before the credentials change.
        if let Some(ns) = &p.namespace
            && let Err((code, e)) = super::namespace::enter(ns)
        {
            child_fail(status_fd, code, e);
        }
        if let Err((code, e)) = p.lockdown.before_credentials() {
            child_fail(status_fd, code, e);
        }
        if let Some(groups) = &p.creds.groups
            && libc::setgroups(groups.len(), groups.as_ptr()) < 0
        {
            child_fail(status_fd, exit::GROUP, errno());
        }
        if let Some(gid) = p.creds.gid
            && libc::setresgid(gid, gid, gid) < 0
        {
            child_fail(status_fd, exit::GROUP, errno());
        }
        if let Some(uid) = p.creds.uid
            && libc::setresuid(uid, uid, uid) < 0
        {
            child_fail(status_fd, exit::USER, errno());
        }
        if let Err((code, e)) = p.lockdown.after_setuid() {
            child_fail(status_fd, code, e);
        }
        if let Some((dir, missing_ok)) = &p.cwd
            && libc::chdir(dir.as_ptr()) < 0
            && !missing_ok
        {
            child_fail(status_fd, exit::CHDIR, errno());
        }

        // Close everything but 0–2 and the status pipe.
        // Passed fds land on 3, 4, …: first lift the status pipe and every source above
        // the target range, then dup2 them down (dup2 clears close-on-exec).
        let mut status_fd = status_fd;
        let n = p.pass_fds.len() as RawFd;
        if n > 0 {
            let floor = 3 + n;
            status_fd = libc::fcntl(status_fd, libc::F_DUPFD_CLOEXEC, floor + n);
            if status_fd < 0 {
                libc::_exit(exit::FDS);
            }
            let mut lifted = [0 as RawFd; MAX_PASS_FDS];
            for (i, fd) in p.pass_fds.iter().take(MAX_PASS_FDS).enumerate() {
                lifted[i] = libc::fcntl(*fd, libc::F_DUPFD_CLOEXEC, floor);
                if lifted[i] < 0 {
                    child_fail(status_fd, exit::FDS, errno());
                }
            }
            for (i, fd) in lifted.iter().take(p.pass_fds.len()).enumerate() {
                if libc::dup2(*fd, 3 + i as RawFd) < 0 {
                    child_fail(status_fd, exit::FDS, errno());
                }
            }
        }
        close_from_keeping(3 + n, status_fd);

        // SYSTEMD_EXEC_PID (and any $SYSTEMD_EXEC_PID in argv).
        if !p.patch.is_empty() {
            let mut digits = [0u8; 10];
            let n = format_u32(libc::getpid() as u32, &mut digits);
            for &(ptr, len) in &p.patch {
                patch_pid_marker(std::slice::from_raw_parts_mut(ptr, len), &digits[..n]);
            }
        }

        if p.skip {
            libc::_exit(0);
        }
        if p.exec_errno != 0 {
            child_fail(status_fd, exit::EXEC, p.exec_errno);
        }
        if let Err((code, e)) = p.lockdown.before_exec() {
            child_fail(status_fd, code, e);
        }
        libc::execve(
            p.exec_path_c.as_ptr(),
            p.argv_ptrs.as_ptr(),
            p.env_ptrs.as_ptr(),
        );
        child_fail(status_fd, exit::EXEC, errno());
    }
}

/// Close every fd ≥ `from` except `keep`. Async-signal-safe.
/// Most fds one spawn may receive (socket units plus the fd store).
pub const MAX_PASS_FDS: usize = 1024;

/// [`close_from`] for a signed lower bound.
unsafe fn close_from_keeping(from: RawFd, keep: RawFd) {
    unsafe { close_from(from as u32, keep) }
}

unsafe fn close_from(from: u32, keep: RawFd) {
    let keep = keep as u32;
    let ranges: [(u32, u32); 2] = if keep >= from {
        [(from, keep.saturating_sub(1)), (keep + 1, u32::MAX)]
    } else {
        [(from, u32::MAX), (1, 0)]
    };
    for (lo, hi) in ranges {
        if lo > hi {
            continue;
        }
        // SAFETY: close_range only closes descriptors.
        let r = unsafe { libc::syscall(libc::SYS_close_range, lo, hi, 0) };
        if r < 0 {
            // Old kernel: close one by one up to the fd limit.
            let mut rl: libc::rlimit = unsafe { std::mem::zeroed() };
            let max = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) } == 0 {
                rl.rlim_cur.min(1 << 20) as u32
            } else {
                4096
            };
            let mut fd = lo;
            while fd <= hi && fd < max {
                unsafe { libc::close(fd as i32) };
                fd += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_patching() {
        let mut buf = nul_buf(b"SYSTEMD_EXEC_PID=\x01\x02SYSTEMD_EXEC_PID\x02\x01");
        patch_pid_marker(&mut buf, b"12345");
        let end = buf.iter().position(|b| *b == 0).unwrap();
        assert_eq!(&buf[..end], b"SYSTEMD_EXEC_PID=12345");

        let mut word = Vec::new();
        word.extend_from_slice(b"a");
        word.extend_from_slice(PID_MARKER);
        word.extend_from_slice(b"-");
        word.extend_from_slice(PID_MARKER);
        word.extend_from_slice(b"z");
        let mut buf = nul_buf(&word);
        patch_pid_marker(&mut buf, b"4294967295");
        let end = buf.iter().position(|b| *b == 0).unwrap();
        assert_eq!(&buf[..end], b"a4294967295-4294967295z");
    }

    #[test]
    fn digits() {
        let mut d = [0u8; 10];
        let n = format_u32(0, &mut d);
        assert_eq!(&d[..n], b"0");
        let n = format_u32(4294967295, &mut d);
        assert_eq!(&d[..n], b"4294967295");
        let n = format_u32(1203, &mut d);
        assert_eq!(&d[..n], b"1203");
    }

    #[test]
    fn exit_names() {
        assert_eq!(exit_status_name(203), Some("EXEC"));
        assert_eq!(exit_status_name(200), Some("CHDIR"));
        assert_eq!(exit_status_name(234), None);
        assert_eq!(exit_status_name(1), None);
    }

    #[test]
    fn executable_lookup() {
        let (p, e) = resolve_executable("sh");
        assert_eq!(e, 0);
        assert!(p.ends_with("/sh") && p.starts_with('/'));
        let (_, e) = resolve_executable("/nonexistent/definitely-not-here");
        assert_eq!(e, libc::ENOENT);
        let (_, e) = resolve_executable("definitely-not-a-command-xyz");
        assert_eq!(e, libc::ENOENT);
        let (_, e) = resolve_executable("/");
        assert_ne!(e, 0);
    }

    #[test]
    fn environment_files_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.env"), "A=1\nB=2\n").unwrap();
        std::fs::write(dir.path().join("b.env"), "B=3\n").unwrap();
        let glob = format!("{}/*.env", dir.path().display());
        let got = load_environment_files(&[(glob, false)]).unwrap();
        assert_eq!(
            got,
            vec![
                ("A".to_string(), "1".to_string()),
                ("B".to_string(), "2".to_string()),
                ("B".to_string(), "3".to_string())
            ]
        );
        let missing = format!("{}/missing.env", dir.path().display());
        assert!(load_environment_files(&[(missing.clone(), false)]).is_err());
        assert_eq!(load_environment_files(&[(missing, true)]).unwrap(), vec![]);
    }
}
