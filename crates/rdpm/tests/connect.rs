//! `Connect-DPMServer`, `New-DPMServerScope` and `Get-DPMSession`.

use crate::support::*;

#[test]
fn connect_returns_the_server_object_and_reuses_the_connection() {
    let s = server("DPMServer07");
    let (code, out, err) = s.run(
        "$a = Connect-DPMServer DPMServer07; $b = Connect-DPMServer dpmserver07; $a.Name; $a.User; $a.SessionId -eq $b.SessionId; [bool]$a; $a.IsConnected; (Get-DPMSession DPMServer07).Count; $a.GetProductInformation().ProductName",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        "DPMServer07\nadministrator\nTrue\nTrue\nTrue\n1\nrdpm Data Protection Manager"
    );
}

#[test]
fn connect_displays_like_a_powershell_object() {
    let s = server("DPMServer07");
    let (code, out, err) = s.run("Connect-DPMServer DPMServer07");
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    // A table with a blank line before the header, the header, the dashes and one row.
    assert_eq!(lines.first().copied(), Some(""), "{out}");
    let header: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(header, ["Name", "Version", "User", "SessionId"], "{out}");
    assert!(lines[2].starts_with("----"), "{out}");
    assert!(lines[3].starts_with("DPMServer07 "), "{out}");
}

#[test]
fn cmdlets_connect_implicitly() {
    let s = server("DPMServer07");
    let (code, out, err) =
        s.run("(Get-DPMSession -DPMServerName DPMServer07 | Where-Object IsCurrent).User");
    assert_eq!((code, out.trim()), (0, "administrator"), "{err}");
}

#[test]
fn a_server_that_names_itself_differently_is_refused() {
    let s = server("DPMServer07");
    s.write_config(&[&format!(
        "[servers.Other]\nurl = \"{}\"\ntoken_file = \"{}\"\n[servers.Alias]\nurl = \"{}\"\ntoken_file = \"{}\"\nallow_name_mismatch = true",
        s.url,
        s.data_dir.join("admin.token").display(),
        s.url,
        s.data_dir.join("admin.token").display()
    )]);
    let (code, out, err) = s.run("Connect-DPMServer Other; $?");
    assert_eq!(out.trim(), "False");
    assert_eq!(code, 0, "the last statement ($?) succeeded");
    assert_contains(&err, "Connect-DPMServer : ");
    assert_contains(&err, "DPMServer07");
    assert_contains(&err, "Other");
    assert!(sessions(&s).is_empty());
    let (code, out, err) = s.run("(Connect-DPMServer Alias).Name");
    assert_eq!((code, out.trim()), (0, "DPMServer07"), "{err}");
}

#[test]
fn bad_credentials_and_unreachable_servers_are_clear_errors() {
    let s = server("DPMServer07");
    s.write_config(&[&format!(
        "[servers.WrongToken]\nurl = \"{}\"\ntoken = \"00000000000000000000000000000000\"\nallow_name_mismatch = true\n[servers.Gone]\nurl = \"http://127.0.0.1:9\"\ntoken = \"x\"\n[servers.NoToken]\nurl = \"{}\"",
        s.url, s.url
    )]);
    let (_, _, err) = s.run("Connect-DPMServer WrongToken");
    assert_contains(&err, "AuthenticationError");
    let (_, _, err) = s.run("Connect-DPMServer Gone");
    assert_contains(
        &err,
        "Cannot connect to DPM server 'Gone' at http://127.0.0.1:9",
    );
    assert_contains(&err, "ConnectionError");
    let (_, _, err) = s.run("Connect-DPMServer NoToken");
    assert_contains(&err, "No credential for DPM server 'NoToken'");
    let (_, _, err) = s.run("Connect-DPMServer NotConfigured");
    assert_contains(&err, "No credential for DPM server 'NotConfigured'");
}

