//! Architecture guard: scans `src/` and fails with `file:line` for every reference that
//! crosses a layer boundary (project rules, see README "Layout").
//!
//! Rules, checked on Rust *code* only (comments, string and char literals are stripped first,
//! so prose such as "the only place that forks" is fine):
//! 1. `src/engine/**`, `src/spec/**` (deterministic core) must not name `zbus`, `tokio`,
//!    `nix`, `libc`, `std::process`, `std::fs`, `std::net`, `Instant::now`, `SystemTime::now`.
//! 2. `src/unit_file/**` (pure parser) must not name `zbus`, `tokio`, `nix`, `libc`,
//!    `std::process`, `std::fs`, `std::env` (except the compile-time `std::env::consts`),
//!    `Instant::now`, `SystemTime::now`.
//! 3. `zbus` appears only under `src/bus/**`.
//! 4. `tokio::process` appears nowhere (one reaper for the whole process: the supervisor's).
//! 5. Process control — calling (as a function, `kill(…)` or `signal::kill(…)`) or importing
//!    `fork`, `vfork`, `execve`/`execv*`, `fexecve`, `waitpid`, `waitid`, `wait4`, `kill`,
//!    `killpg`, `pidfd_send_signal`, `posix_spawn*`, `pre_exec`, or constructing a `Command`
//!    (`Command::new`) — happens only in `src/supervisor/**`, which forks, execs, reaps and
//!    kills *services*. Method calls such as `self.supervisor.kill(&req)` are delegation to
//!    the supervisor and are not flagged (a `std::process::Child` to call `.kill()` on can only
//!    come from a flagged `Command::new`).
//!    Exceptions, stated here and nowhere else:
//!    - [`ORCHESTRATION`]: `src/demo.rs` may use `Command::new` and `kill` to start and stop
//!      the demo's private `dbus-daemon` and its `unitd serve` child (orchestration of the
//!      demo's own helpers, never service supervision).
//!    - Test-only code (`#[cfg(test)] mod …` inline or in its own file) may orchestrate helper
//!      processes such as a private `dbus-daemon`; rules 1–4 still apply to it.
//!
//! Paths are matched on whole segments, including through grouped imports
//! (`use std::{fs, process::Command}` names `std::fs`, `std::process` and `Command`).

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

/// Files allowed to orchestrate helper processes, and exactly which process-control names
/// each may use.
const ORCHESTRATION: &[(&str, &[&str])] = &[("src/demo.rs", &["Command::new", "kill"])];

const PROCESS_CONTROL_CALLS: &[&str] = &[
    "fork",
    "vfork",
    "execve",
    "execv",
    "execvp",
    "execvpe",
    "execveat",
    "fexecve",
    "waitpid",
    "waitid",
    "wait4",
    "kill",
    "killpg",
    "pidfd_send_signal",
    "posix_spawn",
    "posix_spawnp",
    "pre_exec",
];

const CORE_FORBIDDEN: &[&str] = &[
    "zbus",
    "tokio",
    "nix",
    "libc",
    "std::process",
    "std::fs",
    "std::net",
    "Instant::now",
    "SystemTime::now",
];

const PARSER_FORBIDDEN: &[&str] = &[
    "zbus",
    "tokio",
    "nix",
    "libc",
    "std::process",
    "std::fs",
    "std::env",
    "Instant::now",
    "SystemTime::now",
];

// ---------------------------------------------------------------------------------------------
// A small Rust lexer: identifiers, `::` and punctuation, with line numbers.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    PathSep,
    Punct(char),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
}

