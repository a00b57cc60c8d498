//! SecureString and PSCredential: their text never prints, and every way of
//! making a credential works.

use super::Session;

const SECRET: &str = "Tr0ub4dor&3";

/// A session with `$s` a SecureString of [`SECRET`] and `$c` a credential.
fn with_secret() -> Session {
    let mut s = Session::new();
    s.out(&format!(
        "$s = ConvertTo-SecureString '{SECRET}' -AsPlainText -Force; $c = [PSCredential]::new('alice', $s)"
    ));
    s
}

#[test]
fn secure_string_text_never_prints() {
    let mut s = with_secret();
    let paths = [
        "$s",
        "Write-Output $s",
        "$s | Format-List",
        "$s | Format-List *",
        "$s | Format-Table",
        "$s | Format-Table -Property *",
        "$s | ConvertTo-Json",
        "$c | ConvertTo-Json",
        "$c | ConvertTo-Json -Depth 5",
        "\"value: $s\"",
        "\"$($c.Password)\"",
        "'{0}' -f $s",
        "$s.ToString()",
        "[string]$s",
        "$s | Out-String",
        "$c | Out-String",
        "$c",
        "$c | Format-List *",
        "Write-Error $s",
        "Write-Error -Message \"$s\" -TargetObject $s",
        "throw $s",
        "$s | Get-Member",
        "$s -join ','",
        "$s + 'x'",
        "'x' + $s",
        "$s.NoSuchMethod()",
    ];
    for p in paths {
        let out = s.out(p);
        assert!(!out.contains(SECRET), "{p} showed the secret: {out}");
    }
    assert!(s.out("$s").contains("System.Security.SecureString"));
    assert!(s
        .out("\"value: $s\"")
        .contains("value: System.Security.SecureString"));
    assert!(s
        .out("'{0}' -f $s")
        .contains("System.Security.SecureString"));
    // $Error keeps the records of the failures above: none holds the text.
    let errors = s.out("$Error | Format-List *");
    assert!(errors.contains("System.Security.SecureString"), "{errors}");
    assert!(!errors.contains(SECRET), "{errors}");
}

#[test]
fn secure_string_has_its_length() {
    let mut s = with_secret();
    assert_eq!(s.out("$s.Length"), format!("{}\n", SECRET.len()));
    assert_eq!(
        s.out("$s.GetType().FullName"),
        "System.Security.SecureString\n"
    );
}

#[test]
fn convert_from_secure_string_gives_the_text_back() {
    let mut s = with_secret();
    assert_eq!(
        s.out("ConvertFrom-SecureString $s -AsPlainText"),
        format!("{SECRET}\n")
    );
    assert_eq!(
        s.out("$s | ConvertFrom-SecureString -AsPlainText"),
        format!("{SECRET}\n")
    );
    let out = s.out("ConvertFrom-SecureString $s");
    assert!(out.contains("encrypted standard string"), "{out}");
    assert!(!out.contains(SECRET), "{out}");
}

#[test]
fn convert_to_secure_string_follows_powershell_7() {
    let mut s = Session::new();
    // PowerShell 7 no longer needs -Force with -AsPlainText.
    assert_eq!(
        s.out("(ConvertTo-SecureString 'abc' -AsPlainText).GetType().FullName"),
        "System.Security.SecureString\n"
    );
    assert_eq!(
        s.out("('abc' | ConvertTo-SecureString -AsPlainText -Force).Length"),
        "3\n"
    );
    let out = s.out("ConvertTo-SecureString 'abc'");
    assert!(out.contains("without -AsPlainText"), "{out}");
}

