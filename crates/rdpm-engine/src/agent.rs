//! Production agents: how the server sees the computers it protects.
//!
//! [`ProductionAgent`] is the interface; [`LocalAgent`] is the server's own
//! host, read directly, and the host of every `rdpm agent`, which answers
//! the server's requests with it ([`serve`]); the server reaches a remote
//! one through [`crate::fleet::RemoteAgent`].
//! Every method blocks (it reads the file system): async callers use
//! `spawn_blocking`.
//!
//! Paths are bytes (Linux file names need not be UTF-8), absolute, without
//! `.` or `..` components; [`normalize`] brings a requested path to that
//! form.

use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use rdpm_catalog::ProductionServerNames;
use rdpm_types::{
    path_contains, AgentFailure, AgentReply, AgentRequest, AgentResult, DatasourceKind, WireChild,
    WireMount, WirePath,
};

/// File systems that are never volumes: kernel interfaces, and memory-backed
/// file systems whose contents a reboot loses anyway. `overlay` is not
/// among them: it is the root of a container and holds real data.
const NOT_VOLUMES: &[&str] = &[
    "autofs",
    "binfmt_misc",
    "bpf",
    "cgroup",
    "cgroup2",
    "configfs",
    "debugfs",
    "devpts",
    "devtmpfs",
    "efivarfs",
    "fusectl",
    "hugetlbfs",
    "mqueue",
    "nsfs",
    "proc",
    "pstore",
    "ramfs",
    "rpc_pipefs",
    "securityfs",
    "selinuxfs",
    "squashfs",
    "sysfs",
    "tmpfs",
    "tracefs",
];

/// The largest page of children an agent lists at once.
pub const MAX_CHILD_PAGE: usize = 10_000;

/// A mounted file system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Where it is mounted.
    pub mount_point: Vec<u8>,
    /// Its type (`ext4`, `tmpfs`...).
    pub file_system: String,
    /// What is mounted (a device, or a name for virtual file systems).
    pub source: String,
    /// Whether it counts as a volume datasource.
    pub is_volume: bool,
}

/// One folder or file directly below a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildEntry {
    /// Its name (one path component).
    pub name: Vec<u8>,
    /// Folder or file.
    pub kind: DatasourceKind,
}

/// One page of children, sorted by name bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildPage {
    /// The entries.
    pub entries: Vec<ChildEntry>,
    /// Whether entries follow the last one.
    pub more: bool,
}

/// Why an agent could not answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// The path is not absolute, or has `.` / `..` components.
    #[error("'{}' is not an absolute path without '.' or '..' components", show(.0))]
    InvalidPath(Vec<u8>),
    /// Nothing exists at the path.
    #[error("'{}' does not exist", show(.0))]
    NotFound(Vec<u8>),
    /// The path is on a file system that is not a volume.
    #[error(
        "'{}' is on a {file_system} file system mounted at '{}', which is not a volume that \
         can be protected",
        show(path),
        show(mount_point)
    )]
    NotProtectable {
        /// The path.
        path: Vec<u8>,
        /// The file system's mount point.
        mount_point: Vec<u8>,
        /// The file system's type.
        file_system: String,
    },
    /// Children were asked of something that is not a folder.
    #[error("'{}' is not a folder", show(.0))]
    NotAFolder(Vec<u8>),
    /// The path is, or passes through, a symbolic link: rdpm protects a
    /// folder or file by its real path only, so that what is backed up and
    /// where a restore writes cannot be redirected by swapping a link in.
    #[error(
        "'{}' passes through the symbolic link '{}' (to '{}'); rdpm protects data by its real \
         path, never through a link: protect '{}' instead",
        show(path),
        show(link),
        show(target),
        show(real)
    )]
    ThroughLink {
        /// The path.
        path: Vec<u8>,
        /// The first link on the way.
        link: Vec<u8>,
        /// What the link says.
        target: Vec<u8>,
        /// The path with every link resolved.
        real: Vec<u8>,
    },
    /// The file system failed.
    #[error("cannot read '{}': {source}", show(path))]
    Io {
        /// The path.
        path: Vec<u8>,
        /// What failed.
        source: io::Error,
    },
    /// A remote production server's agent is not connected or did not
    /// answer in time.
    #[error(
        "the agent of the production server '{server}' cannot be reached: {reason}; it was \
         last seen {}. Check that 'rdpm agent' runs on {server} and can reach this server \
         (its log says why it cannot)",
        last_seen.map(|t| format!("at {}", t.format("%Y-%m-%d %H:%M:%S UTC"))).unwrap_or_else(|| "never".into())
    )]
    Unreachable {
        /// The production server's name.
        server: String,
        /// What went wrong.
        reason: String,
        /// When it was last connected.
        last_seen: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// The agent answered something the server does not understand (an
    /// agent of another version).
    #[error("the agent of '{server}' cannot do this: {message}")]
    Unsupported {
        /// The production server's name.
        server: String,
        /// What it said.
        message: String,
    },
}

