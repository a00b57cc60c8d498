//! Recovery from the shell: browsing a recovery point's folders (Child and
//! Parent, of points and of items), a wide folder read page by page and
//! its cursor released when the pipeline stops early, searches, restores
//! into a folder and back in place with each overwrite type, WhatIf, the
//! recovery point's location, and every refused parameter with its message.

use std::path::{Path, PathBuf};

use crate::support::*;

/// Files in the wide folder: more than two pages of the server's default.
const WIDE: usize = 2500;

/// A small site: a link, two files, a folder with an invoice, a wide folder.
fn site(root: &Path) -> PathBuf {
    let dir = root.join("site");
    std::fs::create_dir_all(dir.join("invoices")).expect("dir");
    std::fs::create_dir_all(dir.join("wide")).expect("dir");
    std::fs::write(dir.join("index.html"), "<html>home</html>").expect("index");
    std::fs::write(dir.join("readme.txt"), "read me\n".repeat(50)).expect("readme");
    std::fs::write(dir.join("invoices/Invoice-2026.pdf"), "%PDF 2026").expect("pdf");
    std::os::unix::fs::symlink("index.html", dir.join("home")).expect("link");
    for i in 0..WIDE {
        std::fs::write(dir.join(format!("wide/f{i:05}")), i.to_string()).expect("wide");
    }
    dir
}

/// `$ds` and `$rp` (the latest recovery point of group `group`), in a
/// connected shell.
fn point_of(group: &str) -> String {
    format!(
        "Connect-DPMServer DPMServer07 | Out-Null
         $ds = Get-DPMDatasource DPMServer07 | Where-Object {{ $_.ProtectionGroupName -eq '{group}' }}
         $rp = Get-DPMRecoveryPoint $ds | Sort-Object RepresentedPointInTime | Select-Object -Last 1
         "
    )
}

/// A server with `site` protected in group `group` and backed up once.
fn backed_up(group: &str) -> (TestServer, tempfile::TempDir, PathBuf) {
    let s = server("DPMServer07");
    let data = tempfile::tempdir().expect("tempdir");
    let src = site(data.path());
    protect(&s, group, &src);
    let (_, out, err) = s.run(&format!(
        "{}(New-DPMRecoveryPoint $ds -Disk -DiskRecoveryPointOption WithSynchronize | Wait-DPMJob -Timeout 120).Status",
        point_of(group)
    ));
    assert!(err.trim().is_empty(), "{err}");
    assert_eq!(out.trim(), "Succeeded");
    (s, data, src)
}

fn lines(out: &str) -> Vec<&str> {
    out.lines().map(str::trim).collect()
}

