//! Table layout: column widths sized to the data and fitted to the window,
//! a header with dashes as long as the labels, one-space separators,
//! truncation with `...`.

use super::field::{cells, truncate_at_newline, wrap_lines, ELLIPSIS};

/// Horizontal alignment of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Strings and everything not numeric.
    Left,
    /// Numbers and other primitive scalars.
    Right,
}

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Header label.
    pub label: String,
    /// Alignment of the label and the cells.
    pub align: Align,
    /// A fixed width (a view's or `@{Width=...}`); `None` sizes to the data.
    pub width: Option<usize>,
}

impl Column {
    /// A column sized to its data.
    pub fn new(label: impl Into<String>, align: Align) -> Column {
        Column {
            label: label.into(),
            align,
            width: None,
        }
    }
}

/// Table options (`Format-Table -HideTableHeaders -Wrap`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct TableOptions {
    /// Do not print the header and dash rows.
    pub(crate) hide_headers: bool,
    /// Wrap long cells onto more lines instead of truncating them.
    pub wrap: bool,
}

/// The console wraps a line that fills the window exactly, so layouts stay
/// one column short of the window width, as the console host does.
pub(crate) fn usable_width(window: usize) -> usize {
    window.saturating_sub(1).max(1)
}

/// Column widths fixed for a table; `None` is a column dropped because it
/// did not fit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableLayout {
    columns: Vec<Column>,
    widths: Vec<Option<usize>>,
    options: TableOptions,
}

impl TableLayout {
    /// Sizes the columns to their labels and the given rows (auto-size),
    /// then fits the table into `table_width` columns by shrinking or
    /// dropping columns from the right.
    pub fn new(
        columns: Vec<Column>,
        rows: &[Vec<String>],
        table_width: usize,
        options: TableOptions,
    ) -> TableLayout {
        let mut widths: Vec<i64> = columns
            .iter()
            .enumerate()
            .map(|(k, c)| match c.width {
                Some(w) => w as i64,
                None => {
                    let data = rows
                        .iter()
                        .filter_map(|r| r.get(k))
                        .map(|v| {
                            if options.wrap {
                                wrap_lines(v, usize::MAX).iter().map(|l| cells(l)).max()
                            } else {
                                Some(cells(&truncate_at_newline(v)))
                            }
                            .unwrap_or(0)
                        })
                        .max()
                        .unwrap_or(0);
                    data.max(cells(&c.label)) as i64
                }
            })
            .collect();
        fit_widths(&mut widths, table_width as i64);
        TableLayout {
            columns,
            widths: widths
                .into_iter()
                .map(|w| (w > 0).then_some(w as usize))
                .collect(),
            options,
        }
    }

    /// The label and dash lines (empty when headers are hidden).
    pub fn header(&self) -> String {
        if self.options.hide_headers {
            return String::new();
        }
        let labels: Vec<String> = self.columns.iter().map(|c| c.label.clone()).collect();
        let mut out = self.render_cells(&labels, true);
        let dashes: Vec<String> = self
            .columns
            .iter()
            .zip(&self.widths)
            .map(|(c, w)| "-".repeat(cells(&c.label).min(w.unwrap_or(0))))
            .collect();
        out.push_str(&self.render_cells(&dashes, false));
        out
    }

    /// One row (several lines when wrapping), each line ending in `\n`.
    pub fn row(&self, values: &[String]) -> String {
        self.render_cells(values, self.options.wrap)
    }

    fn last_visible(&self) -> Option<usize> {
        self.widths.iter().rposition(Option::is_some)
    }

    fn render_cells(&self, values: &[String], multi_line: bool) -> String {
        let Some(last) = self.last_visible() else {
            return String::new();
        };
        if !multi_line {
            let mut line = String::new();
            let mut first = true;
            for (k, (col, w)) in self.columns.iter().zip(&self.widths).enumerate() {
                let Some(w) = *w else { continue };
                if !first {
                    line.push(' ');
                }
                first = false;
                let v = values.get(k).map(String::as_str).unwrap_or("");
                line.push_str(&fit_field(&truncate_at_newline(v), w, col.align, k != last));
            }
            line.push('\n');
            return line;
        }
        let mut per_column: Vec<(usize, Vec<String>)> = Vec::new();
        for (k, (col, w)) in self.columns.iter().zip(&self.widths).enumerate() {
            let Some(w) = *w else { continue };
            let v = values.get(k).map(String::as_str).unwrap_or("");
            let lines = wrap_lines(v, w)
                .into_iter()
                .map(|l| fit_field(&l, w, col.align, true))
                .collect();
            per_column.push((w, lines));
        }
        let height = per_column.iter().map(|(_, l)| l.len()).max().unwrap_or(0);
        let mut out = String::new();
        for r in 0..height {
            let parts: Vec<String> = per_column
                .iter()
                .map(|(w, lines)| lines.get(r).cloned().unwrap_or_else(|| " ".repeat(*w)))
                .collect();
            out.push_str(parts.join(" ").trim_end());
            out.push('\n');
        }
        out
    }
}

