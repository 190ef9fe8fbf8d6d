//! D-Bus error replies of the systemd façade: the error names systemd and sd-bus use, with
//! their message wording, and the mapping from engine refusals ([`EnqueueError`]).
//!
//! Clients branch on these names (systemctl's exit codes, the `ListUnitsByPatterns` →
//! `ListUnitsFiltered` fallback on `UnknownMethod`), so each situation must produce exactly the
//! name real systemd produces.

use zbus::Message;
use zbus::message::Header;

use crate::engine::EnqueueError;

/// `org.freedesktop.DBus.Error.UnknownMethod`.
pub const UNKNOWN_METHOD: &str = "org.freedesktop.DBus.Error.UnknownMethod";
/// `org.freedesktop.DBus.Error.UnknownObject`.
pub const UNKNOWN_OBJECT: &str = "org.freedesktop.DBus.Error.UnknownObject";
/// `org.freedesktop.DBus.Error.UnknownInterface`.
pub const UNKNOWN_INTERFACE: &str = "org.freedesktop.DBus.Error.UnknownInterface";
/// `org.freedesktop.DBus.Error.UnknownProperty`.
pub const UNKNOWN_PROPERTY: &str = "org.freedesktop.DBus.Error.UnknownProperty";
/// `org.freedesktop.DBus.Error.InvalidArgs`.
pub const INVALID_ARGS: &str = "org.freedesktop.DBus.Error.InvalidArgs";
/// `org.freedesktop.DBus.Error.PropertyReadOnly`.
pub const PROPERTY_READ_ONLY: &str = "org.freedesktop.DBus.Error.PropertyReadOnly";
/// `org.freedesktop.DBus.Error.InvalidSignature`.
pub const INVALID_SIGNATURE: &str = "org.freedesktop.DBus.Error.InvalidSignature";
/// `org.freedesktop.DBus.Error.AccessDenied`.
pub const ACCESS_DENIED: &str = "org.freedesktop.DBus.Error.AccessDenied";
/// `org.freedesktop.DBus.Error.Failed`.
pub const FAILED: &str = "org.freedesktop.DBus.Error.Failed";
/// `org.freedesktop.systemd1.NoSuchUnit`.
pub const NO_SUCH_UNIT: &str = "org.freedesktop.systemd1.NoSuchUnit";
/// `org.freedesktop.systemd1.NoSuchJob`.
pub const NO_SUCH_JOB: &str = "org.freedesktop.systemd1.NoSuchJob";
/// `org.freedesktop.systemd1.NoUnitForPID`.
pub const NO_UNIT_FOR_PID: &str = "org.freedesktop.systemd1.NoUnitForPID";
/// `org.freedesktop.systemd1.NoUnitForInvocationID`.
pub const NO_UNIT_FOR_INVOCATION_ID: &str = "org.freedesktop.systemd1.NoUnitForInvocationID";
/// `org.freedesktop.systemd1.AlreadySubscribed`.
pub const ALREADY_SUBSCRIBED: &str = "org.freedesktop.systemd1.AlreadySubscribed";
/// `org.freedesktop.systemd1.NotSubscribed`.
pub const NOT_SUBSCRIBED: &str = "org.freedesktop.systemd1.NotSubscribed";
/// `org.freedesktop.systemd1.NotReferenced`.
pub const NOT_REFERENCED: &str = "org.freedesktop.systemd1.NotReferenced";

/// A method call's failure: error name plus human-readable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    /// The D-Bus error name.
    pub name: &'static str,
    /// The message (first body argument of the error reply).
    pub message: String,
}

/// Result of a method handler.
pub type CallResult<T> = Result<T, CallError>;

impl CallError {
    /// An error with this name and message.
    pub fn new(name: &'static str, message: impl Into<String>) -> CallError {
        CallError {
            name,
            message: message.into(),
        }
    }

    /// sd-bus: a member the object does not have.
    pub fn unknown_method(member: &str, interface: &str) -> CallError {
        CallError::new(
            UNKNOWN_METHOD,
            format!("Unknown method {member} or interface {interface}."),
        )
    }

    /// sd-bus: a `Peer` member other than `Ping`/`GetMachineId`.
    pub fn unknown_peer_method(member: &str) -> CallError {
        CallError::new(
            UNKNOWN_METHOD,
            format!("Unknown method '{member}' on interface 'org.freedesktop.DBus.Peer'."),
        )
    }

    /// sd-bus: nothing lives at this path.
    pub fn unknown_object(path: &str) -> CallError {
        CallError::new(UNKNOWN_OBJECT, format!("Unknown object '{path}'."))
    }

    /// sd-bus: `GetAll` for an interface the object does not have.
    pub fn unknown_interface(interface: &str) -> CallError {
        CallError::new(
            UNKNOWN_INTERFACE,
            format!("Unknown interface '{interface}'."),
        )
    }

