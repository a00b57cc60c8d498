//! `rdpm server attach-key`: a one-time key that attaches one host once,
//! before it expires.

use crate::support::*;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn an_attach_key_is_printed_once_and_used_once_before_it_expires() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let data = dir.path().join("data");
    let make = || {
        let out = server_cli(&data, &["attach-key"], "");
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("it is not shown again"));
        text(&out.stdout).trim().to_string()
    };
    let key = make();
    let other = make();
    assert!(key.starts_with("rdpm-attach-"), "{key}");
    assert_eq!(key.len(), "rdpm-attach-".len() + 43, "{key}");
    assert_ne!(key, other);

    let catalog = rdpm_server::users::open_catalog(&data).expect("catalog");
    let now = chrono::Utc::now();
    let use_key = |key: &str, at| {
        rdpm_server::agents::use_attach_key(catalog.as_ref(), key, at).map_err(|e| e.to_string())
    };
    assert_eq!(use_key(&key, now), Ok(()));
    let again = use_key(&key, now).expect_err("a key is used once");
    assert!(
        again.starts_with("the attach key was used already"),
        "{again}"
    );
    let wrong = use_key("rdpm-attach-nothing", now).expect_err("a wrong key");
    assert!(
        wrong.starts_with("the attach key is not one this server made"),
        "{wrong}"
    );
    // The default lifetime is one hour.
    let late = use_key(&other, now + chrono::Duration::minutes(61)).expect_err("expired");
    assert!(late.starts_with("the attach key expired at"), "{late}");
}

#[test]
fn an_attach_key_lasts_at_least_a_minute_and_at_most_seven_days() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let data = dir.path().join("data");
    let long = server_cli(&data, &["attach-key", "--expires", "8d"], "");
    assert_eq!(long.status.code(), Some(64));
    let err = text(&long.stderr);
    assert!(
        err.contains("'8d' for '--expires <DURATION>'") && err.contains("longer than 7 days"),
        "{err}"
    );
    let short = server_cli(&data, &["attach-key", "--expires", "5s"], "");
    assert_eq!(short.status.code(), Some(64));
    assert!(text(&short.stderr).contains("shorter than one minute"));
    let week = server_cli(&data, &["attach-key", "--expires", "7d"], "");
    assert!(week.status.success(), "{}", text(&week.stderr));
}
