//! Acceptance: the README's Ansible recipe against a container whose PID 1 is `unitd init`.
//!
//! unitd boots as PID 1 of its own PID, mount and network namespaces exactly as in
//! tests/init_mode.rs (the layout of `contrib/Dockerfile`; the system bus is Debian's own
//! `dbus.socket`/`dbus.service`). `ansible-playbook -c local` (ansible-core from PyPI, see
//! `python_env`) runs *inside* those namespaces through `nsenter` — as `docker exec box
//! ansible-playbook -c local …` would — and drives the stock system-scope `systemctl` with
//! `ansible.builtin.systemd_service` and `ansible.builtin.service_facts`. The playbook is
//! `tests/fixtures/ansible/webapp.yml`, run unmodified five times against one boot:
//!
//! 1. deploy: `ansible.builtin.copy` writes `webapp.service` into the namespace's
//!    `/etc/systemd/system`, `daemon_reload`, `state: started` + `enabled: true`, then the
//!    handler restarts it; `service_facts` lists it running and enabled;
//! 2. the same again: `changed=0` (copy unchanged, reload skipped, started/enabled already);
//! 3. a new release of the unit file: the handler's restart gives a new MainPID and the
//!    reloaded Description;
//! 4. retire: `state: stopped` + `enabled: false`; `service_facts` lists it stopped, disabled;
//! 5. the same again: `changed=0`.
//!
//! Every task's `ok`/`changed`/`skipping` is checked, and after each run the state as the
//! stock systemctl reports it. Runs 1–3 force systemctl over the system bus
//! (`SYSTEMCTL_FORCE_BUS=1`); runs 4–5 let root's systemctl pick unitd's private socket
//! `/run/systemd/private`, as a plain `docker exec` does.

mod common;

use std::fs;
use std::path::Path;
use std::time::Duration;

use common::init_ns::*;
use common::*;

/// Backstop for one `ansible-playbook` run (a dozen Python module runs on a busy machine).
const PLAYBOOK_TIMEOUT: Duration = Duration::from_secs(600);

const INSTALL: &str = "Install the unit file";
const RELOAD: &str = "Reload unit files";
const SET: &str = "Set webapp's state and enablement";
const FACTS: &str = "Gather service facts";
const CHECK: &str = "Check webapp as the init system reports it";
const RESTART: &str = "Restart webapp";

/// The result of one playbook run: each task's (or handler's) name and status word, and the
/// recap's `changed=` count.
struct PlayResult {
    tasks: Vec<(String, String)>,
    changed: u32,
}

/// Split the default callback's output into task results: a `TASK [name]` or
/// `RUNNING HANDLER [name]` header, then `ok: [host]`, `changed: [host]`, `skipping: [host]`
/// or `fatal: [host]…`.
fn parse_play(stdout: &str) -> PlayResult {
    let mut tasks = Vec::new();
    let mut current: Option<String> = None;
    let mut changed = None;
    for line in stdout.lines() {
        if let Some(rest) = line
            .strip_prefix("TASK [")
            .or_else(|| line.strip_prefix("RUNNING HANDLER ["))
        {
            current = rest.rfind(']').map(|end| rest[..end].to_string());
        } else if let Some((status, _)) = line.split_once(": [localhost]") {
            if let Some(name) = current.take() {
                tasks.push((name, status.to_string()));
            }
        } else if line.starts_with("localhost") && line.contains(" changed=") {
            changed = line
                .split_whitespace()
                .find_map(|w| w.strip_prefix("changed="))
                .and_then(|n| n.parse().ok());
        }
    }
    PlayResult {
        tasks,
        changed: changed.unwrap_or(u32::MAX),
    }
}

struct Play<'a> {
    ns: &'a InitNs,
    bin: &'a Path,
}

