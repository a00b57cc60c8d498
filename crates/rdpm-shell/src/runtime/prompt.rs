//! Host prompts as the Windows PowerShell console draws them: the choice
//! prompt of ShouldProcess and Inquire.
//!
//! rdpm has no nested prompt, so the `[S] Suspend` choice is never offered.

use crate::error::{ErrorCategory, ErrorRecord, FlowResult};
use crate::host::{Choice, HostUi};

/// The first choice of both prompts.
const YES: Choice = Choice {
    label: "&Yes",
    help: "Continue with only the next step of the operation.",
};

/// The second choice of both prompts.
const YES_TO_ALL: Choice = Choice {
    label: "Yes to &All",
    help: "Continue with all the steps of the operation.",
};

/// The ShouldProcess choices (`Suspend` omitted: no nested prompt).
pub(crate) const CONFIRM_CHOICES: [Choice; 4] = [
    YES,
    YES_TO_ALL,
    Choice {
        label: "&No",
        help: "Skip this operation and proceed with the next operation.",
    },
    Choice {
        label: "No to A&ll",
        help: "Skip this operation and all subsequent operations.",
    },
];

/// The Inquire choices (`No` replaced by `Halt`; `Suspend` omitted).
pub(crate) const INQUIRE_CHOICES: [Choice; 3] = [
    YES,
    YES_TO_ALL,
    Choice {
        label: "&Halt Command",
        help: "Stop this command.",
    },
];

fn hotkey(label: &str) -> String {
    label
        .split_once('&')
        .and_then(|(_, rest)| rest.chars().next())
        .map(|c| c.to_uppercase().to_string())
        .unwrap_or_default()
}

fn plain(label: &str) -> String {
    label.replace('&', "")
}

/// The choice line with the console's wrapping: a piece that would pass
/// column `width - 1` starts a new line and loses its trailing spaces.
pub(crate) fn choice_line(choices: &[Choice], default: usize, width: usize) -> String {
    let mut pieces: Vec<String> = choices
        .iter()
        .map(|c| format!("[{}] {}  ", hotkey(c.label), plain(c.label)))
        .collect();
    pieces.push("[?] Help ".into());
    pieces.push(format!(
        "(default is \"{}\"): ",
        choices
            .get(default)
            .map(|c| hotkey(c.label))
            .unwrap_or_default()
    ));
    let max = width.saturating_sub(1);
    let mut out = String::new();
    let mut line_len = 0;
    for p in pieces {
        let len = p.chars().count();
        if line_len + len > max {
            out.push('\n');
            out.push_str(p.trim_end());
            line_len = len;
        } else {
            out.push_str(&p);
            line_len += len;
        }
    }
    out
}

/// `PromptForChoice`: caption, message, then the choice line until the
/// answer names a choice. Returns the chosen index.
pub(crate) fn prompt_for_choice(
    host: &mut dyn HostUi,
    caption: &str,
    message: &str,
    choices: &[Choice],
    default: usize,
) -> FlowResult<usize> {
    host.write(&format!("\n{caption}\n{message}\n"));
    loop {
        let line = choice_line(choices, default, host.width());
        let (before, last) = match line.rsplit_once('\n') {
            Some((b, l)) => (Some(b.to_string()), l.to_string()),
            None => (None, line.clone()),
        };
        if let Some(b) = before {
            host.write(&format!("{b}\n"));
        }
        let answer = host.read_line(&last)?;
        let answer = answer.trim();
        if answer.is_empty() {
            return Ok(default);
        }
        if let Some(i) = choices
            .iter()
            .position(|c| plain(c.label).eq_ignore_ascii_case(answer))
        {
            return Ok(i);
        }
        if let Some(i) = choices
            .iter()
            .position(|c| hotkey(c.label).eq_ignore_ascii_case(answer))
        {
            return Ok(i);
        }
        if answer == "?" {
            let help: String = choices
                .iter()
                .map(|c| format!("{} - {}\n", hotkey(c.label), c.help))
                .collect();
            host.write(&help);
        }
    }
}

/// The error a prompt raises on a host that cannot prompt (5.1 wording).
pub(crate) fn non_interactive_error() -> ErrorRecord {
    ErrorRecord::new(
        "Windows PowerShell is in NonInteractive mode. Read and Prompt functionality is not available.",
        "InvalidOperation",
        ErrorCategory::InvalidOperation,
    )
    .with_exception("PSInvalidOperationException")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choice_line_wrapping() {
        // Without Suspend the pieces are 9+16+8+15+9+18 = 75 columns.
        assert_eq!(
            choice_line(&CONFIRM_CHOICES, 0, 80),
            "[Y] Yes  [A] Yes to All  [N] No  [L] No to All  [?] Help (default is \"Y\"): "
        );
        assert_eq!(
            choice_line(&CONFIRM_CHOICES, 0, 75),
            "[Y] Yes  [A] Yes to All  [N] No  [L] No to All  [?] Help \n(default is \"Y\"):"
        );
        assert_eq!(
            choice_line(&CONFIRM_CHOICES, 0, 40),
            "[Y] Yes  [A] Yes to All  [N] No  \n[L] No to All[?] Help \n(default is \"Y\"):"
        );
        assert_eq!(
            choice_line(&INQUIRE_CHOICES, 0, 120),
            "[Y] Yes  [A] Yes to All  [H] Halt Command  [?] Help (default is \"Y\"): "
        );
    }
}
