//! The interfaces files a try replaces and a revert puts back, and the rejected
//! copies kept beside them.
//!
//! These files live in `/etc/network`, not in our run directory, so they do not go
//! through [`crate::sys::rundir`]'s ownership rules, but through the same care: the
//! file is opened without following a symlink (a symlinked `/etc/network/interfaces`
//! is refused: replacing it would replace the link), a new version is written under
//! a temporary name in the same folder with the old file's mode set explicitly and
//! renamed over it, and a rejected copy is created with `O_EXCL`, never over
//! anything.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::error::TrialError;

/// The longest interfaces file we save and put back: the most `interfaces::config`
/// reads of one file. A longer one is refused, never cut short.
pub const MAX_FILE: u64 = crate::interfaces::config::MAX_FILE_BYTES;

fn file_error<'a>(
    path: &'a Path,
    what: &'static str,
) -> impl FnOnce(std::io::Error) -> TrialError + 'a {
    move |source| TrialError::File {
        path: path.to_path_buf(),
        what,
        source,
    }
}

fn nofollow() -> i32 {
    nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC
}

/// The contents and permission bits of the regular file `path` (never through a
/// symlink).
pub fn read(path: &Path) -> Result<(Vec<u8>, u32), TrialError> {
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(nofollow() | nix::libc::O_NONBLOCK)
        .open(path)
        .map_err(|source| match source.raw_os_error() {
            Some(nix::libc::ELOOP) => TrialError::NotRegular {
                path: path.to_path_buf(),
            },
            _ => file_error(path, "cannot read")(source),
        })?;
    let m = f.metadata().map_err(file_error(path, "cannot read"))?;
    if !m.file_type().is_file() {
        return Err(TrialError::NotRegular {
            path: path.to_path_buf(),
        });
    }
    Ok((read_whole(f, path)?, m.permissions().mode() & 0o7777))
}

/// All of `f` (the file `path`), refused when longer than [`MAX_FILE`].
fn read_whole(f: File, path: &Path) -> Result<Vec<u8>, TrialError> {
    let mut bytes = Vec::new();
    f.take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(file_error(path, "cannot read"))?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(file_error(path, "cannot read")(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("longer than {MAX_FILE} bytes"),
        )));
    }
    Ok(bytes)
}

/// The new version given with `-i` (a symlink to it is fine: it is only read).
pub fn read_candidate(path: &Path) -> Result<Vec<u8>, TrialError> {
    let f = File::open(path).map_err(file_error(path, "cannot read"))?;
    let m = f.metadata().map_err(file_error(path, "cannot read"))?;
    if !m.file_type().is_file() {
        return Err(TrialError::NotRegular {
            path: path.to_path_buf(),
        });
    }
    read_whole(f, path)
}

/// Create the new file `path` with exactly `mode` and `bytes` (`O_EXCL`, no symlink).
fn create(path: &Path, bytes: &[u8], mode: u32) -> Result<File, std::io::Error> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(nofollow())
        .open(path)?;
    f.set_permissions(std::fs::Permissions::from_mode(mode))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(f)
}

/// A new version of a file, written under a temporary name beside it (so that it
/// can be checked where it will be, relative `source` lines included) and removed
/// unless [`Staged::install`]ed.
pub struct Staged {
    tmp: PathBuf,
    target: PathBuf,
    installed: bool,
}

