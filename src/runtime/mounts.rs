//! The runtime side of mount units: whether a path is a mount point now (read from
//! `/proc/self/mountinfo`, the manager's own mount namespace) and creating a mount point
//! before `mount` runs, as systemd does (`mkdir -p` with `DirectoryMode=`; a failure is only
//! logged — `mount` reports the real error).

use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

/// Whether `path` is the mount point of some entry of the mountinfo text `mountinfo`.
pub fn mountinfo_has(mountinfo: &str, path: &Path) -> bool {
    crate::conditions::mount_points(mountinfo)
        .iter()
        .any(|mp| Path::new(mp) == path)
}

/// Whether `path` is a mount point in the manager's mount namespace now.
pub fn is_mount_point(path: &Path) -> bool {
    match std::fs::read_to_string("/proc/self/mountinfo") {
        Ok(text) => mountinfo_has(&text, path),
        Err(e) => {
            tracing::warn!("cannot read /proc/self/mountinfo: {e}");
            false
        }
    }
}

/// Create `path` and its missing parents with `mode` (errors are logged, not fatal).
pub fn create_mount_point(path: &Path, mode: u32) {
    if path.is_dir() {
        return;
    }
    if let Err(e) = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(path)
    {
        tracing::debug!("Failed to create mount point {}: {e}", path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_mount_points_with_escapes() {
        let text = "22 1 0:21 / /proc rw,nosuid - proc proc rw\n\
                    40 22 0:35 / /tmp/a\\040b rw - tmpfs tmpfs rw\n";
        assert!(mountinfo_has(text, Path::new("/proc")));
        assert!(mountinfo_has(text, Path::new("/tmp/a b")));
        assert!(!mountinfo_has(text, Path::new("/tmp/a")));
        assert!(!mountinfo_has(text, Path::new("/")));
    }
}
