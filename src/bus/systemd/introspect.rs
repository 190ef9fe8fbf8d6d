//! Member tables → introspection XML. Every interface the façade serves is described by one
//! [`InterfaceDesc`] built from the same tables the dispatcher uses (methods and their
//! signatures, signals, property descriptors), so `Introspect` can never announce something the
//! object does not do. The XML layout follows sd-bus (`<arg>` per argument with names and
//! directions, one `EmitsChangedSignal` annotation per property that does not emit values).
//!
//! `interfaces/*.xml` in the repository are [`interface_xml`] of each served interface; a
//! contract test keeps them identical.

use std::fmt::Write;

use super::properties::{Emits, PropInfo};

/// One method: name, input and output arguments as `(signature, name)`.
#[derive(Debug, Clone, Copy)]
pub struct MethodDesc {
    /// Member name.
    pub name: &'static str,
    /// Input arguments `(signature, name)`.
    pub inputs: &'static [(&'static str, &'static str)],
    /// Output arguments `(signature, name)`.
    pub outputs: &'static [(&'static str, &'static str)],
}

impl MethodDesc {
    /// The concatenated input signature (`ss` for `StartUnit`).
    pub fn in_signature(&self) -> String {
        self.inputs.iter().map(|(s, _)| *s).collect()
    }

    /// The concatenated output signature.
    pub fn out_signature(&self) -> String {
        self.outputs.iter().map(|(s, _)| *s).collect()
    }
}

/// One signal: name and arguments `(signature, name)`.
#[derive(Debug, Clone, Copy)]
pub struct SignalDesc {
    /// Member name.
    pub name: &'static str,
    /// Arguments `(signature, name)`.
    pub args: &'static [(&'static str, &'static str)],
}

/// Everything one interface declares.
#[derive(Debug, Clone)]
pub struct InterfaceDesc {
    /// Interface name.
    pub name: &'static str,
    /// Methods, in declaration order.
    pub methods: &'static [MethodDesc],
    /// Signals, in declaration order.
    pub signals: &'static [SignalDesc],
    /// Properties, in `GetAll` order.
    pub properties: Vec<PropInfo>,
}

impl InterfaceDesc {
    /// The method called `name`, if declared.
    pub fn method(&self, name: &str) -> Option<&MethodDesc> {
        self.methods.iter().find(|m| m.name == name)
    }
}

/// Build a `&'static [MethodDesc]` entry tersely.
macro_rules! method {
    ($name:literal, [$(($is:literal, $in:literal)),*], [$(($os:literal, $on:literal)),*]) => {
        $crate::bus::systemd::introspect::MethodDesc {
            name: $name,
            inputs: &[$(($is, $in)),*],
            outputs: &[$(($os, $on)),*],
        }
    };
}
pub(crate) use method;

/// `org.freedesktop.DBus.Peer`.
pub const PEER: &str = "org.freedesktop.DBus.Peer";
/// `org.freedesktop.DBus.Introspectable`.
pub const INTROSPECTABLE: &str = "org.freedesktop.DBus.Introspectable";
/// `org.freedesktop.DBus.Properties`.
pub const PROPERTIES: &str = "org.freedesktop.DBus.Properties";

/// The standard interfaces every object has, as sd-bus writes them.
const STANDARD_INTERFACES: &str = concat!(
    " <interface name=\"org.freedesktop.DBus.Peer\">\n",
    "  <method name=\"Ping\"/>\n",
    "  <method name=\"GetMachineId\">\n",
    "   <arg type=\"s\" name=\"machine_uuid\" direction=\"out\"/>\n",
    "  </method>\n",
    " </interface>\n",
    " <interface name=\"org.freedesktop.DBus.Introspectable\">\n",
    "  <method name=\"Introspect\">\n",
    "   <arg name=\"xml_data\" type=\"s\" direction=\"out\"/>\n",
    "  </method>\n",
    " </interface>\n",
    " <interface name=\"org.freedesktop.DBus.Properties\">\n",
    "  <method name=\"Get\">\n",
    "   <arg name=\"interface_name\" direction=\"in\" type=\"s\"/>\n",
    "   <arg name=\"property_name\" direction=\"in\" type=\"s\"/>\n",
    "   <arg name=\"value\" direction=\"out\" type=\"v\"/>\n",
    "  </method>\n",
    "  <method name=\"GetAll\">\n",
    "   <arg name=\"interface_name\" direction=\"in\" type=\"s\"/>\n",
    "   <arg name=\"props\" direction=\"out\" type=\"a{sv}\"/>\n",
    "  </method>\n",
    "  <method name=\"Set\">\n",
    "   <arg name=\"interface_name\" direction=\"in\" type=\"s\"/>\n",
    "   <arg name=\"property_name\" direction=\"in\" type=\"s\"/>\n",
    "   <arg name=\"value\" direction=\"in\" type=\"v\"/>\n",
    "  </method>\n",
    "  <signal name=\"PropertiesChanged\">\n",
    "   <arg type=\"s\" name=\"interface_name\"/>\n",
    "   <arg type=\"a{sv}\" name=\"changed_properties\"/>\n",
    "   <arg type=\"as\" name=\"invalidated_properties\"/>\n",
    "  </signal>\n",
    " </interface>\n",
);

