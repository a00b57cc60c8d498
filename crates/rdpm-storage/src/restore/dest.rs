//! The restore's side of the file system: every operation is relative to
//! an open directory and names one component, so nothing a restore does
//! can leave the target root or pass through a symlink planted below it.
//!
//! Folders are reopened from the root with `openat2(RESOLVE_BENEATH |
//! RESOLVE_NO_SYMLINKS)`, which the kernel enforces; where that call is
//! missing (Linux before 5.6, or refused by a seccomp filter) or the path
//! is longer than it accepts, the path is walked one `openat(O_NOFOLLOW)`
//! at a time instead.

use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use rustic_core::jiff::Timestamp;
use rustix::fs::{AtFlags, Mode, OFlags, ResolveFlags, Timespec, Timestamps};
use rustix::io::Errno;

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

pub(crate) fn os(name: &[u8]) -> &OsStr {
    OsStr::from_bytes(name)
}

pub(crate) fn errno(e: Errno) -> io::Error {
    io::Error::from_raw_os_error(e.raw_os_error())
}

pub(crate) fn is(e: &io::Error, code: Errno) -> bool {
    e.raw_os_error() == Some(code.raw_os_error())
}

/// The disk is full or the quota used up: every later write would fail
/// the same way.
pub(crate) fn is_disk_full(e: &io::Error) -> bool {
    is(e, Errno::NOSPC) || is(e, Errno::DQUOT)
}

/// The target root itself, which the caller named (symlinks in its own
/// path are the caller's choice and are followed).
pub(crate) fn open_root(path: &Path) -> io::Result<OwnedFd> {
    rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(errno)
}

/// The folder at the absolute `path`, opened from `/` one component at a
/// time without following any symbolic link: a link anywhere on the way is
/// [`Error::LinkInPath`](crate::Error::LinkInPath), naming it and where it
/// points. With `create`, missing folders are created on the way (mode
/// 0755 less the umask); without it, a missing folder ends the walk with
/// `None`.
pub(crate) fn open_without_links(path: &Path, create: bool) -> crate::Result<Option<OwnedFd>> {
    use std::path::Component;
    let invalid = || {
        crate::Error::InvalidRequest(format!(
            "{} is not an absolute path without `.` or `..`",
            path.display()
        ))
    };
    if !path.is_absolute() {
        return Err(invalid());
    }
    let mut walked = std::path::PathBuf::from("/");
    let mut fd = rustix::fs::open("/", DIR_FLAGS, Mode::empty())
        .map_err(|e| crate::Error::io(&walked, errno(e)))?;
    for component in path.components() {
        let name = match component {
            Component::RootDir => continue,
            Component::Normal(name) => name.as_bytes(),
            _ => return Err(invalid()),
        };
        walked.push(os(name));
        let next = match rustix::fs::openat(&fd, os(name), DIR_FLAGS, Mode::empty()) {
            Err(Errno::NOENT) if create => {
                match rustix::fs::mkdirat(&fd, os(name), Mode::from_raw_mode(0o755)) {
                    Ok(()) | Err(Errno::EXIST) => {}
                    Err(e) => return Err(crate::Error::io(&walked, errno(e))),
                }
                rustix::fs::openat(&fd, os(name), DIR_FLAGS, Mode::empty())
            }
            Err(Errno::NOENT) => return Ok(None),
            other => other,
        };
        fd = next.map_err(|e| not_a_folder(fd.as_fd(), name, &walked, e))?;
    }
    Ok(Some(fd))
}

/// Refuses `name` in `parent` (at `path`) when it is a symbolic link;
/// anything else, or nothing, is fine.
pub(crate) fn not_a_link(parent: BorrowedFd<'_>, name: &[u8], path: &Path) -> crate::Result<()> {
    use std::os::unix::ffi::OsStringExt;
    match rustix::fs::readlinkat(parent, os(name), Vec::new()) {
        Ok(target) => Err(crate::Error::LinkInPath {
            link: path.to_path_buf(),
            target: std::ffi::OsString::from_vec(target.into_bytes()).into(),
        }),
        Err(_) => Ok(()),
    }
}

/// Why `name` in `parent` (at `walked`) could not be opened as a folder:
/// the link it is, with its target, when it is one.
fn not_a_folder(parent: BorrowedFd<'_>, name: &[u8], walked: &Path, e: Errno) -> crate::Error {
    if e == Errno::LOOP || e == Errno::NOTDIR {
        if let Err(link) = not_a_link(parent, name, walked) {
            return link;
        }
    }
    let err = symlink_in_the_way(parent, name).unwrap_or_else(|| errno(e));
    crate::Error::io(walked, err)
}

