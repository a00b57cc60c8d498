//! Streaming from the shell against the real server: `Select-Object -First`
//! stops a recoverable-item listing after the objects it needs, with the
//! server's cursor released, and recoverable items give their path as their
//! string form.

use std::path::{Path, PathBuf};

use crate::support::*;

/// Files in the wide folder: several pages of the server's default.
const WIDE: usize = 3000;

/// A folder with one file and a wide subfolder.
fn tree(root: &Path) -> PathBuf {
    let dir = root.join("tree");
    std::fs::create_dir_all(dir.join("wide")).expect("dir");
    std::fs::write(dir.join("note.txt"), "a note").expect("note");
    for i in 0..WIDE {
        std::fs::write(dir.join(format!("wide/f{i:05}")), i.to_string()).expect("wide");
    }
    dir
}

/// Connects, and sets `$rp` to the group's only recovery point and `$wide`
/// to the wide folder's item in it.
const SETUP: &str = "Connect-DPMServer DPMServer07 | Out-Null
     $ds = Get-DPMDatasource DPMServer07 | Where-Object { $_.ProtectionGroupName -eq 'Tree' }
     $rp = Get-DPMRecoveryPoint $ds | Select-Object -First 1
     $wide = Get-DPMRecoverableItem $rp Child | Where-Object { $_.Name -eq 'wide' }
     ";

/// A server with `tree` protected in group `Tree` and backed up once.
fn backed_up() -> (TestServer, tempfile::TempDir, PathBuf) {
    let s = server("DPMServer07");
    let data = tempfile::tempdir().expect("tempdir");
    let src = tree(data.path());
    protect(&s, "Tree", &src);
    let (_, out, err) = s.run(
        "Connect-DPMServer DPMServer07 | Out-Null
         $ds = Get-DPMDatasource DPMServer07 | Where-Object { $_.ProtectionGroupName -eq 'Tree' }
         (New-DPMRecoveryPoint $ds -Disk -DiskRecoveryPointOption WithSynchronize | Wait-DPMJob -Timeout 120).Status",
    );
    assert!(err.trim().is_empty(), "{err}");
    assert_eq!(out.trim(), "Succeeded");
    (s, data, src)
}

fn lines(out: &str) -> Vec<&str> {
    out.lines().map(str::trim).collect()
}

#[test]
fn select_first_stops_a_wide_listing_and_releases_its_cursor() {
    let (s, _data, _src) = backed_up();
    let (_, out, err) = s.run(&format!(
        "{SETUP}$global:seen = 0
         $names = Get-DPMRecoverableItem $wide Child | ForEach-Object {{
             $global:seen = $global:seen + 1
             $global:during = (Get-DPMSession DPMServer07 | Where-Object {{ $_.IsCurrent }}).Objects
             $_
         }} | Select-Object -First 3 | ForEach-Object {{ $_.Name }}
         $?
         $names -join ','
         $global:seen
         $global:during
         (Get-DPMSession DPMServer07 | Where-Object {{ $_.IsCurrent }}).ObjectCount
         foreach ($i in 1..2) {{ Get-DPMRecoverableItem $wide Child | Select-Object -Skip 1 -First 1 | ForEach-Object {{ \"$i $($_.Name)\" }} }}
         (Get-DPMSession DPMServer07 | Where-Object {{ $_.IsCurrent }}).ObjectCount
         @(Get-DPMRecoverableItem $wide Child | Select-Object -First 0).Count
         @(Get-DPMRecoverableItem $wide Child | Select-Object -Last 1).Name"
    ));
    assert!(err.trim().is_empty(), "{err}");
    assert_eq!(
        lines(&out),
        [
            "True",
            "f00000,f00001,f00002",
            // Only the objects Select-Object needed went through.
            "3",
            // The rest of the folder waited on the server while they did...
            "BrowseCursor=1",
            // ...and was released when the pipeline stopped.
            "0",
            "1 f00001",
            "2 f00001",
            "0",
            "0",
            "f02999",
        ],
        "{out}"
    );
}

#[test]
fn a_recoverable_item_converts_to_its_path() {
    let (s, _data, src) = backed_up();
    let (_, out, err) = s.run(&format!(
        "{SETUP}$note = Get-DPMRecoverableItem $rp Child | Where-Object {{ $_.Name -eq 'note.txt' }}
         $note.ToString()
         \"Restoring $note now\"
         [string]$note
         @($note, $wide) -join '|'
         '{{0}}' -f $note"
    ));
    assert!(err.trim().is_empty(), "{err}");
    let note = format!("{}/note.txt", src.display());
    let wide = format!("{}/wide", src.display());
    assert_eq!(
        lines(&out),
        [
            note.clone(),
            format!("Restoring {note} now"),
            note.clone(),
            format!("{note}|{wide}"),
            note,
        ],
        "{out}"
    );
}
