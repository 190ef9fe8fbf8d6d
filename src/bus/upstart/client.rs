//! A client of the `com.ubuntu.Upstart0_6` API (what `unitd initctl` speaks): one connection
//! (system bus, session bus, or a direct peer-to-peer address), typed calls for the methods
//! and properties initctl uses, and D-Bus errors as [`ClientError`] (name + message). No output
//! formatting here; that is `crate::initctl`'s.

use std::collections::HashMap;
use std::time::Duration;

use zbus::Message;
use zbus::{OwnedObjectPath, OwnedVariant as OwnedValue};

use super::{BUS_NAME, INSTANCE_IFACE, JOB_IFACE};

const MANAGER: &str = "/com/ubuntu/Upstart";
const IFACE: &str = super::IFACE;
const PROPS: &str = "org.freedesktop.DBus.Properties";
/// The error name initctl treats as "the object went away".
pub const UNKNOWN_METHOD: &str = "org.freedesktop.DBus.Error.UnknownMethod";

/// Where to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// The system bus (`DBUS_SYSTEM_BUS_ADDRESS` honoured), destination `com.ubuntu.Upstart`.
    System,
    /// The session bus.
    Session,
    /// A direct peer-to-peer connection (Upstart's private socket), no bus name.
    Direct(String),
}

/// A failed call: the D-Bus error name and message (or a connection problem).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientError {
    /// D-Bus error name (`org.freedesktop.DBus.Error.Failed` for local failures).
    pub name: String,
    /// Human-readable message.
    pub message: String,
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<zbus::Error> for ClientError {
    fn from(e: zbus::Error) -> ClientError {
        match e {
            zbus::Error::MethodError(name, detail, _) => ClientError {
                name: name.to_string(),
                message: detail.unwrap_or_default(),
            },
            zbus::Error::FDO(e) => {
                use zbus::DBusError;
                ClientError {
                    name: e.name().to_string(),
                    message: e.description().unwrap_or_default().to_owned(),
                }
            }
            other => ClientError {
                name: "org.freedesktop.DBus.Error.Failed".into(),
                message: other.to_string(),
            },
        }
    }
}

/// The properties of one instance (`Properties.GetAll` on an Instance object).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InstanceStatus {
    /// Instance name (`""` for single-instance jobs).
    pub name: String,
    /// `start`/`stop`/`respawn`.
    pub goal: String,
    /// One of Upstart's state names.
    pub state: String,
    /// `(process name, pid)` in Upstart's order.
    pub processes: Vec<(String, i32)>,
}

/// One connection to an Upstart-API server.
pub struct Client {
    rt: tokio::runtime::Runtime,
    conn: zbus::Connection,
    direct: bool,
}

type Res<T> = Result<T, ClientError>;

