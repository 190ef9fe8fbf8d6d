//! `Exec*=` command lines (`config_parse_exec`): prefixes, quoting, `;` separators and load-time
//! specifier expansion.
//!
//! A value holds one or more commands separated by a lone `;` word (`\;` is a literal `;`
//! argument). The first word of each command may start with the prefixes `-` `@` `:` `+` `!`
//! `!!` in any order (each at most once; `+`, `!`, `!!` exclusive); it must then be an absolute
//! path or a bare file name. Every word is unquoted and unescaped, then its `%` specifiers are
//! expanded; `$VAR` is left for the supervisor. A parse error drops the rest of the line; it is
//! fatal for the unit (bad-setting) unless the command has the `-` prefix.

use crate::spec::{ExecCommand, ExecFlags};

use super::specifier::SpecifierError;
use super::values::{filename_is_valid, path_is_valid, path_simplify, string_is_safe};
use super::words::{WHITESPACE, WordError, WordFlags, extract_word};

/// The outcome of one `Exec*=` value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecLine {
    /// Commands parsed before any error, in order.
    pub commands: Vec<ExecCommand>,
    /// Warnings (unknown escapes kept verbatim, errors on `-` lines).
    pub warnings: Vec<String>,
    /// The error that makes the unit bad-setting, if any.
    pub error: Option<String>,
}

const EXTRACT: WordFlags = WordFlags {
    relax: true,
    ..WordFlags::UNQUOTE_CUNESCAPE
};

fn is_ws(b: u8) -> bool {
    WHITESPACE.contains(&b)
}

