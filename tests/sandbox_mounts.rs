//! Acceptance: the namespace part of sandboxing (issue 7) enforced by a root system-scope
//! manager with the kernel's own primitives, driven by the stock `systemctl`: `PrivateTmp=`
//! (shared by every process of the unit, invisible outside, gone after stop),
//! `ProtectSystem=strict` with `StateDirectory=` writable, `ProtectHome=`,
//! `ReadOnlyPaths=`/`ReadWritePaths=`/`InaccessiblePaths=`/`NoExecPaths=` (a missing path
//! fails with 226/NAMESPACE, `-` skips it), `BindPaths=`/`BindReadOnlyPaths=`,
//! `TemporaryFileSystem=`, `PrivateDevices=` and `PrivateNetwork=` (only `lo`, up, one
//! namespace for the whole unit; `+` commands outside it).
//!
//! The services report from inside (shell one-liners writing into a report directory).
//! Nothing here can write the host, even with a broken sandbox: the manager runs in its own
//! `unshare -m` namespace where `/run`, `/var/lib`, `/tmp` and `/var/tmp` are private tmpfs
//! (the test directory is bound back at its own path inside the private `/tmp`), every
//! write a service attempts targets the test directory or those tmpfs, and read-only checks
//! of system paths use `test -w`, which writes nothing. The test reads the manager's view
//! of the file system through `/proc/PID/root`.

mod common;

use std::fs;

use common::private_system::{PrivateSystemManager, REPORT};
use common::*;

/// A oneshot service that stays active, with `body` as its `[Service]` settings.
fn unit(body: &str) -> String {
    format!("[Service]\nType=oneshot\nRemainAfterExit=yes\n{body}\n")
}

/// The `PrivateTmp=` directories of the manager's `/tmp` and `/var/tmp` for `unit`.
fn private_dirs(m: &PrivateSystemManager, unit: &str) -> Vec<String> {
    let mut v = Vec::new();
    for d in ["/tmp", "/var/tmp"] {
        for e in fs::read_dir(m.manager_view(d)).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            if name.starts_with("systemd-private-") && name.contains(&format!("-{unit}-")) {
                v.push(format!("{d}/{name}"));
            }
        }
    }
    v
}

#[test]
fn private_tmp_is_shared_by_the_unit_invisible_outside_and_removed_on_stop() {
    let u = unit(&format!(
        "PrivateTmp=yes\n\
         ExecStartPre=/bin/sh -c 'echo pre > /tmp/marker; echo pre-var > /var/tmp/marker; \
           readlink /proc/self/ns/mnt > {REPORT}/ns-pre'\n\
         ExecStart=/bin/sh -c 'cat /tmp/marker /var/tmp/marker > {REPORT}/start; \
           stat -c %%a /tmp /var/tmp >> {REPORT}/start; echo main > /tmp/main'\n\
         ExecStop=/bin/sh -c 'cat /tmp/main > {REPORT}/stop'"
    ));
    let other = unit(&format!(
        "PrivateTmp=yes\nExecStart=/bin/sh -c 'ls -A /tmp > {REPORT}/other'"
    ));
    let Some(m) = PrivateSystemManager::start(&[("ptmp.service", u), ("other.service", other)])
    else {
        return;
    };
    m.start_ok("ptmp.service");
    // ExecStartPre and ExecStart saw the same /tmp and /var/tmp (fresh, sticky, 1777), each
    // process in its own mount namespace, not the manager's.
    assert_eq!(m.report("start"), "pre\npre-var\n1777\n1777\n");
    let ns_pre = m.report("ns-pre");
    let manager_ns = fs::read_link(format!("/proc/{}/ns/mnt", m.daemon.pid())).unwrap();
    assert_ne!(ns_pre.trim(), manager_ns.to_string_lossy());
    // Outside the unit: nothing in the manager's /tmp but the private directories.
    assert!(!m.manager_view("/tmp/marker").exists());
    assert!(!m.manager_view("/var/tmp/marker").exists());
    let dirs = private_dirs(&m, "ptmp.service");
    assert_eq!(dirs.len(), 2, "{dirs:?}");
    for d in &dirs {
        let md = fs::metadata(m.manager_view(d)).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(md.permissions().mode() & 0o7777, 0o700, "{d}");
    }
    // Another unit gets its own, empty /tmp.
    m.start_ok("other.service");
    assert_eq!(m.report("other"), "");
    // ExecStop still shares it; after the stop the directories are gone.
    let out = m.systemctl(&["stop", "ptmp.service"]);
    assert_eq!(out.code, 0, "{}", out.dump());
    assert_eq!(m.report("stop"), "main\n");
    assert_eq!(private_dirs(&m, "ptmp.service"), Vec::<String>::new());
    // A new start gets a fresh one.
    fs::remove_file(m.dir.path().join("report/start")).unwrap();
    m.start_ok("ptmp.service");
    assert_eq!(m.report("start"), "pre\npre-var\n1777\n1777\n");
    assert_eq!(private_dirs(&m, "ptmp.service").len(), 2);
}

