//! Error records as the Windows PowerShell 5.1 console shows them
//! (`NormalView`, and `CategoryView`), and the position message
//! (`At line:1 char:15` with the source line and the `~` underline).

use crate::error::{ErrorCategory, ErrorRecord};
use crate::span::{Extent, Origin};

/// Source lines longer than this are cut around the error, so that the
/// `+ ` prefix and the `... ` / ` ...` markers still fit an 80-column window.
const MAX_POSITION_LINE: usize = 69;

/// The position message of an extent:
///
/// ```text
/// At line:1 char:15
/// + Get-ChildItem -Foo
/// +               ~~~~
/// ```
///
/// (`At <path>:N char:M` for a script file.) No trailing newline.
pub(crate) fn position_message(extent: &Extent) -> String {
    let source = &extent.source;
    let start = source.line_col(extent.span.start);
    let end = source.line_col(extent.span.end.max(extent.span.start));
    let file = match &source.origin {
        Origin::Interactive => "line".to_string(),
        Origin::File(p) => p.display().to_string(),
    };
    let header = format!("At {}:{} char:{}", file, start.line, start.column);
    let line: Vec<char> = start.line_text.trim_end().chars().collect();
    if line.is_empty() {
        return format!("{header}\n+ ");
    }
    let mut before = (start.column - 1).min(line.len());
    let mut len = if start.line == end.line {
        end.column.saturating_sub(start.column)
    } else {
        line.len() + 1 - start.column.min(line.len() + 1)
    }
    .min(line.len() - before);

    // Tabs count as four columns, before deciding whether to cut.
    let mut text: Vec<char> = line.clone();
    if line.contains(&'\t') {
        let expand = |s: &[char]| -> Vec<char> {
            s.iter()
                .flat_map(|c| if *c == '\t' { vec![' '; 4] } else { vec![*c] })
                .collect()
        };
        let pre = expand(&line[..before]);
        let err = expand(&line[before..before + len]);
        let post = expand(&line[before + len..]);
        before = pre.len();
        len = err.len();
        text = [pre, err, post].concat();
    }

    let mut prefix_dots = false;
    let mut suffix_dots = false;
    if text.len() > MAX_POSITION_LINE {
        let total_prefix = before;
        let mut prefix = total_prefix.min(12);
        let total_suffix = text.len() - len - before;
        let mut suffix = total_suffix.min(8);
        let candidate = prefix + len + suffix;
        if candidate >= MAX_POSITION_LINE {
            if prefix + len >= MAX_POSITION_LINE {
                len = MAX_POSITION_LINE - prefix;
            }
            suffix_dots = true;
        } else {
            let mut candidate = candidate;
            let prefix_room = total_prefix - prefix;
            if prefix_room > 0 {
                prefix += prefix_room.min(MAX_POSITION_LINE - candidate);
                candidate = prefix + len + suffix;
            }
            if candidate < MAX_POSITION_LINE && total_suffix > 0 {
                suffix += (total_suffix - suffix).min(MAX_POSITION_LINE - candidate);
            }
            suffix_dots = suffix < total_suffix;
        }
        prefix_dots = prefix < total_prefix;
        let from = before - prefix;
        text = text[from..from + MAX_POSITION_LINE].to_vec();
        before = before.min(prefix);
        len = len.min(MAX_POSITION_LINE - before);
    }

    let mut out = header;
    out.push_str("\n+ ");
    if prefix_dots {
        out.push_str("... ");
    }
    out.extend(text.iter());
    if suffix_dots {
        out.push_str(" ...");
    }
    out.push_str("\n+ ");
    out.push_str(&" ".repeat(before + if prefix_dots { 4 } else { 0 }));
    out.push_str(&"~".repeat(len.max(1)));
    out
}

/// Whether a record is a parse error (no command ran): its position comes
/// before its message.
fn is_parse_error(record: &ErrorRecord) -> bool {
    record.category == ErrorCategory::ParserError
        && record
            .invocation
            .as_ref()
            .is_none_or(|i| i.command_name.is_empty())
}

