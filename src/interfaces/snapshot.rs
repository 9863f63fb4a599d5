//! A copy of every file one configuration reads (the main interfaces file and what
//! it reaches by `source`/`source-directory`, as [`super::Config::files`] lists
//! them), byte for byte with their permission bits, in one self-delimiting text
//! so that it can be kept as one file and replaced atomically.
//!
//! Why: `reload --try` must put back "the interfaces file(s)", and an admin who
//! edited them in place has no previous version unless one was kept when it was
//! applied. `hook::applied` keeps the last applied one (docs/reload.md, "Try,
//! commit, rollback"); the try keeps the one before it and the one it tries.
//!
//! Files are read without following a symlink: a symlinked file cannot be put back
//! without replacing the link, so a configuration that has one cannot be
//! snapshotted ([`SnapshotError::NotRegular`]).
//!
//! The format: a header line, `main PATH`, then per file `file MODE LEN PATH`, a
//! newline, LEN bytes and a newline. Paths holding a newline are refused.

use std::io::Read;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::config::{MAX_FILE_BYTES, MAX_TOTAL_BYTES};

const HEADER: &str = "ifupdown-ovs files 1\n";

/// The most an encoded snapshot may take (the loader's bound plus the headers).
pub const MAX_ENCODED: u64 = MAX_TOTAL_BYTES + (1 << 20);

/// One file as it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCopy {
    pub path: PathBuf,
    pub mode: u32,
    pub bytes: Vec<u8>,
}

/// The files of one configuration, the main file first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub main: PathBuf,
    pub files: Vec<FileCopy>,
}

/// Why a snapshot could not be taken or read.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: refused: not a regular file (a symlink or another file is there)", path.display())]
    NotRegular { path: PathBuf },
    #[error("{}: a path with a newline cannot be kept", path.display())]
    Newline { path: PathBuf },
    #[error("damaged copy of the interfaces files: {what}")]
    Damaged { what: &'static str },
}

/// The bytes and permission bits of the regular file `path`, never through a
/// symlink; `Ok(None)` when it does not exist.
pub fn read_file(path: &Path) -> Result<Option<(Vec<u8>, u32)>, SnapshotError> {
    let io = |source| SnapshotError::Io {
        path: path.to_path_buf(),
        source,
    };
    let f = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC | nix::libc::O_NONBLOCK)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(nix::libc::ELOOP) => {
            return Err(SnapshotError::NotRegular {
                path: path.to_path_buf(),
            });
        }
        Err(e) => return Err(io(e)),
    };
    let m = f.metadata().map_err(io)?;
    if !m.file_type().is_file() {
        return Err(SnapshotError::NotRegular {
            path: path.to_path_buf(),
        });
    }
    let mut bytes = Vec::new();
    f.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("longer than {MAX_FILE_BYTES} bytes"),
        )));
    }
    Ok(Some((bytes, m.permissions().mode() & 0o7777)))
}