/// The folder `name` in `parent`, never through a symlink.
pub(crate) fn open_child(parent: BorrowedFd<'_>, name: &[u8]) -> io::Result<OwnedFd> {
    rustix::fs::openat(parent, os(name), DIR_FLAGS, Mode::empty()).map_err(|e| {
        if e == Errno::LOOP || e == Errno::NOTDIR {
            symlink_in_the_way(parent, name).unwrap_or_else(|| errno(e))
        } else {
            errno(e)
        }
    })
}

/// A clearer error than ELOOP when what is in the way is a symlink.
fn symlink_in_the_way(parent: BorrowedFd<'_>, name: &[u8]) -> Option<io::Error> {
    let st = rustix::fs::statat(parent, os(name), AtFlags::SYMLINK_NOFOLLOW).ok()?;
    let kind = rustix::fs::FileType::from_raw_mode(st.st_mode);
    let what = match kind {
        rustix::fs::FileType::Symlink => {
            "a symbolic link is where the folder goes; it was not followed"
        }
        rustix::fs::FileType::Directory => return None,
        _ => "a file is where the folder goes",
    };
    Some(io::Error::other(what))
}

/// The folder at `rel` (components separated by `/`) below `root`.
pub(crate) fn open_beneath(root: BorrowedFd<'_>, rel: &[u8]) -> io::Result<OwnedFd> {
    if rel.is_empty() {
        return rustix::fs::openat(root, ".", DIR_FLAGS, Mode::empty()).map_err(errno);
    }
    match rustix::fs::openat2(
        root,
        os(rel),
        DIR_FLAGS,
        Mode::empty(),
        ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS,
    ) {
        Ok(fd) => Ok(fd),
        Err(Errno::NOSYS | Errno::PERM | Errno::NAMETOOLONG | Errno::AGAIN | Errno::LOOP) => {
            walk(root, rel)
        }
        Err(e) => Err(errno(e)),
    }
}

fn walk(root: BorrowedFd<'_>, rel: &[u8]) -> io::Result<OwnedFd> {
    let mut fd = rustix::fs::openat(root, ".", DIR_FLAGS, Mode::empty()).map_err(errno)?;
    for part in rel.split(|b| *b == b'/').filter(|p| !p.is_empty()) {
        fd = open_child(fd.as_fd(), part)?;
    }
    Ok(fd)
}

/// Creates the folder `name` in `parent` unless it exists, and opens it;
/// an existing folder is merged into. True when it was created.
pub(crate) fn ensure_dir(parent: BorrowedFd<'_>, name: &[u8]) -> io::Result<(OwnedFd, bool)> {
    let created = match rustix::fs::mkdirat(parent, os(name), Mode::from_raw_mode(0o700)) {
        Ok(()) => true,
        Err(Errno::EXIST) => false,
        Err(e) => return Err(errno(e)),
    };
    Ok((open_child(parent, name)?, created))
}

/// Creates the folders of `rel` that are missing below `root` (as a
/// `mkdir -p` would, mode 0755 less the umask) and opens the last.
pub(crate) fn ensure_path(root: BorrowedFd<'_>, rel: &[&[u8]]) -> io::Result<OwnedFd> {
    let mut fd = rustix::fs::openat(root, ".", DIR_FLAGS, Mode::empty()).map_err(errno)?;
    for part in rel {
        match rustix::fs::mkdirat(fd.as_fd(), os(part), Mode::from_raw_mode(0o755)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err(errno(e)),
        }
        fd = open_child(fd.as_fd(), part)?;
    }
    Ok(fd)
}

/// The start and end of a restore's temporary file names:
/// `.rdpm-restore-TTTTTTTT-N.tmp`, `T` the restore's tag in hex.
const TEMP_PREFIX: &[u8] = b".rdpm-restore-";
const TEMP_SUFFIX: &[u8] = b".tmp";

/// The name of the `seq`th temporary file of the restore tagged `tag`.
pub(crate) fn temp_name(tag: u32, seq: u64) -> Vec<u8> {
    let mut name = TEMP_PREFIX.to_vec();
    name.extend_from_slice(format!("{tag:08x}-{seq}").as_bytes());
    name.extend_from_slice(TEMP_SUFFIX);
    name
}