fn lex(src: &str) -> Vec<Token> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let n = chars.len();
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < n {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < n && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < n {
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if chars[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if let Some(skip) = raw_string_start(&chars, i) {
            // r"…", r#"…"#, br"…", cr"…": no escapes; ends at `"` + the same number of `#`.
            let (hashes, body_start) = skip;
            i = body_start;
            loop {
                if i >= n {
                    break;
                }
                if chars[i] == '"' && (1..=hashes).all(|k| at(i + k) == '#') {
                    i += 1 + hashes;
                    break;
                }
                if chars[i] == '\n' {
                    line += 1;
                }
                i += 1;
            }
        } else if c == '"' || ((c == 'b' || c == 'c') && at(i + 1) == '"') {
            i += if c == '"' { 1 } else { 2 };
            while i < n && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                if i < n && chars[i] == '\n' {
                    line += 1;
                }
                i += 1;
            }
            i += 1;
        } else if c == '\'' || (c == 'b' && at(i + 1) == '\'') {
            let q = if c == '\'' { i } else { i + 1 };
            if at(q + 1) == '\\' {
                // Escaped char literal: skip the backslash and the escaped char, then to
                // the closing quote (covers '\'', '\n', '\u{1F600}').
                i = q + 3;
                while i < n && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(q + 2) == '\'' {
                i = q + 3; // 'x'
            } else {
                i = q + 1; // a lifetime or label: the name follows as an identifier
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < n && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let mut word: String = chars[start..i].iter().collect();
            if word == "r" && at(i) == '#' && (at(i + 1).is_alphabetic() || at(i + 1) == '_') {
                // r#ident
                i += 1;
                let s = i;
                while i < n && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                word = chars[s..i].iter().collect();
            }
            out.push(Token {
                tok: Tok::Ident(word),
                line,
            });
        } else if c.is_ascii_digit() {
            while i < n && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
        } else if c == ':' && at(i + 1) == ':' {
            out.push(Token {
                tok: Tok::PathSep,
                line,
            });
            i += 2;
        } else {
            out.push(Token {
                tok: Tok::Punct(c),
                line,
            });
            i += 1;
        }
    }
    out
}

/// If a raw string literal starts at `i`, return (number of `#`, index after the opening `"`).
fn raw_string_start(chars: &[char], i: usize) -> Option<(usize, usize)> {
    let at = |k: usize| chars.get(k).copied().unwrap_or('\0');
    // Must not be the tail of an identifier (e.g. `bar"`, which is not Rust anyway).
    if i > 0 && (at(i - 1).is_alphanumeric() || at(i - 1) == '_') {
        return None;
    }
    let mut j = i;
    if at(j) == 'b' || at(j) == 'c' {
        j += 1;
    }
    if at(j) != 'r' {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while at(j) == '#' {
        hashes += 1;
        j += 1;
    }
    if at(j) == '"' {
        Some((hashes, j + 1))
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------------
// Paths (with grouped `use` expansion) and calls
// ---------------------------------------------------------------------------------------------

/// A path mentioned in code: its segments and the line it starts on.
#[derive(Debug, Clone)]
struct Mention {
    segments: Vec<String>,
    line: usize,
    /// True for paths that came from a `use` declaration.
    imported: bool,
}

fn ident(t: &Token) -> Option<&str> {
    match &t.tok {
        Tok::Ident(s) => Some(s),
        _ => None,
    }
}

/// Expand a use tree starting at `toks[*i]` with `prefix`; stops at `,`, `}` or `;`.
fn expand_use_tree(toks: &[Token], i: &mut usize, prefix: Vec<String>, out: &mut Vec<Mention>) {
    let mut path = prefix;
    let mut line = toks.get(*i).map(|t| t.line).unwrap_or(0);
    loop {
        match toks.get(*i).map(|t| &t.tok) {
            Some(Tok::PathSep) => *i += 1,
            Some(Tok::Ident(s)) if s == "as" => {
                *i += 1; // the alias name
                *i += 1;
            }
            Some(Tok::Ident(s)) => {
                if path.is_empty() {
                    line = toks[*i].line;
                }
                path.push(s.clone());
                *i += 1;
            }
            Some(Tok::Punct('*')) => *i += 1,
            Some(Tok::Punct('{')) => {
                *i += 1;
                loop {
                    match toks.get(*i).map(|t| &t.tok) {
                        Some(Tok::Punct('}')) => {
                            *i += 1;
                            break;
                        }
                        Some(Tok::Punct(',')) => *i += 1,
                        None => break,
                        _ => expand_use_tree(toks, i, path.clone(), out),
                    }
                }
                return;
            }
            _ => break,
        }
    }
    if !path.is_empty() {
        out.push(Mention {
            segments: path,
            line,
            imported: true,
        });
    }
}

/// All paths mentioned in `toks`.
fn mentions(toks: &[Token]) -> Vec<Mention> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if ident(&toks[i]) == Some("use") {
            i += 1;
            expand_use_tree(toks, &mut i, Vec::new(), &mut out);
            continue;
        }
        if ident(&toks[i]).is_some() {
            let line = toks[i].line;
            let mut segs = vec![ident(&toks[i]).unwrap_or_default().to_string()];
            i += 1;
            while i + 1 < toks.len() && toks[i].tok == Tok::PathSep {
                match ident(&toks[i + 1]) {
                    Some(s) => {
                        segs.push(s.to_string());
                        i += 2;
                    }
                    None => break, // turbofish `::<` and the like
                }
            }
            out.push(Mention {
                segments: segs,
                line,
                imported: false,
            });
            continue;
        }
        i += 1;
    }
    out
}

/// Paths that contain a forbidden prefix but are allowed anyway: compile-time constants,
/// not the process environment.
const ALLOWED_SUBPATHS: &[&str] = &["std::env::consts"];

/// Does `m` contain `pattern` (`a::b`) as consecutive whole segments (and is not one of
/// [`ALLOWED_SUBPATHS`] at that position)?
fn names(m: &Mention, pattern: &str) -> bool {
    let pat: Vec<&str> = pattern.split("::").collect();
    (0..m.segments.len()).any(|start| {
        let matches_at = |p: &[&str]| {
            m.segments.len() >= start + p.len()
                && m.segments[start..start + p.len()]
                    .iter()
                    .zip(p)
                    .all(|(a, b)| a == b)
        };
        matches_at(&pat)
            && !ALLOWED_SUBPATHS.iter().any(|allowed| {
                let a: Vec<&str> = allowed.split("::").collect();
                a.len() > pat.len() && a.starts_with(&pat) && matches_at(&a)
            })
    })
}

/// Calls or imports of a process-control function (`kill(…)`, `signal::kill(…)`,
/// `use nix::unistd::fork`), but not definitions (`fn kill(`), fields (`kill: …`) or method
/// calls (`supervisor.kill(…)`).
fn process_control_uses(toks: &[Token], ms: &[Mention]) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (k, t) in toks.iter().enumerate() {
        let Some(name) = ident(t) else { continue };
        if !PROCESS_CONTROL_CALLS.contains(&name) {
            continue;
        }
        let called = matches!(toks.get(k + 1).map(|t| &t.tok), Some(Tok::Punct('(')));
        let prev = k.checked_sub(1).map(|p| &toks[p].tok);
        let is_def = matches!(prev, Some(Tok::Ident(s)) if s == "fn");
        let is_method = matches!(prev, Some(Tok::Punct('.')));
        if called && !is_def && !is_method {
            found.push((t.line, name.to_string()));
        }
    }
    for m in ms.iter().filter(|m| m.imported) {
        if let Some(last) = m.segments.last()
            && PROCESS_CONTROL_CALLS.contains(&last.as_str())
        {
            found.push((m.line, last.clone()));
        }
    }
    for m in ms {
        if names(m, "Command::new") {
            found.push((m.line, "Command::new".to_string()));
        }
    }
    found
}

/// Test-only modules in one file: line ranges of inline `#[cfg(test)] mod x { … }` blocks and
/// the names of out-of-line `#[cfg(test)] mod x;` declarations.
fn cfg_test_modules(toks: &[Token]) -> (Vec<(usize, usize)>, Vec<String>) {
    let is = |k: usize, t: Tok| toks.get(k).map(|x| &x.tok) == Some(&t);
    let id = |k: usize, s: &str| toks.get(k).and_then(ident) == Some(s);
    let mut inline = Vec::new();
    let mut outline = Vec::new();
    let mut k = 0;
    while k < toks.len() {
        let attr = is(k, Tok::Punct('#'))
            && is(k + 1, Tok::Punct('['))
            && id(k + 2, "cfg")
            && is(k + 3, Tok::Punct('('))
            && id(k + 4, "test")
            && is(k + 5, Tok::Punct(')'))
            && is(k + 6, Tok::Punct(']'));
        if !attr {
            k += 1;
            continue;
        }
        let start_line = toks[k].line;
        let mut j = k + 7;
        // Further attributes and visibility before `mod`.
        loop {
            if is(j, Tok::Punct('#')) && is(j + 1, Tok::Punct('[')) {
                let mut depth = 0;
                while j < toks.len() {
                    match toks[j].tok {
                        Tok::Punct('[') => depth += 1,
                        Tok::Punct(']') => {
                            depth -= 1;
                            if depth == 0 {
                                j += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
            } else if id(j, "pub") {
                j += 1;
                if is(j, Tok::Punct('(')) {
                    while j < toks.len() && !is(j, Tok::Punct(')')) {
                        j += 1;
                    }
                    j += 1;
                }
            } else {
                break;
            }
        }
        if id(j, "mod")
            && let Some(name) = toks.get(j + 1).and_then(ident)
        {
            if is(j + 2, Tok::Punct(';')) {
                outline.push(name.to_string());
            } else if is(j + 2, Tok::Punct('{')) {
                let mut depth = 0;
                let mut e = j + 2;
                while e < toks.len() {
                    match toks[e].tok {
                        Tok::Punct('{') => depth += 1,
                        Tok::Punct('}') => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    e += 1;
                }
                let end_line = toks.get(e).map(|t| t.line).unwrap_or(usize::MAX);
                inline.push((start_line, end_line));
                k = e;
            }
        }
        k += 1;
    }
    (inline, outline)
}

/// Files (and directories) of the out-of-line test-only modules declared in `file`.
fn test_module_paths(file: &Path, names: &[String]) -> Vec<PathBuf> {
    let parent = file.parent().unwrap_or(Path::new("."));
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    let dir = if matches!(stem, "mod" | "lib" | "main") {
        parent.to_path_buf()
    } else {
        parent.join(stem)
    };
    names
        .iter()
        .flat_map(|n| [dir.join(format!("{n}.rs")), dir.join(n)])
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The scan
// ---------------------------------------------------------------------------------------------

struct Violation {
    file: String,
    line: usize,
    what: String,
    rule: &'static str,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: `{}` — {}",
            self.file, self.line, self.what, self.rule
        )
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

fn under(rel: &str, dir: &str) -> bool {
    rel.starts_with(&format!("{dir}/"))
}

/// Check one file's source, `rel` being its path relative to the crate root; `test_only` when
/// the whole file is a `#[cfg(test)]` module.
fn check_source(rel: &str, src: &str, test_only: bool) -> Vec<Violation> {
    let toks = lex(src);
    let (test_blocks, _) = cfg_test_modules(&toks);
    let in_test_code =
        |line: usize| test_only || test_blocks.iter().any(|(a, b)| (*a..=*b).contains(&line));
    let ms = mentions(&toks);
    let mut v = Vec::new();
    let mut flag = |line: usize, what: &str, rule: &'static str| {
        v.push(Violation {
            file: rel.to_string(),
            line,
            what: what.to_string(),
            rule,
        })
    };

    let core = under(rel, "src/engine") || under(rel, "src/spec");
    let parser = under(rel, "src/unit_file");
    for m in &ms {
        if core {
            for pat in CORE_FORBIDDEN {
                if names(m, pat) {
                    flag(
                        m.line,
                        pat,
                        "engine/spec are deterministic: no I/O, clock, async or D-Bus",
                    );
                }
            }
        }
        if parser {
            for pat in PARSER_FORBIDDEN {
                if names(m, pat) {
                    flag(
                        m.line,
                        pat,
                        "unit_file is a pure parser: text in, spec + diagnostics out",
                    );
                }
            }
        }
        if !core && !parser && !under(rel, "src/bus") && names(m, "zbus") {
            flag(m.line, "zbus", "zbus is used only under src/bus/");
        }
        if names(m, "tokio::process") {
            flag(
                m.line,
                "tokio::process",
                "never tokio::process: the supervisor is the one reaper",
            );
        }
    }

    if !under(rel, "src/supervisor") {
        let allowed: &[&str] = ORCHESTRATION
            .iter()
            .find(|(f, _)| *f == rel)
            .map(|(_, names)| *names)
            .unwrap_or(&[]);
        for (line, name) in process_control_uses(&toks, &ms) {
            if !allowed.contains(&name.as_str()) && !in_test_code(line) {
                flag(
                    line,
                    &name,
                    "only src/supervisor/ forks, execs, reaps and kills (see ORCHESTRATION for the demo's exception)",
                );
            }
        }
    }
    v
}

#[test]
fn layer_boundaries_hold() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    assert!(
        files.iter().any(|f| f.ends_with("src/lib.rs")),
        "scanned the crate's src/"
    );
    let sources: Vec<(PathBuf, String)> = files
        .iter()
        .map(|f| {
            let src = fs::read_to_string(f).unwrap_or_else(|e| panic!("read {}: {e}", f.display()));
            (f.clone(), src)
        })
        .collect();
    // Out-of-line `#[cfg(test)] mod x;` files (and everything below them) are test-only.
    let mut test_paths = Vec::new();
    for (f, src) in &sources {
        let (_, names) = cfg_test_modules(&lex(src));
        test_paths.extend(test_module_paths(f, &names));
    }
    let mut violations = Vec::new();
    for (f, src) in &sources {
        let rel = f
            .strip_prefix(&root)
            .expect("under the crate root")
            .to_string_lossy()
            .into_owned();
        let test_only = test_paths.iter().any(|t| f == t || f.starts_with(t));
        violations.extend(check_source(&rel, src, test_only));
    }
    if !violations.is_empty() {
        let list: Vec<String> = violations.iter().map(ToString::to_string).collect();
        panic!(
            "{} architecture violation(s):\n{}",
            list.len(),
            list.join("\n")
        );
    }
}

#[test]
fn orchestration_exceptions_name_existing_files() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for (file, _) in ORCHESTRATION {
        assert!(
            root.join(file).is_file(),
            "{file} listed in ORCHESTRATION exists"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The guard's own tests: it must catch what it claims and ignore prose.
// ---------------------------------------------------------------------------------------------

fn found(rel: &str, src: &str) -> Vec<(usize, String)> {
    check_source(rel, src, false)
        .into_iter()
        .map(|v| (v.line, v.what))
        .collect()
}

#[test]
fn guard_ignores_comments_strings_and_chars() {
    let src = r####"
//! The only place that forks: not here. Uses zbus? No.
/* nested /* tokio::spawn */ still comment std::process */
const A: &str = "std::process::Command::new(kill(1))";
const B: &str = r#"zbus::Connection "quoted" fork()"#;
const C: char = '"';
const D: u8 = b'\'';
fn f<'a>(x: &'a str) -> &'a str { x }
"####;
    assert_eq!(found("src/engine/x.rs", src), vec![]);
}

#[test]
fn guard_catches_direct_and_grouped_paths_with_lines() {
    let src = "use std::{fs, process::Command};\nuse tokio::sync::mpsc;\nfn t() { let _ = std::time::Instant::now(); }\n";
    let got = found("src/engine/x.rs", src);
    assert!(got.contains(&(1, "std::fs".into())), "{got:?}");
    assert!(got.contains(&(1, "std::process".into())), "{got:?}");
    assert!(got.contains(&(2, "tokio".into())), "{got:?}");
    assert!(got.contains(&(3, "Instant::now".into())), "{got:?}");
    // Imported but not constructed: `Command` alone is not process control.
    assert!(!got.iter().any(|(_, w)| w == "Command::new"), "{got:?}");
}

#[test]
fn guard_catches_process_control_outside_the_supervisor_only() {
    let src = "use nix::sys::signal::kill;\nfn f() { let _ = std::process::Command::new(\"x\"); libc::fork(); }\nfn g() { signal::kill(p, s).ok(); kill(p, s); }\n";
    let got = found("src/runtime/x.rs", src);
    assert!(got.contains(&(1, "kill".into())), "{got:?}");
    assert!(got.contains(&(2, "Command::new".into())), "{got:?}");
    assert!(got.contains(&(2, "fork".into())), "{got:?}");
    assert_eq!(
        got.iter()
            .filter(|f| **f == (3, "kill".to_string()))
            .count(),
        2,
        "{got:?}"
    );
    assert_eq!(found("src/supervisor/x.rs", src), vec![]);
    // The demo may orchestrate, but only with the listed names.
    let demo = found("src/demo.rs", src);
    assert_eq!(demo, vec![(2, "fork".to_string())], "{demo:?}");
}

#[test]
fn guard_ignores_definitions_fields_and_method_calls_named_like_syscalls() {
    let src = "struct S { kill: u8 }\nimpl S { fn kill(&self) {} fn kill_unit(&self) {} }\nfn h(s: &S) -> u8 { s.kill(); s.kill }\n";
    assert_eq!(found("src/engine/x.rs", src), vec![]);
    // The runtime hands kill requests to the supervisor: delegation, not process control.
    let src = "fn run(&mut self) { let r = self.supervisor.kill(&req); }\n";
    assert_eq!(found("src/runtime/manager.rs", src), vec![]);
}

#[test]
fn guard_lets_test_code_orchestrate_but_keeps_the_import_rules() {
    let src = "fn prod() {}\n#[cfg(test)]\nmod tests {\n    fn t() { std::process::Command::new(\"dbus-daemon\"); }\n}\nfn late() { libc::fork(); }\n";
    assert_eq!(found("src/bus/x.rs", src), vec![(6, "fork".to_string())]);
    let (inline, outline) =
        cfg_test_modules(&lex("#[cfg(test)]\n#[allow(x)]\npub(crate) mod a_tests;\n"));
    assert!(inline.is_empty());
    assert_eq!(outline, ["a_tests"]);
    assert_eq!(
        test_module_paths(Path::new("src/bus/mod.rs"), &outline),
        [
            PathBuf::from("src/bus/a_tests.rs"),
            PathBuf::from("src/bus/a_tests")
        ]
    );
    assert_eq!(
        test_module_paths(Path::new("src/engine.rs"), &outline)[0],
        PathBuf::from("src/engine/a_tests.rs")
    );
    // A whole test-only file may spawn, but not bring zbus into the engine.
    let src = "fn t() { std::process::Command::new(\"x\"); let _ = zbus::Address::default(); }\n";
    let got: Vec<String> = check_source("src/engine/tests.rs", src, true)
        .into_iter()
        .map(|v| v.what)
        .collect();
    assert_eq!(got, ["std::process", "zbus"], "{got:?}");
}

#[test]
fn guard_allows_compile_time_env_consts_in_the_parser() {
    let src =
        "fn a() -> &'static str { std::env::consts::ARCH }\nfn b() { std::env::var(\"X\"); }\n";
    assert_eq!(
        found("src/unit_file/x.rs", src),
        vec![(2, "std::env".to_string())]
    );
}

#[test]
fn guard_restricts_zbus_to_bus_and_tokio_process_everywhere() {
    let src = "use zbus::Connection;\nuse tokio::process::Command;\n";
    let got = found("src/runtime/x.rs", src);
    assert!(got.contains(&(1, "zbus".into())), "{got:?}");
    assert!(got.contains(&(2, "tokio::process".into())), "{got:?}");
    let got = found("src/bus/x.rs", src);
    assert_eq!(got, vec![(2, "tokio::process".to_string())], "{got:?}");
}

#[test]
fn guard_checks_the_parser_rules() {
    let src = "fn f() { let _ = std::env::var(\"X\"); let _ = std::fs::read(\"/\"); }\n";
    let got = found("src/unit_file/x.rs", src);
    assert!(got.contains(&(1, "std::env".into())), "{got:?}");
    assert!(got.contains(&(1, "std::fs".into())), "{got:?}");
    // std::env is fine in the engine's rules (not listed), std::fs is not.
    let got = found("src/engine/x.rs", src);
    assert_eq!(got, vec![(1, "std::fs".to_string())], "{got:?}");
}