#[test]
fn browsing_lists_a_points_folder_its_root_and_an_items_folder_and_parent() {
    let (s, _data, src) = backed_up("Site");
    let src_text = src.display().to_string();
    let (_, out, err) = s.run(&format!(
        "{}$top = Get-DPMRecoverableItem -RecoverableItem $rp -BrowseType Child
         ($top | ForEach-Object {{ $_.Name }}) -join ','
         $idx = $top | Where-Object {{ $_.Name -eq 'index.html' }}
         $idx.ObjectType; $idx.ItemType; $idx.Size; $idx.FileName
         $idx.FullPath; $idx.LogicalPath; $idx.Path
         $idx.RecoveryPoint -eq $rp.Id
         $idx.DataSource.Name -eq $ds.Name
         $idx.ProductionServerName -eq $ds.ProductionServerName
         $idx.BackupTime.ToString() -eq $rp.BackupTime.ToString()
         $idx.ChangedDateTime.Year -gt 2000
         $idx.Mode.StartsWith('-rw')
         $idx.IsRecoverable
         $link = $top | Where-Object {{ $_.Name -eq 'home' }}
         $link.ObjectType; $link.LinkTarget
         $root = Get-DPMRecoverableItem $rp Parent
         @($root).Count; $root.ObjectType; $root.FullPath
         (($root | Get-DPMRecoverableItem -BrowseType Child) | ForEach-Object {{ $_.Name }}) -join ','
         $inv = $top | Where-Object {{ $_.Name -eq 'invoices' }}
         $pdf = Get-DPMRecoverableItem $inv Child
         $pdf.Name; $pdf.ObjectType; $pdf.Size
         (Get-DPMRecoverableItem $pdf Parent).FullPath
         $wide = $top | Where-Object {{ $_.Name -eq 'wide' }}
         $all = Get-DPMRecoverableItem $wide Child
         @($all).Count; $all[0].Name; $all[-1].Name
         (Get-DPMSession DPMServer07 | Where-Object {{ $_.IsCurrent }}).ObjectCount",
        point_of("Site")
    ));
    assert!(err.trim().is_empty(), "{err}");
    let invoices = format!("{src_text}/invoices");
    let index = format!("{src_text}/index.html");
    let count = WIDE.to_string();
    let expected = [
        "home,index.html,invoices,readme.txt,wide",
        "File",
        "File",
        "17",
        "index.html",
        index.as_str(),
        src_text.as_str(),
        src_text.as_str(),
        "True",
        "True",
        "True",
        "True",
        "True",
        "True",
        "True",
        "Symlink",
        "index.html",
        "1",
        "Folder",
        src_text.as_str(),
        "home,index.html,invoices,readme.txt,wide",
        "Invoice-2026.pdf",
        "File",
        "9",
        invoices.as_str(),
        count.as_str(),
        "f00000",
        "f02499",
        "0",
    ];
    assert_eq!(lines(&out), expected, "{out}");

    // The default view: a file listing's columns.
    let (_, out, err) = s.run(&format!(
        "{}Get-DPMRecoverableItem $rp Child | Out-String -Width 200",
        point_of("Site")
    ));
    assert!(err.trim().is_empty(), "{err}");
    let header: Vec<&str> = out
        .lines()
        .find(|l| l.contains("ObjectType"))
        .expect("a header")
        .split_whitespace()
        .collect();
    assert_eq!(header, ["Name", "ObjectType", "Size", "ChangedDateTime"]);
    assert_contains(&out, "index.html");
    assert_contains(&out, "Symlink");
}

#[test]
fn a_pipeline_that_stops_early_releases_the_cursor_of_a_wide_folder() {
    let (s, _data, _src) = backed_up("Wide");
    let (_, out, err) = s.run(&format!(
        "{}$wide = Get-DPMRecoverableItem $rp Child | Where-Object {{ $_.Name -eq 'wide' }}
         $global:n = 0
         try {{
             Get-DPMRecoverableItem $wide Child | ForEach-Object {{
                 $global:n = $global:n + 1
                 if ($global:n -eq 3) {{
                     $global:during = (Get-DPMSession DPMServer07 | Where-Object {{ $_.IsCurrent }}).Objects
                     throw 'enough'
                 }}
             }}
         }} catch {{ 'stopped' }}
         $global:n
         $global:during
         (Get-DPMSession DPMServer07 | Where-Object {{ $_.IsCurrent }}).ObjectCount
         (Get-DPMRecoverableItem $wide Child | Select-Object -First 3 | ForEach-Object {{ $_.Name }}) -join ','
         (Get-DPMSession DPMServer07 | Where-Object {{ $_.IsCurrent }}).ObjectCount",
        point_of("Wide")
    ));
    assert!(err.trim().is_empty(), "{err}");
    assert_eq!(
        lines(&out),
        [
            "stopped",
            "3",
            // The rest of the folder waited on the server while the first
            // page was read, and was released when the pipeline stopped.
            "BrowseCursor=1",
            "0",
            "f00000,f00001,f00002",
            "0"
        ],
        "{out}"
    );
}

