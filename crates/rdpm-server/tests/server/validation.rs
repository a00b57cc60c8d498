//! Consistency checks: validation jobs that read a datasource's recovery
//! points back and name the damaged ones.

use std::path::{Path, PathBuf};

use rdpm_types::{paths, ConsistencyCheckRequest, ErrorId, Job, JobStatus, JobType};
use reqwest::StatusCode;

use super::jobs::large_tree;
use super::support::{expect_problem, Session, TestServer};

fn pack_files(repo: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in std::fs::read_dir(repo.join("data")).unwrap() {
        for f in std::fs::read_dir(dir.unwrap().path()).unwrap() {
            out.push(f.unwrap().path());
        }
    }
    out.sort();
    out
}

impl TestServer {
    async fn check(&self, s: &Session, request: &ConsistencyCheckRequest) -> Job {
        let response = self
            .post_json(paths::JOBS_CONSISTENCY_CHECK, &s.token, request)
            .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let jobs: Vec<Job> = self.json(response).await;
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].job_type, JobType::Validation);
        self.wait(s, &jobs[0]).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consistency_check_passes_then_names_the_damaged_recovery_point() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let src = large_tree(&t.dir.path().join("data"), 3, 1 << 20);
    let group = t.committed_group(&s, "Checked", &src).await;
    let first = t.wait(&s, &t.backup(&s, &group).await[0]).await;
    let repo = t.data_dir().join(rdpm_server::DEFAULT_POOL_DIR);
    let before = pack_files(&repo);
    super::jobs::large_tree_seeded(&src.join("more"), 2, 1 << 20, 7);
    let second = t.wait(&s, &t.backup(&s, &group).await[0]).await;
    assert_eq!(second.status, JobStatus::Succeeded);
    let ds = group.members[0].datasource_id;

    let light = ConsistencyCheckRequest {
        datasources: vec![ds],
        protection_group: None,
        heavy_weight: false,
    };
    let heavy = ConsistencyCheckRequest {
        heavy_weight: true,
        ..light.clone()
    };
    let ok = t.check(&s, &light).await;
    assert_eq!(ok.status, JobStatus::Succeeded, "{ok:?}");
    assert!(
        ok.messages.iter().any(|m| m.contains("sample")),
        "{:?}",
        ok.messages
    );
    let by_group = t
        .check(
            &s,
            &ConsistencyCheckRequest {
                datasources: vec![],
                protection_group: Some(group.id),
                heavy_weight: true,
            },
        )
        .await;
    assert_eq!(by_group.status, JobStatus::Succeeded, "{by_group:?}");
    assert!(by_group
        .messages
        .iter()
        .any(|m| m.contains("all of their stored data")));

    // A flipped byte in a pack only the second point uses.
    let damaged = pack_files(&repo)
        .into_iter()
        .filter(|p| !before.contains(p))
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .unwrap();
    let mut perms = std::fs::metadata(&damaged).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&damaged, perms).unwrap();
    let mut bytes = std::fs::read(&damaged).unwrap();
    bytes[300] ^= 0xff;
    std::fs::write(&damaged, bytes).unwrap();

    let failed = t.check(&s, &heavy).await;
    assert_eq!(failed.status, JobStatus::Failed, "{failed:?}");
    let error = failed.error.unwrap();
    assert_eq!(error.kind, "DataCorruptionDetected");
    let second_point = second.recovery_point_id.unwrap();
    let first_point = first.recovery_point_id.unwrap();
    assert!(error.message.contains(&second_point), "{}", error.message);
    assert!(!error.message.contains(&first_point), "{}", error.message);
    assert!(error.message.contains("1 of 2"), "{}", error.message);

    // Mistakes.
    let nothing = t
        .post_json(
            paths::JOBS_CONSISTENCY_CHECK,
            &s.token,
            &ConsistencyCheckRequest {
                datasources: vec![],
                protection_group: None,
                heavy_weight: false,
            },
        )
        .await;
    expect_problem(nothing, 400, ErrorId::InvalidRequest).await;
    let no_group = t
        .post_json(
            paths::JOBS_CONSISTENCY_CHECK,
            &s.token,
            &ConsistencyCheckRequest {
                datasources: vec![],
                protection_group: Some(rdpm_types::ProtectionGroupId(uuid::Uuid::nil())),
                heavy_weight: false,
            },
        )
        .await;
    expect_problem(no_group, 404, ErrorId::ProtectionGroupNotFound).await;
}
