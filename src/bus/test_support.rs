//! Test support for the bus modules: a private session-type `dbus-daemon` per test.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::time::timeout;
use zbus::{Connection, connection::Builder};

const T: Duration = Duration::from_secs(10);

/// A private session-type dbus-daemon, killed on drop.
pub(crate) struct TestBus {
    child: Child,
    pub(crate) address: String,
    _dir: tempfile::TempDir,
}

impl TestBus {
    pub(crate) fn start() -> TestBus {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("session.conf");
        std::fs::write(
            &conf,
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
        )
        .unwrap();
        let sock = dir.path().join("bus");
        let mut child = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", conf.display()))
            .arg(format!("--address=unix:path={}", sock.display()))
            .arg("--nofork")
            .arg("--print-address=1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon is installed");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        TestBus {
            child,
            address: line.trim().to_owned(),
            _dir: dir,
        }
    }

    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub(crate) async fn client(&self) -> Connection {
        timeout(T, Builder::address(self.address.as_str()).build())
            .await
            .unwrap()
            .unwrap()
    }
}

impl Drop for TestBus {
    fn drop(&mut self) {
        self.kill();
    }
}