#[test]
fn protect_system_strict_keeps_only_the_units_own_directories_writable() {
    let body = |td: &str| {
        format!(
            "ProtectSystem=strict\nStateDirectory=sbx-state\nReadWritePaths={REPORT}\n\
             ExecStart=/bin/sh -c 'r={REPORT}/strict; \
               if test -w /usr; then echo usr=rw; else echo usr=ro; fi >> $r; \
               if test -w /etc; then echo etc=rw; else echo etc=ro; fi >> $r; \
               if touch {td}/probe-strict 2>/dev/null; then echo td=rw; else echo td=ro; fi >> $r; \
               if touch /var/lib/sbx-state/ok; then echo state=rw; else echo state=ro; fi >> $r; \
               if echo x > /dev/null; then echo devnull=rw; else echo devnull=ro; fi >> $r; \
               if test -w /tmp; then echo tmp=rw; else echo tmp=ro; fi >> $r'"
        )
    };
    // The unit text needs the test directory's path: written after the start, then reloaded.
    let Some(m) = PrivateSystemManager::start(&[]) else {
        return;
    };
    m.dir.write_unit("strict.service", &unit(&body(&m.td())));
    let out = m.systemctl(&["daemon-reload"]);
    assert_eq!(out.code, 0, "{}", out.dump());
    m.start_ok("strict.service");
    assert_eq!(
        m.report("strict"),
        "usr=ro\netc=ro\ntd=ro\nstate=rw\ndevnull=rw\ntmp=ro\n"
    );
    assert!(!m.dir.path().join("probe-strict").exists());
    assert!(m.manager_view("/var/lib/sbx-state/ok").exists());
}

#[test]
fn protect_home_hides_or_freezes_home_directories() {
    let root_has_entries = fs::read_dir("/root").is_ok_and(|mut d| d.next().is_some());
    let probe = |name: &str| {
        format!(
            "ExecStart=/bin/sh -c 'r={REPORT}/{name}; \
               echo entries=$(ls -A /root | wc -l) >> $r; \
               if test -w /root; then echo root=rw; else echo root=ro; fi >> $r; \
               if test -w /home; then echo home=rw; else echo home=ro; fi >> $r'"
        )
    };
    let Some(m) = PrivateSystemManager::start(&[
        (
            "hy.service",
            unit(&format!("ProtectHome=yes\n{}", probe("yes"))),
        ),
        (
            "hro.service",
            unit(&format!("ProtectHome=read-only\n{}", probe("ro"))),
        ),
        (
            "htmp.service",
            unit(&format!("ProtectHome=tmpfs\n{}", probe("tmpfs"))),
        ),
    ]) else {
        return;
    };
    for u in ["hy.service", "hro.service", "htmp.service"] {
        m.start_ok(u);
    }
    // yes: an empty, inaccessible (read-only) directory.
    assert_eq!(m.report("yes"), "entries=0\nroot=ro\nhome=ro\n");
    // read-only: the contents stay visible.
    let ro = m.report("ro");
    assert!(ro.ends_with("root=ro\nhome=ro\n"), "{ro}");
    if root_has_entries {
        assert_ne!(ro.lines().next(), Some("entries=0"), "{ro}");
    }
    // tmpfs: empty and read-only.
    assert_eq!(m.report("tmpfs"), "entries=0\nroot=ro\nhome=ro\n");
}