impl Client {
    /// Connect (blocking).
    pub fn connect(t: &Transport) -> Res<Client> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ClientError {
                name: "org.freedesktop.DBus.Error.Failed".into(),
                message: e.to_string(),
            })?;
        // initctl waits as long as the server takes (infinite timeouts).
        let forever = Duration::from_secs(365 * 24 * 3600);
        let builder = match t {
            Transport::System => zbus::connection::Builder::system(),
            Transport::Session => zbus::connection::Builder::session(),
            Transport::Direct(addr) => zbus::connection::Builder::address(addr.as_str()).p2p(),
        };
        let conn = rt.block_on(builder.method_timeout(forever).build())?;
        Ok(Client {
            rt,
            conn,
            direct: matches!(t, Transport::Direct(_)),
        })
    }

    fn call<B>(&self, path: &str, iface: &str, member: &str, body: &B) -> Res<Message>
    where
        B: serde::Serialize + zbus::wire::DynamicType,
    {
        let dest = (!self.direct).then_some(BUS_NAME);
        Ok(self
            .rt
            .block_on(self.conn.call_method(dest, path, Some(iface), member, body))?)
    }

    fn prop(&self, path: &str, iface: &str, name: &str) -> Res<OwnedValue> {
        let m = self.call(path, PROPS, "Get", &(iface, name))?;
        let v: OwnedValue = m.body().deserialize()?;
        Ok(v)
    }

    fn conv<T: TryFrom<OwnedValue>>(v: OwnedValue) -> Res<T> {
        T::try_from(v).map_err(|_| ClientError {
            name: "org.freedesktop.DBus.Error.InvalidArgs".into(),
            message: "Invalid reply type".into(),
        })
    }

    /// Manager property `version`.
    pub fn version(&self) -> Res<String> {
        Self::conv(self.prop(MANAGER, IFACE, "version")?)
    }

    /// Manager property `log_priority`.
    pub fn log_priority(&self) -> Res<String> {
        Self::conv(self.prop(MANAGER, IFACE, "log_priority")?)
    }

    /// Set `log_priority`.
    pub fn set_log_priority(&self, p: &str) -> Res<()> {
        let v = zbus::Variant::from(p);
        self.call(MANAGER, PROPS, "Set", &(IFACE, "log_priority", v))?;
        Ok(())
    }

    /// `GetJobByName`.
    pub fn job_by_name(&self, name: &str) -> Res<String> {
        let m = self.call(MANAGER, IFACE, "GetJobByName", &(name,))?;
        let p: OwnedObjectPath = m.body().deserialize()?;
        Ok(p.to_string())
    }

    /// `GetAllJobs`.
    pub fn all_jobs(&self) -> Res<Vec<String>> {
        let m = self.call(MANAGER, IFACE, "GetAllJobs", &())?;
        let v: Vec<OwnedObjectPath> = m.body().deserialize()?;
        Ok(v.into_iter().map(|p| p.to_string()).collect())
    }

    /// `EmitEvent`.
    pub fn emit(&self, name: &str, env: &[String], wait: bool) -> Res<()> {
        self.call(MANAGER, IFACE, "EmitEvent", &(name, env, wait))?;
        Ok(())
    }

    /// `NotifyDiskWriteable()`, or `NotifyDBusAddress(address)` /
    /// `NotifyCGroupManagerAddress(address)` when `address` is given.
    pub fn notify(&self, member: &str, address: Option<&str>) -> Res<()> {
        match address {
            Some(a) => self.call(MANAGER, IFACE, member, &(a,))?,
            None => self.call(MANAGER, IFACE, member, &())?,
        };
        Ok(())
    }

    /// `ReloadConfiguration`.
    pub fn reload_configuration(&self) -> Res<()> {
        self.call(MANAGER, IFACE, "ReloadConfiguration", &())?;
        Ok(())
    }

    /// `GetEnv(job_details, name)`.
    pub fn get_env(&self, details: &[String], name: &str) -> Res<String> {
        let m = self.call(MANAGER, IFACE, "GetEnv", &(details, name))?;
        Ok(m.body().deserialize()?)
    }

    /// `ListEnv(job_details)`.
    pub fn list_env(&self, details: &[String]) -> Res<Vec<String>> {
        let m = self.call(MANAGER, IFACE, "ListEnv", &(details,))?;
        Ok(m.body().deserialize()?)
    }

    /// `SetEnvList(job_details, vars, replace)`.
    pub fn set_env(&self, details: &[String], vars: &[String], replace: bool) -> Res<()> {
        self.call(MANAGER, IFACE, "SetEnvList", &(details, vars, replace))?;
        Ok(())
    }

    /// `UnsetEnvList(job_details, names)`.
    pub fn unset_env(&self, details: &[String], names: &[String]) -> Res<()> {
        self.call(MANAGER, IFACE, "UnsetEnvList", &(details, names))?;
        Ok(())
    }

    /// `ResetEnv(job_details)`.
    pub fn reset_env(&self, details: &[String]) -> Res<()> {
        self.call(MANAGER, IFACE, "ResetEnv", &(details,))?;
        Ok(())
    }

    /// `Job.Start/Stop/Restart(env, wait)`; the instance path for Start/Restart.
    pub fn job_control(
        &self,
        job: &str,
        member: &str,
        env: &[String],
        wait: bool,
    ) -> Res<Option<String>> {
        let m = self.call(job, JOB_IFACE, member, &(env, wait))?;
        if member == "Stop" {
            return Ok(None);
        }
        let p: OwnedObjectPath = m.body().deserialize()?;
        Ok(Some(p.to_string()))
    }

    /// `Job.GetInstance(env)`.
    pub fn instance(&self, job: &str, env: &[String]) -> Res<String> {
        let m = self.call(job, JOB_IFACE, "GetInstance", &(env,))?;
        let p: OwnedObjectPath = m.body().deserialize()?;
        Ok(p.to_string())
    }

    /// `Job.GetAllInstances`.
    pub fn all_instances(&self, job: &str) -> Res<Vec<String>> {
        let m = self.call(job, JOB_IFACE, "GetAllInstances", &())?;
        let v: Vec<OwnedObjectPath> = m.body().deserialize()?;
        Ok(v.into_iter().map(|p| p.to_string()).collect())
    }

    /// `Instance.Reload`.
    pub fn instance_reload(&self, instance: &str) -> Res<()> {
        self.call(instance, INSTANCE_IFACE, "Reload", &())?;
        Ok(())
    }

    /// A job's string property (`name`, `usage`, …).
    pub fn job_string(&self, job: &str, prop: &str) -> Res<String> {
        Self::conv(self.prop(job, JOB_IFACE, prop)?)
    }

    /// A job's `emits`.
    pub fn job_emits(&self, job: &str) -> Res<Vec<String>> {
        Self::conv(self.prop(job, JOB_IFACE, "emits")?)
    }

    /// A job's `start_on`/`stop_on` (post-order).
    pub fn job_condition(&self, job: &str, prop: &str) -> Res<Vec<Vec<String>>> {
        Self::conv(self.prop(job, JOB_IFACE, prop)?)
    }

    /// `GetAll(Instance)` on an instance.
    pub fn instance_status(&self, instance: &str) -> Res<InstanceStatus> {
        let m = self.call(instance, PROPS, "GetAll", &(INSTANCE_IFACE,))?;
        let mut all: HashMap<String, OwnedValue> = m.body().deserialize()?;
        let mut take_s = |k: &str| -> Res<String> {
            all.remove(k)
                .map(Self::conv::<String>)
                .unwrap_or_else(|| Ok(String::new()))
        };
        let name = take_s("name")?;
        let goal = take_s("goal")?;
        let state = take_s("state")?;
        let processes = match all.remove("processes") {
            Some(v) => Self::conv::<Vec<(String, i32)>>(v)?,
            None => Vec::new(),
        };
        Ok(InstanceStatus {
            name,
            goal,
            state,
            processes,
        })
    }
}