impl AgentError {
    /// The failure as it travels from an agent to the server.
    pub fn to_wire(&self) -> AgentFailure {
        let p = |path: &[u8]| WirePath(path.to_vec());
        match self {
            AgentError::InvalidPath(path) => AgentFailure::InvalidPath { path: p(path) },
            AgentError::NotFound(path) => AgentFailure::NotFound { path: p(path) },
            AgentError::NotProtectable {
                path,
                mount_point,
                file_system,
            } => AgentFailure::NotProtectable {
                path: p(path),
                mount_point: p(mount_point),
                file_system: file_system.clone(),
            },
            AgentError::NotAFolder(path) => AgentFailure::NotAFolder { path: p(path) },
            AgentError::ThroughLink {
                path,
                link,
                target,
                real,
            } => AgentFailure::ThroughLink {
                path: p(path),
                link: p(link),
                target: p(target),
                real: p(real),
            },
            AgentError::Io { path, source } => AgentFailure::Io {
                path: p(path),
                message: source.to_string(),
            },
            AgentError::Unreachable { .. } | AgentError::Unsupported { .. } => {
                AgentFailure::Unsupported {
                    message: self.to_string(),
                }
            }
        }
    }

    /// A failure an agent of the production server `server` sent.
    pub fn from_wire(failure: AgentFailure, server: &str) -> AgentError {
        match failure {
            AgentFailure::InvalidPath { path } => AgentError::InvalidPath(path.0),
            AgentFailure::NotFound { path } => AgentError::NotFound(path.0),
            AgentFailure::NotProtectable {
                path,
                mount_point,
                file_system,
            } => AgentError::NotProtectable {
                path: path.0,
                mount_point: mount_point.0,
                file_system,
            },
            AgentFailure::NotAFolder { path } => AgentError::NotAFolder(path.0),
            AgentFailure::ThroughLink {
                path,
                link,
                target,
                real,
            } => AgentError::ThroughLink {
                path: path.0,
                link: link.0,
                target: target.0,
                real: real.0,
            },
            AgentFailure::Io { path, message } => AgentError::Io {
                path: path.0,
                source: io::Error::other(message),
            },
            AgentFailure::Unsupported { message } => AgentError::Unsupported {
                server: server.to_string(),
                message,
            },
        }
    }
}

impl Mount {
    /// The mount as it travels.
    pub fn to_wire(&self) -> WireMount {
        WireMount {
            mount_point: WirePath(self.mount_point.clone()),
            file_system: self.file_system.clone(),
            source: self.source.clone(),
            is_volume: self.is_volume,
        }
    }

    /// A mount an agent sent.
    pub fn from_wire(mount: WireMount) -> Mount {
        Mount {
            mount_point: mount.mount_point.0,
            file_system: mount.file_system,
            source: mount.source,
            is_volume: mount.is_volume,
        }
    }
}