const DOCTYPE: &str = concat!(
    "<!DOCTYPE node PUBLIC \"-//freedesktop//DTD D-BUS Object Introspection 1.0//EN\"\n",
    "\"https://www.freedesktop.org/standards/dbus/1.0/introspect.dtd\">\n",
);

/// Every interface the façade serves, in a fixed order.
pub fn served_interfaces() -> Vec<InterfaceDesc> {
    let mut v = vec![
        super::manager::interface(),
        super::unit_object::interface(),
        super::service_object::interface(),
        super::socket_object::interface(),
        super::timer_object::interface(),
        super::mount_object::interface(),
        super::scope_object::interface(),
        super::slice_object::interface(),
        super::job_object::interface(),
    ];
    v.extend(super::target_object::type_interfaces());
    v
}

/// The served interface called `name`.
pub fn interface(name: &str) -> Option<InterfaceDesc> {
    served_interfaces().into_iter().find(|i| i.name == name)
}

/// The contract document of one served interface: a `<node>` holding just that interface
/// (the content of `interfaces/<name>.xml`).
pub fn interface_xml(name: &str) -> Option<String> {
    let iface = interface(name)?;
    let mut out = String::from(DOCTYPE);
    out.push_str("<node>\n");
    write_interface(&mut out, &iface);
    out.push_str("</node>\n");
    Some(out)
}

/// The `Introspect` reply of an object with `interfaces` (the standard ones are added) and
/// child nodes `children` (relative names).
pub fn node_xml(interfaces: &[InterfaceDesc], children: &[String]) -> String {
    let mut out = String::from(DOCTYPE);
    out.push_str("<node>\n");
    out.push_str(STANDARD_INTERFACES);
    for i in interfaces {
        write_interface(&mut out, i);
    }
    for c in children {
        let _ = writeln!(out, " <node name=\"{c}\"/>");
    }
    out.push_str("</node>\n");
    out
}

fn write_interface(out: &mut String, iface: &InterfaceDesc) {
    let _ = writeln!(out, " <interface name=\"{}\">", iface.name);
    for m in iface.methods {
        let _ = writeln!(out, "  <method name=\"{}\">", m.name);
        for (sig, name) in m.inputs {
            let _ = writeln!(
                out,
                "   <arg type=\"{sig}\" name=\"{name}\" direction=\"in\"/>"
            );
        }
        for (sig, name) in m.outputs {
            let _ = writeln!(
                out,
                "   <arg type=\"{sig}\" name=\"{name}\" direction=\"out\"/>"
            );
        }
        out.push_str("  </method>\n");
    }
    for s in iface.signals {
        let _ = writeln!(out, "  <signal name=\"{}\">", s.name);
        for (sig, name) in s.args {
            let _ = writeln!(out, "   <arg type=\"{sig}\" name=\"{name}\"/>");
        }
        out.push_str("  </signal>\n");
    }
    for p in &iface.properties {
        let _ = writeln!(
            out,
            "  <property name=\"{}\" type=\"{}\" access=\"read\">",
            p.name, p.sig
        );
        if let Some(a) = p.emits.annotation() {
            let _ = writeln!(
                out,
                "   <annotation name=\"org.freedesktop.DBus.Property.EmitsChangedSignal\" value=\"{a}\"/>"
            );
        }
        out.push_str("  </property>\n");
    }
    out.push_str(" </interface>\n");
}

/// Properties of a table, as `PropInfo`s.
pub fn infos<G>(table: &[super::properties::PropDesc<G>]) -> Vec<PropInfo> {
    table.iter().map(|p| p.info()).collect()
}

/// Whether a property with this mode is announced with its value in `PropertiesChanged`.
pub fn emits_value(e: Emits) -> bool {
    e == Emits::True
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_lists_standard_interfaces_and_children() {
        let xml = node_xml(&[], &["unit".into(), "job".into()]);
        assert!(xml.starts_with("<!DOCTYPE node"));
        assert!(xml.contains("<interface name=\"org.freedesktop.DBus.Peer\">"));
        assert!(xml.contains("<interface name=\"org.freedesktop.DBus.Introspectable\">"));
        assert!(xml.contains("<interface name=\"org.freedesktop.DBus.Properties\">"));
        assert!(xml.contains(" <node name=\"unit\"/>\n <node name=\"job\"/>\n</node>\n"));
    }

    #[test]
    fn interface_xml_has_types_and_annotations() {
        let xml = interface_xml("org.freedesktop.systemd1.Unit").unwrap();
        assert!(xml.contains("<property name=\"Id\" type=\"s\" access=\"read\">"));
        assert!(xml.contains(
            "<annotation name=\"org.freedesktop.DBus.Property.EmitsChangedSignal\" value=\"const\"/>"
        ));
        assert!(xml.contains("<method name=\"Start\">"));
        assert!(xml.contains("<arg type=\"s\" name=\"mode\" direction=\"in\"/>"));
        assert!(interface_xml("org.example.Nope").is_none());
    }
}