#[test]
fn searches_find_names_by_each_comparison_in_the_points_of_the_range() {
    let (s, _data, src) = backed_up("Search");
    let src_text = src.display().to_string();
    let so = |from: &str, to: &str, kind: &str, text: &str, rest: &str| {
        format!("New-DPMSearchOption -FromRecoveryPoint {from} -ToRecoveryPoint {to} -SearchDetail FilesFolders -SearchType {kind} -SearchString '{text}' {rest}")
    };
    let day = |d: i32| format!("(Get-Date).AddDays({d})");
    let cases = [
        (
            so(&day(-1), &day(1), "startsWith", "invoice", "-Recursive"),
            "invoices,Invoice-2026.pdf",
        ),
        (
            so(&day(-1), &day(1), "STARTSWITH", "INVOICE", "-Recursive"),
            "invoices,Invoice-2026.pdf",
        ),
        (
            so(&day(-1), &day(1), "contains", "voice-20", "-Recursive"),
            "Invoice-2026.pdf",
        ),
        (
            so(&day(-1), &day(1), "endsWith", ".PDF", "-Recursive"),
            "Invoice-2026.pdf",
        ),
        (so(&day(-1), &day(1), "endsWith", ".pdf", ""), ""),
        (
            so(
                &day(-1),
                &day(1),
                "endsWith",
                ".pdf",
                &format!("-Location '{src_text}/invoices'"),
            ),
            "Invoice-2026.pdf",
        ),
        (
            so(&day(-1), &day(1), "exactMatch", "README.TXT", ""),
            "readme.txt",
        ),
        (so(&day(-1), &day(1), "exactMatch", "readme", ""), ""),
        (so(&day(1), &day(2), "contains", "e", "-Recursive"), ""),
    ];
    for (option, expected) in &cases {
        let (_, out, err) = s.run(&format!(
            "{}$so = {option}
             (Get-DPMRecoverableItem -Datasource $ds -SearchOption $so | Sort-Object FullPath | ForEach-Object {{ $_.Name }}) -join ','",
            point_of("Search")
        ));
        assert!(err.trim().is_empty(), "{option}: {err}");
        assert_eq!(out.trim(), *expected, "{option}");
    }

    // Positional, piped, and the option's own properties.
    let (_, out, err) = s.run(&format!(
        "{}$so = New-DPMSearchOption (Get-Date).AddDays(-1) (Get-Date).AddDays(1) FilesFolders contains 'invoice' -Recursive
         $so.SearchDetail; $so.SearchType; $so.SearchString; $so.Recursive; $so.FromRecoveryPoint -lt $so.ToRecoveryPoint
         @($ds | Get-DPMRecoverableItem -SearchOption $so).Count
         $found = Get-DPMRecoverableItem $ds $so | Where-Object {{ $_.ObjectType -eq 'File' }}
         $found.RecoveryPoint -eq $rp.Id; $found.LogicalPath",
        point_of("Search")
    ));
    assert!(err.trim().is_empty(), "{err}");
    let invoices = format!("{src_text}/invoices");
    assert_eq!(
        lines(&out),
        [
            "FilesFolders",
            "contains",
            "invoice",
            "True",
            "True",
            "2",
            "True",
            invoices.as_str()
        ],
        "{out}"
    );
}