/// Answers one request of the server with `agent`: what `rdpm agent` does
/// with each request of its channel (blocking).
pub fn serve(agent: &dyn ProductionAgent, request: AgentRequest) -> AgentResult {
    let reply = match request {
        AgentRequest::Volumes => agent.volumes().map(|volumes| AgentReply::Volumes {
            volumes: volumes.iter().map(Mount::to_wire).collect(),
        }),
        AgentRequest::DatasourceForPath { path } => agent
            .datasource_for_path(&path.0)
            .map(|m| AgentReply::Mount { mount: m.to_wire() }),
        AgentRequest::KindOf { path } => {
            agent.kind_of(&path.0).map(|kind| AgentReply::Kind { kind })
        }
        AgentRequest::Children { path, after, limit } => {
            let limit = usize::try_from(limit)
                .unwrap_or(usize::MAX)
                .min(MAX_CHILD_PAGE);
            agent
                .children(&path.0, after.as_ref().map(|a| a.0.as_slice()), limit)
                .map(|page| AgentReply::Children {
                    entries: page
                        .entries
                        .into_iter()
                        .map(|e| WireChild {
                            name: WirePath(e.name),
                            kind: e.kind,
                        })
                        .collect(),
                    more: page.more,
                })
        }
    };
    match reply {
        Ok(reply) => AgentResult::Ok(reply),
        Err(e) => AgentResult::Err(e.to_wire()),
    }
}

fn show(path: &[u8]) -> String {
    String::from_utf8_lossy(path).into_owned()
}

/// A computer whose data the server protects.
pub trait ProductionAgent: Send + Sync + std::fmt::Debug {
    /// How the computer names itself.
    fn names(&self) -> ProductionServerNames;

    /// The volume datasources: mounted file systems that are volumes,
    /// sorted by mount point.
    fn volumes(&self) -> Result<Vec<Mount>, AgentError>;

    /// The mount a path is on (the longest mount point containing it),
    /// refused when that file system is not a volume.
    fn datasource_for_path(&self, path: &[u8]) -> Result<Mount, AgentError>;

    /// What is at `path`: a volume (a volume's mount point), a folder or a
    /// file; refused for paths that are not on a volume.
    fn kind_of(&self, path: &[u8]) -> Result<DatasourceKind, AgentError>;

    /// Up to `limit` entries directly below `path` whose names sort after
    /// `after`, by name bytes.
    fn children(
        &self,
        path: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<ChildPage, AgentError>;
}

/// Brings a requested path to the agents' form: absolute, single slashes,
/// no trailing slash (but `/`), no `.` or `..`.
pub fn normalize(path: &[u8]) -> Result<Vec<u8>, AgentError> {
    if path.first() != Some(&b'/') {
        return Err(AgentError::InvalidPath(path.to_vec()));
    }
    let mut out = Vec::with_capacity(path.len());
    for component in path.split(|&b| b == b'/').filter(|c| !c.is_empty()) {
        if component == b"." || component == b".." || component.contains(&0) {
            return Err(AgentError::InvalidPath(path.to_vec()));
        }
        out.push(b'/');
        out.extend_from_slice(component);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    Ok(out)
}

/// Reads a mount table in `/proc/self/mounts` format. A mount point seen
/// twice keeps its last entry: the later mount is the one on top.
pub fn parse_mounts(text: &[u8]) -> Vec<Mount> {
    let mut mounts: Vec<Mount> = Vec::new();
    for line in text.split(|&b| b == b'\n') {
        let mut fields = line.split(|&b| b == b' ').filter(|f| !f.is_empty());
        let (Some(source), Some(mount_point), Some(file_system)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let file_system = String::from_utf8_lossy(file_system).into_owned();
        let mount = Mount {
            mount_point: unescape(mount_point),
            is_volume: !NOT_VOLUMES.contains(&file_system.as_str())
                && !is_namespace_mount(&unescape(mount_point)),
            file_system,
            source: String::from_utf8_lossy(&unescape(source)).into_owned(),
        };
        mounts.retain(|m| m.mount_point != mount.mount_point);
        mounts.push(mount);
    }
    mounts
}

/// Where iproute2 keeps network namespaces (`ip netns add` makes the
/// folder a mount of its own and mounts each namespace's file in it):
/// bookkeeping of the kernel, never a volume to protect or to pool.
fn is_namespace_mount(mount_point: &[u8]) -> bool {
    ["/run/netns", "/var/run/netns"].iter().any(|root| {
        mount_point
            .strip_prefix(root.as_bytes())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(b"/"))
    })
}

/// Undoes the kernel's octal escapes (`\040` for a space, `\012` for a
/// newline, `\134` for a backslash).
fn unescape(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        let octal = field
            .get(i + 1..i + 4)
            .filter(|d| field[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            None => {
                out.push(field[i]);
                i += 1;
            }
        }
    }
    out
}

/// The mount holding `path`: the longest mount point containing it.
pub fn longest_mount<'a>(mounts: &'a [Mount], path: &[u8]) -> Option<&'a Mount> {
    mounts
        .iter()
        .filter(|m| path_contains(&m.mount_point, path))
        .max_by_key(|m| m.mount_point.len())
}