/// The Windows PowerShell 5.1 `NormalView` of an error record, every line
/// ending in `\n`:
///
/// ```text
/// Get-ChildItem : Cannot find path 'C:\nofile.txt' because it does not exist.
/// At line:1 char:1
/// + Get-ChildItem -Path C:\nofile.txt
/// + ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
///     + CategoryInfo          : ObjectNotFound: (C:\nofile.txt:String) [Get-ChildItem], ItemNotFoundException
///     + FullyQualifiedErrorId : PathNotFound,Microsoft.PowerShell.Commands.GetChildItemCommand
/// ␠
/// ```
///
/// A parse error shows its position first and the message after the `~`
/// line. The last line holds one space unless `ErrorDetails.Message` is set.
/// `RecommendedAction`, when set, follows the `+` lines on a line of its own.
pub(crate) fn render_error(record: &ErrorRecord) -> String {
    let mut out = String::new();
    if is_parse_error(record) {
        if let Some(inv) = &record.invocation {
            out.push_str(&position_message(&inv.extent));
            out.push('\n');
        }
        out.push_str(record.display_message());
        out.push('\n');
    } else {
        if let Some(inv) = &record.invocation {
            // `&` and `.` invocations show the command's own name.
            let name = match inv.invocation_name.as_str() {
                "" | "&" | "." => inv.command_name.as_str(),
                n => n,
            };
            if !name.is_empty() {
                out.push_str(name);
                out.push_str(" : ");
            }
        }
        out.push_str(record.display_message());
        out.push('\n');
        if let Some(inv) = &record.invocation {
            out.push_str(&position_message(&inv.extent));
            out.push('\n');
        }
    }
    out.push_str("    + CategoryInfo          : ");
    out.push_str(&record.category_info());
    out.push('\n');
    out.push_str("    + FullyQualifiedErrorId : ");
    out.push_str(&record.fully_qualified_error_id());
    out.push('\n');
    if let Some(action) = &record.recommended_action {
        out.push_str(action);
        out.push('\n');
    }
    if record.details_message.is_none() {
        out.push_str(" \n");
    }
    out
}

/// `$ErrorView = 'CategoryView'`: the `CategoryInfo` string alone.
pub(crate) fn render_error_category_view(record: &ErrorRecord) -> String {
    format!("{}\n", record.category_info())
}

