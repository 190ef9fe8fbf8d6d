//! `unitd check FILE...`: lint unit files the way `systemd-analyze verify` does.
//!
//! Each file is parsed as the unit its file name says (a template `foo@.service` as the
//! instance `foo@test_instance.service`), with the drop-ins of `<file>.d/*.conf` next to it.
//! Every diagnostic is printed to **stderr** as `file:line: message` (`file: message` when it
//! concerns the whole file). Like `systemd-analyze verify`, commands of a service that loaded
//! are checked for being executable (absolute paths directly, bare names in the default
//! `PATH`), unless they have the `-` prefix. The exit status is 1 if any file has an error
//! (unreadable, invalid name, masked, bad setting, fatal syntax error, missing command),
//! otherwise 0 — warnings alone do not fail. Upstart job files (`*.conf`) are checked as jobs
//! ([`check_job_file`]). Sandboxing settings the manager could not enforce (as root when
//! `unitd check` runs as root, else as an unprivileged manager) are warnings at the line that
//! set them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::settings::{Scope, Settings};
use crate::spec::{Diagnostic, KindSpec, LoadState, Severity, UnitName};
use crate::unit_file::{self, SpecifierContext};

use super::unenforced::{enforcer_for_uid, source_keys, spec_unenforced_keys};
use super::{errno_text, null_or_empty};
use crate::spec::sandbox::Enforcer;

/// The compile-time default `PATH` bare command names are resolved against.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The findings for one file.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// Diagnostics in order.
    pub diagnostics: Vec<Diagnostic>,
    /// True if the file would not load or has an error.
    pub failed: bool,
}

fn whole_file(path: &Path, severity: Severity, message: String) -> Diagnostic {
    Diagnostic {
        file: path.to_path_buf(),
        line: 0,
        severity,
        message,
    }
}

fn executable(path: &Path) -> Result<(), String> {
    use nix::unistd::{AccessFlags, access};
    let meta = std::fs::metadata(path).map_err(|e| errno_text(&e))?;
    if meta.is_dir() {
        return Err("Is a directory".into());
    }
    access(path, AccessFlags::X_OK).map_err(|e| e.desc().to_owned())
}

fn find_in_default_path(name: &str) -> Result<PathBuf, String> {
    let mut last = "No such file or directory".to_owned();
    for dir in DEFAULT_PATH.split(':') {
        let p = Path::new(dir).join(name);
        match executable(&p) {
            Ok(()) => return Ok(p),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Check one unit file with the specifier values in `ctx`, reporting the sandboxing settings
/// a manager running as this process's user could not enforce.
pub fn check_file(path: &Path, ctx: &SpecifierContext) -> CheckReport {
    check_file_as(path, ctx, enforcer_for_uid(nix::unistd::geteuid().as_raw()))
}

/// [`check_file`] for a manager that is `enforcer`: every sandboxing setting it could not
/// enforce is a warning at the line that set it (the last one, drop-ins included).
pub fn check_file_as(path: &Path, ctx: &SpecifierContext, enforcer: Enforcer) -> CheckReport {
    let mut report = CheckReport {
        diagnostics: Vec::new(),
        failed: false,
    };
    let fail = |report: &mut CheckReport, message: String| {
        report.failed = true;
        report
            .diagnostics
            .push(whole_file(path, Severity::Error, message));
    };
    let file_name = path
        .file_name()
        .and_then(|f| f.to_str())
        .unwrap_or_default();
    let name = match UnitName::new(file_name) {
        Ok(n) if n.is_template() => match n.with_instance("test_instance") {
            Ok(i) => i,
            Err(e) => {
                fail(
                    &mut report,
                    format!("Invalid unit name \"{file_name}\": {e}"),
                );
                return report;
            }
        },
        Ok(n) => n,
        Err(e) => {
            fail(
                &mut report,
                format!("Invalid unit name \"{file_name}\": {e}"),
            );
            return report;
        }
    };
    let text = match std::fs::metadata(path) {
        Ok(m) if null_or_empty(&m) => {
            fail(&mut report, format!("Unit {name} is masked."));
            return report;
        }
        Ok(_) => match std::fs::read(path) {
            Ok(t) => t,
            Err(e) => {
                fail(&mut report, format!("Failed to read: {}", errno_text(&e)));
                return report;
            }
        },
        Err(e) => {
            fail(&mut report, format!("Failed to open: {}", errno_text(&e)));
            return report;
        }
    };
    let mut dropins = Vec::new();
    let dropin_dir = PathBuf::from(format!("{}.d", path.display()));
    if let Ok(rd) = std::fs::read_dir(&dropin_dir) {
        let mut files: Vec<PathBuf> = rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|f| f.to_str())
                    .is_some_and(|f| f.ends_with(".conf") && !f.starts_with('.'))
            })
            .collect();
        files.sort();
        for f in files {
            match std::fs::metadata(&f) {
                Ok(m) if null_or_empty(&m) => {}
                Ok(_) => match std::fs::read(&f) {
                    Ok(t) => dropins.push((f, t)),
                    Err(e) => fail(
                        &mut report,
                        format!("Failed to read drop-in {}: {}", f.display(), errno_text(&e)),
                    ),
                },
                Err(e) => fail(
                    &mut report,
                    format!("Failed to open drop-in {}: {}", f.display(), errno_text(&e)),
                ),
            }
        }
    }
    let parsed = unit_file::parse_unit(&name, Some((path, &text)), &dropins, ctx);
    let loaded = parsed.load_state == LoadState::Loaded;
    report.failed |= !loaded || parsed.has_errors();
    report.diagnostics.extend(parsed.diagnostics);
    if loaded {
        check_commands(path, &parsed.spec, &mut report);
        let files: Vec<(&Path, &[u8])> = std::iter::once((path, text.as_slice()))
            .chain(dropins.iter().map(|(p, t)| (p.as_path(), t.as_slice())))
            .collect();
        report_unenforced(&name, &parsed.spec, &files, enforcer, &mut report);
    }
    report
}

