//! systemd unit files → [`spec::UnitSpec`](crate::spec::UnitSpec). Pure: text in, spec and
//! diagnostics out; no file system, clock or environment.
//!
//! Two stages, as systemd 252 reads them:
//! 1. [`lexer`]: the INI dialect of `conf-parser.c` (BOM, line ends, comments, continuations,
//!    sections) → `(section, key, value, line)` entries;
//! 2. `lower`: a `(section, key) → setter` table lowering entries into the spec, with
//!    [`words`] (quoting and escapes), [`specifier`] (`%` expansion), [`exec`] (command lines)
//!    and [`values`] (booleans, time spans, signals, limits, …), followed by systemd's load-time
//!    defaults and `service_verify`.
//!
//! The fragment and its drop-ins go through the same lowering state, in order, so an empty
//! assignment in a drop-in resets a list the fragment filled. The file system side (search
//! path, which drop-ins, masks, aliases) is [`crate::loader`]'s.

pub mod exec;
pub mod lexer;
mod lower;
pub mod specifier;
pub mod values;
pub mod words;

use std::path::{Path, PathBuf};

use crate::spec::{Diagnostic, LoadState, Severity, UnitName, UnitSpec, UnitType};

pub use lower::{is_sandbox_key, parse_listen};
pub use specifier::{SpecifierContext, SpecifierError, SpecifierSet};

/// The result of parsing one unit (fragment plus drop-ins).
#[derive(Debug, Clone)]
pub struct ParsedUnit {
    /// The settings. Complete and validated when `load_state` is `Loaded`; otherwise what could
    /// be read before the failure (callers usually replace it with defaults).
    pub spec: UnitSpec,
    /// `Loaded`, `BadSetting` (an invalid setting or `service_verify` failed) or `Error` (a fatal
    /// syntax error such as an invalid section header).
    pub load_state: LoadState,
    /// For `Error`: the reason in systemd's words (`Bad message`, `No buffer space available`).
    pub error: Option<String>,
    /// Everything found, in file order (fragment first, then drop-ins as applied).
    pub diagnostics: Vec<Diagnostic>,
}

impl ParsedUnit {
    /// True if any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
}

/// The sections valid in a unit file of type `t` (others are ignored with a warning).
pub fn sections_for(t: UnitType) -> Vec<&'static str> {
    let mut v = vec!["Unit"];
    if let Some(s) = t.section() {
        v.push(s);
    }
    v.push("Install");
    v
}

/// Parse the unit `name` from its fragment (`(path, contents)`) and drop-ins (applied after the
/// fragment, in the given order). `ctx` supplies the specifier values. A missing fragment means
/// "drop-ins only" (e.g. a slice without a file).
pub fn parse_unit(
    name: &UnitName,
    fragment: Option<(&Path, &[u8])>,
    dropins: &[(PathBuf, Vec<u8>)],
    ctx: &SpecifierContext,
) -> ParsedUnit {
    let sections = sections_for(name.unit_type());
    let mut low = lower::Lower::new(name, fragment.map(|(p, _)| p), ctx);
    let files = fragment
        .into_iter()
        .chain(dropins.iter().map(|(p, t)| (p.as_path(), t.as_slice())));
    let mut fatal = None;
    for (path, text) in files {
        low.set_file(path);
        let doc = lexer::lex(text, &sections);
        let mut lex_diags = doc.diagnostics.into_iter().peekable();
        for entry in &doc.entries {
            // Keep diagnostics in line order: lexer findings up to this entry first.
            while let Some(d) = lex_diags.next_if(|d| d.line <= entry.line) {
                low.push(d.line, d.severity, d.message);
            }
            low.apply(entry);
        }
        for d in lex_diags {
            low.push(d.line, d.severity, d.message);
        }
        if doc.fatal.is_some() {
            fatal = doc.fatal;
            break;
        }
    }
    let (spec, diagnostics, bad_setting) = low.finish(fatal.is_none());
    let load_state = if fatal.is_some() {
        LoadState::Error
    } else if bad_setting {
        LoadState::BadSetting
    } else {
        LoadState::Loaded
    };
    ParsedUnit {
        spec,
        load_state,
        error: fatal,
        diagnostics,
    }
}

/// Resolve the `[Install]` specifiers (`%a %b %B %g %G %H %i %j %l %m %n %N %o %p %u %U %v %w
/// %W %%`) in `text` for unit `name` — for the install verbs, which know the instance.
pub fn expand_install_specifiers(
    text: &str,
    name: &UnitName,
    ctx: &SpecifierContext,
) -> Result<String, SpecifierError> {
    specifier::expand(
        text,
        SpecifierSet::Install,
        specifier::UnitInfo {
            name,
            fragment: None,
        },
        ctx,
    )
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod tests_sandbox;
