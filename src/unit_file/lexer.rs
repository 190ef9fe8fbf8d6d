//! Stage 1 of the unit-file parser: systemd 252's INI dialect (`conf-parser.c`) → a flat list of
//! `(section, key, value, line)` entries plus diagnostics.
//!
//! Rules, one by one (service contract §5.1):
//! * a UTF-8 BOM at the start of the file is dropped;
//! * lines end at LF, CR, CRLF or NUL;
//! * a line whose first non-whitespace character is `#` or `;` is a comment (also inside a
//!   continuation, where it is skipped entirely); there are no inline comments;
//! * a line ending in an odd number of backslashes continues on the next line, the final
//!   backslash replaced by a space; the entry carries the number of the last physical line;
//! * `[Section]` must be the whole stripped line; anything else starting with `[` is a fatal
//!   "Invalid section header" (the unit fails to load);
//! * unknown sections warn and their contents are ignored; `X-` sections are ignored silently;
//! * an assignment before any section warns; a line without `=` warns;
//! * whitespace around the key and the value is stripped; keys are case-sensitive;
//! * lines that are not valid UTF-8 are warned about and ignored;
//! * a logical line longer than 1 MiB is fatal ("Line too long").

use crate::spec::Severity;

/// systemd's `LONG_LINE_MAX`.
pub const LONG_LINE_MAX: usize = 1024 * 1024;

/// One `Key=Value` assignment in a known section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Section name as written (`Unit`, `Service`, …).
    pub section: String,
    /// Key, stripped.
    pub key: String,
    /// Value, stripped (may be empty: an empty assignment).
    pub value: String,
    /// 1-based line number (the last physical line of a continued line).
    pub line: u32,
}

/// A lexer finding, without the file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexDiagnostic {
    /// 1-based line.
    pub line: u32,
    /// Warnings are ignored lines; errors are fatal (see [`Document::fatal`]).
    pub severity: Severity,
    /// Message.
    pub message: String,
}

/// The result of lexing one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    /// Assignments of known sections, in file order. After a fatal error only the entries before
    /// it are present.
    pub entries: Vec<Entry>,
    /// Everything reported, in order.
    pub diagnostics: Vec<LexDiagnostic>,
    /// The reason the file cannot be used (systemd's errno text, e.g. `Bad message`), if a
    /// fatal syntax error stopped lexing.
    pub fatal: Option<String>,
}

const WS: &[u8] = b" \t\n\r";

fn strip(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|c| !WS.contains(c)).unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !WS.contains(c))
        .map_or(start, |e| e + 1);
    &b[start..end.max(start)]
}

struct Lexer<'a> {
    sections: &'a [&'a str],
    doc: Document,
    section: Option<String>,
    section_ignored: bool,
}

impl Lexer<'_> {
    fn diag(&mut self, line: u32, severity: Severity, message: String) {
        self.doc.diagnostics.push(LexDiagnostic {
            line,
            severity,
            message,
        });
    }

    /// Handle one logical line; `Err` carries the fatal reason.
    fn parse_line(&mut self, line: u32, raw: &[u8]) -> Result<(), String> {
        let l = strip(raw);
        if l.is_empty() {
            return Ok(());
        }
        let Ok(l) = std::str::from_utf8(l) else {
            self.diag(
                line,
                Severity::Warning,
                "Line is not valid UTF-8, ignoring.".into(),
            );
            return Ok(());
        };
        if l.starts_with('[') {
            if !l.ends_with(']') || l.len() < 2 {
                self.diag(
                    line,
                    Severity::Error,
                    format!("Invalid section header '{l}'"),
                );
                return Err("Bad message".into());
            }
            let name = &l[1..l.len() - 1];
            if !super::values::string_is_safe(name) {
                self.diag(
                    line,
                    Severity::Error,
                    format!("Bad characters in section header '{l}'"),
                );
                return Err("Bad message".into());
            }
            if self.sections.contains(&name) {
                self.section = Some(name.to_owned());
                self.section_ignored = false;
            } else {
                if !name.starts_with("X-") {
                    self.diag(
                        line,
                        Severity::Warning,
                        format!("Unknown section '{name}'. Ignoring."),
                    );
                }
                self.section = None;
                self.section_ignored = true;
            }
            return Ok(());
        }
        let Some(section) = self.section.clone() else {
            if !self.section_ignored {
                self.diag(
                    line,
                    Severity::Warning,
                    "Assignment outside of section. Ignoring.".into(),
                );
            }
            return Ok(());
        };
        let Some((key, value)) = l.split_once('=') else {
            self.diag(
                line,
                Severity::Warning,
                "Missing '=', ignoring line.".into(),
            );
            return Ok(());
        };
        if key.is_empty() {
            self.diag(
                line,
                Severity::Warning,
                "Missing key name before '=', ignoring line.".into(),
            );
            return Ok(());
        }
        let key = std::str::from_utf8(strip(key.as_bytes())).unwrap_or_default();
        let value = std::str::from_utf8(strip(value.as_bytes())).unwrap_or_default();
        self.doc.entries.push(Entry {
            section,
            key: key.to_owned(),
            value: value.to_owned(),
            line,
        });
        Ok(())
    }
}

