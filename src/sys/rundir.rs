//! Files in our run directory (`/run/ifupdown-ovs`): the hook's batch records and
//! the agent's announcer pidfile and log.
//!
//! Why this module: the names in that directory are predictable (`up.PID.START`,
//! `IFACE.announce.log`), and the hook and the agent run as root, often with
//! whatever umask their caller had (a umask of 000 used to give a 0777 directory and
//! 0666 files). Anybody who can write in the directory could then plant a symlink
//! and make root write through it, or forge a record. So:
//!
//! - the directory is created with mode [`DIR_MODE`] (0700) and files with
//!   [`FILE_MODE`] (0600), whatever the umask (modes are set explicitly, not left to
//!   the umask);
//! - before anything is created or trusted there, the directory is checked
//!   ([`check_dir`]): a real directory (not a symlink), owned by our effective uid
//!   (root), not writable by group or others. A directory that fails is refused with
//!   [`RunDirError::Unsafe`]; callers then do without it (the hook takes its
//!   unbatched path, the agent does not announce);
//! - files are never opened through a symlink (`O_NOFOLLOW`), new files are created
//!   with `O_EXCL`, and a file that readers must see whole is written under a
//!   temporary name in the same directory and renamed;
//! - a file is trusted (read) only if it is a regular file owned by us and not
//!   writable by group or others ([`read_trusted`]), and reads are capped
//!   ([`MAX_READ`]).
//!
//! Once the directory passes the check only root can add or replace entries in it,
//! so checking it before use (not with `openat`) is enough.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Mode of the run directory and of the directories we create in it.
pub const DIR_MODE: u32 = 0o700;
/// Mode of every file we create there.
pub const FILE_MODE: u32 = 0o600;
/// The most we read from one of our files (records and logs are small).
pub const MAX_READ: u64 = 1 << 20;

/// Why the run directory or one of its files is not used.
#[derive(Debug, thiserror::Error)]
pub enum RunDirError {
    /// Creating, opening, reading or writing failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Not a real directory (a symlink, a file).
    #[error("{}: refused: not a directory (a symlink or another file is there)", path.display())]
    NotDirectory { path: PathBuf },
    /// Not a regular file (a symlink, a directory, a device).
    #[error("{}: refused: not a regular file", path.display())]
    NotFile { path: PathBuf },
    /// Owned by somebody else, or writable by group or others.
    #[error(
        "{}: refused: owned by uid {uid} with mode {mode:04o}; it must be owned by uid {want} \
         and not writable by group or others (remove it, or `chown {want} / chmod go-w` it)",
        path.display()
    )]
    Unsafe {
        path: PathBuf,
        uid: u32,
        mode: u32,
        want: u32,
    },
}

impl RunDirError {
    /// As an `io::Error`, for callers whose errors carry one.
    pub fn into_io(self) -> std::io::Error {
        let kind = match &self {
            RunDirError::Io { source, .. } => source.kind(),
            _ => std::io::ErrorKind::PermissionDenied,
        };
        std::io::Error::new(kind, self)
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RunDirError + '_ {
    move |source| RunDirError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn euid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

/// Owned by us and not writable by group or others.
fn check_owner(path: &Path, m: &std::fs::Metadata) -> Result<(), RunDirError> {
    let mode = m.mode() & 0o7777;
    let want = euid();
    if m.uid() != want || mode & 0o022 != 0 {
        return Err(RunDirError::Unsafe {
            path: path.to_path_buf(),
            uid: m.uid(),
            mode,
            want,
        });
    }
    Ok(())
}

/// Check `dir` (see the module documentation) without creating it.
pub fn check_dir(dir: &Path) -> Result<(), RunDirError> {
    let m = std::fs::symlink_metadata(dir).map_err(io(dir))?;
    if !m.file_type().is_dir() {
        return Err(RunDirError::NotDirectory {
            path: dir.to_path_buf(),
        });
    }
    check_owner(dir, &m)
}

/// Create `dir` (and missing parents) with mode [`DIR_MODE`] if needed, then
/// [`check_dir`] it.
pub fn ensure_dir(dir: &Path) -> Result<(), RunDirError> {
    match std::fs::symlink_metadata(dir) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o755)
                    .create(parent)
                    .map_err(io(parent))?;
            }
            match std::fs::DirBuilder::new().mode(DIR_MODE).create(dir) {
                Ok(()) => {
                    // the umask may only have taken bits away; set exactly DIR_MODE
                    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(DIR_MODE))
                        .map_err(io(dir))?;
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io(dir)(e)),
            }
        }
        Err(e) => return Err(io(dir)(e)),
    }
    check_dir(dir)
}

/// Create a directory `path` (inside a checked directory) with mode [`DIR_MODE`];
/// it must not exist.
pub fn create_subdir(path: &Path) -> Result<(), RunDirError> {
    std::fs::DirBuilder::new()
        .mode(DIR_MODE)
        .create(path)
        .map_err(io(path))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(DIR_MODE)).map_err(io(path))
}

fn nofollow() -> i32 {
    nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC
}

/// Create the new file `path` (`O_EXCL`, never through a symlink) with mode
/// [`FILE_MODE`], open for writing.
pub fn create_new(path: &Path) -> Result<File, RunDirError> {
    let f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .custom_flags(nofollow())
        .open(path)
        .map_err(io(path))?;
    // the umask may only have taken bits away; set exactly FILE_MODE
    f.set_permissions(std::fs::Permissions::from_mode(FILE_MODE))
        .map_err(io(path))?;
    Ok(f)
}

