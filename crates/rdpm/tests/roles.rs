//! Roles as a user of the shell meets them: a Reader reads and is refused a
//! change with PowerShell's PermissionDenied error record naming the right.

use crate::support::*;

const PASSWORD: &str = "Reader-Pw-41";

#[test]
fn a_reader_reads_and_is_refused_a_change_with_a_permission_denied_record() {
    let s = server("DPMServer07");
    add_user(&s.data_dir, "bob", PASSWORD, "Reader");
    let (code, out, err) = s.run(&format!(
        "$cred = [PSCredential]::new('bob', (ConvertTo-SecureString '{PASSWORD}' -AsPlainText -Force))\n\
         $null = Connect-DPMServer DPMServer07 -Credential $cred\n\
         'groups:' + @(Get-DPMProtectionGroup DPMServer07).Count\n\
         $pg = New-DPMProtectionGroup -DPMServerName DPMServer07 -Name 'Finance'\n\
         'refused:' + ($null -eq $pg)\n\
         $Error[0].CategoryInfo.Category\n\
         $Error[0].FullyQualifiedErrorId\n\
         $Error[0].Exception.Message"
    ));
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..3],
        ["groups:0", "refused:True", "PermissionDenied"],
        "{out}\n{err}"
    );
    assert!(lines[3].starts_with("PermissionDenied,"), "{out}");
    assert!(
        lines[4].contains("needs the right Configure")
            && lines[4].contains("user 'bob' (role Reader)"),
        "{out}"
    );
    assert!(err.contains("Configure"), "the error shows: {err}");
    assert!(!out.contains(PASSWORD) && !err.contains(PASSWORD));
}
