//! Output formatting: what `Out-Default` prints (tables, lists, scalars),
//! error records in the Windows PowerShell 5.1 `NormalView`, and JSON.
//!
//! The shape of an object follows PowerShell: a view registered for one of
//! its type names ([`crate::Registry::register_view`], the `format.ps1xml`
//! of this shell) decides first; otherwise its default display property set (or all
//! its properties) with four or fewer properties makes a table, five or more
//! a list. Consecutive objects with the same view, or without a view and of
//! the same first type name, share one table. Tables size their columns to the data, fit them to the window
//! (the last columns shrink or are dropped) and truncate with `...`.
//!
//! ```
//! use rdpm_shell::format::out_default;
//! use rdpm_shell::value::{PsObject, Value};
//! use rdpm_shell::Registry;
//!
//! let pg = Value::object(PsObject::custom(vec![
//!     ("Name".to_string(), Value::str("PG-Exch")),
//!     ("Count".to_string(), Value::Int(12)),
//! ]));
//! let registry = Registry::new();
//! assert_eq!(out_default(&[pg], registry.views(), 120), "\nName    Count\n----    -----\nPG-Exch    12\n\n");
//! ```

pub(crate) mod error_view;
pub mod field;
pub(crate) mod json;
pub(crate) mod list;
pub(crate) mod table;
pub mod view;

use std::rc::Rc;

pub(crate) use error_view::{render_error, render_error_category_view};
pub use json::to_json;
pub use table::{Align, Column};
pub(crate) use table::{TableLayout, TableOptions};
pub use view::{View, ViewColumn, ViewKind, ViewTable};

use crate::error::ErrorRecord;
use crate::value::{PsObject, Value};
use field::{display_properties, field_text, is_right_aligned, scalar_text};
use view::SelectedView;

/// The output of `Format-Table` / `Format-List` (and anything else already
/// laid out): printed as is by [`out_default`]. Carried in
/// [`Value::Formatted`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatOutput {
    /// The rendered text, every line ending in `\n`.
    pub text: String,
}

impl FormatOutput {
    /// A `Value::Formatted` holding this text.
    pub fn value(text: impl Into<String>) -> Value {
        Value::Formatted(Rc::new(FormatOutput { text: text.into() }))
    }
}

/// The rendered text of a `Value::Formatted`, if it holds a [`FormatOutput`].
pub(crate) fn formatted_text(value: &Value) -> Option<&str> {
    match value {
        Value::Formatted(any) => any.downcast_ref::<FormatOutput>().map(|f| f.text.as_str()),
        _ => None,
    }
}

/// `$ErrorView`: how error records print.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ErrorView {
    /// The Windows PowerShell 5.1 default.
    #[default]
    NormalView,
    /// The `CategoryInfo` line only.
    CategoryView,
}

impl ErrorView {
    /// From `$ErrorView`'s value (case-insensitive); `None` for others.
    pub(crate) fn from_name(name: &str) -> Option<ErrorView> {
        if name.eq_ignore_ascii_case("NormalView") {
            Some(ErrorView::NormalView)
        } else if name.eq_ignore_ascii_case("CategoryView") {
            Some(ErrorView::CategoryView)
        } else {
            None
        }
    }
}

/// An error record in the given view.
pub(crate) fn render_error_view(record: &ErrorRecord, view: ErrorView) -> String {
    match view {
        ErrorView::NormalView => render_error(record),
        ErrorView::CategoryView => render_error_category_view(record),
    }
}

/// What the console prints for a batch of top-level output values, laid
/// out for a window `width` columns wide with the registered `views`.
pub fn out_default(values: &[Value], views: &Rc<ViewTable>, width: usize) -> String {
    let mut out = OutDefault::new(width, views.clone());
    let mut text = String::new();
    for v in values {
        text.push_str(&out.push(v));
    }
    text.push_str(&out.finish());
    text
}

/// A list of objects as `Format-List` lays them out: a blank line, then each
/// object's entries followed by a blank line. `entries` are (label, value
/// text) pairs per object.
pub(crate) fn list_text(objects: &[Vec<(String, String)>], width: usize) -> String {
    let mut out = String::from("\n");
    for entries in objects {
        out.push_str(&list::render_list_entry(entries, width));
        out.push('\n');
    }
    out
}

/// A table as `Format-Table` lays it out: a blank line, header, rows, a
/// blank line.
pub(crate) fn table_text(
    columns: Vec<Column>,
    rows: &[Vec<String>],
    width: usize,
    options: TableOptions,
) -> String {
    table::render_table(columns, rows, width, options)
}