/// Parse one non-empty `Exec*=` value. `expand` resolves specifiers in one word.
pub fn parse_exec_line(
    value: &str,
    expand: &dyn Fn(&str) -> Result<String, SpecifierError>,
) -> ExecLine {
    let mut out = ExecLine::default();
    let bytes = value.as_bytes();
    let mut pos = 0usize;
    let mut relaxed_warned = false;
    let word_err = |e: WordError| format!("Invalid syntax ({e}) in command line: {value}");
    loop {
        let first = match extract_word(value, &mut pos, EXTRACT) {
            Ok(Some(w)) => w,
            Ok(None) => return out,
            Err(e) => {
                out.error = Some(word_err(e));
                return out;
            }
        };
        if first.relaxed && !relaxed_warned {
            relaxed_warned = true;
            out.warnings
                .push(format!("Ignoring unknown escape sequences: \"{value}\""));
        }
        let mut flags = ExecFlags::default();
        let mut separate_argv0 = false;
        let mut f = first.text.as_str();
        while let Some(c) = f.chars().next() {
            let privileged = flags.full_privileges || flags.no_setuid || flags.ambient_fallback;
            if c == '-' && !flags.ignore_failure {
                flags.ignore_failure = true;
            } else if c == '@' && !separate_argv0 {
                separate_argv0 = true;
            } else if c == ':' && !flags.no_env_expand {
                flags.no_env_expand = true;
            } else if c == '+' && !privileged {
                flags.full_privileges = true;
            } else if c == '!' && !privileged {
                flags.no_setuid = true;
            } else if c == '!'
                && flags.no_setuid
                && !flags.ambient_fallback
                && !flags.full_privileges
            {
                // `!!`: like `!`, applied only where ambient capabilities are unavailable.
                flags.ambient_fallback = true;
            } else {
                break;
            }
            f = &f[1..];
        }
        let ignore = flags.ignore_failure;
        // Report a problem on this command: a warning for `-` lines, fatal otherwise.
        let fail = |out: &mut ExecLine, msg: String| {
            if ignore {
                out.warnings.push(format!("{msg}, ignoring"));
            } else {
                out.error = Some(msg);
            }
        };
        let path = match expand(f) {
            Ok(p) => p,
            Err(e) => {
                fail(
                    &mut out,
                    format!("Failed to resolve unit specifiers in '{f}': {e}"),
                );
                return out;
            }
        };
        if path.is_empty() {
            fail(&mut out, format!("Empty path in command line: '{value}'"));
            return out;
        }
        if !string_is_safe(&path) {
            fail(
                &mut out,
                format!("Executable name contains special characters: {path}"),
            );
            return out;
        }
        if path.ends_with('/') {
            fail(
                &mut out,
                format!("Executable path specifies a directory: {path}"),
            );
            return out;
        }
        let valid = if path.starts_with('/') {
            path_is_valid(&path)
        } else {
            filename_is_valid(&path)
        };
        if !valid {
            fail(
                &mut out,
                format!("Neither a valid executable name nor an absolute path: {path}"),
            );
            return out;
        }
        let mut argv: Vec<String> = Vec::new();
        if !separate_argv0 {
            argv.push(path.clone());
        }
        let path = path_simplify(&path);
        let mut semicolon = false;
        while pos < bytes.len() {
            if bytes[pos] == b';' && bytes.get(pos + 1).is_none_or(|&b| is_ws(b)) {
                pos = super::words::skip_ws(value, pos + 1);
                semicolon = true;
                break;
            }
            if bytes[pos] == b'\\'
                && bytes.get(pos + 1) == Some(&b';')
                && bytes.get(pos + 2).is_none_or(|&b| is_ws(b))
            {
                pos = super::words::skip_ws(value, pos + 2);
                argv.push(";".into());
                continue;
            }
            let word = match extract_word(value, &mut pos, EXTRACT) {
                Ok(Some(w)) => w,
                Ok(None) => break,
                Err(e) => {
                    fail(&mut out, word_err(e));
                    return out;
                }
            };
            if word.relaxed && !relaxed_warned {
                relaxed_warned = true;
                out.warnings
                    .push(format!("Ignoring unknown escape sequences: \"{value}\""));
            }
            match expand(&word.text) {
                Ok(w) => argv.push(w),
                Err(e) => {
                    fail(
                        &mut out,
                        format!("Failed to resolve unit specifiers in {}: {e}", word.text),
                    );
                    return out;
                }
            }
        }
        if argv.is_empty() {
            fail(
                &mut out,
                format!("Empty executable name or zeroeth argument: {value}"),
            );
            return out;
        }
        out.commands.push(ExecCommand { path, argv, flags });
        if !semicolon {
            return out;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_spec(w: &str) -> Result<String, SpecifierError> {
        Ok(w.to_owned())
    }

    fn spec(w: &str) -> Result<String, SpecifierError> {
        if w.contains("%z") {
            return Err(SpecifierError::Unknown('z'));
        }
        Ok(w.replace("%n", "x.service").replace("%%", "%"))
    }

    fn cmds(v: &str) -> Vec<(String, Vec<String>)> {
        let l = parse_exec_line(v, &no_spec);
        assert_eq!(l.error, None, "{v}");
        l.commands.into_iter().map(|c| (c.path, c.argv)).collect()
    }

    fn c(path: &str, argv: &[&str]) -> (String, Vec<String>) {
        (path.into(), argv.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn simple_and_quoted() {
        assert_eq!(
            cmds(r#"/bin/echo "hello world" a"b c"d 'it\'s'"#),
            [c(
                "/bin/echo",
                &["/bin/echo", "hello world", "ab cd", "it's"]
            )]
        );
        assert_eq!(cmds("true"), [c("true", &["true"])]);
        // No shell: redirections and `$VAR` stay literal arguments.
        assert_eq!(
            cmds("/bin/sh -c 'echo $HOME' > /tmp/x | y"),
            [c(
                "/bin/sh",
                &["/bin/sh", "-c", "echo $HOME", ">", "/tmp/x", "|", "y"]
            )]
        );
        // No inline comments.
        assert_eq!(cmds("/bin/x # y"), [c("/bin/x", &["/bin/x", "#", "y"])]);
    }

    #[test]
    fn semicolons() {
        assert_eq!(
            cmds("/bin/a 1 ; /bin/b 2"),
            [c("/bin/a", &["/bin/a", "1"]), c("/bin/b", &["/bin/b", "2"])]
        );
        assert_eq!(
            cmds(r"/bin/find . -exec x {} \; ; /bin/b"),
            [
                c("/bin/find", &["/bin/find", ".", "-exec", "x", "{}", ";"]),
                c("/bin/b", &["/bin/b"])
            ]
        );
        // `;` glued to a word is an ordinary character; quoted ";" is an argument too.
        assert_eq!(
            cmds(r#"/bin/a x; ";" "#),
            [c("/bin/a", &["/bin/a", "x;", ";"])]
        );
        // A trailing `;` is fine.
        assert_eq!(cmds("/bin/a ;"), [c("/bin/a", &["/bin/a"])]);
    }

    #[test]
    fn prefixes() {
        let l = parse_exec_line("-@:/bin/x argv0 a", &no_spec);
        let cmd = &l.commands[0];
        assert_eq!(cmd.path, "/bin/x");
        assert_eq!(cmd.argv, ["argv0", "a"]);
        assert!(cmd.flags.ignore_failure && cmd.flags.no_env_expand);
        assert!(!cmd.flags.full_privileges);

        let f = |v: &str| parse_exec_line(v, &no_spec).commands[0].flags;
        assert!(f("+/bin/x").full_privileges);
        let bang = f("!/bin/x");
        assert!(bang.no_setuid && !bang.ambient_fallback);
        let bangbang = f("!!/bin/x");
        assert!(bangbang.no_setuid && bangbang.ambient_fallback);
        // Any order.
        let mixed = f(":-+/bin/x");
        assert!(mixed.no_env_expand && mixed.ignore_failure && mixed.full_privileges);
        // A second `-` is not a prefix: it belongs to the path, which is then invalid.
        let l = parse_exec_line("--/bin/x", &no_spec);
        assert!(l.commands.is_empty());
        assert!(l.error.is_none(), "errors on - lines are warnings");
        assert_eq!(l.warnings.len(), 1);
        // `+` and `!` are exclusive: `+!` leaves `!` in the path.
        let l = parse_exec_line("+!/bin/x", &no_spec);
        assert!(l.error.is_some());
    }

    #[test]
    fn path_rules() {
        for bad in ["bin/x", "./x", "/bin/", "\"\"", "-", "@", "/bin/x\\ty"] {
            let l = parse_exec_line(bad, &no_spec);
            let ignored = bad.starts_with('-');
            assert!(l.commands.is_empty(), "{bad}");
            assert_eq!(l.error.is_some(), !ignored, "{bad}: {:?}", l);
        }
        // `@` with a path but no argv[0] is refused.
        let l = parse_exec_line("@/bin/x", &no_spec);
        assert!(l.error.unwrap().contains("zeroeth"));
        // The path is simplified; argv[0] keeps what was written.
        assert_eq!(cmds("//usr/./bin/x"), [c("/usr/bin/x", &["//usr/./bin/x"])]);
    }

    #[test]
    fn escapes_and_errors() {
        let l = parse_exec_line(r"/bin/x a\qb", &no_spec);
        assert_eq!(l.commands[0].argv, ["/bin/x", r"a\qb"]);
        assert_eq!(l.warnings.len(), 1);
        assert!(l.error.is_none());
        let l = parse_exec_line(r#"/bin/x "unbalanced"#, &no_spec);
        assert!(l.commands.is_empty());
        assert!(l.error.is_some());
        // Commands before the error are kept.
        let l = parse_exec_line(r#"/bin/a ; /bin/b "x"#, &no_spec);
        assert_eq!(l.commands.len(), 1);
        assert!(l.error.is_some());
    }

    #[test]
    fn specifiers_per_word() {
        let l = parse_exec_line("/bin/echo %n 100%%", &spec);
        assert_eq!(l.commands[0].argv, ["/bin/echo", "x.service", "100%"]);
        let l = parse_exec_line("/bin/echo %z", &spec);
        assert!(l.error.unwrap().contains("specifier"));
        let l = parse_exec_line("-/bin/echo %z", &spec);
        assert!(l.error.is_none());
        assert!(l.commands.is_empty());
        // `$` is untouched.
        let l = parse_exec_line("/bin/echo $X ${Y} $$", &spec);
        assert_eq!(l.commands[0].argv, ["/bin/echo", "$X", "${Y}", "$$"]);
    }
}