#[test]
fn read_only_read_write_inaccessible_and_noexec_paths() {
    let Some(m) = PrivateSystemManager::start(&[]) else {
        return;
    };
    let td = m.td();
    let tree = m.dir.path().join("tree");
    for d in ["ro", "rw", "hidden", "nx"] {
        fs::create_dir_all(tree.join(d)).unwrap();
    }
    fs::write(tree.join("ro/file"), "ro-content\n").unwrap();
    fs::write(tree.join("hidden/secret"), "secret\n").unwrap();
    let script = m.dir.write_script("tree/nx/run.sh", "echo ran\n");
    m.dir.write_unit(
        "paths.service",
        &unit(&format!(
            "ReadOnlyPaths={td}/tree\nReadWritePaths={td}/tree/rw\n\
             InaccessiblePaths={td}/tree/hidden\nInaccessiblePaths=-{td}/tree/missing\n\
             ReadOnlyPaths=-/nonexistent/unitd-test\nNoExecPaths={td}/tree/nx\n\
             ExecStart=/bin/sh -c 'r={REPORT}/paths; \
               cat {td}/tree/ro/file >> $r; \
               if echo x > {td}/tree/ro/file; then echo ro=rw; else echo ro=ro; fi >> $r 2>/dev/null; \
               if echo x > {td}/tree/rw/new; then echo rw=rw; else echo rw=ro; fi >> $r; \
               if cat {td}/tree/hidden/secret; then echo hidden=visible; else echo hidden=gone; fi >> $r 2>/dev/null; \
               if {script} >/dev/null 2>&1; then echo nx=exec; else echo nx=noexec; fi >> $r'",
            script = script.display()
        )),
    );
    m.dir.write_unit(
        "missing.service",
        &unit(&format!(
            "ReadOnlyPaths={td}/tree/nope\nExecStart=/bin/sh -c 'echo ran > {REPORT}/missing'"
        )),
    );
    let out = m.systemctl(&["daemon-reload"]);
    assert_eq!(out.code, 0, "{}", out.dump());
    m.start_ok("paths.service");
    assert_eq!(
        m.report("paths"),
        "ro-content\nro=ro\nrw=rw\nhidden=gone\nnx=noexec\n"
    );
    assert_eq!(
        fs::read_to_string(tree.join("ro/file")).unwrap(),
        "ro-content\n"
    );
    assert_eq!(fs::read_to_string(tree.join("rw/new")).unwrap(), "x\n");
    // A missing path without `-` fails the spawn at step NAMESPACE, as systemd.
    let out = m.systemctl(&["start", "missing.service"]);
    assert_ne!(out.code, 0, "{}", out.dump());
    assert!(!m.dir.path().join("report/missing").exists());
    let out = m.systemctl(&[
        "show",
        "missing.service",
        "-p",
        "Result",
        "-p",
        "ExecMainStatus",
    ]);
    assert!(
        out.stdout.contains("Result=exit-code") && out.stdout.contains("ExecMainStatus=226"),
        "{}",
        out.dump()
    );
    let status = m.systemctl(&["status", "missing.service"]);
    assert!(status.stdout.contains("226/NAMESPACE"), "{}", status.dump());
}