/// The server's own host.
#[derive(Debug)]
pub struct LocalAgent {
    mounts_file: PathBuf,
    /// Paths whose file system is a volume whatever its type: the data
    /// directory's own file system is always protectable.
    always_volumes: Vec<Vec<u8>>,
    names: ProductionServerNames,
}

impl LocalAgent {
    /// The local host, its mounts read from `/proc/self/mounts`; the file
    /// system holding `data_dir` counts as a volume whatever its type.
    pub fn new(data_dir: &Path) -> Self {
        LocalAgent::with_mounts_file(data_dir, PathBuf::from("/proc/self/mounts"))
    }

    /// The same, reading the mount table from `mounts_file`.
    pub fn with_mounts_file(data_dir: &Path, mounts_file: PathBuf) -> Self {
        let data_dir = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
        LocalAgent {
            mounts_file,
            always_volumes: vec![data_dir.as_os_str().as_bytes().to_vec()],
            names: local_names(),
        }
    }

    /// Every mount, volumes or not, with the data directory's file system
    /// marked as a volume: the storage pool's view of the host.
    pub fn mount_table(&self) -> Result<Vec<Mount>, AgentError> {
        self.mounts()
    }

    fn mounts(&self) -> Result<Vec<Mount>, AgentError> {
        let text = std::fs::read(&self.mounts_file).map_err(|source| AgentError::Io {
            path: self.mounts_file.as_os_str().as_bytes().to_vec(),
            source,
        })?;
        let mut mounts = parse_mounts(&text);
        for path in &self.always_volumes {
            let holder = longest_mount(&mounts, path).map(|m| m.mount_point.clone());
            if let Some(holder) = holder {
                for m in mounts.iter_mut().filter(|m| m.mount_point == holder) {
                    m.is_volume = true;
                }
            }
        }
        Ok(mounts)
    }
}

fn os(path: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(path))
}

fn io_error(path: &[u8], source: io::Error) -> AgentError {
    if source.kind() == io::ErrorKind::NotFound {
        AgentError::NotFound(path.to_vec())
    } else {
        AgentError::Io {
            path: path.to_vec(),
            source,
        }
    }
}

impl ProductionAgent for LocalAgent {
    fn names(&self) -> ProductionServerNames {
        self.names.clone()
    }

    fn volumes(&self) -> Result<Vec<Mount>, AgentError> {
        let mut volumes: Vec<Mount> = self.mounts()?.into_iter().filter(|m| m.is_volume).collect();
        volumes.sort_by(|a, b| a.mount_point.cmp(&b.mount_point));
        Ok(volumes)
    }

    fn datasource_for_path(&self, path: &[u8]) -> Result<Mount, AgentError> {
        let path = normalize(path)?;
        let mounts = self.mounts()?;
        let mount = longest_mount(&mounts, &path)
            .ok_or_else(|| AgentError::NotFound(path.clone()))?
            .clone();
        if !mount.is_volume {
            return Err(AgentError::NotProtectable {
                path,
                mount_point: mount.mount_point,
                file_system: mount.file_system,
            });
        }
        Ok(mount)
    }

    fn kind_of(&self, path: &[u8]) -> Result<DatasourceKind, AgentError> {
        let path = normalize(path)?;
        let mount = self.datasource_for_path(&path)?;
        let meta = std::fs::symlink_metadata(os(&path)).map_err(|e| io_error(&path, e))?;
        match rdpm_storage::check_no_links(Path::new(os(&path))) {
            Err(rdpm_storage::Error::LinkInPath { link, target }) => {
                let real = std::fs::canonicalize(os(&path)).map_err(|e| io_error(&path, e))?;
                return Err(AgentError::ThroughLink {
                    link: link.into_os_string().into_vec(),
                    target: target.into_os_string().into_vec(),
                    real: real.into_os_string().into_vec(),
                    path,
                });
            }
            Err(e) => return Err(io_error(&path, io::Error::other(e.to_string()))),
            Ok(()) => {}
        }
        Ok(if mount.mount_point == path {
            DatasourceKind::Volume
        } else if meta.is_dir() {
            DatasourceKind::Folder
        } else {
            DatasourceKind::File
        })
    }

