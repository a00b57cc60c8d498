//! Registered views: what `format.ps1xml` files are to PowerShell. A type
//! name (any of an object's `type_names`, most derived first) selects a
//! table view (columns with label, property or computed value, width,
//! alignment) or a list view (entries). `Out-Default`, `Format-Table` and
//! `Format-List` without `-Property` use them; objects of types without a
//! view fall back to the four/five property rule.
//!
//! Views live in a [`ViewTable`] that the command [`Registry`] owns: a
//! module registers its views with its commands, and the formatter reads
//! them from the runtime it runs in.
//!
//! [`Registry`]: crate::Registry
//!
//! ```
//! use rdpm_shell::format::{out_default, Align, View, ViewColumn};
//! use rdpm_shell::{PsObject, Registry, Value};
//!
//! let mut registry = Registry::new();
//! registry.register_view(
//!     "Example.Session",
//!     View::table(vec![
//!         ViewColumn::property("Id").width(4).align(Align::Right),
//!         ViewColumn::property("User"),
//!         ViewColumn::computed("Objects", |o| {
//!             Value::Int(o.get("Handles").map_or(0, |h| h.enumerate().len() as i32))
//!         }),
//!     ]),
//! );
//! let session = Value::object(PsObject::new(
//!     vec!["Example.Session".into()],
//!     vec![
//!         ("Id".to_string(), Value::Int(7)),
//!         ("User".to_string(), Value::str("administrator")),
//!         ("Handles".to_string(), Value::array(vec![Value::Int(1), Value::Int(2)])),
//!         ("Opened".to_string(), Value::str("today")),
//!     ],
//! ));
//! assert_eq!(
//!     out_default(&[session], registry.views(), 120),
//!     "\n  Id User          Objects\n  -- ----          -------\n   7 administrator       2\n\n"
//! );
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use super::field::read_property;
use super::table::Align;
use crate::value::{PsObject, Value};

/// A computed column: reads an object and returns what the cell shows
/// (a script block column of a `format.ps1xml` view).
pub type ComputeFn = fn(&PsObject) -> Value;

/// Where a view column gets its value.
#[derive(Clone)]
pub enum ColumnValue {
    /// A property of the object (a live native property first).
    Property(String),
    /// A value computed from the object.
    Computed(ComputeFn),
}

impl fmt::Debug for ColumnValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColumnValue::Property(p) => write!(f, "Property({p:?})"),
            ColumnValue::Computed(_) => f.write_str("Computed(..)"),
        }
    }
}

/// One column of a table view, or one entry of a list view.
#[derive(Debug, Clone)]
pub struct ViewColumn {
    /// Header label (list entry label).
    pub label: String,
    /// Where the value comes from.
    pub value: ColumnValue,
    /// Fixed width in a table; `None` sizes the column to its data.
    /// Ignored by list views.
    pub width: Option<usize>,
    /// Alignment in a table; `None` aligns by the first row's value
    /// (numbers right, the rest left). Ignored by list views.
    pub align: Option<Align>,
}

impl ViewColumn {
    /// A column showing a property, labelled with its name.
    pub fn property(name: impl Into<String>) -> ViewColumn {
        let name = name.into();
        ViewColumn {
            label: name.clone(),
            value: ColumnValue::Property(name),
            width: None,
            align: None,
        }
    }

    /// A column computed from the object.
    pub fn computed(label: impl Into<String>, compute: ComputeFn) -> ViewColumn {
        ViewColumn {
            label: label.into(),
            value: ColumnValue::Computed(compute),
            width: None,
            align: None,
        }
    }

    /// Sets the header label.
    pub fn label(mut self, label: impl Into<String>) -> ViewColumn {
        self.label = label.into();
        self
    }

    /// Fixes the column width.
    pub fn width(mut self, width: usize) -> ViewColumn {
        self.width = Some(width);
        self
    }

    /// Fixes the alignment.
    pub fn align(mut self, align: Align) -> ViewColumn {
        self.align = Some(align);
        self
    }

    /// The value this column shows for `obj`.
    pub fn read(&self, obj: &PsObject) -> Value {
        match &self.value {
            ColumnValue::Property(name) => read_property(obj, name),
            ColumnValue::Computed(f) => f(obj),
        }
    }
}

/// Whether a view lays objects out as a table or a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewKind {
    /// One row per object.
    Table,
    /// `Label : value` lines per object.
    List,
}

/// A registered view.
#[derive(Debug, Clone)]
pub struct View {
    /// Table or list.
    pub kind: ViewKind,
    /// Columns (table) or entries (list), in display order.
    pub columns: Vec<ViewColumn>,
}

impl View {
    /// A table view.
    pub fn table(columns: Vec<ViewColumn>) -> View {
        View {
            kind: ViewKind::Table,
            columns,
        }
    }

    /// A list view.
    pub fn list(entries: Vec<ViewColumn>) -> View {
        View {
            kind: ViewKind::List,
            columns: entries,
        }
    }
}

/// The view chosen for an object and the type name that chose it.
/// Consecutive objects with the same view (see [`SelectedView::same_view`])
/// share one table.
#[derive(Debug, Clone)]
pub struct SelectedView {
    /// The registered type name (as registered) that matched.
    pub type_name: String,
    /// The view.
    pub view: Arc<View>,
}