/// Split `text` into physical lines at LF, CR, CRLF or NUL.
fn physical_lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= text.len() {
            return None;
        }
        let rest = &text[pos..];
        match rest
            .iter()
            .position(|&c| c == b'\n' || c == b'\r' || c == 0)
        {
            Some(end) => {
                let mut next = pos + end + 1;
                if rest[end] == b'\r' && rest.get(end + 1) == Some(&b'\n') {
                    next += 1;
                }
                pos = next;
                Some(&rest[..end])
            }
            None => {
                pos = text.len();
                Some(rest)
            }
        }
    })
}

/// Lex `text`. `sections` are the section names valid for the unit type; others are ignored
/// (with a warning unless they start with `X-`).
pub fn lex(text: &[u8], sections: &[&str]) -> Document {
    let text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text);
    let mut lx = Lexer {
        sections,
        doc: Document::default(),
        section: None,
        section_ignored: false,
    };
    let mut continuation: Option<Vec<u8>> = None;
    let mut line_no: u32 = 0;
    for raw in physical_lines(text) {
        line_no = line_no.saturating_add(1);
        if raw.len() > LONG_LINE_MAX {
            lx.diag(line_no, Severity::Error, "Line too long".into());
            lx.doc.fatal = Some("No buffer space available".into());
            return lx.doc;
        }
        let first = raw.iter().find(|c| !WS.contains(c));
        if matches!(first, Some(b'#' | b';')) {
            continue;
        }
        let mut logical = match continuation.take() {
            Some(mut c) => {
                if c.len() + raw.len() > LONG_LINE_MAX {
                    lx.diag(
                        line_no,
                        Severity::Error,
                        "Continuation line too long".into(),
                    );
                    lx.doc.fatal = Some("No buffer space available".into());
                    return lx.doc;
                }
                c.extend_from_slice(raw);
                c
            }
            None => raw.to_vec(),
        };
        let trailing = logical.iter().rev().take_while(|&&c| c == b'\\').count();
        if trailing % 2 == 1 {
            let last = logical.len() - 1;
            logical[last] = b' ';
            continuation = Some(logical);
            continue;
        }
        if let Err(reason) = lx.parse_line(line_no, &logical) {
            lx.doc.fatal = Some(reason);
            return lx.doc;
        }
    }
    if let Some(c) = continuation
        && let Err(reason) = lx.parse_line(line_no, &c)
    {
        lx.doc.fatal = Some(reason);
    }
    lx.doc
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVICE: &[&str] = &["Unit", "Service", "Install"];

    fn entries(text: &str) -> Vec<(String, String, String, u32)> {
        let d = lex(text.as_bytes(), SERVICE);
        assert_eq!(d.fatal, None, "{:?}", d.diagnostics);
        d.entries
            .into_iter()
            .map(|e| (e.section, e.key, e.value, e.line))
            .collect()
    }

    fn e(s: &str, k: &str, v: &str, l: u32) -> (String, String, String, u32) {
        (s.into(), k.into(), v.into(), l)
    }

    fn messages(d: &Document) -> Vec<(u32, String)> {
        d.diagnostics
            .iter()
            .map(|d| (d.line, d.message.clone()))
            .collect()
    }

    #[test]
    fn bom_is_stripped() {
        assert_eq!(
            entries("\u{feff}[Unit]\nDescription=x\n"),
            [e("Unit", "Description", "x", 2)]
        );
    }

    #[test]
    fn line_endings_lf_cr_crlf_nul() {
        assert_eq!(
            entries("[Unit]\r\nA=1\rB=2\nC=3\0D=4"),
            [
                e("Unit", "A", "1", 2),
                e("Unit", "B", "2", 3),
                e("Unit", "C", "3", 4),
                e("Unit", "D", "4", 5),
            ]
        );
    }

    #[test]
    fn comments_only_at_line_start() {
        assert_eq!(
            entries("# c\n; c\n[Unit]\n   # indented comment\nA=1 # not a comment\nB=x;y\n"),
            [
                e("Unit", "A", "1 # not a comment", 5),
                e("Unit", "B", "x;y", 6)
            ]
        );
    }

    #[test]
    fn continuation_lines() {
        // Trailing backslash becomes a space; leading whitespace of the next line is kept; the
        // entry gets the last line's number.
        assert_eq!(
            entries("[Service]\nExecStart=/bin/echo a \\\n  b\n"),
            [e("Service", "ExecStart", "/bin/echo a    b", 3)]
        );
        // Comment lines inside a continuation are skipped (seed from §5.1).
        assert_eq!(
            entries("[Service]\nEnvironment=B=\\\n# comment\n  continued\n"),
            [e("Service", "Environment", "B=   continued", 4)]
        );
        // An even number of backslashes does not continue.
        assert_eq!(
            entries("[Unit]\nA=x\\\\\nB=y\n"),
            [e("Unit", "A", "x\\\\", 2), e("Unit", "B", "y", 3)]
        );
        // A continuation at end of file is still parsed.
        assert_eq!(entries("[Unit]\nA=x\\"), [e("Unit", "A", "x", 2)]);
    }

    #[test]
    fn invalid_section_header_is_fatal() {
        let d = lex(
            b"[Unit]\nA=1\n[Service] # c\nExecStart=/bin/true\n",
            SERVICE,
        );
        assert_eq!(d.fatal.as_deref(), Some("Bad message"));
        assert_eq!(d.entries.len(), 1);
        assert_eq!(
            messages(&d),
            [(3, "Invalid section header '[Service] # c'".to_owned())]
        );
        assert_eq!(d.diagnostics[0].severity, Severity::Error);
        let d = lex(b"[Unit\n", SERVICE);
        assert!(d.fatal.is_some());
        let d = lex(b"[Un\"it]\n", SERVICE);
        assert!(d.fatal.is_some());
    }

    #[test]
    fn unknown_and_extension_sections() {
        let d = lex(
            b"[Foo]\nA=1\n[X-Mine]\nB=2\nnoequals\n[Unit]\nC=3\n",
            SERVICE,
        );
        assert_eq!(d.fatal, None);
        assert_eq!(d.entries.len(), 1);
        assert_eq!(d.entries[0].key, "C");
        assert_eq!(
            messages(&d),
            [(1, "Unknown section 'Foo'. Ignoring.".to_owned())]
        );
    }

    #[test]
    fn assignment_outside_section_and_missing_equals() {
        let d = lex(b"A=1\n[Unit]\nnoequals\n=value\n", SERVICE);
        assert_eq!(d.entries.len(), 0);
        assert_eq!(
            messages(&d),
            [
                (1, "Assignment outside of section. Ignoring.".to_owned()),
                (3, "Missing '=', ignoring line.".to_owned()),
                (4, "Missing key name before '=', ignoring line.".to_owned()),
            ]
        );
    }

    #[test]
    fn whitespace_around_equals_and_case() {
        assert_eq!(
            entries("[Unit]\n  Description  =   spaced value  \nenvironment=x\nEmpty=\n"),
            [
                e("Unit", "Description", "spaced value", 2),
                e("Unit", "environment", "x", 3),
                e("Unit", "Empty", "", 4),
            ]
        );
    }

    #[test]
    fn section_names_are_exact() {
        let d = lex(b"[ Unit ]\nA=1\n[unit]\nB=2\n", SERVICE);
        assert!(d.entries.is_empty());
        assert_eq!(d.diagnostics.len(), 2);
    }

    #[test]
    fn invalid_utf8_lines_are_skipped() {
        let d = lex(b"[Unit]\nA=\xff\xfe\nB=ok\n", SERVICE);
        assert_eq!(d.entries.len(), 1);
        assert_eq!(d.entries[0].key, "B");
        assert_eq!(d.diagnostics[0].line, 2);
    }

    #[test]
    fn too_long_line_is_fatal() {
        let mut text = b"[Unit]\nA=".to_vec();
        text.extend(std::iter::repeat_n(b'x', LONG_LINE_MAX + 1));
        let d = lex(&text, SERVICE);
        assert_eq!(d.fatal.as_deref(), Some("No buffer space available"));
    }
}