#[test]
fn restores_copy_a_point_byte_for_byte_and_honour_each_overwrite_type() {
    let (s, data, src) = backed_up("Restore");
    let target = data.path().join("restored");
    let option = |location: &str, folder: Option<&Path>, overwrite: &str| {
        let alt = folder
            .map(|f| {
                format!(
                    "-AlternateLocation '{}' -CreateAlternateLocation",
                    f.display()
                )
            })
            .unwrap_or_default();
        format!("New-DPMRecoveryOption -TargetServer $ds.ProductionServerName -RecoveryLocation {location} -FileSystem {alt} -OverwriteType {overwrite} -RecoveryType Restore")
    };

    // A folder that does not exist is refused before anything starts,
    // unless the option says to create it (as the ones below do).
    let (_, out, err) = s.run(&format!(
        "{}$opt = New-DPMRecoveryOption $ds.ProductionServerName CopyToFolder NoOverwrite -FileSystem -AlternateLocation '{}' -RecoveryType Restore
         $opt.CreateAlternateLocation
         Restore-DPMRecoverableItem -RecoverableItem $rp -RecoveryOption $opt
         @(Get-DPMJob -Type Recovery).Count",
        point_of("Restore"),
        target.display()
    ));
    assert_eq!(lines(&out), ["False", "0"], "{out}");
    assert_contains(
        &err,
        &format!(
            "The alternate location {} does not exist. Create the folder, or give -CreateAlternateLocation",
            target.display()
        ),
    );
    assert!(!target.exists());

    // A whole point into a folder, then the files compared byte for byte.
    let (_, out, err) = s.run(&format!(
        "{}$opt = {}
         $jobs = Restore-DPMRecoverableItem -RecoverableItem $rp -RecoveryOption $opt
         @($jobs).Count; $jobs.JobType
         $done = $jobs | Wait-DPMJob -Timeout 120
         $done.Status; $done.HasCompleted",
        point_of("Restore"),
        option("CopyToFolder", Some(&target), "NoOverwrite")
    ));
    assert!(err.trim().is_empty(), "{err}");
    assert_eq!(lines(&out), ["1", "Recovery", "Succeeded", "True"], "{out}");
    let copy = target.join("site");
    assert_eq!(tree_below(&copy), tree_below(&src));
    for rel in tree_below(&src) {
        let (a, b) = (src.join(&rel), copy.join(&rel));
        if a.is_dir() && !a.is_symlink() {
            assert!(b.is_dir() && !b.is_symlink(), "{rel:?}");
        } else if a.is_symlink() {
            assert_eq!(std::fs::read_link(&a).ok(), std::fs::read_link(&b).ok());
        } else {
            assert_eq!(std::fs::read(&a).ok(), std::fs::read(&b).ok(), "{rel:?}");
        }
    }

    // One item, piped, into a folder of its own; then each overwrite type
    // against a file changed there.
    let single = data.path().join("single");
    let restore_index = |overwrite: &str| {
        format!(
            "{}$opt = {}
             $idx = Get-DPMRecoverableItem $rp Child | Where-Object {{ $_.Name -eq 'index.html' }}
             $done = $idx | Restore-DPMRecoverableItem -RecoveryOption $opt | Wait-DPMJob -Timeout 120
             $done.Status; $done.Messages",
            point_of("Restore"),
            option("CopyToFolder", Some(&single), overwrite)
        )
    };
    let (_, out, err) = s.run(&restore_index("NoOverwrite"));
    assert!(err.trim().is_empty(), "{err}");
    assert_eq!(lines(&out)[0], "Succeeded", "{out}");
    let restored = single.join("index.html");
    assert_eq!(
        std::fs::read(&restored).expect("restored"),
        b"<html>home</html>"
    );

    std::fs::write(&restored, "changed").expect("change");
    let (_, out, err) = s.run(&restore_index("NoOverwrite"));
    assert!(err.trim().is_empty(), "{err}");
    assert_contains(&out, "left as they were");
    assert_eq!(std::fs::read(&restored).expect("kept"), b"changed");

    let (_, _, err) = s.run(&restore_index("CopyOnExist"));
    assert!(err.trim().is_empty(), "{err}");
    assert_eq!(std::fs::read(&restored).expect("kept"), b"changed");
    let beside: Vec<String> = std::fs::read_dir(&single)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("index.html (Recovered "))
        .collect();
    assert_eq!(beside.len(), 1, "{beside:?}");
    assert_eq!(
        std::fs::read(single.join(&beside[0])).expect("beside"),
        b"<html>home</html>"
    );

    let (_, _, err) = s.run(&restore_index("Overwrite"));
    assert!(err.trim().is_empty(), "{err}");
    assert_eq!(
        std::fs::read(&restored).expect("replaced"),
        b"<html>home</html>"
    );

    // Back where it was.
    std::fs::remove_file(src.join("readme.txt")).expect("remove");
    let (_, out, err) = s.run(&format!(
        "{}$opt = {}
         $item = Get-DPMRecoverableItem $rp Child | Where-Object {{ $_.Name -eq 'readme.txt' }}
         (Restore-DPMRecoverableItem $opt $item | Wait-DPMJob -Timeout 120).Status",
        point_of("Restore"),
        option("OriginalServer", None, "NoOverwrite")
    ));
    assert!(err.trim().is_empty(), "{err}");
    assert_eq!(out.trim(), "Succeeded");
    assert_eq!(
        std::fs::read(src.join("readme.txt")).expect("back"),
        "read me\n".repeat(50).as_bytes()
    );
}