#[test]
fn mandatory_name_is_prompted_or_refused() {
    let s = server("DPMServer07");
    let (code, _, err) = s.run("Connect-DPMServer");
    assert_eq!(code, 1);
    assert_contains(
        &err,
        "Connect-DPMServer : Cannot process command because of one or more missing mandatory parameters: DPMServerName.",
    );
    let out = s.shell_with_input(&["-Command", "(Connect-DPMServer).Name"], "DPMServer07\n");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_contains(
        &stdout,
        "\ncmdlet Connect-DPMServer at command pipeline position 1\nSupply values for the following parameters:\nDPMServerName: ",
    );
    assert_eq!(stdout.lines().last(), Some("DPMServer07"), "{stdout}");
    let (_, _, err) = s.run("Connect-DPMServer ''");
    assert_contains(
        &err,
        "Cannot bind argument to parameter 'DPMServerName' because it is an empty string.",
    );
    let (_, _, err) = s.run("Connect-DPMServer $null");
    assert_contains(
        &err,
        "Cannot bind argument to parameter 'DPMServerName' because it is null.",
    );
}

#[test]
fn server_scope_is_a_session_object() {
    let s = server("DPMServer07");
    let (code, out, err) = s.run(
        "$scope = New-DPMServerScope DPMServer07 ProtectionGroup 'PG-Files','PG-Web'; $scope.ObjectType; $scope.ObjectId.Count; $srv = Connect-DPMServer $scope; $srv.Scope -eq $scope.Id; (Get-DPMSession DPMServer07 | Where-Object IsCurrent).Objects",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "ProtectionGroup\n2\nTrue\nServerScope=1");
}

#[test]
fn server_scope_parameters_are_checked() {
    let s = server("DPMServer07");
    let (_, _, err) = s.run("New-DPMServerScope DPMServer07 Bogus x");
    assert_contains(&err, "Cannot bind parameter 'ObjectType'. Cannot convert value \"Bogus\" to type \"Rdpm.ScopedObjectType\".");
    let (_, _, err) = s.run("$scope = New-DPMServerScope DPMServer07 Disk d1; Connect-DPMServer -DPMServerName DPMServer07 -DPMServerScope $scope");
    assert_contains(
        &err,
        "Parameter set cannot be resolved using the specified named parameters.",
    );
    let (_, _, err) = s.run("Connect-DPMServer DPMServer07 -AsyncOperation 1");
    assert_contains(
        &err,
        "The parameter 'AsyncOperation' is not supported by rdpm",
    );
}

#[test]
fn objects_of_a_closed_connection_say_so() {
    let s = server("DPMServer07");
    let (_, out, err) = s.run(
        "$srv = Connect-DPMServer DPMServer07; $scope = New-DPMServerScope DPMServer07 Disk d1; Disconnect-DPMServer DPMServer07; $srv.IsConnected; $srv.GetProductInformation(); Connect-DPMServer -DPMServerScope $scope",
    );
    assert_eq!(out.trim(), "False");
    assert_eq!(
        err.matches("The connection to DPM server 'DPMServer07' is closed (Disconnect-DPMServer).")
            .count(),
        2,
        "{err}"
    );
}

#[test]
fn a_newcomer_needs_no_configuration() {
    // `rdpm server` with no options, then `rdpm`: the default port, the
    // default data directory's credential, this host's name.
    let s = TestServer::start_local_default(bin());
    assert_eq!(s.port(), rdpm_types::DEFAULT_PORT);
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    let script = format!(
        "(Connect-DPMServer localhost).Name; (Connect-DPMServer {host}).Name; (Get-DPMSession | Where-Object IsCurrent).Count"
    );
    let (code, out, err) = s.run(&script);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), format!("{host}\n{host}\n1"));
    // A production server may be named instead of passed as an object, as
    // DPM's documentation does; names resolve on the local DPM server.
    let (code, out, err) = s.run(&format!(
        "(Get-DPMDatasource -ProductionServer {host} -Inquire).Count -gt 0; Get-DPMDatasource -ProductionServer nosuch"
    ));
    assert_eq!(out.trim(), "True", "{err}");
    assert_eq!(code, 1);
    assert_contains(
        &err,
        &format!("No production server named 'nosuch' is attached to DPM server '{host}'."),
    );
}