/// Pads or truncates one cell to `width`; the last column is not padded on
/// the right, so lines carry no trailing blanks.
fn fit_field(value: &str, width: usize, align: Align, pad_right: bool) -> String {
    let len = cells(value);
    if len < width {
        let pad = " ".repeat(width - len);
        return match align {
            Align::Right => format!("{pad}{value}"),
            Align::Left if pad_right => format!("{value}{pad}"),
            Align::Left => value.to_string(),
        };
    }
    if len == width {
        return value.to_string();
    }
    let chars: Vec<char> = value.chars().collect();
    let ellipsis = cells(ELLIPSIS);
    if width > ellipsis {
        let keep = width - ellipsis;
        match align {
            Align::Right => format!(
                "{ELLIPSIS}{}",
                chars[len - keep..].iter().collect::<String>()
            ),
            Align::Left => format!("{}{ELLIPSIS}", chars[..keep].iter().collect::<String>()),
        }
    } else {
        match align {
            Align::Right => chars[len - width..].iter().collect(),
            Align::Left => chars[..width].iter().collect(),
        }
    }
}

/// PowerShell's column width manager: unsized columns (0) share the room
/// left over; when the table is too wide, the last visible column shrinks,
/// or is dropped (-1) when it would shrink below one character.
fn fit_widths(widths: &mut [i64], table_width: i64) {
    const MIN: i64 = 1;
    if widths.is_empty() {
        return;
    }
    if widths.iter().all(|w| *w > 0) {
        if total(widths) <= table_width {
            return;
        }
    } else {
        let fixed: Vec<bool> = widths.iter().map(|w| *w > 0).collect();
        for w in widths.iter_mut() {
            if *w <= 0 {
                *w = MIN;
            }
        }
        let mut room = table_width - total(widths);
        if room >= 0 {
            while room > 0 {
                for (k, w) in widths.iter_mut().enumerate() {
                    if fixed[k] {
                        continue;
                    }
                    *w += 1;
                    room -= 1;
                    if room == 0 {
                        break;
                    }
                }
            }
            return;
        }
    }
    loop {
        let excess = total(widths) - table_width;
        if excess <= 0 {
            return;
        }
        let last = match widths.iter().position(|w| *w < 0) {
            Some(0) => return,
            Some(k) => k - 1,
            None => widths.len() - 1,
        };
        let shrunk = widths[last] - excess;
        if shrunk < MIN {
            widths[last] = -1;
        } else {
            widths[last] = shrunk;
        }
    }
}

fn total(widths: &[i64]) -> i64 {
    let visible: Vec<i64> = widths.iter().copied().filter(|w| *w > 0).collect();
    visible.iter().sum::<i64>() + (visible.len() as i64 - 1).max(0)
}

/// A whole table: a blank line, header, rows, a blank line.
pub(crate) fn render_table(
    columns: Vec<Column>,
    rows: &[Vec<String>],
    window_width: usize,
    options: TableOptions,
) -> String {
    let layout = TableLayout::new(columns, rows, usable_width(window_width), options);
    let mut out = String::from("\n");
    out.push_str(&layout.header());
    for r in rows {
        out.push_str(&layout.row(r));
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn spec_table() {
        let cols = vec![
            Column::new("Name", Align::Left),
            Column::new("Status", Align::Left),
            Column::new("Count", Align::Right),
        ];
        let rows = vec![
            row(&["PG-Exch", "Ok", "12"]),
            row(&["PG-Files", "Warning", "3"]),
        ];
        let want = "\nName     Status  Count\n----     ------  -----\nPG-Exch  Ok         12\nPG-Files Warning     3\n\n";
        assert_eq!(
            render_table(cols, &rows, 120, TableOptions::default()),
            want
        );
    }

    #[test]
    fn fitting() {
        // (column widths, table width, expected)
        let cases: Vec<(Vec<i64>, i64, Vec<i64>)> = vec![
            (vec![4, 5], 20, vec![4, 5]),
            (vec![10, 10], 15, vec![10, 4]),
            (vec![10, 10, 10], 15, vec![10, 4, -1]),
            (vec![30, 0], 40, vec![30, 9]),
            (vec![0, 0], 7, vec![3, 3]),
            (vec![20], 10, vec![10]),
        ];
        for (mut widths, table, want) in cases {
            let orig = widths.clone();
            fit_widths(&mut widths, table);
            assert_eq!(widths, want, "{orig:?} in {table}");
        }
    }

    #[test]
    fn truncation() {
        let cases: Vec<(&str, usize, Align, &str)> = vec![
            ("abcdefgh", 6, Align::Left, "abc..."),
            ("12345678", 6, Align::Right, "...678"),
            ("abcdefgh", 3, Align::Left, "abc"),
            ("abcdefgh", 2, Align::Right, "gh"),
            ("ab", 4, Align::Left, "ab  "),
            ("ab", 4, Align::Right, "  ab"),
        ];
        for (v, w, a, want) in cases {
            assert_eq!(fit_field(v, w, a, true), want, "{v} {w} {a:?}");
        }
    }

    #[test]
    fn narrow_window_truncates_last_column() {
        let cols = vec![
            Column::new("Name", Align::Left),
            Column::new("Description", Align::Left),
        ];
        let rows = vec![row(&["PG1", "a rather long description of the group"])];
        let got = render_table(cols, &rows, 30, TableOptions::default());
        assert_eq!(
            got,
            "\nName Description\n---- -----------\nPG1  a rather long descrip...\n\n"
        );
    }

    #[test]
    fn wrap_and_hidden_headers() {
        let cols = vec![
            Column::new("Name", Align::Left),
            Column::new("Text", Align::Left),
        ];
        let rows = vec![row(&["PG1", "one two three four five"])];
        let opts = TableOptions {
            hide_headers: true,
            wrap: true,
        };
        let got = render_table(cols, &rows, 16, opts);
        assert_eq!(got, "\nPG1  one two\n     three\n     four five\n\n");
    }
}