#[test]
fn items_of_two_points_restore_in_one_call_and_what_if_starts_nothing() {
    let (s, data, src) = backed_up("Two");
    std::fs::write(src.join("index.html"), "<html>second</html>").expect("change");
    let (_, _, err) = s.run(&format!(
        "{}New-DPMRecoveryPoint $ds -Disk -DiskRecoveryPointOption WithSynchronize | Wait-DPMJob -Timeout 120 | Out-Null",
        point_of("Two")
    ));
    assert!(err.trim().is_empty(), "{err}");
    let target = data.path().join("two");
    let setup = format!(
        "{}$points = Get-DPMRecoveryPoint $ds | Sort-Object RepresentedPointInTime
         $first = Get-DPMRecoverableItem $points[0] Child | Where-Object {{ $_.Name -eq 'readme.txt' }}
         $second = Get-DPMRecoverableItem $points[1] Child | Where-Object {{ $_.Name -eq 'index.html' }}
         $opt = New-DPMRecoveryOption $ds.ProductionServerName CopyToFolder Overwrite -FileSystem -AlternateLocation '{}' -CreateAlternateLocation -RecoveryType Recover
         ",
        point_of("Two"),
        target.display()
    );

    let (_, out, err) = s.run(&format!(
        "{setup}Restore-DPMRecoverableItem $opt $first, $second -WhatIf
         @(Get-DPMJob DPMServer07 -Type Recovery).Count"
    ));
    assert!(err.trim().is_empty(), "{err}");
    assert_contains(
        &out,
        &format!(
            "What if: Performing the operation \"Restore\" on target \"{}/readme.txt from the recovery point of site on ",
            src.display()
        ),
    );
    assert_contains(&out, &format!(" to {} on ", target.display()));
    assert_eq!(out.lines().last().map(str::trim), Some("0"), "{out}");
    assert!(!target.exists());

    let (_, out, err) = s.run(&format!(
        "{setup}$jobs = $first, $second | Restore-DPMRecoverableItem -RecoveryOption $opt
         @($jobs).Count
         ($jobs | Wait-DPMJob -Timeout 120 | ForEach-Object {{ $_.Status }}) -join ','"
    ));
    assert!(err.trim().is_empty(), "{err}");
    assert_eq!(lines(&out), ["2", "Succeeded,Succeeded"], "{out}");
    assert_eq!(
        std::fs::read(target.join("index.html")).expect("second point"),
        b"<html>second</html>"
    );
    assert_eq!(
        std::fs::read(target.join("readme.txt")).expect("first point"),
        "read me\n".repeat(50).as_bytes()
    );
}

#[test]
fn a_recovery_point_location_names_the_repository_and_goes_with_its_point() {
    let (s, data, _src) = backed_up("Where");
    let target = data.path().join("located");
    std::fs::create_dir(&target).expect("a folder to restore into");
    let (_, out, err) = s.run(&format!(
        "{}$loc = $rp | Get-DPMRecoveryPointLocation
         $loc.Location; $loc.RecoveryPointId -eq $rp.Id; $loc.PoolMemberPath -eq $rp.PoolMemberPath
         $loc.PoolMemberId -eq $rp.PoolMemberId
         $opt = New-DPMRecoveryOption $ds.ProductionServerName CopyToFolder NoOverwrite -FileSystem -AlternateLocation '{}' -RecoveryType Restore
         (Restore-DPMRecoverableItem $opt $rp -RecoveryPointLocation $loc | Wait-DPMJob -Timeout 120).Status",
        point_of("Where"),
        target.display()
    ));
    assert!(err.trim().is_empty(), "{err}");
    assert_eq!(
        lines(&out),
        ["Disk", "True", "True", "True", "Succeeded"],
        "{out}"
    );
    assert!(target.join("site/index.html").exists());
}

