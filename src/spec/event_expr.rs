//! Upstart event expressions (`start on` / `stop on`) as a typed tree, plus the pure rules for
//! matching one event against a leaf and Upstart's D-Bus encoding of a tree (post-order `aas`).
//!
//! Parsing the job-file text into this tree is [`crate::job_file`]'s; evaluating latches over
//! time (half-satisfied `and` blocks) belongs to the engine. This module only knows the shape,
//! the `fnmatch(3)`-style globs and the argument rules of `init/event_operator.c` (facts from
//! Upstart 1.13: positional argument *n* matches the value of the event's *n*-th env entry;
//! `KEY=GLOB`/`KEY!=GLOB` look the key up by name and later positional arguments continue after
//! that entry; a missing key fails even for `!=`; too many positional arguments fail).

use serde::{Deserialize, Serialize};

/// One argument of an event leaf, as written (already dequoted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventArg {
    /// A bare value matched against the next env entry's value.
    Positional(String),
    /// `KEY=GLOB`.
    Equals(String, String),
    /// `KEY!=GLOB`.
    NotEquals(String, String),
}

impl EventArg {
    /// The argument as Upstart shows it in `start_on`/`stop_on` (`KEY=VAL`, `KEY!=VAL`, `VAL`).
    pub fn as_text(&self) -> String {
        match self {
            EventArg::Positional(v) => v.clone(),
            EventArg::Equals(k, v) => format!("{k}={v}"),
            EventArg::NotEquals(k, v) => format!("{k}!={v}"),
        }
    }
}

/// An event expression tree. `and`/`or` have equal precedence and associate to the left, so
/// `A or B and C` is `And(Or(A, B), C)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventExpr {
    /// A leaf: event name (exact) and arguments.
    Event {
        /// The event name.
        name: String,
        /// Arguments in order.
        args: Vec<EventArg>,
    },
    /// Both sides must have matched.
    And(Box<EventExpr>, Box<EventExpr>),
    /// Either side.
    Or(Box<EventExpr>, Box<EventExpr>),
}

impl EventExpr {
    /// Upstart's `start_on`/`stop_on` property value: the tree in post-order, each leaf
    /// `[event, args…]`, each operator `["/AND"]` or `["/OR"]`.
    pub fn to_rpn(&self) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        self.rpn_into(&mut out);
        out
    }

    fn rpn_into(&self, out: &mut Vec<Vec<String>>) {
        match self {
            EventExpr::Event { name, args } => {
                let mut v = vec![name.clone()];
                v.extend(args.iter().map(EventArg::as_text));
                out.push(v);
            }
            EventExpr::And(a, b) => {
                a.rpn_into(out);
                b.rpn_into(out);
                out.push(vec!["/AND".into()]);
            }
            EventExpr::Or(a, b) => {
                a.rpn_into(out);
                b.rpn_into(out);
                out.push(vec!["/OR".into()]);
            }
        }
    }

    /// The fully bracketed text `initctl show-config` prints: leaves as `name args…`,
    /// operators as `(a and b)`.
    pub fn to_text(&self) -> String {
        match self {
            EventExpr::Event { name, args } => {
                let mut s = name.clone();
                for a in args {
                    s.push(' ');
                    s.push_str(&a.as_text());
                }
                s
            }
            EventExpr::And(a, b) => format!("({} and {})", a.to_text(), b.to_text()),
            EventExpr::Or(a, b) => format!("({} or {})", a.to_text(), b.to_text()),
        }
    }

    /// The leaves in tree order (left to right).
    pub fn leaves(&self) -> Vec<&EventExpr> {
        let mut out = Vec::new();
        self.leaves_into(&mut out);
        out
    }

    fn leaves_into<'a>(&'a self, out: &mut Vec<&'a EventExpr>) {
        match self {
            EventExpr::Event { .. } => out.push(self),
            EventExpr::And(a, b) | EventExpr::Or(a, b) => {
                a.leaves_into(out);
                b.leaves_into(out);
            }
        }
    }
}

/// Whether the event `name` with environment `env` (`KEY=VALUE` entries, in order) matches the
/// leaf `leaf_name`/`args`.
pub fn leaf_matches(leaf_name: &str, args: &[EventArg], name: &str, env: &[String]) -> bool {
    leaf_matches_expanded(leaf_name, args, name, env, None)
}

/// [`leaf_matches`], with every argument value `$`-expanded against `vars` first when given
/// (Upstart expands `stop on` values against the job instance's environment: `stop on
/// stopping-thing JOB=$JOB`). A value that does not expand (an unknown variable) fails the
/// match, as in Upstart.
pub fn leaf_matches_expanded(
    leaf_name: &str,
    args: &[EventArg],
    name: &str,
    env: &[String],
    vars: Option<&[String]>,
) -> bool {
    if leaf_name != name {
        return false;
    }
    let split = |e: &String| -> (String, String) {
        match e.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (e.clone(), String::new()),
        }
    };
    let expand = |glob: &String| -> Option<String> {
        match vars {
            Some(vars) => crate::spec::upstart::expand(glob, vars).ok(),
            None => Some(glob.clone()),
        }
    };
    let mut pos = 0usize;
    for arg in args {
        match arg {
            EventArg::Positional(glob) => {
                let Some(glob) = expand(glob) else {
                    return false;
                };
                let Some(entry) = env.get(pos) else {
                    return false;
                };
                if !fnmatch(&glob, &split(entry).1) {
                    return false;
                }
                pos += 1;
            }
            EventArg::Equals(key, glob) | EventArg::NotEquals(key, glob) => {
                let Some(idx) = env.iter().position(|e| split(e).0 == *key) else {
                    return false;
                };
                let Some(glob) = expand(glob) else {
                    return false;
                };
                let hit = fnmatch(&glob, &split(&env[idx]).1);
                let want = matches!(arg, EventArg::Equals(..));
                if hit != want {
                    return false;
                }
                pos = idx + 1;
            }
        }
    }
    true
}

