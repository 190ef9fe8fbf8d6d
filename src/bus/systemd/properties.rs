//! Property plumbing of the systemd façade: the ordered `a{sv}` dictionary that keeps
//! `GetAll` replies in man-page order, property descriptors (name, D-Bus signature,
//! `EmitsChangedSignal` mode and getter) that drive `Get`, `GetAll`, `PropertiesChanged` and the
//! introspection XML alike, and small constructors for owned [`Variant`] values.
//!
//! A descriptor table is the single source of truth for an interface's properties: what
//! `Introspect` announces is exactly what `GetAll` returns (minus properties whose getter says
//! "absent" for this object) with exactly the announced types.

use serde::ser::{Serialize, SerializeMap, Serializer};
use zbus::wire::Signature;
use zbus::{ObjectPath, Type, Variant};

/// An owned D-Bus value.
pub type Value = Variant<'static>;

/// The `org.freedesktop.DBus.Property.EmitsChangedSignal` annotation of a property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emits {
    /// Announced with its value in `PropertiesChanged` (no annotation in the XML).
    True,
    /// Announced by name only (`invalidates`).
    Invalidates,
    /// Never changes over the object's lifetime (`const`).
    Const,
    /// Changes without notice (`false`).
    False,
}

impl Emits {
    /// The annotation value, or `None` for the default (`true`, written as no annotation).
    pub fn annotation(self) -> Option<&'static str> {
        match self {
            Emits::True => None,
            Emits::Invalidates => Some("invalidates"),
            Emits::Const => Some("const"),
            Emits::False => Some("false"),
        }
    }

    /// The spelling used in `systemd1-interfaces.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Emits::True => "true",
            Emits::Invalidates => "invalidates",
            Emits::Const => "const",
            Emits::False => "false",
        }
    }
}

/// One property of an interface. `G` is the getter's function-pointer type, which fixes the
/// context the getter reads from (a unit, a service, the manager, a job).
#[derive(Clone, Copy)]
pub struct PropDesc<G> {
    /// Property name.
    pub name: &'static str,
    /// D-Bus signature of the value, as in the man page.
    pub sig: &'static str,
    /// Change announcement mode.
    pub emits: Emits,
    /// The current value, or `None` when this object cannot report the property honestly.
    pub get: G,
}

/// Name, signature and mode of a property, without its getter (for introspection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PropInfo {
    /// Property name.
    pub name: &'static str,
    /// D-Bus signature.
    pub sig: &'static str,
    /// Change announcement mode.
    pub emits: Emits,
}

impl<G> PropDesc<G> {
    /// The descriptor without its getter.
    pub fn info(&self) -> PropInfo {
        PropInfo {
            name: self.name,
            sig: self.sig,
            emits: self.emits,
        }
    }
}

/// Build a [`PropDesc`] tersely: `prop!("Id", "s", Const, |c| Some(vs(c.unit.name())))`.
macro_rules! prop {
    ($name:literal, $sig:literal, $emits:ident, $get:expr) => {
        $crate::bus::systemd::properties::PropDesc {
            name: $name,
            sig: $sig,
            emits: $crate::bus::systemd::properties::Emits::$emits,
            get: $get,
        }
    };
}
pub(crate) use prop;