#[test]
fn credential_each_way() {
    let ways = [
        "[PSCredential]::new('alice', $s)",
        "[System.Management.Automation.PSCredential]::new('alice', $s)",
        "New-Object System.Management.Automation.PSCredential('alice', $s)",
        "New-Object System.Management.Automation.PSCredential 'alice', $s",
        "New-Object -TypeName System.Management.Automation.PSCredential -ArgumentList 'alice', $s",
        "New-Object -TypeName PSCredential -ArgumentList @('alice', $s)",
    ];
    for way in ways {
        let mut s = with_secret();
        let out = s.out(&format!(
            "$x = {way}; $x.GetType().FullName; $x.UserName; $x.Password.GetType().FullName; $x.GetNetworkCredential().Password"
        ));
        assert_eq!(
            out,
            format!(
                "System.Management.Automation.PSCredential\nalice\nSystem.Security.SecureString\n{SECRET}\n"
            ),
            "{way}"
        );
    }
}

#[test]
fn credential_needs_a_user_and_a_secure_string() {
    let mut s = with_secret();
    let out = s.out("[PSCredential]::new('alice', 'plain')");
    assert!(out.contains("must be a SecureString"), "{out}");
    let out = s.out("[PSCredential]::new('', $s)");
    assert!(out.contains("\"userName\" is not valid"), "{out}");
    let out = s.out("[PSCredential]::new('alice')");
    assert!(out.contains("argument count: \"1\""), "{out}");
    let out = s.out("New-Object No.Such.Type");
    assert!(out.contains("Cannot find type [No.Such.Type]"), "{out}");
}

#[test]
fn network_credential_splits_the_domain() {
    let mut s = with_secret();
    let out = s.out(
        "$n = [PSCredential]::new('CONTOSO\\alice', $s).GetNetworkCredential(); $n.Domain; $n.UserName",
    );
    assert_eq!(out, "CONTOSO\nalice\n");
}

#[test]
fn get_credential_prompts_without_echo() {
    let mut s = Session::new();
    s.answers(&["bob", SECRET]);
    let out = s.out("$g = Get-Credential; $g.UserName; $g.GetNetworkCredential().Password");
    assert_eq!(
        out,
        format!(
            "PowerShell credential request\nEnter your credentials.\nUser: bob\nPassword for user bob: {}\nbob\n{SECRET}\n",
            "*".repeat(SECRET.len())
        )
    );
}

#[test]
fn get_credential_with_user_name_and_message() {
    let mut s = Session::new();
    s.answers(&[SECRET]);
    let out = s.out(
        "$g = Get-Credential -UserName carol -Message 'Sign in to backup01' -Title 'rdpm'; $g.UserName",
    );
    assert_eq!(
        out,
        format!(
            "rdpm\nSign in to backup01\nPassword for user carol: {}\ncarol\n",
            "*".repeat(SECRET.len())
        )
    );
}

#[test]
fn get_credential_under_non_interactive_fails() {
    let mut s = Session::with(false);
    let out = s.out("Get-Credential -UserName bob; 'after'");
    assert!(
        out.starts_with("Get-Credential : Windows PowerShell is in NonInteractive mode. Read and Prompt functionality is not available."),
        "{out}"
    );
    assert!(!out.contains("Password for user"), "{out}");
}

#[test]
fn new_object_makes_a_psobject_with_properties() {
    let mut s = Session::new();
    assert_eq!(
        s.out("$o = New-Object PSObject -Property @{ Name = 'web01'; Size = 3 }; $o.Name; $o.Size"),
        "web01\n3\n"
    );
    let out = s.out("New-Object PSObject -ArgumentList 1");
    assert!(
        out.contains("Cannot find an appropriate constructor"),
        "{out}"
    );
}

#[test]
fn a_secure_string_is_bounded() {
    let mut s = Session::new();
    let out = s.out("ConvertTo-SecureString ('x' * 65537) -AsPlainText; $?");
    assert!(out.contains("more than 65536 characters"), "{out}");
    assert!(out.ends_with("False\n"), "{out}");
    assert_eq!(
        s.out("(ConvertTo-SecureString ('x' * 65536) -AsPlainText).Length"),
        "65536\n"
    );
}