#[test]
fn bind_paths_and_temporary_file_systems() {
    let Some(m) = PrivateSystemManager::start(&[]) else {
        return;
    };
    let td = m.td();
    let p = m.dir.path();
    for d in ["bsrc", "bdst", "bro", "tfs", "tfs2"] {
        fs::create_dir(p.join(d)).unwrap();
    }
    fs::write(p.join("bsrc/file"), "from-source\n").unwrap();
    fs::write(p.join("tfs/host-file"), "host\n").unwrap();
    m.dir.write_unit(
        "bind.service",
        &unit(&format!(
            "BindPaths={td}/bsrc:{td}/bdst\nBindReadOnlyPaths={td}/bsrc:{td}/bro\n\
             BindPaths=-{td}/nonexistent:{td}/nowhere\n\
             TemporaryFileSystem={td}/tfs:ro\nTemporaryFileSystem={td}/tfs2:mode=0700\n\
             ExecStart=/bin/sh -c 'r={REPORT}/bind; \
               cat {td}/bdst/file >> $r; \
               if echo new > {td}/bdst/written; then echo bdst=rw; else echo bdst=ro; fi >> $r; \
               if echo x > {td}/bro/x; then echo bro=rw; else echo bro=ro; fi >> $r 2>/dev/null; \
               echo tfs=$(ls -A {td}/tfs | wc -l) >> $r; \
               if echo x > {td}/tfs/x; then echo tfs=rw; else echo tfs=ro; fi >> $r 2>/dev/null; \
               stat -c tfs2=%%a {td}/tfs2 >> $r; \
               if echo x > {td}/tfs2/x; then echo tfs2=rw; else echo tfs2=ro; fi >> $r'"
        )),
    );
    let out = m.systemctl(&["daemon-reload"]);
    assert_eq!(out.code, 0, "{}", out.dump());
    m.start_ok("bind.service");
    assert_eq!(
        m.report("bind"),
        "from-source\nbdst=rw\nbro=ro\ntfs=0\ntfs=ro\ntfs2=700\ntfs2=rw\n"
    );
    // Writes through the read-write bind land in the source; nothing else changed outside.
    assert_eq!(fs::read_to_string(p.join("bsrc/written")).unwrap(), "new\n");
    assert!(!p.join("bdst/written").exists());
    assert!(!p.join("bro/x").exists() && !p.join("bsrc/x").exists());
    assert!(!p.join("tfs2/x").exists() && !p.join("nowhere").exists());
    assert!(p.join("tfs/host-file").exists());
}

#[test]
fn private_devices_and_private_network() {
    let Some(m) = PrivateSystemManager::start(&[
        (
            "dev.service",
            unit(&format!(
                "PrivateDevices=yes\n\
                 ExecStart=/bin/sh -c 'r={REPORT}/dev; ls -A /dev > $r; \
                   if echo x > /dev/null; then echo null=rw; else echo null=ro; fi > {REPORT}/devnull; \
                   if test -w /dev; then echo dev=rw; else echo dev=ro; fi >> {REPORT}/devnull; \
                   head -c 4 /dev/urandom | wc -c >> {REPORT}/devnull'"
            )),
        ),
        (
            "net.service",
            unit(&format!(
                "PrivateNetwork=yes\n\
                 ExecStartPre=/bin/sh -c 'readlink /proc/self/ns/net > {REPORT}/net-pre'\n\
                 ExecStartPre=+/bin/sh -c 'readlink /proc/self/ns/net > {REPORT}/net-plus'\n\
                 ExecStart=/bin/sh -c 'readlink /proc/self/ns/net > {REPORT}/net-start; \
                   tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d \" \" > {REPORT}/net-ifs; \
                   ip -o link show lo > {REPORT}/net-lo 2>&1 || echo no-ip > {REPORT}/net-lo'"
            )),
        ),
    ]) else {
        return;
    };
    m.start_ok("dev.service");
    let allowed = [
        "core",
        "fd",
        "full",
        "hugepages",
        "log",
        "mqueue",
        "null",
        "ptmx",
        "pts",
        "random",
        "shm",
        "stderr",
        "stdin",
        "stdout",
        "tty",
        "urandom",
        "zero",
    ];
    let devs = m.report("dev");
    for d in devs.lines() {
        assert!(allowed.contains(&d), "unexpected /dev/{d} in\n{devs}");
    }
    for d in ["null", "zero", "urandom", "pts", "fd"] {
        assert!(devs.lines().any(|l| l == d), "/dev/{d} missing in\n{devs}");
    }
    assert_eq!(m.report("devnull"), "null=rw\ndev=ro\n4\n");

    m.start_ok("net.service");
    let pre = m.report("net-pre");
    let start = m.report("net-start");
    let plus = m.report("net-plus");
    let manager = fs::read_link(format!("/proc/{}/ns/net", m.daemon.pid())).unwrap();
    // One network namespace for the whole unit; `+` commands stay outside it.
    assert_eq!(pre, start);
    assert_ne!(start.trim(), manager.to_string_lossy());
    assert_eq!(plus.trim(), manager.to_string_lossy());
    assert_eq!(m.report("net-ifs"), "lo\n");
    let lo = m.report("net-lo");
    assert!(lo.contains("no-ip") || lo.contains(",UP"), "{lo}");
}