/// The tag of the restore whose temporary file `name` is, if it is one.
fn temp_tag(name: &[u8]) -> Option<u32> {
    let middle = name.strip_prefix(TEMP_PREFIX)?.strip_suffix(TEMP_SUFFIX)?;
    let (tag, seq) = std::str::from_utf8(middle).ok()?.split_once('-')?;
    if tag.len() != 8 || seq.is_empty() || !seq.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    u32::from_str_radix(tag, 16).ok()
}

/// Removes from the folder `dir` the temporary files of restores that are
/// not running in this process (a restore killed midway leaves them), and
/// lists its subfolders into `subdirs` when given. Returns how many files
/// were removed.
pub(crate) fn sweep(
    dir: BorrowedFd<'_>,
    is_live: &dyn Fn(u32) -> bool,
    mut subdirs: Option<&mut Vec<Vec<u8>>>,
) -> io::Result<u64> {
    let mut stale = Vec::new();
    let mut entries = rustix::fs::Dir::read_from(dir).map_err(errno)?;
    while let Some(entry) = entries.read() {
        let entry = entry.map_err(errno)?;
        let name = entry.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        match entry.file_type() {
            rustix::fs::FileType::Directory => {
                if let Some(subdirs) = subdirs.as_deref_mut() {
                    subdirs.push(name.to_vec());
                }
            }
            _ => {
                if temp_tag(name).is_some_and(|tag| !is_live(tag)) {
                    stale.push(name.to_vec());
                }
            }
        }
    }
    let mut removed = 0;
    for name in stale {
        // A folder of that name fails with EISDIR and stays.
        match rustix::fs::unlinkat(dir, os(&name), AtFlags::empty()) {
            Ok(()) => removed += 1,
            Err(Errno::NOENT | Errno::ISDIR) => {}
            Err(e) => return Err(errno(e)),
        }
    }
    Ok(removed)
}

/// Whether anything (a symlink included, not followed) is at `name`.
pub(crate) fn exists(parent: BorrowedFd<'_>, name: &[u8]) -> io::Result<bool> {
    match rustix::fs::statat(parent, os(name), AtFlags::SYMLINK_NOFOLLOW) {
        Ok(_) => Ok(true),
        Err(Errno::NOENT) => Ok(false),
        Err(e) => Err(errno(e)),
    }
}

/// A new, empty file only this process knows the name of.
pub(crate) fn create_temp(parent: BorrowedFd<'_>, name: &[u8]) -> io::Result<OwnedFd> {
    rustix::fs::openat(
        parent,
        os(name),
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )
    .map_err(errno)
}