/// `fnmatch(3)` with no flags ([`super::glob`]): `*`, `?`, bracket expressions (`[abc]`,
/// `[a-z]`, `[!x]`, `[^x]`) and `\` escapes.
pub fn fnmatch(pattern: &str, text: &str) -> bool {
    super::glob::fnmatch(pattern, text, super::glob::Flags::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(name: &str, args: &[EventArg]) -> EventExpr {
        EventExpr::Event {
            name: name.into(),
            args: args.to_vec(),
        }
    }

    #[test]
    fn rpn_is_post_order() {
        let e = EventExpr::And(
            Box::new(ev("A", &[])),
            Box::new(EventExpr::Or(
                Box::new(ev("B", &[])),
                Box::new(ev("C", &[EventArg::Equals("x".into(), "1".into())])),
            )),
        );
        assert_eq!(
            e.to_rpn(),
            vec![
                vec!["A".to_owned()],
                vec!["B".to_owned()],
                vec!["C".to_owned(), "x=1".to_owned()],
                vec!["/OR".to_owned()],
                vec!["/AND".to_owned()],
            ]
        );
        assert_eq!(e.to_text(), "(A and (B or C x=1))");
    }

    #[test]
    fn globs() {
        assert!(fnmatch("[2345]", "2"));
        assert!(!fnmatch("[2345]", "1"));
        assert!(fnmatch("[!2345]", "6"));
        assert!(!fnmatch("[!2345]", "3"));
        assert!(fnmatch("ttyS*", "ttyS0"));
        assert!(!fnmatch("ttyS*", "tty0"));
        assert!(fnmatch("a?c", "abc"));
        assert!(fnmatch("*b*", "abc"));
        assert!(fnmatch("\\*", "*"));
        assert!(!fnmatch("\\*", "a"));
        assert!(fnmatch("[a-c]x", "bx"));
        assert!(fnmatch("", ""));
        assert!(!fnmatch("", "a"));
    }

    #[test]
    fn positional_and_keyed_args() {
        let env: Vec<String> = vec!["JOB=nginx".into(), "INSTANCE=".into(), "RESULT=ok".into()];
        let p = |v: &str| EventArg::Positional(v.into());
        assert!(leaf_matches("stopped", &[p("nginx")], "stopped", &env));
        assert!(!leaf_matches("stopped", &[p("apache")], "stopped", &env));
        assert!(!leaf_matches("started", &[p("nginx")], "stopped", &env));
        // second positional = INSTANCE
        assert!(!leaf_matches(
            "stopped",
            &[p("nginx"), p("ok")],
            "stopped",
            &env
        ));
        let eq = EventArg::Equals("RESULT".into(), "ok".into());
        assert!(leaf_matches("stopped", &[p("nginx"), eq], "stopped", &env));
        let ne = EventArg::NotEquals("RESULT".into(), "ok".into());
        assert!(!leaf_matches("stopped", &[ne], "stopped", &env));
        let missing = EventArg::NotEquals("NOPE".into(), "x".into());
        assert!(!leaf_matches("stopped", &[missing], "stopped", &env));
        // positional args continue after a keyed one
        let k = EventArg::Equals("JOB".into(), "ngi*".into());
        assert!(leaf_matches("stopped", &[k, p("")], "stopped", &env));
        // too many positional args
        let four = [p("*"), p("*"), p("*"), p("*")];
        assert!(!leaf_matches("stopped", &four, "stopped", &env));
        // `$VAR` values expand against the given variables; unknown ones never match.
        let vars = vec!["WHO=nginx".to_owned(), "LEVEL=2345".to_owned()];
        let var = |k: &str, v: &str| EventArg::Equals(k.into(), v.into());
        assert!(leaf_matches_expanded(
            "stopped",
            &[p("$WHO")],
            "stopped",
            &env,
            Some(&vars)
        ));
        assert!(!leaf_matches("stopped", &[p("$WHO")], "stopped", &env));
        assert!(leaf_matches_expanded(
            "stopped",
            &[var("JOB", "${WHO}")],
            "stopped",
            &env,
            Some(&vars)
        ));
        assert!(!leaf_matches_expanded(
            "stopped",
            &[var("JOB", "$NOPE")],
            "stopped",
            &env,
            Some(&vars)
        ));
        let rl = vec!["RUNLEVEL=6".to_owned()];
        assert!(leaf_matches_expanded(
            "runlevel",
            &[p("[!$LEVEL]")],
            "runlevel",
            &rl,
            Some(&vars)
        ));
    }
}