/// How many arrays deep output expansion goes.
const MAX_NESTED_ARRAYS: usize = 64;

/// The streaming form of [`out_default`]: the runtime pushes each value as
/// it arrives and prints what comes back. A table holds its rows back until
/// its group ends (another shape arrives, or [`OutDefault::finish`]) so that
/// its columns fit the data; [`OutDefault::flush`] fixes the columns early
/// (PowerShell does so after 300 ms) and later rows print at once.
pub struct OutDefault {
    width: usize,
    views: Rc<ViewTable>,
    error_view: ErrorView,
    group: Group,
}

enum Group {
    None,
    Table(TableGroup),
    List {
        key: GroupKey,
        entries: Vec<ViewColumn>,
    },
    Hashtable(TableLayout),
}

/// What makes consecutive objects share a table or list: their view, or
/// without one their first type name.
enum GroupKey {
    View(SelectedView),
    Type(String),
}

impl GroupKey {
    fn of(obj: &PsObject, view: Option<SelectedView>) -> GroupKey {
        match view {
            Some(v) => GroupKey::View(v),
            None => GroupKey::Type(obj.type_names.first().cloned().unwrap_or_default()),
        }
    }

    fn same(&self, other: &GroupKey) -> bool {
        match (self, other) {
            (GroupKey::View(a), GroupKey::View(b)) => a.same_view(b),
            (GroupKey::Type(a), GroupKey::Type(b)) => a == b,
            _ => false,
        }
    }
}

struct TableGroup {
    key: GroupKey,
    cells: Vec<ViewColumn>,
    columns: Vec<Column>,
    pending: Vec<Vec<String>>,
    layout: Option<TableLayout>,
}

/// Objects with at most this many display properties print as a table.
const PROPERTY_COUNT_FOR_TABLE: usize = 4;

impl OutDefault {
    /// A formatter for a window `width` columns wide, with the registered
    /// `views`.
    pub fn new(width: usize, views: Rc<ViewTable>) -> OutDefault {
        OutDefault {
            width,
            views,
            error_view: ErrorView::NormalView,
            group: Group::None,
        }
    }

    /// Sets how error records print (`$ErrorView`).
    pub(crate) fn with_error_view(mut self, view: ErrorView) -> OutDefault {
        self.error_view = view;
        self
    }

    /// Takes one output value; returns the text ready to print now.
    pub fn push(&mut self, value: &Value) -> String {
        self.push_nested(value, &mut Vec::new())
    }

    /// [`OutDefault::push`] inside the arrays `outer` (innermost last):
    /// nested arrays are expanded, but an array met again inside itself
    /// prints as its type name instead of expanding forever.
    fn push_nested(&mut self, value: &Value, outer: &mut Vec<*const ()>) -> String {
        match value {
            Value::Array(items) => {
                let id = Rc::as_ptr(items) as *const ();
                if outer.contains(&id) || outer.len() >= MAX_NESTED_ARRAYS {
                    return self.push(&Value::str("System.Object[]"));
                }
                let items = items.borrow().clone();
                outer.push(id);
                let text = items.iter().map(|v| self.push_nested(v, outer)).collect();
                outer.pop();
                text
            }
            other => self.push_scalar(other),
        }
    }

    fn push_scalar(&mut self, value: &Value) -> String {
        match value {
            Value::Null => String::new(),
            Value::Array(_) => self.push(value),
            Value::Formatted(_) => {
                let mut out = self.end_group();
                match formatted_text(value) {
                    Some(t) => out.push_str(t),
                    None => {
                        out.push_str(&value.to_invariant_string());
                        out.push('\n');
                    }
                }
                out
            }
            Value::Error(e) => {
                let mut out = self.end_group();
                out.push_str(&render_error_view(e, self.error_view));
                out
            }
            Value::Hashtable(h) => {
                let mut out = String::new();
                if !matches!(self.group, Group::Hashtable(_)) {
                    out.push_str(&self.end_group());
                    let table_width = table::usable_width(self.width);
                    let columns = vec![
                        Column {
                            label: "Name".into(),
                            align: Align::Left,
                            width: Some(30),
                        },
                        Column {
                            label: "Value".into(),
                            align: Align::Left,
                            width: Some(table_width.saturating_sub(31).max(1)),
                        },
                    ];
                    let layout =
                        TableLayout::new(columns, &[], table_width, TableOptions::default());
                    out.push('\n');
                    out.push_str(&layout.header());
                    self.group = Group::Hashtable(layout);
                }
                if let Group::Hashtable(layout) = &self.group {
                    for (k, v) in h.borrow().entries.values() {
                        out.push_str(&layout.row(&[k.to_invariant_string(), field_text(v)]));
                    }
                }
                out
            }
            // As PowerShell's console shows a SecureString: its type name
            // (Format-List and Format-Table still show its Length).
            Value::Object(o)
                if o.type_names.first().map(String::as_str)
                    == Some(crate::credential::SECURE_STRING_TYPE) =>
            {
                let mut out = self.end_group();
                out.push_str(crate::credential::SECURE_STRING_TYPE);
                out.push('\n');
                out
            }
            Value::Object(o) => self.push_object(o),
            scalar => {
                let mut out = self.end_group();
                out.push_str(&scalar_text(scalar));
                out.push('\n');
                out
            }
        }
    }

