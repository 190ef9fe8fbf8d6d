//! Shell-style pattern matching as systemd applies it to unit names (`fnmatch(3)` with
//! `FNM_NOESCAPE`): `*`, `?` and bracket expressions (`[abc]`, `[a-z]`, `[!x]`, `[^x]`);
//! a backslash is an ordinary character. Used by `ListUnitsByPatterns` and preset files; the
//! matcher is [`crate::spec::glob`].

use crate::spec::glob;

/// Whether `name` matches `pattern` (`FNM_NOESCAPE`).
pub fn fnmatch(pattern: &str, name: &str) -> bool {
    glob::fnmatch(
        pattern,
        name,
        glob::Flags {
            noescape: true,
            casefold: false,
        },
    )
}

/// Whether `name` matches any of `patterns` (an empty list matches everything).
pub fn fnmatch_any(patterns: &[String], name: &str) -> bool {
    patterns.is_empty() || patterns.iter().any(|p| fnmatch(p, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(fnmatch("*", "foo.service"));
        assert!(fnmatch("f*", "foo.service"));
        assert!(fnmatch("*.service", "foo.service"));
        assert!(!fnmatch("*.socket", "foo.service"));
        assert!(fnmatch("foo?.service", "foo1.service"));
        assert!(!fnmatch("foo?.service", "foo.service"));
        assert!(fnmatch("a@[0-9].service", "a@7.service"));
        assert!(!fnmatch("a@[!0-9].service", "a@7.service"));
        assert!(fnmatch("a@[^0-9].service", "a@x.service"));
        assert!(fnmatch("[]]x", "]x"));
        assert!(fnmatch("a[b", "a[b"));
        assert!(fnmatch("*a*b*c", "xxaxxbxxc"));
        assert!(!fnmatch("*a*b*c", "xxaxxbxx"));
        // FNM_NOESCAPE: a backslash is literal.
        assert!(fnmatch("a\\x2db.service", "a\\x2db.service"));
        assert!(fnmatch("foo.service", "foo.service"));
        assert!(!fnmatch("foo.service", "foo.servicex"));
        assert!(fnmatch("", ""));
        assert!(!fnmatch("", "a"));
    }

    #[test]
    fn any_pattern() {
        assert!(fnmatch_any(&[], "x.service"));
        assert!(fnmatch_any(&["y*".into(), "x*".into()], "x.service"));
        assert!(!fnmatch_any(&["y*".into()], "x.service"));
    }
}