/// One warning per sandboxing setting `enforcer` could not enforce, at the last line of
/// `files` (fragment, then drop-ins) assigning it.
fn report_unenforced(
    name: &UnitName,
    spec: &crate::spec::UnitSpec,
    files: &[(&Path, &[u8])],
    enforcer: Enforcer,
    report: &mut CheckReport,
) {
    let keys = spec_unenforced_keys(spec, enforcer);
    if keys.is_empty() {
        return;
    }
    let sections = unit_file::sections_for(name.unit_type());
    let docs: Vec<(&Path, Vec<unit_file::lexer::Entry>)> = files
        .iter()
        .map(|(p, t)| (*p, unit_file::lexer::lex(t, &sections).entries))
        .collect();
    let who = if enforcer.privileged {
        "a manager running as root"
    } else {
        "a manager running without root"
    };
    for item in keys {
        let sources = source_keys(&item);
        let at = docs
            .iter()
            .flat_map(|(p, entries)| entries.iter().map(move |e| (*p, e)))
            .rfind(|(_, e)| sources.contains(&e.key.as_str()));
        let (file, line) = at.map_or((files[0].0, 0), |(p, e)| (p, e.line));
        report.diagnostics.push(Diagnostic {
            file: file.to_path_buf(),
            line,
            severity: Severity::Warning,
            message: format!("{name}: not enforced by {who}: {item}"),
        });
    }
}

/// Check an Upstart job file (`*.conf`, with the `.override` next to it): every parse error
/// fails, unsupported stanzas warn, and directly executed commands must be executable.
pub fn check_job_file(path: &Path) -> CheckReport {
    let mut report = CheckReport {
        diagnostics: Vec::new(),
        failed: false,
    };
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) => {
            report.failed = true;
            report.diagnostics.push(whole_file(
                path,
                Severity::Error,
                format!("Failed to read: {}", errno_text(&e)),
            ));
            return report;
        }
    };
    let job = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_owned();
    let ovr_path = crate::job_file::override_path(path);
    let ovr = std::fs::read(&ovr_path).ok();
    let parsed = crate::job_file::parse_job(
        &job,
        (path, &text),
        ovr.as_deref().map(|t| (ovr_path.as_path(), t)),
    );
    report.failed |= !parsed.ok;
    report.diagnostics.extend(parsed.diagnostics);
    let unit = crate::job_file::unit_name_for_job(&job);
    if parsed.ok
        && let Ok(name) = UnitName::new(&unit)
    {
        let spec = crate::job_file::lower(&parsed.job, &name);
        check_commands(path, &spec, &mut report);
    }
    report
}

/// `systemd-analyze verify`'s executable check for every command of a loaded service.
fn check_commands(path: &Path, spec: &crate::spec::UnitSpec, report: &mut CheckReport) {
    let fail = |report: &mut CheckReport, message: String| {
        report.failed = true;
        report
            .diagnostics
            .push(whole_file(path, Severity::Error, message));
    };
    if let KindSpec::Service(s) = &spec.kind {
        let lists = [
            &s.exec_condition,
            &s.exec_start_pre,
            &s.exec_start,
            &s.exec_start_post,
            &s.exec_reload,
            &s.exec_stop,
            &s.exec_stop_post,
        ];
        for cmd in lists.into_iter().flatten() {
            if cmd.flags.ignore_failure {
                continue;
            }
            let res = if cmd.path.starts_with('/') {
                executable(Path::new(&cmd.path))
            } else {
                find_in_default_path(&cmd.path).map(|_| ())
            };
            if let Err(e) = res {
                fail(
                    report,
                    format!("Command {} is not executable: {e}", cmd.path),
                );
            }
        }
    }
}

/// `unitd check FILE...`: print diagnostics to stderr; exit 1 if any file has an error.
pub fn check_command(files: &[PathBuf]) -> ExitCode {
    let scope = if nix::unistd::getuid().is_root() {
        Scope::System
    } else {
        Scope::User
    };
    let settings = Settings::resolve(scope, Vec::new(), None, None);
    let ctx = super::context::specifier_context(&settings);
    let mut failed = false;
    let mut err = std::io::stderr().lock();
    for f in files {
        let report = if f.extension().is_some_and(|e| e == "conf") {
            check_job_file(f)
        } else {
            check_file(f, &ctx)
        };
        for d in &report.diagnostics {
            let _ = writeln!(err, "{d}");
        }
        failed |= report.failed;
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