#[test]
fn refused_parameters_and_invalid_options_say_what_and_where() {
    let (s, data, _src) = backed_up("Refused");
    let pre = point_of("Refused");
    let fs = "-TargetServer web01 -RecoveryLocation OriginalServer -FileSystem -OverwriteType Overwrite -RecoveryType Recover";
    let so = "-FromRecoveryPoint (Get-Date).AddDays(-1) -ToRecoveryPoint (Get-Date) -SearchType contains -SearchString x";
    let other = data.path().join("other");
    let cases: Vec<(String, String)> = vec![
        (
            "New-DPMRecoveryOption -TargetServer sql01 -RecoveryLocation OriginalServer -SQL -RecoveryType Recover".into(),
            "New-DPMRecoveryOption : The parameter 'SQL' is not supported by rdpm: rdpm protects file data only; SQL Server recovery is a Windows DPM feature.\nAt line:1 char:1\n".into(),
        ),
        (
            "New-DPMRecoveryOption hv01 AlternateHyperVServer -HyperVDatasource -RecoveryType Recover".into(),
            "The parameter 'HyperVDatasource' is not supported by rdpm".into(),
        ),
        (
            "New-DPMRecoveryOption app01 OriginalServer -GenericDatasource -RecoveryType Recover".into(),
            "The parameter 'GenericDatasource' is not supported by rdpm".into(),
        ),
        (
            "New-DPMRecoveryOption sys01 OriginalServer -SystemProtectionDatasource -RecoveryType Recover".into(),
            "The parameter 'SystemProtectionDatasource' is not supported by rdpm".into(),
        ),
        (
            "New-DPMRecoveryOption sp01 OriginalServer -SharePoint -RecoveryType Recover".into(),
            "The parameter 'SharePoint' is not supported by rdpm".into(),
        ),
        (
            "New-DPMRecoveryOption ex01 OriginalServer -Exchange -ExchangeOperationType NoOperation -RecoveryType Recover".into(),
            "The parameter 'Exchange' is not supported by rdpm".into(),
        ),
        (
            "New-DPMRecoveryOption ex01 OriginalServer -E14Datasource -ExchangeOperationType NoOperation -RecoveryType Recover".into(),
            "The parameter 'E14Datasource' is not supported by rdpm".into(),
        ),
        (
            "New-DPMRecoveryOption dpm02 PrimaryDPMServer -PrimaryDpmServer".into(),
            "The parameter 'PrimaryDpmServer' is not supported by rdpm".into(),
        ),
        (
            "New-DPMRecoveryOption web01 CopyToFolder -ClientDatasource -AlternateLocation /x -OverwriteType Overwrite -RecoveryType Recover".into(),
            "The parameter 'ClientDatasource' is not supported by rdpm".into(),
        ),
        (
            "New-DPMRecoveryOption -StagingAreaPath /s -DestinationServerName web01 -DestinationPath /d -DatasourceName docs -DPMComponentName x -OverwriteType Overwrite".into(),
            "The parameter 'StagingAreaPath' is not supported by rdpm".into(),
        ),
        (
            format!("New-DPMRecoveryOption {fs} -SANRecovery"),
            "The parameter 'SANRecovery' is not supported by rdpm".into(),
        ),
        (
            format!("New-DPMRecoveryOption {fs} -RecoverToReplicaFromTape $true"),
            "The parameter 'RecoverToReplicaFromTape' is not supported by rdpm: rdpm protects to disk only".into(),
        ),
        (
            "New-DPMRecoveryOption web01 CopyToFolder Overwrite -FileSystem -RecoveryType Recover".into(),
            "New-DPMRecoveryOption : -RecoveryLocation CopyToFolder needs -AlternateLocation: give the folder to restore into, as an absolute path on the target server.\nAt line:1 char:1\n".into(),
        ),
        (
            "New-DPMRecoveryOption web01 CopyToFolder Overwrite -FileSystem -AlternateLocation restored -RecoveryType Recover".into(),
            "-AlternateLocation 'restored' is not an absolute path".into(),
        ),
        (
            format!("New-DPMRecoveryOption {fs} -AlternateLocation /srv/restored"),
            "-AlternateLocation '/srv/restored' cannot be used with -RecoveryLocation OriginalServer".into(),
        ),
        (
            "New-DPMRecoveryOption web01 DPMReplicaVolume Overwrite -FileSystem -RecoveryType Recover".into(),
            "The value 'DPMReplicaVolume' of the parameter 'RecoveryLocation' is not supported by rdpm".into(),
        ),
        (
            format!("'x'; New-DPMSearchOption {so} -SearchDetail MailboxByAlias"),
            "New-DPMSearchOption : The value 'MailboxByAlias' of the parameter 'SearchDetail' is not supported by rdpm: rdpm searches file-system recovery points only. Use -SearchDetail FilesFolders.\nAt line:1 char:6\n".into(),
        ),
        (
            format!("{pre}Get-DPMRecoverableItem -RecoveryPointForShares $rp"),
            "The parameter 'RecoveryPointForShares' is not supported by rdpm: rdpm recovery points hold file-system folders, not Windows file shares".into(),
        ),
        (
            format!("{pre}Get-DPMRecoverableItem $rp Child -Async"),
            "The parameter 'Async' is not supported by rdpm".into(),
        ),
        (
            format!("{pre}Get-DPMRecoverableItem $rp Child -Tag 7"),
            "The parameter 'Tag' is not supported by rdpm".into(),
        ),
        (
            format!("{pre}$o = New-DPMRecoveryOption {fs}\nRestore-DPMRecoverableItem $o $rp -Handler 1"),
            "Restore-DPMRecoverableItem : The parameter 'JobStateChangedEventHandler' is not supported by rdpm".into(),
        ),
        (
            format!("{pre}$o = New-DPMRecoveryOption {fs}\nRestore-DPMRecoverableItem $o $rp -RecoveryNotification 1"),
            "The parameter 'RecoveryNotification' is not supported by rdpm: rdpm sends no e-mail".into(),
        ),
        (
            format!("{pre}$o = New-DPMRecoveryOption {fs}\nRestore-DPMRecoverableItem $o $rp -AdhocJobsContext 1"),
            "The parameter 'AdhocJobsContext' is not supported by rdpm".into(),
        ),
        (
            format!("{pre}$o = New-DPMRecoveryOption {fs}\nRestore-DPMRecoverableItem $o"),
            "Restore-DPMRecoverableItem : Nothing to restore: give -RecoverableItem a recovery point".into(),
        ),
    ];
    for (script, expected) in &cases {
        let (_, _, err) = s.run(script);
        assert_contains(&err, expected);
    }

    // A location must be that of a point restored: a second point's
    // location with the first point is refused, and nothing starts.
    let (_, out, err) = s.run(&format!(
        "{pre}New-DPMRecoveryPoint $ds -Disk -DiskRecoveryPointOption WithSynchronize | Wait-DPMJob -Timeout 120 | Out-Null
         $points = Get-DPMRecoveryPoint $ds | Sort-Object RepresentedPointInTime
         $loc = Get-DPMRecoveryPointLocation $points[1]
         $o = New-DPMRecoveryOption $ds.ProductionServerName CopyToFolder Overwrite -FileSystem -AlternateLocation '{}' -CreateAlternateLocation -RecoveryType Recover
         Restore-DPMRecoverableItem $o $points[0] -RecoveryPointLocation $loc
         @(Get-DPMJob DPMServer07 -Type Recovery).Count",
        other.display()
    ));
    assert_contains(
        &err,
        "is not among the recovery points given to -RecoverableItem",
    );
    assert_contains(
        &err,
        "RecoveryPointLocationMismatch,Rdpm.Commands.RestoreDPMRecoverableItemCommand",
    );
    assert_eq!(out.trim(), "0", "{out}");
    assert!(!other.exists());
}