    fn children(
        &self,
        path: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<ChildPage, AgentError> {
        let path = normalize(path)?;
        let meta = std::fs::metadata(os(&path)).map_err(|e| io_error(&path, e))?;
        if !meta.is_dir() {
            return Err(AgentError::NotAFolder(path));
        }
        let dir = std::fs::read_dir(os(&path)).map_err(|e| io_error(&path, e))?;
        let mut entries = Vec::new();
        for entry in dir {
            let entry = entry.map_err(|e| io_error(&path, e))?;
            let name = entry.file_name().as_bytes().to_vec();
            if after.is_some_and(|after| name.as_slice() <= after) {
                continue;
            }
            // An entry that vanished since the listing is simply not there.
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            let kind = if file_type.is_dir() {
                DatasourceKind::Folder
            } else if file_type.is_file() || file_type.is_symlink() {
                DatasourceKind::File
            } else {
                // Sockets, pipes and device nodes hold no data to protect.
                continue;
            };
            entries.push(ChildEntry { name, kind });
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        let more = entries.len() > limit;
        entries.truncate(limit);
        Ok(ChildPage { entries, more })
    }
}

/// The host's names: the short name, the domain from the host name or
/// from `/etc/resolv.conf` (`domain`, else the first `search` entry).
/// How this host names itself: its host name, split at the first dot into
/// short name and domain (the resolver's domain when the name has none).
pub fn local_names() -> ProductionServerNames {
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    let (short, domain) = match host.split_once('.') {
        Some((short, domain)) => (short.to_string(), domain.to_string()),
        None => (host.clone(), resolv_domain().unwrap_or_default()),
    };
    let name = if domain.is_empty() {
        short.clone()
    } else {
        format!("{short}.{domain}")
    };
    ProductionServerNames {
        server_name: short,
        name,
        domain,
    }
}

fn resolv_domain() -> Option<String> {
    let text = std::fs::read_to_string("/etc/resolv.conf").ok()?;
    let mut search = None;
    for line in text.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("domain") => return words.next().map(str::to_string),
            Some("search") if search.is_none() => search = words.next().map(str::to_string),
            _ => {}
        }
    }
    search
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTS: &[u8] = b"proc /proc proc rw,relatime 0 0
sysfs /sys sysfs rw 0 0
/dev/vda / ext4 rw,relatime 0 0
tmpfs /dev/shm tmpfs rw 0 0
tmpfs /run/data tmpfs rw 0 0
cgroup2 /sys/fs/cgroup cgroup2 rw 0 0
/dev/vdb /srv xfs rw 0 0
/dev/vdc /mnt/with\\040space ext4 rw 0 0
overlay /var/lib/ctr overlay rw 0 0
/dev/vdd /srv xfs rw 0 0
/dev/vda /run/netns ext4 rw,relatime 0 0
nsfs /run/netns/blue nsfs rw 0 0
/dev/vda /run/netnsx ext4 rw 0 0
";

    #[test]
    fn the_mount_table_yields_volumes_only() {
        let mounts = parse_mounts(MOUNTS);
        let volumes: Vec<(String, &str, &str)> = mounts
            .iter()
            .filter(|m| m.is_volume)
            .map(|m| {
                (
                    show(&m.mount_point),
                    m.file_system.as_str(),
                    m.source.as_str(),
                )
            })
            .collect();
        assert_eq!(
            volumes,
            [
                ("/".to_string(), "ext4", "/dev/vda"),
                ("/mnt/with space".to_string(), "ext4", "/dev/vdc"),
                ("/var/lib/ctr".to_string(), "overlay", "overlay"),
                ("/srv".to_string(), "xfs", "/dev/vdd"),
                ("/run/netnsx".to_string(), "ext4", "/dev/vda"),
            ]
        );
    }

    #[test]
    fn escapes_decode_to_bytes() {
        let cases: [(&[u8], &[u8]); 4] = [
            (b"/a\\040b", b"/a b"),
            (b"/a\\012b", b"/a\nb"),
            (b"/a\\134b", b"/a\\b"),
            (b"/a\\9", b"/a\\9"),
        ];
        for (field, expected) in cases {
            assert_eq!(unescape(field), expected);
        }
    }

