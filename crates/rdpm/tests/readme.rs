//! The README's "Recovering a backup without rdpm" section, run as written:
//! its shell block, with the reader's paths replaced by the test's, restores
//! a recovery point the server made with the stock `restic` binary, byte
//! for byte.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use rdpm_types::{DiskRecoveryPointOption, JobStatus, NewRecoveryPoints};

use crate::support::{admin_session, bin, protect_in, rt, tree_below, TestServer};

/// The first ```sh block after the heading `heading`.
fn sh_block(readme: &str, heading: &str) -> String {
    let section = readme
        .split_once(heading)
        .unwrap_or_else(|| panic!("README has no section {heading:?}"))
        .1;
    let block = section
        .split_once("```sh\n")
        .expect("the section has a sh block")
        .1;
    block
        .split_once("```")
        .expect("the block ends")
        .0
        .to_string()
}

#[test]
fn the_readme_recovery_without_rdpm_restores_a_recovery_point_byte_for_byte() {
    let server = TestServer::start(bin(), "DPMServer07", &[]);
    let src = server.scratch_dir().join("www");
    std::fs::create_dir_all(src.join("assets/img")).expect("mkdir");
    std::fs::write(src.join("index.html"), b"<html>home</html>").expect("write");
    std::fs::write(src.join("assets/site.css"), b"body{}").expect("write");
    std::fs::write(src.join("assets/img/logo.bin"), vec![0xA5_u8; 300_000]).expect("write");
    std::fs::write(src.join("name with spaces.txt"), b"spaces").expect("write");
    std::fs::set_permissions(
        src.join("index.html"),
        std::fs::Permissions::from_mode(0o640),
    )
    .expect("chmod");
    std::os::unix::fs::symlink("index.html", src.join("home")).expect("symlink");

    let (datasource, point) = rt().block_on(async {
        let s = admin_session(&server).await;
        let group = protect_in(&s, "Web", &src).await;
        let ds = group.members[0].datasource_id;
        let job = s
            .new_recovery_points(&NewRecoveryPoints {
                datasources: vec![ds],
                option: DiskRecoveryPointOption::WithSynchronize,
                with_integrity_check: false,
                only_idle: false,
            })
            .await
            .expect("backup queued")
            .remove(0);
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let now = s.job(job.id).await.expect("job");
            if now.has_completed() {
                assert_eq!(now.status, JobStatus::Succeeded, "{now:?}");
                break;
            }
            assert!(Instant::now() < deadline, "backup stuck: {now:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let point = s
            .recovery_points(ds, false)
            .await
            .expect("points")
            .remove(0);
        (ds, point.id)
    });

    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .expect("README.md");
    let target = server.scratch_dir().join("restore");
    let script = sh_block(&readme, "## Recovering a backup without rdpm")
        .replace(
            "~/.local/share/rdpm",
            &server.data_dir.display().to_string(),
        )
        .replace("/tmp/restore", &target.display().to_string())
        .replace("/srv/www", &src.display().to_string())
        .replace("<id>", &datasource.to_string());
    let out = Command::new("sh")
        .arg("-ec")
        .arg(&script)
        .env(
            "RESTIC_CACHE_DIR",
            server.scratch_dir().join("restic-cache"),
        )
        .output()
        .expect("sh runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the README's commands failed:\n{script}\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Both listings (all snapshots, the datasource's) name the point.
    assert_eq!(
        stdout.matches(&format!("\n{}  ", &point[..8])).count(),
        2,
        "{stdout}"
    );

    let restored = target.join(src.strip_prefix("/").expect("absolute"));
    assert_eq!(tree_below(&src), tree_below(&restored));
    for rel in tree_below(&src) {
        let (a, b) = (src.join(&rel), restored.join(&rel));
        let (ma, mb) = (
            std::fs::symlink_metadata(&a).expect("stat"),
            std::fs::symlink_metadata(&b).expect("stat"),
        );
        assert_eq!(ma.file_type(), mb.file_type(), "{}", rel.display());
        assert_eq!(
            ma.permissions().mode(),
            mb.permissions().mode(),
            "{}",
            rel.display()
        );
        if ma.file_type().is_symlink() {
            assert_eq!(std::fs::read_link(&a).ok(), std::fs::read_link(&b).ok());
        } else if ma.is_file() {
            assert!(
                std::fs::read(&a).ok() == std::fs::read(&b).ok(),
                "{} differs",
                rel.display()
            );
        }
    }
}