#[test]
fn private_tmp_and_network_namespace_survive_daemon_reexec() {
    let u = format!(
        "[Service]\nPrivateTmp=yes\nPrivateNetwork=yes\n\
         ExecStart=/bin/sh -c 'echo before > /tmp/marker; \
           readlink /proc/self/ns/net > {REPORT}/net-start; exec sleep infinity'\n\
         ExecReload=/bin/sh -c 'cat /tmp/marker > {REPORT}/reload; \
           readlink /proc/self/ns/net > {REPORT}/net-reload'\n"
    );
    let Some(m) = PrivateSystemManager::start(&[("keep.service", u)]) else {
        return;
    };
    m.start_ok("keep.service");
    wait_for("keep.service wrote its network namespace", TIMEOUT, || {
        m.dir.path().join("report/net-start").exists()
    });
    let dirs = private_dirs(&m, "keep.service");
    assert_eq!(dirs.len(), 2, "{dirs:?}");
    let name = "org.freedesktop.systemd1";
    let before = m.bus().name_owner(name).expect("unitd owns its name");
    let out = m.systemctl(&["daemon-reexec"]);
    assert_eq!(out.code, 0, "{}\n{}", out.dump(), m.log());
    // The old image may still answer for a moment after daemon-reexec returns: wait for the
    // new one's bus connection first.
    wait_for("the re-executed manager answers", TIMEOUT, || {
        m.bus().name_owner(name).is_some_and(|o| o != before)
            && m.systemctl(&["is-active", "keep.service"]).stdout.trim() == "active"
    });
    // Processes spawned after the reexec join the same /tmp and network namespace.
    let out = m.systemctl(&["reload", "keep.service"]);
    assert_eq!(out.code, 0, "{}\n{}", out.dump(), m.log());
    assert_eq!(m.report("reload"), "before\n");
    assert_eq!(m.report("net-reload"), m.report("net-start"));
    assert_eq!(private_dirs(&m, "keep.service"), dirs);
    // And the directories still go with the stop.
    let out = m.systemctl(&["stop", "keep.service"]);
    assert_eq!(out.code, 0, "{}", out.dump());
    assert_eq!(private_dirs(&m, "keep.service"), Vec::<String>::new());
}