impl Play<'_> {
    /// Run the playbook with `-e` `vars` inside the namespace; `force_bus` as in
    /// [`InitNs::run_via`]. Panics (with ansible's output and unitd's log) unless it succeeds.
    fn run(&self, what: &str, vars: &[&str], force_bus: bool) -> PlayResult {
        let tmp = self.ns.path().join("ansible");
        let env: Vec<(String, String)> = [
            ("HOME", tmp.join("home").display().to_string()),
            ("ANSIBLE_HOME", tmp.display().to_string()),
            (
                "ANSIBLE_LOCAL_TEMP",
                tmp.join("local").display().to_string(),
            ),
            (
                "ANSIBLE_REMOTE_TEMP",
                tmp.join("remote").display().to_string(),
            ),
            ("ANSIBLE_NOCOLOR", "1".into()),
            ("ANSIBLE_FORCE_COLOR", "0".into()),
            ("ANSIBLE_STDOUT_CALLBACK", "default".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let playbook = repo_root().join("tests/fixtures/ansible/webapp.yml");
        let python = format!(
            "ansible_python_interpreter={}",
            self.bin.join("python").display()
        );
        let mut args = vec!["-i", "localhost,", "-c", "local", "-e", &python];
        for v in vars {
            args.extend(["-e", v]);
        }
        let playbook = playbook.display().to_string();
        args.push(&playbook);
        let program = self.bin.join("ansible-playbook");
        let out = self.ns.run_in(
            program.to_str().expect("utf-8 path"),
            &args,
            force_bus,
            &env,
            PLAYBOOK_TIMEOUT,
        );
        assert_eq!(
            out.code,
            0,
            "{what}: ansible-playbook failed\n{}\n--- unitd log (tail) ---\n{}",
            out.dump(),
            tail(&self.ns.log_text(), 60)
        );
        // A module's warnings (service_facts: "Could not list units from systemd", the
        // systemd module: "systemd is offline") mean a client call went wrong.
        assert!(
            !out.all().contains("[WARNING]"),
            "{what}: ansible warned\n{}\n--- unitd log (tail) ---\n{}",
            out.dump(),
            tail(&self.ns.log_text(), 60)
        );
        let result = parse_play(&out.stdout);
        eprintln!("{what}: {:?}, changed={}", result.tasks, result.changed);
        result
    }

    /// Run and check each task's status and the recap's `changed=` count.
    fn expect(&self, what: &str, vars: &[&str], force_bus: bool, want: &[(&str, &str)]) {
        let result = self.run(what, vars, force_bus);
        let got: Vec<(&str, &str)> = result
            .tasks
            .iter()
            .map(|(n, s)| (n.as_str(), s.as_str()))
            .collect();
        assert_eq!(got, want, "{what}: task results");
        let changed = want.iter().filter(|(_, s)| *s == "changed").count();
        assert_eq!(result.changed as usize, changed, "{what}: recap changed=");
    }
}

/// `systemctl show -p MainPID` (a PID inside the namespace).
fn main_pid(ns: &InitNs) -> u32 {
    ns.expect_ok(&["show", "-p", "MainPID", "--value", "webapp.service"])
        .stdout
        .trim()
        .parse()
        .expect("MainPID is a number")
}

/// Wait until the process with PID `ns_pid` inside the namespace is gone (reaped).
fn wait_gone_in_ns(ns: &InitNs, ns_pid: u32, what: &str) {
    wait_for(what, TIMEOUT, || {
        !ns_processes(ns.pid).iter().any(|&(_, _, p)| p == ns_pid)
    });
}

/// The first word `systemctl VERB webapp.service` prints.
fn query(ns: &InitNs, verb: &str) -> String {
    ns.systemctl(&[verb, "webapp.service"])
        .stdout
        .trim()
        .to_string()
}

#[test]
fn ansible_playbook_manages_a_service_under_unitd_init() {
    if !prerequisites() {
        return;
    }
    let Some(bin) = python_env("ansible_playbook_manages_a_service_under_unitd_init") else {
        return;
    };
    // No units of the test's own: the playbook brings webapp.service.
    let ns = InitNs::start(&[]);
    let play = Play { ns: &ns, bin: &bin };
    // The namespace's /etc/systemd/system, as the host sees it.
    let etc = ns.path().join("units");
    let wants = etc.join("multi-user.target.wants/webapp.service");

    // 1. Deploy: copy + daemon-reload + start/enable, and the handler's restart.
    play.expect(
        "deploy",
        &[],
        true,
        &[
            (INSTALL, "changed"),
            (RELOAD, "ok"),
            (SET, "changed"),
            (FACTS, "ok"),
            (CHECK, "ok"),
            (RESTART, "changed"),
        ],
    );
    let unit = fs::read_to_string(etc.join("webapp.service")).expect("the copied unit file");
    assert!(unit.contains("release 1"), "{unit}");
    assert_eq!(query(&ns, "is-active"), "active");
    assert_eq!(query(&ns, "is-enabled"), "enabled");
    assert!(
        fs::read_link(&wants).is_ok(),
        "enable linked {}",
        wants.display()
    );
    assert_eq!(
        ns.expect_ok(&["show", "-p", "Description", "--value", "webapp.service"])
            .stdout
            .trim(),
        "Example web app, release 1"
    );
    let pid1 = main_pid(&ns);
    assert_ne!(pid1, 0);

    // 2. The same again: nothing to do.
    play.expect(
        "deploy again",
        &[],
        true,
        &[
            (INSTALL, "ok"),
            (RELOAD, "skipping"),
            (SET, "ok"),
            (FACTS, "ok"),
            (CHECK, "ok"),
        ],
    );
    assert_eq!(main_pid(&ns), pid1, "an idempotent run restarts nothing");

    // 3. A new release of the unit file: reloaded and restarted by the handler.
    play.expect(
        "new release",
        &["webapp_release=2"],
        true,
        &[
            (INSTALL, "changed"),
            (RELOAD, "ok"),
            (SET, "ok"),
            (FACTS, "ok"),
            (CHECK, "ok"),
            (RESTART, "changed"),
        ],
    );
    assert_eq!(
        ns.expect_ok(&["show", "-p", "Description", "--value", "webapp.service"])
            .stdout
            .trim(),
        "Example web app, release 2"
    );
    let pid2 = main_pid(&ns);
    assert!(pid2 != 0 && pid2 != pid1, "restart: new MainPID {pid2}");
    wait_gone_in_ns(&ns, pid1, "the old main process to be gone after restart");
    assert_eq!(query(&ns, "is-active"), "active");

    // 4. Retire it (systemctl over unitd's private socket, as root's systemctl prefers).
    let retire = [
        "webapp_release=2",
        "webapp_state=stopped",
        "webapp_enabled=false",
    ];
    play.expect(
        "retire",
        &retire,
        false,
        &[
            (INSTALL, "ok"),
            (RELOAD, "skipping"),
            (SET, "changed"),
            (FACTS, "ok"),
            (CHECK, "ok"),
        ],
    );
    assert_eq!(query(&ns, "is-active"), "inactive");
    assert_eq!(query(&ns, "is-enabled"), "disabled");
    assert!(
        fs::symlink_metadata(&wants).is_err(),
        "disable removed {}",
        wants.display()
    );
    assert_eq!(main_pid(&ns), 0);
    wait_gone_in_ns(&ns, pid2, "the main process to be gone after stop");

    // 5. The same again: nothing to do.
    play.expect(
        "retire again",
        &retire,
        false,
        &[
            (INSTALL, "ok"),
            (RELOAD, "skipping"),
            (SET, "ok"),
            (FACTS, "ok"),
            (CHECK, "ok"),
        ],
    );
    assert_eq!(query(&ns, "is-active"), "inactive");
    assert_eq!(query(&ns, "is-enabled"), "disabled");
}
