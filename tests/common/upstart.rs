//! The Upstart side of a session-bus [`UserManager`], shared by tests/upstart_*.rs and
//! tests/initctl.rs: starting the manager for an Upstart test ([`upstart_session`]: skipped in
//! reference mode, the stock clients it needs checked), its job directory
//! (`~/.config/upstart` under the test's HOME) and job files, the stock `dbus-send` aimed at
//! `com.ubuntu.Upstart`, and `unitd initctl --session` on the test's bus. Every client call
//! is bounded by [`TIMEOUT`].

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{Output, TIMEOUT, UserManager, run_with_timeout, skip_in_reference_mode, unitd_bin};

/// The well-known name of Upstart's API on the bus.
pub const UPSTART: &str = "com.ubuntu.Upstart";
/// The manager object of Upstart's API.
pub const UPSTART_PATH: &str = "/com/ubuntu/Upstart";

/// A [`UserManager`] for a test of unitd's Upstart API, with `units` written first. `None`
/// (after printing `skipped: …`) in reference mode (real systemd has no Upstart API), when
/// the real-component environment is missing outside CI, or when one of `tools` (stock
/// clients such as `dbus-send`, `dbus-monitor`, `busctl`) is missing outside CI; in CI a
/// missing tool fails the test.
pub fn upstart_session(units: &[(&str, &str)], tools: &[&str]) -> Option<UserManager> {
    if skip_in_reference_mode("the Upstart API is unitd's") {
        return None;
    }
    UserManager::start_requiring(units, tools)
}

impl UserManager {
    /// The session manager's Upstart job directory, `~/.config/upstart` (created).
    pub fn jobs_dir(&self) -> PathBuf {
        let jobs = self.dir.home().join(".config/upstart");
        std::fs::create_dir_all(&jobs).unwrap();
        jobs
    }

    /// Write the job file `NAME.conf` into [`Self::jobs_dir`] (not reloaded).
    pub fn write_job(&self, name: &str, text: &str) -> PathBuf {
        let path = self.jobs_dir().join(format!("{name}.conf"));
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Write each `(name, text)` job file, then `systemctl --user daemon-reload` (exit 0).
    #[track_caller]
    pub fn load_jobs(&self, jobs: &[(&str, &str)]) {
        for (name, text) in jobs {
            self.write_job(name, text);
        }
        self.expect(0, &["daemon-reload"]);
    }

    /// The stock `dbus-send --print-reply --dest=com.ubuntu.Upstart ARGS…` on the test's bus,
    /// not yet run (for a test that runs it in the background).
    pub fn upstart_send_cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("dbus-send");
        cmd.arg(format!("--bus={}", self.bus.address()))
            .args(["--print-reply", &format!("--dest={UPSTART}")])
            .args(args);
        cmd
    }

    /// [`Self::upstart_send_cmd`], run (bounded by [`TIMEOUT`]); any exit code.
    pub fn upstart_send(&self, args: &[&str]) -> Output {
        run_with_timeout(&mut self.upstart_send_cmd(args), "dbus-send", TIMEOUT)
    }

    /// `Job.<member>([], wait)` on the job object of `job`.
    pub fn job_control(&self, job: &str, member: &str, wait: bool) -> Output {
        self.upstart_send(&[
            &format!("{UPSTART_PATH}/jobs/{job}"),
            &format!("com.ubuntu.Upstart0_6.Job.{member}"),
            "array:string:",
            &format!("boolean:{wait}"),
        ])
    }

    /// `unitd initctl --session ARGS…` on the test's bus (no `UPSTART_SESSION`/`UPSTART_JOB`
    /// inherited); any exit code.
    pub fn initctl(&self, args: &[&str]) -> Output {
        self.initctl_as(&unitd_bin(), &["initctl"], args)
    }

    /// `PROGRAM PRE… --session ARGS…` (e.g. unitd invoked through an `initctl` link, `PRE`
    /// empty) on the test's bus, environment as [`Self::initctl`].
    pub fn initctl_as(&self, program: &Path, pre: &[&str], args: &[&str]) -> Output {
        let mut cmd = Command::new(program);
        cmd.args(pre)
            .arg("--session")
            .args(args)
            .env("DBUS_SESSION_BUS_ADDRESS", self.bus.address())
            .env_remove("UPSTART_SESSION")
            .env_remove("UPSTART_JOB");
        run_with_timeout(&mut cmd, "initctl", TIMEOUT)
    }
}