    #[test]
    fn paths_normalize_or_are_refused() {
        let cases: [(&[u8], Option<&[u8]>); 7] = [
            (b"/srv/www", Some(b"/srv/www")),
            (b"/srv//www/", Some(b"/srv/www")),
            (b"/", Some(b"/")),
            (b"//", Some(b"/")),
            (b"srv", None),
            (b"/srv/../etc", None),
            (b"/srv/./www", None),
        ];
        for (path, expected) in cases {
            assert_eq!(normalize(path).ok().as_deref(), expected, "{}", show(path));
        }
    }

    fn agent_with(mounts: &[u8], data_dir: &Path) -> (tempfile::TempDir, LocalAgent) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mounts");
        std::fs::write(&file, mounts).unwrap();
        (dir, LocalAgent::with_mounts_file(data_dir, file))
    }

    #[test]
    fn the_longest_mount_point_holds_a_path() {
        let (_dir, agent) = agent_with(MOUNTS, Path::new("/nonexistent/data"));
        let cases: [(&[u8], Result<&str, &str>); 6] = [
            (b"/srv/www", Ok("/srv")),
            (b"/srvx", Ok("/")),
            (b"/etc/hosts", Ok("/")),
            (b"/mnt/with space/x", Ok("/mnt/with space")),
            (
                b"/proc/1",
                Err(
                    "'/proc/1' is on a proc file system mounted at '/proc', which is not a \
                     volume that can be protected",
                ),
            ),
            (
                b"relative",
                Err("'relative' is not an absolute path without '.' or '..' components"),
            ),
        ];
        for (path, expected) in cases {
            let got = agent
                .datasource_for_path(path)
                .map(|m| show(&m.mount_point))
                .map_err(|e| e.to_string());
            assert_eq!(
                got,
                expected.map(str::to_string).map_err(str::to_string),
                "{}",
                show(path)
            );
        }
    }

    #[test]
    fn the_data_directory_file_system_is_always_a_volume() {
        let (_dir, agent) = agent_with(MOUNTS, Path::new("/run/data/rdpm"));
        let volumes: Vec<String> = agent
            .volumes()
            .unwrap()
            .iter()
            .map(|m| show(&m.mount_point))
            .collect();
        assert!(volumes.contains(&"/run/data".to_string()), "{volumes:?}");
        assert!(!volumes.contains(&"/dev/shm".to_string()), "{volumes:?}");
    }

    #[test]
    fn children_page_by_name_bytes() {
        let tree = tempfile::tempdir().unwrap();
        for name in ["b", "a", "c"] {
            std::fs::create_dir(tree.path().join(name)).unwrap();
        }
        std::fs::write(tree.path().join("file"), b"x").unwrap();
        std::fs::write(tree.path().join(OsStr::from_bytes(b"caf\xe9")), b"x").unwrap();
        let agent = LocalAgent::new(tree.path());
        let root = tree.path().as_os_str().as_bytes();
        let mut seen = Vec::new();
        let mut after: Option<Vec<u8>> = None;
        loop {
            let page = agent.children(root, after.as_deref(), 2).unwrap();
            assert!(page.entries.len() <= 2);
            seen.extend(page.entries.iter().map(|e| (e.name.clone(), e.kind)));
            if !page.more {
                break;
            }
            after = page.entries.last().map(|e| e.name.clone());
        }
        let expected: Vec<(Vec<u8>, DatasourceKind)> = vec![
            (b"a".to_vec(), DatasourceKind::Folder),
            (b"b".to_vec(), DatasourceKind::Folder),
            (b"c".to_vec(), DatasourceKind::Folder),
            (b"caf\xe9".to_vec(), DatasourceKind::File),
            (b"file".to_vec(), DatasourceKind::File),
        ];
        assert_eq!(seen, expected);
        let file = [root, b"/file"].concat();
        assert!(matches!(
            agent.children(&file, None, 10),
            Err(AgentError::NotAFolder(_))
        ));
        let missing = [root, b"/missing"].concat();
        assert!(matches!(
            agent.children(&missing, None, 10),
            Err(AgentError::NotFound(_))
        ));
    }
}