fn one_line(path: &Path) -> Result<(), SnapshotError> {
    if path.as_os_str().as_encoded_bytes().contains(&b'\n') {
        return Err(SnapshotError::Newline {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

impl Snapshot {
    /// Copy `main` and `files` (each once; files gone meanwhile are left out).
    pub fn capture(main: &Path, files: &[PathBuf]) -> Result<Snapshot, SnapshotError> {
        let mut out = Snapshot {
            main: main.to_path_buf(),
            files: Vec::new(),
        };
        one_line(main)?;
        for path in std::iter::once(main).chain(files.iter().map(PathBuf::as_path)) {
            if out.get(path).is_some() {
                continue;
            }
            one_line(path)?;
            if let Some((bytes, mode)) = read_file(path)? {
                out.files.push(FileCopy {
                    path: path.to_path_buf(),
                    mode,
                    bytes,
                });
            }
        }
        Ok(out)
    }

    /// The copy of `path`, if kept.
    pub fn get(&self, path: &Path) -> Option<&FileCopy> {
        self.files.iter().find(|f| f.path == path)
    }

    /// The paths kept.
    pub fn paths(&self) -> Vec<PathBuf> {
        self.files.iter().map(|f| f.path.clone()).collect()
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::from(HEADER.as_bytes());
        out.extend_from_slice(format!("main {}\n", self.main.display()).as_bytes());
        for f in &self.files {
            out.extend_from_slice(
                format!("file {:o} {} {}\n", f.mode, f.bytes.len(), f.path.display()).as_bytes(),
            );
            out.extend_from_slice(&f.bytes);
            out.push(b'\n');
        }
        out
    }

    /// Parse [`Snapshot::encode`]; `None` when `bytes` is not a snapshot at all
    /// (a plain copy of one file, as older versions kept).
    pub fn decode(bytes: &[u8]) -> Option<Result<Snapshot, SnapshotError>> {
        let rest = bytes.strip_prefix(HEADER.as_bytes())?;
        Some(decode_body(rest))
    }
}

fn damaged(what: &'static str) -> SnapshotError {
    SnapshotError::Damaged { what }
}

/// The next line of `b` (without its newline) and what follows it.
fn line(b: &[u8]) -> Result<(&str, &[u8]), SnapshotError> {
    let end = b
        .iter()
        .position(|&c| c == b'\n')
        .ok_or(damaged("unterminated line"))?;
    let text = std::str::from_utf8(&b[..end]).map_err(|_| damaged("not UTF-8"))?;
    Ok((text, &b[end + 1..]))
}

fn decode_body(b: &[u8]) -> Result<Snapshot, SnapshotError> {
    let (first, mut rest) = line(b)?;
    let main = first.strip_prefix("main ").ok_or(damaged("no main line"))?;
    let mut snap = Snapshot {
        main: PathBuf::from(main),
        files: Vec::new(),
    };
    while !rest.is_empty() {
        let (head, after) = line(rest)?;
        let mut parts = head
            .strip_prefix("file ")
            .ok_or(damaged("no file line"))?
            .splitn(3, ' ');
        let mode = parts
            .next()
            .and_then(|m| u32::from_str_radix(m, 8).ok())
            .ok_or(damaged("bad mode"))?;
        let len = parts
            .next()
            .and_then(|l| l.parse::<usize>().ok())
            .ok_or(damaged("bad length"))?;
        let path = parts.next().ok_or(damaged("no path"))?;
        if after.len() < len + 1 || after[len] != b'\n' {
            return Err(damaged("cut short"));
        }
        snap.files.push(FileCopy {
            path: PathBuf::from(path),
            mode,
            bytes: after[..len].to_vec(),
        });
        rest = &after[len + 1..];
    }
    Ok(snap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_encode_decode() {
        let d = tempfile::tempdir().unwrap();
        let main = d.path().join("interfaces");
        let sub = d.path().join("vlans");
        std::fs::write(&main, "source vlans\n").unwrap();
        std::fs::write(&sub, b"a\nb\0\xff").unwrap();
        std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o640)).unwrap();
        let gone = d.path().join("gone");
        let s = Snapshot::capture(&main, &[main.clone(), sub.clone(), gone]).unwrap();
        assert_eq!(s.paths(), [main.clone(), sub.clone()]);
        assert_eq!(s.get(&sub).unwrap().mode, 0o640);
        let back = Snapshot::decode(&s.encode()).unwrap().unwrap();
        assert_eq!(back, s);
        assert!(Snapshot::decode(b"plain old file\n").is_none());
        let mut cut = s.encode();
        cut.truncate(cut.len() - 3);
        assert!(Snapshot::decode(&cut).unwrap().is_err());
        // a symlink is refused, not followed
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&sub, &link).unwrap();
        assert!(matches!(
            Snapshot::capture(&main, &[link]),
            Err(SnapshotError::NotRegular { .. })
        ));
    }
}
