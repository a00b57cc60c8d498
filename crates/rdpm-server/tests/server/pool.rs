//! The storage pool: the default member of a first start, adding,
//! refusing and removing members.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use rdpm_storage::{BackupRequest, KeyMaterial, Repository, RepositoryOptions};
use rdpm_types::{paths, ErrorId, NewPoolMember, PoolMember, ServerVolume};
use reqwest::StatusCode;

use super::support::{expect_problem, TestServer};

async fn members(t: &TestServer, token: &str) -> Vec<PoolMember> {
    let response = t.get(paths::STORAGE_POOL, token).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn member_path(id: uuid::Uuid) -> String {
    paths::STORAGE_POOL_MEMBER_TEMPLATE.replace("{id}", &id.to_string())
}

fn new_member(path: &Path, name: Option<&str>) -> NewPoolMember {
    NewPoolMember {
        path: path.to_string_lossy().into_owned(),
        friendly_name: name.map(String::from),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_start_creates_the_key_and_the_default_member() {
    let t = TestServer::start().await;
    let data = t.data_dir();
    let key_path = data.join(rdpm_server::POOL_KEY_FILE);
    let mode = std::fs::metadata(&key_path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let s = t.open_session().await;
    let list = members(&t, &s.token).await;
    assert_eq!(list.len(), 1);
    let default = &list[0];
    assert_eq!(default.friendly_name, rdpm_server::DEFAULT_POOL_NAME);
    assert!(default.is_default);
    let path = data.join(rdpm_server::DEFAULT_POOL_DIR);
    assert_eq!(Path::new(&default.path), path);
    assert!(default.total_space.unwrap() >= default.free_space.unwrap());
    assert!(default.total_space.unwrap() > 0);
    let key = KeyMaterial::load(&key_path).unwrap();
    let repo = Repository::open(&path, &key, &RepositoryOptions::default()).unwrap();
    assert!(repo.snapshots(&Default::default()).unwrap().is_empty());
    // The key is never logged; a restart keeps the key and adds no member.
    let dir = t.stop().await;
    let t = TestServer::start_in(dir, std::time::Duration::from_secs(600)).await;
    let s = t.open_session().await;
    assert_eq!(members(&t, &s.token).await.len(), 1);
    assert_eq!(
        KeyMaterial::load(&key_path).unwrap().expose_password(),
        key.expose_password()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_are_added_refused_and_removed() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let outside = tempfile::tempdir().unwrap();
    let added = {
        let response = t
            .post_json(
                paths::STORAGE_POOL,
                &s.token,
                &new_member(&outside.path().join("disk1"), Some("Disk one")),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json::<PoolMember>().await.unwrap()
    };
    assert_eq!(added.friendly_name, "Disk one");
    assert!(!added.is_default);
    assert!(outside.path().join("disk1/config").is_file());
    assert_eq!(members(&t, &s.token).await.len(), 2);

    let full = outside.path().join("full");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("file"), "x").unwrap();
    let empty = outside.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let cases: Vec<(String, &str)> = vec![
        ("relative/dir".into(), "it is not an absolute path"),
        (
            full.to_string_lossy().into_owned(),
            "the directory is not empty",
        ),
        (
            outside
                .path()
                .join("disk1/sub")
                .to_string_lossy()
                .into_owned(),
            "is inside the pool member 'Disk one'",
        ),
        (
            t.data_dir()
                .join("catalog-copy")
                .to_string_lossy()
                .into_owned(),
            "inside the server's data directory",
        ),
        (
            outside
                .path()
                .join("missing/child")
                .to_string_lossy()
                .into_owned(),
            "neither it nor its parent directory exists",
        ),
    ];
    for (path, why) in cases {
        let response = t
            .post_json(
                paths::STORAGE_POOL,
                &s.token,
                &NewPoolMember {
                    path: path.clone(),
                    friendly_name: None,
                },
            )
            .await;
        let problem = expect_problem(response, 400, ErrorId::PoolPathRefused).await;
        assert!(problem.detail.contains(&format!("'{path}'")), "{problem:?}");
        assert!(problem.detail.contains(why), "{why}: {problem:?}");
    }

    // An empty existing directory is accepted, named after itself.
    let response = t
        .post_json(paths::STORAGE_POOL, &s.token, &new_member(&empty, None))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let second: PoolMember = response.json().await.unwrap();
    assert_eq!(second.friendly_name, "empty");

    // A member with a recovery point stays.
    let key = KeyMaterial::load(&t.data_dir().join(rdpm_server::POOL_KEY_FILE)).unwrap();
    let source = outside.path().join("source");
    std::fs::create_dir(&source).unwrap();
    std::fs::write(source.join("a.txt"), "data").unwrap();
    Repository::open(&empty, &key, &RepositoryOptions::default())
        .unwrap()
        .backup(&BackupRequest::new([source.to_string_lossy().into_owned()]))
        .unwrap();
    let problem = expect_problem(
        t.delete(&member_path(second.id), &s.token).await,
        409,
        ErrorId::PoolMemberInUse,
    )
    .await;
    assert!(
        problem.detail.contains("1 recovery point(s)"),
        "{problem:?}"
    );

    assert_eq!(
        t.delete(&member_path(added.id), &s.token).await.status(),
        StatusCode::NO_CONTENT
    );
    expect_problem(
        t.delete(&member_path(added.id), &s.token).await,
        404,
        ErrorId::PoolMemberNotFound,
    )
    .await;
    // The directory stays on disk: only the pool forgets it.
    assert!(outside.path().join("disk1/config").is_file());
    let left: Vec<String> = members(&t, &s.token)
        .await
        .into_iter()
        .map(|m| m.friendly_name)
        .collect();
    assert_eq!(left, ["Default", "empty"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_member_stays() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let only = members(&t, &s.token).await.remove(0);
    let problem = expect_problem(
        t.delete(&member_path(only.id), &s.token).await,
        409,
        ErrorId::PoolMemberInUse,
    )
    .await;
    assert!(problem.detail.contains("last member"), "{problem:?}");
}

/// The mount point holding `path`, from the mount table the server reads.
fn mount_point_of(path: &Path) -> String {
    let path = std::fs::canonicalize(path).unwrap();
    let table = std::fs::read("/proc/self/mounts").unwrap();
    rdpm_server::parse_mounts(&table)
        .into_iter()
        .map(|m| String::from_utf8(m.mount_point).unwrap())
        .filter(|mp| path.starts_with(mp))
        .max_by_key(String::len)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_volumes_show_where_the_members_are() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let default = members(&t, &s.token).await.remove(0);
    let response = t.get(paths::STORAGE_POOL_VOLUMES, &s.token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let volumes: Vec<ServerVolume> = response.json().await.unwrap();
    let mount_point = mount_point_of(&t.data_dir());
    let holder = volumes
        .iter()
        .find(|v| v.mount_point == mount_point)
        .unwrap_or_else(|| panic!("{mount_point} is not among {volumes:?}"));
    assert_eq!(holder.pool_members, [default.id]);
    assert!(!holder.read_only);
    assert!(!holder.file_system.is_empty());
    let (total, free) = (holder.total_space.unwrap(), holder.free_space.unwrap());
    assert!(total > 0 && free <= total, "{holder:?}");
    // Each member is on exactly one volume; no pseudo file system is listed.
    let listed: usize = volumes.iter().map(|v| v.pool_members.len()).sum();
    assert_eq!(listed, 1);
    assert!(
        volumes
            .iter()
            .all(|v| !["proc", "sysfs", "cgroup2", "devpts"].contains(&v.file_system.as_str())),
        "{volumes:?}"
    );
    let mut sorted = volumes.clone();
    sorted.sort_by(|a, b| a.mount_point.cmp(&b.mount_point));
    assert_eq!(sorted, volumes);
    // Without a session, nothing.
    assert_eq!(
        t.get(paths::STORAGE_POOL_VOLUMES, "not-a-token")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}