    fn push_object(&mut self, obj: &PsObject) -> String {
        let key = GroupKey::of(obj, self.views.view_for(obj, None));
        let mut out = String::new();
        let same = match &self.group {
            Group::Table(t) => t.key.same(&key),
            Group::List { key: k, .. } => k.same(&key),
            _ => false,
        };
        if !same {
            out.push_str(&self.end_group());
            let (kind, cells) = match &key {
                GroupKey::View(v) => (v.view.kind, v.view.columns.clone()),
                GroupKey::Type(_) => {
                    let names = display_properties(obj);
                    let kind = if names.len() <= PROPERTY_COUNT_FOR_TABLE {
                        ViewKind::Table
                    } else {
                        ViewKind::List
                    };
                    (kind, names.into_iter().map(ViewColumn::property).collect())
                }
            };
            match kind {
                ViewKind::Table => {
                    let columns: Vec<Column> = cells
                        .iter()
                        .map(|c| Column {
                            label: c.label.clone(),
                            align: c.align.unwrap_or_else(|| {
                                if is_right_aligned(&c.read(obj)) {
                                    Align::Right
                                } else {
                                    Align::Left
                                }
                            }),
                            width: c.width,
                        })
                        .collect();
                    // A view that fixes every width needs no rows to lay
                    // the table out: rows print as they come.
                    let layout = (!columns.is_empty() && columns.iter().all(|c| c.width.is_some()))
                        .then(|| {
                            TableLayout::new(
                                columns.clone(),
                                &[],
                                table::usable_width(self.width),
                                TableOptions::default(),
                            )
                        });
                    if let Some(layout) = &layout {
                        out.push('\n');
                        out.push_str(&layout.header());
                    }
                    self.group = Group::Table(TableGroup {
                        key,
                        cells,
                        columns,
                        pending: Vec::new(),
                        layout,
                    });
                }
                ViewKind::List => {
                    out.push('\n');
                    self.group = Group::List {
                        key,
                        entries: cells,
                    };
                }
            }
        }
        match &mut self.group {
            Group::Table(t) => {
                let row: Vec<String> = t.cells.iter().map(|c| field_text(&c.read(obj))).collect();
                match &t.layout {
                    Some(layout) => out.push_str(&layout.row(&row)),
                    None => t.pending.push(row),
                }
            }
            Group::List { entries, .. } => {
                let entries: Vec<(String, String)> = entries
                    .iter()
                    .map(|c| (c.label.clone(), field_text(&c.read(obj))))
                    .collect();
                out.push_str(&list::render_list_entry(&entries, self.width));
                out.push('\n');
            }
            _ => {}
        }
        out
    }

    /// Fixes the columns of a table in progress from the rows seen so far
    /// and returns its header and those rows.
    pub fn flush(&mut self) -> String {
        let width = self.width;
        let Group::Table(t) = &mut self.group else {
            return String::new();
        };
        if t.layout.is_some() || t.pending.is_empty() || t.columns.is_empty() {
            return String::new();
        }
        let layout = TableLayout::new(
            t.columns.clone(),
            &t.pending,
            table::usable_width(width),
            TableOptions::default(),
        );
        let mut out = String::from("\n");
        out.push_str(&layout.header());
        for r in t.pending.drain(..) {
            out.push_str(&layout.row(&r));
        }
        t.layout = Some(layout);
        out
    }

    fn end_group(&mut self) -> String {
        let mut out = self.flush();
        match std::mem::replace(&mut self.group, Group::None) {
            Group::Table(t) if t.layout.is_some() => out.push('\n'),
            Group::Hashtable(_) => out.push('\n'),
            _ => {}
        }
        out
    }

    /// Ends the output; returns what is still held back.
    pub fn finish(&mut self) -> String {
        self.end_group()
    }
}

#[cfg(test)]
mod tests;
