//! List layout: `Label : value`, labels padded to the longest, long values
//! wrapped under the value column.

use super::field::{cells, wrap_lines};

const SEPARATOR: &str = " : ";

/// The lines of one object in list form (no surrounding blank lines), each
/// ending in `\n`. `entries` are (label, value text) pairs.
pub(crate) fn render_list_entry(entries: &[(String, String)], window_width: usize) -> String {
    if entries.is_empty() {
        return String::new();
    }
    let width = super::table::usable_width(window_width);
    let max_label = width.saturating_sub(SEPARATOR.len() + 1).max(1);
    let label_width = entries
        .iter()
        .map(|(l, _)| cells(l))
        .max()
        .unwrap_or(0)
        .min(max_label);
    let indent = " ".repeat(label_width + SEPARATOR.len());
    let field_width = width.saturating_sub(label_width + SEPARATOR.len()).max(1);
    let mut out = String::new();
    for (label, value) in entries {
        let shown: String = label.chars().take(label_width).collect();
        let pad = " ".repeat(label_width - cells(&shown));
        let prefix = format!("{shown}{pad}{SEPARATOR}");
        for (i, line) in wrap_lines(value, field_width).iter().enumerate() {
            if i == 0 {
                out.push_str(&prefix);
            } else {
                out.push_str(&indent);
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(l: &str, v: &str) -> (String, String) {
        (l.to_string(), v.to_string())
    }

    #[test]
    fn spec_list_entry() {
        let got = render_list_entry(
            &[
                e("Name", "PG-Exch"),
                e("Status", "Ok"),
                e("Datasources", "{Exch01, Exch02}"),
            ],
            120,
        );
        assert_eq!(
            got,
            "Name        : PG-Exch\nStatus      : Ok\nDatasources : {Exch01, Exch02}\n"
        );
    }

    #[test]
    fn long_and_multiline_values_wrap_under_the_value_column() {
        let got = render_list_entry(&[e("A", "one two three"), e("Bb", "x\ny")], 14);
        assert_eq!(got, "A  : one two \n     three\nBb : x\n     y\n");
    }
}