/// The message of a parse exception holding several errors: each error's
/// position message and text, separated by blank lines. A runtime that
/// reports several parse errors at once puts this in the record's message
/// and leaves its invocation empty.
#[cfg(test)]
pub(crate) fn parse_errors_message(errors: &[(Extent, String)]) -> String {
    errors
        .iter()
        .map(|(extent, message)| format!("{}\n{}", position_message(extent), message))
        .collect::<Vec<_>>()
        .join("\n\n")
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;

    use super::*;
    use crate::error::InvocationInfo;
    use crate::span::{Source, Span};
    use crate::value::Value;

    fn extent(text: &str, start: usize, end: usize) -> Extent {
        Extent {
            source: Source::interactive(text),
            span: Span::new(start, end),
        }
    }

    fn file_extent(path: &str, text: &str, start: usize, end: usize) -> Extent {
        Extent {
            source: Arc::new(Source {
                origin: Origin::File(PathBuf::from(path)),
                text: text.into(),
            }),
            span: Span::new(start, end),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn command_error(
        message: &str,
        id: &str,
        category: ErrorCategory,
        exception: &str,
        command: &str,
        typed: &str,
        type_name: &str,
        ext: Extent,
    ) -> ErrorRecord {
        let mut r = ErrorRecord::new(message, id, category).with_exception(exception);
        r.command_type_name = type_name.into();
        r.invocation = Some(InvocationInfo {
            command_name: command.into(),
            invocation_name: typed.into(),
            extent: ext,
        });
        r
    }

    #[test]
    fn spec_get_child_item_example() {
        let line = r"Get-ChildItem -Path C:\nofile.txt";
        let r = command_error(
            r"Cannot find path 'C:\nofile.txt' because it does not exist.",
            "PathNotFound",
            ErrorCategory::ObjectNotFound,
            "ItemNotFoundException",
            "Get-ChildItem",
            "Get-ChildItem",
            "Microsoft.PowerShell.Commands.GetChildItemCommand",
            extent(line, 0, line.len()),
        )
        .with_target(Value::str(r"C:\nofile.txt"));
        let want = r"Get-ChildItem : Cannot find path 'C:\nofile.txt' because it does not exist.
At line:1 char:1
+ Get-ChildItem -Path C:\nofile.txt
+ ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
    + CategoryInfo          : ObjectNotFound: (C:\nofile.txt:String) [Get-ChildItem], ItemNotFoundException
    + FullyQualifiedErrorId : PathNotFound,Microsoft.PowerShell.Commands.GetChildItemCommand
 
";
        assert_eq!(render_error(&r), want);
        assert_eq!(
            render_error_category_view(&r),
            "ObjectNotFound: (C:\\nofile.txt:String) [Get-ChildItem], ItemNotFoundException\n"
        );
    }

    #[test]
    fn spec_binding_error_in_a_script() {
        let text = "# profile\n\n\n\n\n\n\n\n\nSet-PSReadLineOption -PredictionViewStyle ListView -Colors @{";
        let start = text.find("-Prediction").expect("token present");
        let r = command_error(
            "A parameter cannot be found that matches parameter name 'PredictionViewStyle'.",
            "NamedParameterNotFound",
            ErrorCategory::InvalidArgument,
            "ParameterBindingException",
            "Set-PSReadLineOption",
            "Set-PSReadLineOption",
            "Microsoft.PowerShell.SetPSReadLineOption",
            file_extent(
                r"C:\Users\me\Microsoft.PowerShell_profile.ps1",
                text,
                start,
                start + "-PredictionViewStyle".len(),
            ),
        );
        let want = r"Set-PSReadLineOption : A parameter cannot be found that matches parameter name 'PredictionViewStyle'.
At C:\Users\me\Microsoft.PowerShell_profile.ps1:10 char:22
+ Set-PSReadLineOption -PredictionViewStyle ListView -Colors @{
+                      ~~~~~~~~~~~~~~~~~~~~
    + CategoryInfo          : InvalidArgument: (:) [Set-PSReadLineOption], ParameterBindingException
    + FullyQualifiedErrorId : NamedParameterNotFound,Microsoft.PowerShell.SetPSReadLineOption
 
";
        assert_eq!(render_error(&r), want);
    }

    #[test]
    fn spec_dpm_error_through_an_alias_and_throw() {
        let line = "Disconnect-DPMServer DPM09";
        let r = command_error(
            "No open connection to DPM server 'DPM09'.",
            "ConnectionNotFound",
            ErrorCategory::ObjectNotFound,
            "ConnectionNotFoundException",
            "Disconnect-DPMServer",
            "Disconnect-DPMServer",
            "Rdpm.Commands.DisconnectDPMServerCommand",
            extent(line, 0, line.len()),
        )
        .with_target(Value::str("DPM09"));
        let want = "Disconnect-DPMServer : No open connection to DPM server 'DPM09'.
At line:1 char:1
+ Disconnect-DPMServer DPM09
+ ~~~~~~~~~~~~~~~~~~~~~~~~~~
    + CategoryInfo          : ObjectNotFound: (DPM09:String) [Disconnect-DPMServer], ConnectionNotFoundException
    + FullyQualifiedErrorId : ConnectionNotFound,Rdpm.Commands.DisconnectDPMServerCommand
 \n";
        assert_eq!(render_error(&r), want);

        let line = "throw 'boom'";
        let mut r = ErrorRecord::new("boom", "boom", ErrorCategory::OperationStopped)
            .with_target(Value::str("boom"));
        r.invocation = Some(InvocationInfo {
            command_name: String::new(),
            invocation_name: String::new(),
            extent: extent(line, 0, line.len()),
        });
        let want = "boom
At line:1 char:1
+ throw 'boom'
+ ~~~~~~~~~~~~
    + CategoryInfo          : OperationStopped: (boom:String) [], RuntimeException
    + FullyQualifiedErrorId : boom
 \n";
        assert_eq!(render_error(&r), want);
    }

    #[test]
    fn spec_parse_error_puts_the_position_first() {
        let mut text = String::new();
        for _ in 0..12 {
            text.push_str("#\n");
        }
        let line = r#"    Write-Host "Incorrect password" -ForegroundColor Red"#;
        // The closing quote opens a string that never ends.
        let start = text.len() + line.rfind('"').expect("quote");
        text.push_str(line);
        let mut r = ErrorRecord::new(
            "The string is missing the terminator: \".",
            "TerminatorExpectedAtEndOfString",
            ErrorCategory::ParserError,
        )
        .with_exception("ParseException");
        r.invocation = Some(InvocationInfo {
            command_name: String::new(),
            invocation_name: String::new(),
            extent: file_extent(r"C:\x\script.ps1", &text, start, text.len()),
        });
        let want = r#"At C:\x\script.ps1:13 char:35
+     Write-Host "Incorrect password" -ForegroundColor Red
+                                   ~~~~~~~~~~~~~~~~~~~~~~
The string is missing the terminator: ".
    + CategoryInfo          : ParserError: (:) [], ParseException
    + FullyQualifiedErrorId : TerminatorExpectedAtEndOfString
 
"#;
        assert_eq!(render_error(&r), want);
    }

    #[test]
    fn details_message_and_recommended_action() {
        let line = "Get-X";
        let mut r = command_error(
            "inner",
            "Id",
            ErrorCategory::InvalidOperation,
            "InvalidOperationException",
            "Get-X",
            "gx",
            "Rdpm.Commands.GetXCommand",
            extent(line, 0, line.len()),
        )
        .with_recommended_action("Connect first.");
        r.details_message = Some("shown instead".into());
        let want = "gx : shown instead
At line:1 char:1
+ Get-X
+ ~~~~~
    + CategoryInfo          : InvalidOperation: (:) [Get-X], InvalidOperationException
    + FullyQualifiedErrorId : Id,Rdpm.Commands.GetXCommand
Connect first.
";
        assert_eq!(render_error(&r), want);
    }

    #[test]
    fn position_messages() {
        let long = format!("Get-DPMProtectionGroup {} -Bogus x", "a".repeat(80));
        let bogus = long.find("-Bogus").expect("token");
        let long_err = format!("{} -Name {}", "x".repeat(20), "y".repeat(90));
        let name = long_err.find("-Name").expect("token");
        let cases: Vec<(String, usize, usize, &str)> = vec![
            (
                "Get-ChildItem -Foo".into(),
                14,
                18,
                "At line:1 char:15\n+ Get-ChildItem -Foo\n+               ~~~~",
            ),
            // An error at the end of input still gets one `~`.
            ("'abc".into(), 4, 4, "At line:1 char:5\n+ 'abc\n+     ~"),
            // Tabs expand to four spaces.
            ("\tfoo -x".into(), 5, 7, "At line:1 char:6\n+     foo -x\n+         ~~"),
            (
                long.clone(),
                bogus,
                bogus + 6,
                "At line:1 char:105\n+ ... aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa -Bogus x\n+                                                                  ~~~~~~",
            ),
            (
                long_err.clone(),
                name,
                long_err.len(),
                "At line:1 char:22\n+ ... xxxxxxxxxxx -Name yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy ...\n+                 ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~",
            ),
            (
                format!("x {}", "z".repeat(80)),
                0,
                1,
                "At line:1 char:1\n+ x zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz ...\n+ ~",
            ),
        ];
        for (text, start, end, want) in cases {
            assert_eq!(position_message(&extent(&text, start, end)), want, "{text}");
        }
    }

    #[test]
    fn several_parse_errors() {
        let a = extent("a b", 0, 1);
        let b = extent("a b", 2, 3);
        let got = parse_errors_message(&[(a, "first".into()), (b, "second".into())]);
        assert_eq!(
            got,
            "At line:1 char:1\n+ a b\n+ ~\nfirst\n\nAt line:1 char:3\n+ a b\n+   ~\nsecond"
        );
    }
}
