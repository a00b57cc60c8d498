//! Fixtures: repositories in temporary directories and generated trees.

use std::ffi::OsStr;
use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, MetadataExt};
use std::path::{Path, PathBuf};

use rdpm_storage::{KeyMaterial, Repository, RepositoryOptions};

pub struct TestRepo {
    pub dir: tempfile::TempDir,
    pub repo: Repository,
    pub key: KeyMaterial,
}

impl TestRepo {
    /// A fresh repository: a copy of one created once per test run, since
    /// creating runs scrypt, which is slow in an unoptimised build; the
    /// copy opens through the process's derived-key cache.
    pub fn new() -> Self {
        let (template, key) = TEMPLATE.get_or_init(|| {
            let dir = tempfile::tempdir().expect("tempdir");
            let key = KeyMaterial::generate();
            Repository::create(&dir.path().join("repo"), &key, &Default::default())
                .expect("create repository");
            (dir, key)
        });
        let dir = tempfile::tempdir().expect("tempdir");
        copy_dir(&template.path().join("repo"), &dir.path().join("repo"));
        let repo = Repository::open(&dir.path().join("repo"), key, &Self::options(&dir))
            .expect("open repository");
        Self {
            dir,
            repo,
            key: key.clone(),
        }
    }

    pub fn options(dir: &tempfile::TempDir) -> RepositoryOptions {
        RepositoryOptions::with_cache_dir(dir.path().join("cache"))
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    pub fn lock_files(&self) -> Vec<PathBuf> {
        fs::read_dir(self.path().join("locks"))
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default()
    }
}

static TEMPLATE: std::sync::OnceLock<(tempfile::TempDir, KeyMaterial)> = std::sync::OnceLock::new();

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for entry in fs::read_dir(from).expect("read_dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

pub fn running_as_root() -> bool {
    fs::metadata("/proc/self").expect("procfs").uid() == 0
}

/// Whether file permissions apply to this process: not root, or root run
/// again by [`ran_without_dac_override`].
pub fn permissions_apply() -> bool {
    !running_as_root() || std::env::var_os(NO_DAC_ENV).is_some()
}

const NO_DAC_ENV: &str = "RDPM_TEST_WITHOUT_DAC_OVERRIDE";

/// Under root, runs the test `name` again in a child of this test binary
/// without the capabilities that let root read any file (util-linux's
/// `setpriv`), asserts that it passed, and returns true: the caller then
/// returns. Otherwise (not root, or already the child) returns false and
/// the caller runs its body, where permissions apply.
pub fn ran_without_dac_override(name: &str) -> bool {
    if !running_as_root() || std::env::var_os(NO_DAC_ENV).is_some() {
        return false;
    }
    let status = std::process::Command::new("setpriv")
        .args([
            "--bounding-set=-dac_override,-dac_read_search",
            "--inh-caps=-dac_override,-dac_read_search",
        ])
        .arg(std::env::current_exe().expect("test binary"))
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(NO_DAC_ENV, "1")
        .status()
        .expect("setpriv runs (util-linux, installed by .ci/run)");
    assert!(status.success(), "{name} failed without CAP_DAC_OVERRIDE");
    true
}

/// Deterministic pseudo-random bytes (xorshift), so contents do not
/// deduplicate by accident.
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Files, empty files, empty directories, symlinks (one dangling), a sparse
/// file and awkward names: spaces, a newline, non-UTF-8 bytes.
pub fn awkward_tree(root: &Path) {
    fs::create_dir_all(root.join("a/b")).expect("mkdir");
    fs::create_dir_all(root.join("empty dir")).expect("mkdir");
    fs::write(root.join("a/small.txt"), b"hello\n").expect("write");
    fs::write(root.join("a/b/random.bin"), noise(1, 3 << 20)).expect("write");
    fs::write(root.join("a/empty"), b"").expect("write");
    fs::write(root.join("name with spaces.txt"), noise(2, 1000)).expect("write");
    fs::write(root.join("new\nline"), b"newline name\n").expect("write");
    fs::write(root.join(OsStr::from_bytes(b"bad\xffname")), b"not utf-8\n").expect("write");
    symlink("a/small.txt", root.join("link")).expect("symlink");
    symlink("does/not/exist", root.join("dangling")).expect("symlink");
    let mut sparse = fs::File::create(root.join("sparse")).expect("create");
    sparse.seek(SeekFrom::Start(16 << 20)).expect("seek");
    sparse.write_all(b"end").expect("write");
}

/// Many files of random content, `total` bytes in all.
pub fn bulk_tree(root: &Path, files: usize, total: usize) {
    for i in 0..files {
        let dir = root.join(format!("d{}", i % 10));
        fs::create_dir_all(&dir).expect("mkdir");
        fs::write(
            dir.join(format!("f{i}")),
            noise(i as u64 + 100, total / files),
        )
        .expect("write");
    }
}

/// Asserts that two trees hold the same names, types, contents and
/// symlink targets.
pub fn assert_same_tree(expected: &Path, actual: &Path) {
    let mut want = listing(expected);
    let mut got = listing(actual);
    want.sort();
    got.sort();
    assert_eq!(
        want,
        got,
        "trees differ: {} vs {}",
        expected.display(),
        actual.display()
    );
}

fn listing(root: &Path) -> Vec<(Vec<u8>, String)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).expect("read_dir").flatten() {
            let path = entry.path();
            let rel = path
                .strip_prefix(root)
                .expect("under root")
                .as_os_str()
                .as_bytes()
                .to_vec();
            let meta = fs::symlink_metadata(&path).expect("lstat");
            let what = if meta.is_symlink() {
                format!(
                    "link -> {}",
                    fs::read_link(&path).expect("readlink").display()
                )
            } else if meta.is_dir() {
                stack.push(path);
                "dir".to_string()
            } else {
                let data = fs::read(&path).expect("read");
                format!("file {} bytes, sum {}", data.len(), checksum(&data))
            };
            out.push((rel, what));
        }
    }
    out
}