/// Replace `path` by a new file created with [`create_new`] (whatever was there,
/// a symlink included, is removed, not followed).
pub fn replace(path: &Path) -> Result<File, RunDirError> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(path)(e)),
    }
    create_new(path)
}

/// Write `contents` to `path` whole: into a new temporary file next to it, then
/// renamed over it (a symlink at `path` is replaced, not followed).
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), RunDirError> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(
        ".{}.tmp.{}",
        name.unwrap_or_default(),
        std::process::id()
    ));
    let done = replace(&tmp)
        .and_then(|mut f| f.write_all(contents).map_err(io(&tmp)))
        .and_then(|()| std::fs::rename(&tmp, path).map_err(io(path)));
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done
}

/// Open the existing file `path` (never through a symlink) and check that it is a
/// regular file owned by us, not writable by group or others.
pub fn open_trusted(path: &Path, append: bool) -> Result<File, RunDirError> {
    let f = OpenOptions::new()
        .read(!append)
        .append(append)
        .custom_flags(nofollow() | nix::libc::O_NONBLOCK)
        .open(path)
        .map_err(io(path))?;
    let m = f.metadata().map_err(io(path))?;
    if !m.file_type().is_file() {
        return Err(RunDirError::NotFile {
            path: path.to_path_buf(),
        });
    }
    check_owner(path, &m)?;
    Ok(f)
}

/// Read the file `path` if it can be trusted ([`open_trusted`]), at most
/// [`MAX_READ`] bytes.
pub fn read_trusted(path: &Path) -> Result<String, RunDirError> {
    let f = open_trusted(path, false)?;
    let mut text = String::new();
    f.take(MAX_READ)
        .read_to_string(&mut text)
        .map_err(io(path))?;
    Ok(text)
}

/// [`read_trusted`] for bytes that need not be UTF-8 (a copy of an interfaces
/// file), whole: a file longer than `max` bytes is an error, never cut short.
pub fn read_trusted_bytes(path: &Path, max: u64) -> Result<Vec<u8>, RunDirError> {
    let f = open_trusted(path, false)?;
    let mut bytes = Vec::new();
    f.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io(path))?;
    if bytes.len() as u64 > max {
        return Err(io(path)(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("longer than {max} bytes"),
        )));
    }
    Ok(bytes)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// Run `f` with umask 000 (restored afterwards). Tests that change the umask of
    /// the test process are serialized by this lock.
    pub fn with_umask_000<T>(f: impl FnOnce() -> T) -> T {
        static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let old = nix::sys::stat::umask(nix::sys::stat::Mode::empty());
        let out = f();
        nix::sys::stat::umask(old);
        out
    }

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().mode() & 0o7777
    }

    #[test]
    fn created_with_exact_modes_under_umask_000() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("a/run");
        with_umask_000(|| {
            ensure_dir(&dir).unwrap();
            write_atomic(&dir.join("f"), b"x").unwrap();
            drop(replace(&dir.join("log")).unwrap());
            create_subdir(&dir.join("sub")).unwrap();
        });
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("f")), 0o600);
        assert_eq!(mode(&dir.join("log")), 0o600);
        assert_eq!(mode(&dir.join("sub")), 0o700);
        assert_eq!(read_trusted(&dir.join("f")).unwrap(), "x");
    }

    #[test]
    fn symlinks_are_replaced_or_refused_never_followed() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("target");
        std::fs::write(&target, "secret").unwrap();
        let dir = d.path().join("run");
        ensure_dir(&dir).unwrap();
        symlink(&target, dir.join("f")).unwrap();
        assert!(matches!(
            read_trusted(&dir.join("f")),
            Err(RunDirError::Io { .. })
        ));
        assert!(open_trusted(&dir.join("f"), true).is_err());
        assert!(create_new(&dir.join("f")).is_err());
        write_atomic(&dir.join("f"), b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "secret");
        symlink(&target, dir.join("log")).unwrap();
        drop(replace(&dir.join("log")).unwrap());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "secret");
        // a symlinked directory is refused
        let link = d.path().join("linkdir");
        symlink(&dir, &link).unwrap();
        let e = ensure_dir(&link).unwrap_err();
        assert!(matches!(e, RunDirError::NotDirectory { .. }), "{e}");
    }

    #[test]
    fn unsafe_directory_and_files_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("run");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let e = ensure_dir(&dir).unwrap_err();
        assert!(e.to_string().contains("mode 1777"), "{e}");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        ensure_dir(&dir).unwrap();
        let f = dir.join("f");
        std::fs::write(&f, "x").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert!(matches!(
            read_trusted(&f),
            Err(RunDirError::Unsafe { mode: 0o666, .. })
        ));
        if euid() == 0 {
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
            std::os::unix::fs::chown(&f, Some(65534), None).unwrap();
            assert!(matches!(
                read_trusted(&f),
                Err(RunDirError::Unsafe { uid: 65534, .. })
            ));
            std::os::unix::fs::chown(&dir, Some(65534), None).unwrap();
            let e = check_dir(&dir).unwrap_err();
            assert!(e.to_string().contains("owned by uid 65534"), "{e}");
        }
    }
}