impl SelectedView {
    /// Whether both were chosen as the same registered view (one
    /// registration, possibly under several type names).
    pub fn same_view(&self, other: &SelectedView) -> bool {
        Arc::ptr_eq(&self.view, &other.view)
    }
}

/// The registered views: views by lower-cased type name, in registration
/// order (the first is the type's default view). The command [`Registry`]
/// owns one, so that each runtime formats with the views its modules
/// registered.
///
/// [`Registry`]: crate::Registry
#[derive(Debug, Clone, Default)]
pub struct ViewTable {
    views: HashMap<String, Vec<(String, Arc<View>)>>,
}

impl ViewTable {
    /// An empty table.
    pub fn new() -> ViewTable {
        ViewTable::default()
    }

    /// Registers a view for objects whose `type_names` contain `type_name`
    /// (case-insensitive). The first view registered for a type is its
    /// default view (the one `Out-Default` uses); a type may have one table
    /// view and one list view, and registering a second view of the same
    /// kind replaces the first.
    pub fn register(&mut self, type_name: &str, view: View) {
        self.register_for(&[type_name], view);
    }

    /// Registers one view for several type names (a `format.ps1xml`
    /// selection set): objects of any of them share one table when they
    /// follow each other.
    pub fn register_for(&mut self, type_names: &[&str], view: View) {
        let view = Arc::new(view);
        for type_name in type_names {
            let entry = self.views.entry(type_name.to_lowercase()).or_default();
            // A type has at most one view of each kind: registering again
            // replaces it in place, so the default view stays the first one
            // registered.
            match entry.iter_mut().find(|(_, v)| v.kind == view.kind) {
                Some(slot) => *slot = (type_name.to_string(), view.clone()),
                None => entry.push((type_name.to_string(), view.clone())),
            }
        }
    }

    /// The view for `obj`: the first of its type names (most derived
    /// first) with a view of the wanted kind, or with any view when `kind`
    /// is `None` (its default view).
    pub(crate) fn view_for(&self, obj: &PsObject, kind: Option<ViewKind>) -> Option<SelectedView> {
        obj.type_names.iter().find_map(|t| {
            self.views.get(&t.to_lowercase()).and_then(|list| {
                list.iter()
                    .find(|(_, v)| kind.is_none_or(|k| v.kind == k))
                    .map(|(name, view)| SelectedView {
                        type_name: name.clone(),
                        view: view.clone(),
                    })
            })
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An object of these type names with one property, `Name`.
    pub(crate) fn object(type_names: &[&str]) -> PsObject {
        PsObject::new(
            type_names.iter().map(|t| t.to_string()).collect(),
            vec![("Name".to_string(), Value::str("x"))],
        )
    }

    /// A view's column labels.
    pub(crate) fn labels(v: &View) -> Vec<&str> {
        v.columns.iter().map(|c| c.label.as_str()).collect()
    }

    #[test]
    fn lookup_by_any_type_name_and_kind() {
        let mut views = ViewTable::new();
        views.register(
            "Test.View.Base",
            View::table(vec![ViewColumn::property("Name")]),
        );
        views.register(
            "Test.View.Derived",
            View::list(vec![ViewColumn::property("Name").label("Label")]),
        );
        let derived = object(&["Test.View.Derived", "Test.View.Base"]);
        let base = object(&["test.view.BASE"]);
        let none = object(&["Test.View.Unknown"]);
        // (object, kind, expected type name, expected kind)
        type Case<'a> = (&'a PsObject, Option<ViewKind>, Option<(&'a str, ViewKind)>);
        let cases: Vec<Case<'_>> = vec![
            (&derived, None, Some(("Test.View.Derived", ViewKind::List))),
            (
                &derived,
                Some(ViewKind::Table),
                Some(("Test.View.Base", ViewKind::Table)),
            ),
            (
                &derived,
                Some(ViewKind::List),
                Some(("Test.View.Derived", ViewKind::List)),
            ),
            (&base, None, Some(("Test.View.Base", ViewKind::Table))),
            (&base, Some(ViewKind::List), None),
            (&none, None, None),
        ];
        for (obj, kind, want) in cases {
            let got = views
                .view_for(obj, kind)
                .map(|s| (s.type_name.clone(), s.view.kind));
            assert_eq!(
                got,
                want.map(|(t, k)| (t.to_string(), k)),
                "{:?} {kind:?}",
                obj.type_names
            );
        }
    }

    #[test]
    fn registering_again_replaces_the_view_of_that_kind_only() {
        let t = "Test.View.Replaced";
        let mut views = ViewTable::new();
        views.register(t, View::table(vec![ViewColumn::property("A")]));
        views.register(t, View::list(vec![ViewColumn::property("L")]));
        views.register(t, View::table(vec![ViewColumn::property("B")]));
        let obj = object(&[t]);
        let default = views.view_for(&obj, None).expect("registered");
        assert_eq!(default.view.kind, ViewKind::Table);
        assert_eq!(labels(&default.view), ["B"]);
        let list = views
            .view_for(&obj, Some(ViewKind::List))
            .expect("registered");
        assert_eq!(labels(&list.view), ["L"]);
    }
}