fn checksum(data: &[u8]) -> u64 {
    // FNV-1a: enough to tell contents apart in a test.
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Every pack file of the repository at `repo`.
pub fn pack_files(repo: &Path) -> Vec<PathBuf> {
    let mut packs = Vec::new();
    for sub in fs::read_dir(repo.join("data")).expect("data dir").flatten() {
        for pack in fs::read_dir(sub.path()).expect("data subdir").flatten() {
            packs.push(pack.path());
        }
    }
    packs.sort();
    packs
}

/// Flips one bit at `offset` of a (read-only) repository file.
pub fn flip_byte(file: &Path, offset: usize) {
    let mut bytes = fs::read(file).expect("read pack");
    bytes[offset] ^= 0x01;
    let mut perms = fs::metadata(file).expect("meta").permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    fs::set_permissions(file, perms).expect("chmod");
    fs::write(file, &bytes).expect("write pack");
}

/// A tmpfs of `size` at `dir`, unmounted when dropped.
pub struct Tmpfs(PathBuf);

impl Tmpfs {
    pub fn mount(dir: &Path, size: &str) -> Option<Self> {
        fs::create_dir_all(dir).expect("mkdir");
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status();
        match status {
            Ok(s) if s.success() => Some(Self(dir.to_path_buf())),
            other => {
                rdpm_testkit::require(
                    false,
                    &format!(
                        "mounting a tmpfs at {} needs root and mount(8): {other:?}",
                        dir.display()
                    ),
                );
                None
            }
        }
    }
}

impl Tmpfs {
    /// Grows (or shrinks) the file system to `size`.
    pub fn resize(&self, size: &str) {
        let status = std::process::Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .status()
            .expect("run mount");
        assert!(status.success(), "remount {} at {size}", self.0.display());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}