impl Staged {
    /// Write `bytes` with `mode` next to `target`.
    pub fn new(target: &Path, bytes: &[u8], mode: u32) -> Result<Staged, TrialError> {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = target.with_file_name(format!(".{name}.try-{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        create(&tmp, bytes, mode).map_err(file_error(&tmp, "cannot write"))?;
        Ok(Staged {
            tmp,
            target: target.to_path_buf(),
            installed: false,
        })
    }

    /// Where the new version is until it is installed.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Rename it over the target (atomic: readers see the old or the new file).
    pub fn install(mut self) -> Result<(), TrialError> {
        std::fs::rename(&self.tmp, &self.target)
            .map_err(file_error(&self.target, "cannot replace"))?;
        self.installed = true;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.installed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Replace `target` by `bytes` with `mode` (atomic).
pub fn replace(target: &Path, bytes: &[u8], mode: u32) -> Result<(), TrialError> {
    Staged::new(target, bytes, mode)?.install()
}

/// Keep `bytes` (the rejected version of `target`) as `TARGET.rejected-STAMP`
/// beside it (`-2`, `-3`, … if that name is taken). Returns the path.
///
/// With `hidden` (a file reached by `source`), the copy is `.NAME.rejected-STAMP`:
/// a dot file, so that neither `source DIR/*` (a glob skips dot files) nor
/// `source-directory DIR` (it skips names with a dot) reads it.
pub fn keep_rejected(
    target: &Path,
    bytes: &[u8],
    mode: u32,
    now: u64,
    hidden: bool,
) -> Result<PathBuf, TrialError> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = if hidden { format!(".{name}") } else { name };
    let base = format!(
        "{}.rejected-{}",
        target.with_file_name(name).display(),
        compact(now)
    );
    for n in 1..100 {
        let path = if n == 1 {
            PathBuf::from(&base)
        } else {
            PathBuf::from(format!("{base}-{n}"))
        };
        match create(&path, bytes, mode) {
            Ok(_) => return Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(file_error(&path, "cannot write")(e)),
        }
    }
    Err(file_error(Path::new(&base), "cannot write")(
        std::io::Error::from(std::io::ErrorKind::AlreadyExists),
    ))
}

/// Seconds since the epoch, now.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// (year, month, day, hour, minute, second) in UTC.
fn civil(secs: u64) -> (i64, u64, u64, u64, u64, u64) {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's days_from_civil, inverted
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let (m, d) = (m.unsigned_abs(), d.unsigned_abs());
    (y, m, d, rem / 3600, rem / 60 % 60, rem % 60)
}

/// `2026-12-07 02:11:05 UTC`.
pub fn utc(secs: u64) -> String {
    let (y, mo, d, h, mi, s) = civil(secs);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02} UTC")
}

/// `20261207T021105Z`, for file names.
pub fn compact(secs: u64) -> String {
    let (y, mo, d, h, mi, s) = civil(secs);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn dates_in_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_796_609_465), "2026-12-07 02:11:05 UTC");
        assert_eq!(compact(1_796_609_465), "20261207T021105Z");
    }

    #[test]
    fn replace_keeps_the_mode_and_rejected_copies_never_overwrite() {
        let d = tempfile::tempdir().unwrap();
        let t = d.path().join("interfaces");
        std::fs::write(&t, "old\n").unwrap();
        std::fs::set_permissions(&t, std::fs::Permissions::from_mode(0o640)).unwrap();
        let (bytes, mode) = read(&t).unwrap();
        assert_eq!((bytes.as_slice(), mode), (&b"old\n"[..], 0o640));
        replace(&t, b"new\n", mode).unwrap();
        assert_eq!(std::fs::read(&t).unwrap(), b"new\n");
        assert_eq!(std::fs::metadata(&t).unwrap().mode() & 0o7777, 0o640);
        let a = keep_rejected(&t, b"r1", mode, 1_796_609_465, false).unwrap();
        let b = keep_rejected(&t, b"r2", mode, 1_796_609_465, false).unwrap();
        assert_eq!(a, d.path().join("interfaces.rejected-20261207T021105Z"));
        assert_eq!(b, d.path().join("interfaces.rejected-20261207T021105Z-2"));
        assert_eq!(std::fs::read(&a).unwrap(), b"r1");
        let h = keep_rejected(&t, b"r3", mode, 1_796_609_465, true).unwrap();
        assert_eq!(h, d.path().join(".interfaces.rejected-20261207T021105Z"));
        // only the target and the three copies: no temporary file left
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 4);
    }

    #[test]
    fn a_file_too_long_to_put_back_whole_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let t = d.path().join("interfaces");
        File::create(&t).unwrap().set_len(MAX_FILE + 1).unwrap();
        let e = read(&t).unwrap_err().to_string();
        assert!(e.contains("longer than"), "{e}");
        assert!(read_candidate(&t).is_err());
        assert!(matches!(
            read_candidate(d.path()),
            Err(TrialError::NotRegular { .. })
        ));
    }

    #[test]
    fn a_staged_file_not_installed_is_removed_and_symlinks_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let t = d.path().join("interfaces");
        std::fs::write(&t, "old\n").unwrap();
        let s = Staged::new(&t, b"new", 0o644).unwrap();
        assert!(s.path().exists());
        drop(s);
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
        let l = d.path().join("link");
        std::os::unix::fs::symlink(&t, &l).unwrap();
        assert!(matches!(read(&l), Err(TrialError::NotRegular { .. })));
    }
}