/// A folder like `/etc`: a file of the name a restored file has, and a
/// `docs` folder holding another.
fn victim(root: &Path, name: &str) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(dir.join("docs")).expect("dir");
    std::fs::write(dir.join("passwd"), "root:x:0:0").expect("victim");
    std::fs::write(dir.join("docs/passwd"), "root:x:0:0").expect("victim");
    dir
}

#[test]
fn a_protected_folder_swapped_for_a_link_is_neither_restored_through_nor_backed_up() {
    // Alice's folder, protected and backed up; then she replaces it, or a
    // folder above it, with a link to a folder she must not write.
    let s = server("DPMServer07");
    let data = tempfile::tempdir().expect("tempdir");
    let home = data.path().join("home");
    let alice = home.join("alice");
    let docs = alice.join("docs");
    std::fs::create_dir_all(&docs).expect("dir");
    std::fs::write(docs.join("passwd"), "alice's notes").expect("file");
    protect(&s, "Alice", &docs);
    let backup = format!(
        "{}$j = New-DPMRecoveryPoint $ds -Disk -DiskRecoveryPointOption WithSynchronize | Wait-DPMJob -Timeout 120
         $j.Status; $j.ErrorKind; $j.Error",
        point_of("Alice")
    );
    let (_, out, err) = s.run(&backup);
    assert!(err.trim().is_empty(), "{err}");
    assert_eq!(lines(&out), ["Succeeded"]);

    let (etc, etc2, etc3) = (
        victim(data.path(), "etc"),
        victim(data.path(), "etc2"),
        victim(data.path(), "etc3"),
    );
    let hop = data.path().join("hop");
    std::fs::create_dir(&hop).expect("dir");
    std::os::unix::fs::symlink(&etc3, hop.join("docs")).expect("link");
    let moved = data.path().join("moved");
    std::fs::create_dir(&moved).expect("dir");
    std::fs::rename(&alice, moved.join("alice")).expect("move");

    // (what is arranged, the link the refusal names, where it points)
    let cases: [(&str, &Path, &Path); 3] = [
        ("the folder is a link", &docs, &etc),
        ("a parent is a link", &alice, &etc2),
        ("both", &alice, &hop),
    ];
    for (i, (case, link, target)) in cases.iter().enumerate() {
        let _ = std::fs::remove_file(&alice).or_else(|_| std::fs::remove_dir_all(&alice));
        match i {
            0 => {
                std::fs::create_dir(&alice).expect("dir");
                std::os::unix::fs::symlink(&etc, &docs).expect("link");
            }
            1 => std::os::unix::fs::symlink(&etc2, &alice).expect("link"),
            _ => std::os::unix::fs::symlink(&hop, &alice).expect("link"),
        }
        for overwrite in ["Overwrite", "CopyOnExist"] {
            let (_, out, err) = s.run(&format!(
                "{}$opt = New-DPMRecoveryOption -TargetServer $ds.ProductionServerName -RecoveryLocation OriginalServer -FileSystem -OverwriteType {overwrite} -RecoveryType Recover
                 Restore-DPMRecoverableItem -RecoverableItem $rp -RecoveryOption $opt
                 @(Get-DPMJob -Type Recovery).Count",
                point_of("Alice")
            ));
            assert_eq!(out.trim(), "0", "{case}, {overwrite}: {out}");
            assert_contains(
                &err,
                &format!(
                    "{} is now a symbolic link to {}",
                    link.display(),
                    target.display()
                ),
            );
            assert_contains(&err, "nothing was restored");
        }
        // A backup does not read through the link either.
        let (_, out, err) = s.run(&backup);
        assert!(err.trim().is_empty(), "{case}: {err}");
        assert_eq!(lines(&out)[..2], ["Failed", "SourceIsLink"], "{out}");
        assert_contains(
            &out,
            &format!(
                "{} is now a symbolic link to {}",
                link.display(),
                target.display()
            ),
        );
    }
    for dir in [&etc, &etc2, &etc3] {
        assert_eq!(
            tree_below(dir),
            [PathBuf::from("docs"), "docs/passwd".into(), "passwd".into()]
        );
        assert_eq!(
            std::fs::read(dir.join("passwd")).expect("victim"),
            b"root:x:0:0"
        );
        assert_eq!(
            std::fs::read(dir.join("docs/passwd")).expect("victim"),
            b"root:x:0:0"
        );
    }
    // The refused backups made no recovery point.
    let (_, out, _) = s.run(&format!(
        "{}@(Get-DPMRecoveryPoint $ds).Count",
        point_of("Alice")
    ));
    assert_eq!(out.trim(), "1");

    // Protection itself is refused through a link, naming the real path.
    let err = rt().block_on(async {
        use std::os::unix::ffi::OsStrExt as _;
        let session = admin_session(&s).await;
        let ps = session.production_servers().await.expect("servers");
        let draft = session
            .new_protection_group(&rdpm_types::NewProtectionGroup {
                name: Some("Through a link".into()),
            })
            .await
            .expect("draft");
        let through = hop.join("docs/docs");
        let request = rdpm_types::AddChildDatasources {
            datasources: vec![rdpm_types::DatasourceRef {
                production_server_id: ps[0].id,
                path: rdpm_types::FsPath::from_bytes(through.as_os_str().as_bytes()),
            }],
        };
        session
            .add_members(draft.object_id, &request)
            .await
            .expect_err("refused")
            .to_string()
    });
    assert_contains(
        &err,
        &format!(
            "passes through the symbolic link '{}' (to '{}'); rdpm protects data by its real path, never through a link: protect '{}' instead",
            hop.join("docs").display(),
            etc3.display(),
            etc3.join("docs").display()
        ),
    );
}