#[test]
fn proc_ipc_hostname_kernel_and_exec_settings() {
    let Some(m) = PrivateSystemManager::start(&[
        (
            "proc.service",
            unit(&format!(
                "ProtectProc=invisible\nProcSubset=pid\nProtectKernelTunables=yes\n\
                 ProtectKernelLogs=yes\nProtectControlGroups=yes\nProtectKernelModules=yes\n\
                 MountFlags=private\n\
                 ExecStart=/bin/sh -c 'r={REPORT}/proc; \
                   ls /proc | grep -v \"^[0-9]\" | sort | tr \"\\\\n\" \" \" >> $r; echo >> $r; \
                   grep \" /proc \" /proc/self/mountinfo | grep -c hidepid=invisible >> $r; \
                   if test -r /proc/kmsg; then echo kmsg=readable; else echo kmsg=hidden; fi >> $r; \
                   if test -w /sys/fs/cgroup; then echo cgroup=rw; else echo cgroup=ro; fi >> $r; \
                   if test -w /sys; then echo sys=rw; else echo sys=ro; fi >> $r; \
                   grep \" / / \" /proc/self/mountinfo | cut -d\" \" -f7 >> $r'"
            )),
        ),
        (
            "ipc.service",
            unit(&format!(
                "PrivateIPC=yes\nProtectHostname=yes\n\
                 ExecStartPre=/bin/sh -c 'readlink /proc/self/ns/ipc > {REPORT}/ipc-pre'\n\
                 ExecStart=/bin/sh -c 'readlink /proc/self/ns/ipc > {REPORT}/ipc-start; \
                   r={REPORT}/uts; readlink /proc/self/ns/uts >> $r; \
                   grep kernel/hostname /proc/self/mountinfo >> $r; \
                   if test -w /proc/sys/kernel/hostname; then echo hostname=rw; \
                   else echo hostname=ro; fi >> $r'"
            )),
        ),
    ]) else {
        return;
    };
    let td = m.td();
    let bin = m.dir.path().join("bin");
    fs::create_dir(&bin).unwrap();
    fs::copy("/bin/true", bin.join("true")).unwrap();
    m.dir.write_unit(
        "exec.service",
        &unit(&format!(
            "NoExecPaths={td}\nExecPaths={td}/bin\n\
             ExecStart=/bin/sh -c 'r={REPORT}/exec; \
               if {td}/bin/true; then echo bin=exec; else echo bin=noexec; fi >> $r; \
               if {script} 2>/dev/null; then echo script=exec; else echo script=noexec; fi >> $r'",
            script = m.dir.write_script("probe.sh", "exit 0\n").display()
        )),
    );
    let out = m.systemctl(&["daemon-reload"]);
    assert_eq!(out.code, 0, "{}", out.dump());

    m.start_ok("proc.service");
    let proc_ = m.report("proc");
    let mut lines = proc_.lines();
    // ProcSubset=pid: only the process directories (and self, thread-self).
    assert_eq!(lines.next(), Some("self thread-self "), "{proc_}");
    // A fresh procfs with hidepid=invisible.
    assert_eq!(lines.next(), Some("1"), "{proc_}");
    assert_eq!(
        lines.collect::<Vec<_>>(),
        ["kmsg=hidden", "cgroup=ro", "sys=ro", "-"],
        "{proc_}"
    );

    m.start_ok("ipc.service");
    let manager = |ns: &str| {
        fs::read_link(format!("/proc/{}/ns/{ns}", m.daemon.pid()))
            .unwrap()
            .to_string_lossy()
            .into_owned()
    };
    // One IPC namespace for the unit, not the manager's; a UTS namespace of its own.
    assert_eq!(m.report("ipc-pre"), m.report("ipc-start"));
    assert_ne!(m.report("ipc-start").trim(), manager("ipc"));
    let uts = m.report("uts");
    assert_ne!(uts.lines().next(), Some(manager("uts").as_str()), "{uts}");
    assert!(uts.ends_with("hostname=ro\n"), "{uts}");

    m.start_ok("exec.service");
    assert_eq!(m.report("exec"), "bin=exec\nscript=noexec\n");
}