    /// sd-bus: `Get`/`Set` of a property the object does not have.
    pub fn unknown_property(interface: &str, property: &str) -> CallError {
        CallError::new(
            UNKNOWN_PROPERTY,
            format!("Unknown interface {interface} or property {property}."),
        )
    }

    /// sd-bus: `Set` of a read-only property.
    pub fn property_read_only(property: &str) -> CallError {
        CallError::new(
            PROPERTY_READ_ONLY,
            format!("Property '{property}' is not writable."),
        )
    }

    /// sd-bus: the call's body signature differs from the method's.
    pub fn wrong_signature(got: &str, interface: &str, member: &str, expected: &str) -> CallError {
        CallError::new(
            INVALID_ARGS,
            format!(
                "Invalid arguments '{got}' to call {interface}.{member}(), expecting '{expected}'."
            ),
        )
    }

    /// `org.freedesktop.DBus.Error.InvalidArgs` with this message.
    pub fn invalid_args(message: impl Into<String>) -> CallError {
        CallError::new(INVALID_ARGS, message)
    }

    /// systemd: "Unit name X is not valid."
    pub fn invalid_unit_name(name: &str) -> CallError {
        CallError::invalid_args(format!("Unit name {name} is not valid."))
    }

    /// systemd `GetUnit`: "Unit X not loaded."
    pub fn unit_not_loaded(name: &str) -> CallError {
        CallError::new(NO_SUCH_UNIT, format!("Unit {name} not loaded."))
    }

    /// systemd `GetJob`/`CancelJob`: "Job N does not exist."
    pub fn no_such_job(id: u32) -> CallError {
        CallError::new(NO_SUCH_JOB, format!("Job {id} does not exist."))
    }

    /// systemd `GetUnitByPID`.
    pub fn no_unit_for_pid(pid: u32) -> CallError {
        CallError::new(
            NO_UNIT_FOR_PID,
            format!("PID {pid} does not belong to any loaded unit."),
        )
    }

    /// The error reply to `call`.
    pub fn reply_to(&self, call: &Header<'_>) -> zbus::Result<Message> {
        Message::error(call, self.name).build(&(self.message.as_str(),))
    }
}

impl From<&EnqueueError> for CallError {
    fn from(e: &EnqueueError) -> CallError {
        CallError::new(e.dbus_name(), e.message())
    }
}

impl From<EnqueueError> for CallError {
    fn from(e: EnqueueError) -> CallError {
        CallError::from(&e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_refusals_keep_systemd_names_and_messages() {
        let cases = [
            (
                EnqueueError::NoSuchUnit("Unit x.service not found.".into()),
                "org.freedesktop.systemd1.NoSuchUnit",
            ),
            (
                EnqueueError::UnitMasked("Unit x.service is masked.".into()),
                "org.freedesktop.systemd1.UnitMasked",
            ),
            (
                EnqueueError::OnlyByDependency("refused".into()),
                "org.freedesktop.systemd1.OnlyByDependency",
            ),
            (
                EnqueueError::InvalidArgs("Job mode bogus invalid".into()),
                "org.freedesktop.DBus.Error.InvalidArgs",
            ),
        ];
        for (e, name) in cases {
            let c = CallError::from(&e);
            assert_eq!(c.name, name);
            assert_eq!(c.message, e.message());
        }
    }

    #[test]
    fn sd_bus_wording() {
        assert_eq!(
            CallError::unknown_method("Frob", "org.freedesktop.systemd1.Manager").message,
            "Unknown method Frob or interface org.freedesktop.systemd1.Manager."
        );
        assert_eq!(
            CallError::unknown_object("/x").message,
            "Unknown object '/x'."
        );
        assert_eq!(
            CallError::unknown_property("org.freedesktop.systemd1.Unit", "Nope").message,
            "Unknown interface org.freedesktop.systemd1.Unit or property Nope."
        );
        assert_eq!(
            CallError::wrong_signature("s", "org.freedesktop.systemd1.Manager", "StartUnit", "ss")
                .message,
            "Invalid arguments 's' to call org.freedesktop.systemd1.Manager.StartUnit(), expecting 'ss'."
        );
        assert_eq!(
            CallError::unit_not_loaded("a.service").message,
            "Unit a.service not loaded."
        );
    }

    #[test]
    fn error_reply_carries_name_and_message() {
        let call = Message::method_call("/org/freedesktop/systemd1", "GetJob")
            .interface("org.freedesktop.systemd1.Manager")
            .build(&(7u32,))
            .unwrap();
        let reply = CallError::no_such_job(7).reply_to(&call.header()).unwrap();
        let hdr = reply.header();
        assert_eq!(hdr.error_name().unwrap().as_str(), NO_SUCH_JOB);
        assert_eq!(hdr.reply_serial(), Some(call.primary_header().serial_num()));
        let msg: String = reply.body().deserialize().unwrap();
        assert_eq!(msg, "Job 7 does not exist.");
    }
}