/// Reopens a file this restore created, for writing.
pub(crate) fn open_for_write(parent: BorrowedFd<'_>, name: &[u8]) -> io::Result<OwnedFd> {
    rustix::fs::openat(
        parent,
        os(name),
        OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(errno)
}

/// Reserves the file's blocks (contiguous, and a full disk shows now
/// rather than midway); where the file system cannot, only sets the size.
pub(crate) fn preallocate(fd: BorrowedFd<'_>, size: u64, sparse: bool) -> io::Result<()> {
    if !sparse {
        match rustix::fs::fallocate(fd, rustix::fs::FallocateFlags::empty(), 0, size) {
            Ok(()) => return Ok(()),
            Err(Errno::OPNOTSUPP | Errno::NOSYS | Errno::INVAL) => {}
            Err(e) => return Err(errno(e)),
        }
    }
    rustix::fs::ftruncate(fd, size).map_err(errno)
}

pub(crate) fn unlink(parent: BorrowedFd<'_>, name: &[u8]) {
    if let Err(e) = rustix::fs::unlinkat(parent, os(name), AtFlags::empty()) {
        if e != Errno::NOENT {
            tracing::warn!(name = %String::from_utf8_lossy(name), err = %e, "could not remove a restore's temporary file");
        }
    }
}

/// Renames `from` to `to` in `dir`; with `replace` false, fails with
/// EEXIST rather than replace what is at `to`.
pub(crate) fn rename(dir: BorrowedFd<'_>, from: &[u8], to: &[u8], replace: bool) -> io::Result<()> {
    if replace {
        return rustix::fs::renameat(dir, os(from), dir, os(to)).map_err(errno);
    }
    match rustix::fs::renameat_with(
        dir,
        os(from),
        dir,
        os(to),
        rustix::fs::RenameFlags::NOREPLACE,
    ) {
        Ok(()) => Ok(()),
        // File systems without RENAME_NOREPLACE: check, then rename (a
        // file created between the two is replaced).
        Err(Errno::INVAL | Errno::NOSYS) => {
            if exists(dir, to)? {
                return Err(errno(Errno::EXIST));
            }
            rustix::fs::renameat(dir, os(from), dir, os(to)).map_err(errno)
        }
        Err(e) => Err(errno(e)),
    }
}

/// What a restored node's metadata should be.
#[derive(Debug, Clone, Default)]
pub(crate) struct Meta {
    /// Stored (Go) mode.
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub atime: Option<Timestamp>,
    pub mtime: Option<Timestamp>,
}

impl Meta {
    pub(crate) fn of(meta: &rustic_core::repofile::Metadata) -> Self {
        Self {
            mode: meta.mode,
            uid: meta.uid,
            gid: meta.gid,
            atime: meta.atime,
            mtime: meta.mtime,
        }
    }

    fn perm(&self, security: bool) -> Option<Mode> {
        let mode = super::nodes::posix_mode(self.mode?);
        let mask = if security { 0o7777 } else { 0o777 };
        Some(Mode::from_raw_mode(mode & mask))
    }

    fn times(&self) -> Option<Timestamps> {
        let mtime = self.mtime?;
        let atime = self.atime.unwrap_or(mtime);
        Some(Timestamps {
            last_access: timespec(atime),
            last_modification: timespec(mtime),
        })
    }

    fn owner(&self) -> (Option<rustix::fs::Uid>, Option<rustix::fs::Gid>) {
        (
            self.uid.map(rustix::fs::Uid::from_raw),
            self.gid.map(rustix::fs::Gid::from_raw),
        )
    }

    /// Sets owner (with `security`), permission bits and times of an open
    /// file or folder: owner first, since chown clears set-id bits; times
    /// last. The error names what could not be set.
    pub(crate) fn apply_fd(&self, fd: BorrowedFd<'_>, security: bool) -> Result<(), String> {
        if security {
            let (uid, gid) = self.owner();
            if uid.is_some() || gid.is_some() {
                rustix::fs::fchown(fd, uid, gid).map_err(|e| format!("owner: {}", errno(e)))?;
            }
        }
        if let Some(mode) = self.perm(security) {
            rustix::fs::fchmod(fd, mode).map_err(|e| format!("permissions: {}", errno(e)))?;
        }
        if let Some(times) = self.times() {
            rustix::fs::futimens(fd, &times)
                .map_err(|e| format!("modification time: {}", errno(e)))?;
        }
        Ok(())
    }

    /// The same for a symlink or special file at `name`, never following
    /// a link; a link has no permission bits of its own.
    pub(crate) fn apply_at(
        &self,
        parent: BorrowedFd<'_>,
        name: &[u8],
        security: bool,
        is_link: bool,
    ) -> Result<(), String> {
        if security {
            let (uid, gid) = self.owner();
            if uid.is_some() || gid.is_some() {
                rustix::fs::chownat(parent, os(name), uid, gid, AtFlags::SYMLINK_NOFOLLOW)
                    .map_err(|e| format!("owner: {}", errno(e)))?;
            }
        }
        if !is_link {
            if let Some(mode) = self.perm(security) {
                // A fifo or device node, created with these bits less the
                // umask; fchmodat2 sets them exactly without following a
                // link that replaced the node meanwhile. Kernels before
                // 6.6 lack it, and keep the umask's bits.
                match rustix::fs::chmodat(parent, os(name), mode, AtFlags::SYMLINK_NOFOLLOW) {
                    Ok(()) | Err(Errno::NOSYS | Errno::OPNOTSUPP | Errno::INVAL) => {}
                    Err(e) => return Err(format!("permissions: {}", errno(e))),
                }
            }
        }
        if let Some(times) = self.times() {
            rustix::fs::utimensat(parent, os(name), &times, AtFlags::SYMLINK_NOFOLLOW)
                .map_err(|e| format!("modification time: {}", errno(e)))?;
        }
        Ok(())
    }
}

fn timespec(t: Timestamp) -> Timespec {
    Timespec {
        tv_sec: t.as_second(),
        tv_nsec: t.subsec_nanosecond().into(),
    }
}