/// An `a{sv}` dictionary that serializes its entries in insertion order (a `HashMap` would
/// scramble `GetAll`, whose order `systemctl show` prints and `status` depends on).
#[derive(Debug, Default)]
pub struct PropDict(pub Vec<(&'static str, Value)>);

impl PropDict {
    /// An empty dictionary with room for `n` entries.
    pub fn with_capacity(n: usize) -> PropDict {
        PropDict(Vec::with_capacity(n))
    }

    /// Append an entry.
    pub fn push(&mut self, name: &'static str, value: Value) {
        self.0.push((name, value));
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Entry names in order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().map(|(n, _)| *n)
    }

    /// The value of entry `name`, if present.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Append every property of `table` whose getter reports a value; `call` applies a getter
    /// to the caller's context (`|get| get(&ctx)`).
    pub fn extend_from<G: Copy>(
        &mut self,
        table: &[PropDesc<G>],
        call: impl Fn(G) -> Option<Value>,
    ) {
        for p in table {
            if let Some(v) = call(p.get) {
                self.push(p.name, v);
            }
        }
    }
}

impl Serialize for PropDict {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl Type for PropDict {
    const SIGNATURE: &'static Signature =
        &Signature::static_dict(&Signature::Str, &Signature::Variant);
}

/// The value of property `name` in `table`: `Ok(Some)` found with a value, `Ok(None)` declared
/// but absent for this object, `Err(())` not declared.
#[allow(clippy::result_unit_err)]
pub fn get_one<G: Copy>(
    table: &[PropDesc<G>],
    name: &str,
    call: impl Fn(G) -> Option<Value>,
) -> Result<Option<Value>, ()> {
    match table.iter().find(|p| p.name == name) {
        Some(p) => Ok(call(p.get)),
        None => Err(()),
    }
}

/// `s`.
pub fn vs(s: &str) -> Value {
    Variant::from(s.to_owned())
}

/// `s` from an owned string.
pub fn vstring(s: String) -> Value {
    Variant::from(s)
}

/// `b`.
pub fn vb(b: bool) -> Value {
    Variant::from(b)
}

/// `u`.
pub fn vu(u: u32) -> Value {
    Variant::from(u)
}

/// `i`.
pub fn vi(i: i32) -> Value {
    Variant::from(i)
}

/// `t`.
pub fn vt(t: u64) -> Value {
    Variant::from(t)
}

/// `d`.
pub fn vd(d: f64) -> Value {
    Variant::from(d)
}

/// `as`.
pub fn vas<I, S>(items: I) -> Value
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    Variant::from(items.into_iter().map(Into::into).collect::<Vec<String>>())
}

/// `ay`.
pub fn vay(bytes: Vec<u8>) -> Value {
    Variant::from(bytes)
}

/// `o` (the caller guarantees a valid path: every path we build is).
pub fn vo(path: String) -> Value {
    Variant::from(ObjectPath::from_string_unchecked(path))
}

/// An owned object path for message bodies.
pub fn opath(path: String) -> ObjectPath<'static> {
    ObjectPath::from_string_unchecked(path)
}

/// The signature string of a value (`a(sasbttttuii)` …), for tests and checks.
pub fn value_signature(v: &Value) -> String {
    v.value_signature().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use zbus::Message;

    #[test]
    fn dict_keeps_insertion_order_on_the_wire() {
        let mut d = PropDict::default();
        for (i, name) in ["Zeta", "Alpha", "Mid", "Beta"].into_iter().enumerate() {
            d.push(name, vu(i as u32));
        }
        let msg = Message::method_call("/a", "M").build(&d).unwrap();
        assert_eq!(msg.body().signature().to_string(), "a{sv}");
        let back: Vec<(String, zbus::OwnedVariant)> = {
            // Decode as an ordered list of dict entries.
            let map: std::collections::BTreeMap<String, zbus::OwnedVariant> =
                msg.body().deserialize().unwrap();
            assert_eq!(map.len(), 4);
            // BTreeMap loses order, so check the raw bytes for the order instead.
            map.into_iter().collect()
        };
        assert_eq!(back.len(), 4);
        let bytes = msg.body().data().to_vec();
        let pos = |needle: &str| {
            bytes
                .windows(needle.len())
                .position(|w| w == needle.as_bytes())
                .unwrap()
        };
        assert!(pos("Zeta") < pos("Alpha"));
        assert!(pos("Alpha") < pos("Mid"));
        assert!(pos("Mid") < pos("Beta"));
    }

    #[test]
    fn value_constructors_have_the_declared_types() {
        assert_eq!(value_signature(&vs("x")), "s");
        assert_eq!(value_signature(&vb(true)), "b");
        assert_eq!(value_signature(&vu(1)), "u");
        assert_eq!(value_signature(&vi(-1)), "i");
        assert_eq!(value_signature(&vt(1)), "t");
        assert_eq!(value_signature(&vd(1.0)), "d");
        assert_eq!(value_signature(&vas(Vec::<String>::new())), "as");
        assert_eq!(value_signature(&vay(vec![])), "ay");
        assert_eq!(value_signature(&vo("/".into())), "o");
        let job: Value = Variant::from((0u32, opath("/".into())));
        assert_eq!(value_signature(&job), "(uo)");
    }
}
