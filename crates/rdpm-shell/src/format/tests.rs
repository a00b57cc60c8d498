use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;

use chrono::TimeZone;

use super::*;
use crate::error::ErrorCategory;
use crate::value::{HashtableData, NativeObject, ACTION_PREFERENCE};

/// A formatter's view table with no view registered.
fn no_views() -> Rc<ViewTable> {
    Rc::new(ViewTable::new())
}

fn obj(type_name: &str, props: Vec<(&str, Value)>) -> Value {
    Value::object(PsObject::new(
        vec![type_name.to_string()],
        props.into_iter().map(|(k, v)| (k.to_string(), v)),
    ))
}

fn pg(name: &str, status: &str, count: i32) -> Value {
    obj(
        "Rdpm.ProtectionGroup",
        vec![
            ("Name", Value::str(name)),
            ("Status", Value::str(status)),
            ("Count", Value::Int(count)),
        ],
    )
}

fn ht(entries: Vec<(&str, Value)>) -> Value {
    let mut h = HashtableData::default();
    for (k, v) in entries {
        h.insert(Value::str(k), v);
    }
    Value::Hashtable(Rc::new(RefCell::new(h)))
}

#[test]
fn out_default_cases() {
    let dt = chrono::FixedOffset::east_opt(0)
        .expect("offset")
        .with_ymd_and_hms(2024, 12, 25, 9, 5, 0)
        .single()
        .expect("date");
    let five = obj(
        "Rdpm.Datasource",
        vec![
            ("Name", Value::str("Exch01")),
            ("Status", Value::str("Ok")),
            ("Size", Value::Long(1024)),
            ("Protected", Value::Bool(true)),
            (
                "Disks",
                Value::array(vec![Value::str("D1"), Value::str("D2")]),
            ),
        ],
    );
    let cases: Vec<(&str, Vec<Value>, &str)> = vec![
        (
            "spec 7.2 table",
            vec![pg("PG-Exch", "Ok", 12), pg("PG-Files", "Warning", 3)],
            "\nName     Status  Count\n----     ------  -----\nPG-Exch  Ok         12\nPG-Files Warning     3\n\n",
        ),
        (
            "scalars one per line, $null prints nothing",
            vec![
                Value::Int(1),
                Value::Null,
                Value::Bool(false),
                Value::str("text"),
                Value::Double(2.5),
                Value::DateTime(dt),
                Value::Enum(ACTION_PREFERENCE.by_name("Continue").expect("member")),
            ],
            "1\nFalse\ntext\n2.5\n12/25/2024 9:05:00 AM\nContinue\n",
        ),
        (
            "five properties make a list",
            vec![five.clone(), five],
            "\nName      : Exch01\nStatus    : Ok\nSize      : 1024\nProtected : True\nDisks     : {D1, D2}\n\nName      : Exch01\nStatus    : Ok\nSize      : 1024\nProtected : True\nDisks     : {D1, D2}\n\n",
        ),
        (
            "spec 7.4 hashtable; consecutive hashtables share the table",
            vec![ht(vec![("key", Value::str("value"))]), ht(vec![("n", Value::Int(5))])],
            "\nName                           Value\n----                           -----\nkey                            value\nn                              5\n\n",
        ),
        (
            "a scalar ends a table; arrays are unrolled",
            vec![Value::array(vec![pg("A", "Ok", 1), Value::str("after")])],
            "\nName Status Count\n---- ------ -----\nA    Ok         1\n\nafter\n",
        ),
        (
            "a different type starts a new table",
            vec![
                pg("A", "Ok", 1),
                obj("Rdpm.Disk", vec![("Id", Value::Int(7))]),
            ],
            "\nName Status Count\n---- ------ -----\nA    Ok         1\n\n\nId\n--\n 7\n\n",
        ),
        (
            "formatted records print as is",
            vec![FormatOutput::value("already laid out\n")],
            "already laid out\n",
        ),
        (
            "numbers right-aligned under a right-aligned header",
            vec![
                obj("T", vec![("N", Value::Int(100)), ("Label", Value::str("x"))]),
                obj("T", vec![("N", Value::Int(5)), ("Label", Value::str("yy"))]),
            ],
            "\n  N Label\n  - -----\n100 x\n  5 yy\n\n",
        ),
        (
            "too many items in a cell",
            vec![obj(
                "T",
                vec![("Items", Value::array((1..=6).map(Value::Int).collect()))],
            )],
            "\nItems\n-----\n{1, 2, 3, 4...}\n\n",
        ),
    ];
    for (name, values, want) in cases {
        assert_eq!(out_default(&values, &no_views(), 120), want, "{name}");
    }
}

#[test]
fn default_display_set_picks_the_columns() {
    let mut o = PsObject::new(
        vec!["Rdpm.Job".into()],
        vec![
            ("Id".to_string(), Value::Int(1)),
            ("Type".to_string(), Value::str("Backup")),
            ("Status".to_string(), Value::str("Running")),
            ("Owner".to_string(), Value::str("admin")),
            ("Started".to_string(), Value::str("now")),
        ],
    );
    o.default_display = vec!["Id".into(), "Status".into()];
    assert_eq!(
        out_default(&[Value::object(o)], &no_views(), 120),
        "\nId Status\n-- ------\n 1 Running\n\n"
    );
}

struct Live;

impl NativeObject for Live {
    fn get_property(&self, name: &str) -> Option<Result<Value, ErrorRecord>> {
        match name {
            "Status" => Some(Ok(Value::str("Live"))),
            "Broken" => Some(Err(ErrorRecord::new(
                "connection closed",
                "ConnectionClosed",
                ErrorCategory::ConnectionError,
            ))),
            _ => None,
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[test]
fn native_live_properties_are_read_first_and_errors_show_empty() {
    let mut o = PsObject::new(
        vec!["Rdpm.Job".into()],
        vec![
            ("Id".to_string(), Value::Int(1)),
            ("Status".to_string(), Value::str("Stale")),
            ("Broken".to_string(), Value::str("stored")),
        ],
    );
    o.native = Some(Rc::new(Live));
    assert_eq!(
        out_default(&[Value::object(o)], &no_views(), 120),
        "\nId Status Broken\n-- ------ ------\n 1 Live   \n\n"
    );
}

#[test]
fn streaming_holds_a_table_until_flush_then_prints_rows_at_once() {
    let mut out = OutDefault::new(120, no_views());
    assert_eq!(out.push(&pg("PG-Exch", "Ok", 12)), "");
    assert_eq!(
        out.flush(),
        "\nName    Status Count\n----    ------ -----\nPG-Exch Ok        12\n"
    );
    // Widths stay fixed: a longer name is truncated.
    assert_eq!(
        out.push(&pg("PG-Files", "Warning", 3)),
        "PG-F... War...     3\n"
    );
    assert_eq!(out.finish(), "\n");
}

#[test]
fn errors_in_the_output_use_the_error_view() {
    let r = ErrorRecord::new("bad", "Bad", ErrorCategory::InvalidData);
    let v = Value::Error(Rc::new(r));
    assert_eq!(
        out_default(std::slice::from_ref(&v), &no_views(), 120),
        "bad\n    + CategoryInfo          : InvalidData: (:) [], RuntimeException\n    + FullyQualifiedErrorId : Bad\n \n"
    );
    let mut out = OutDefault::new(120, no_views()).with_error_view(ErrorView::CategoryView);
    assert_eq!(out.push(&v), "InvalidData: (:) [], RuntimeException\n");
    assert_eq!(
        ErrorView::from_name("categoryview"),
        Some(ErrorView::CategoryView)
    );
    assert_eq!(ErrorView::from_name("ConciseView"), None);
}

#[test]
fn wide_objects_fit_the_window() {
    let long = "x".repeat(200);
    let values = vec![obj(
        "T",
        vec![("Name", Value::str("a")), ("Text", Value::str(&long))],
    )];
    let text = out_default(&values, &no_views(), 80);
    let row = text.lines().nth(3).expect("a row");
    assert_eq!(row.chars().count(), 79);
    assert!(row.ends_with("x..."), "{row}");
}

#[test]
fn list_and_table_text_helpers() {
    let entries = vec![
        ("Name".to_string(), "PG-Exch".to_string()),
        ("Status".to_string(), "Ok".to_string()),
        ("Datasources".to_string(), "{Exch01, Exch02}".to_string()),
    ];
    assert_eq!(
        list_text(&[entries.clone(), entries], 120),
        "\nName        : PG-Exch\nStatus      : Ok\nDatasources : {Exch01, Exch02}\n\nName        : PG-Exch\nStatus      : Ok\nDatasources : {Exch01, Exch02}\n\n"
    );
    let cols = vec![Column::new("A", Align::Left)];
    assert_eq!(
        table_text(cols, &[vec!["x".into()]], 120, TableOptions::default()),
        "\nA\n-\nx\n\n"
    );
}

fn session(id: i32, user: &str, objects: i32) -> Value {
    obj(
        "Test.Format.DpmSession",
        vec![
            ("Id", Value::Int(id)),
            ("User", Value::str(user)),
            ("ClientHost", Value::str("host1")),
            ("OpenedAt", Value::str("1/5/2024 3:04:05 PM")),
            ("Objects", Value::Int(objects)),
            ("Token", Value::str("hidden")),
        ],
    )
}

fn object_count(o: &PsObject) -> Value {
    match o.get("Objects") {
        Some(Value::Int(n)) => Value::str(format!("{n} held")),
        _ => Value::Null,
    }
}

#[test]
fn registered_views_decide_the_shape() {
    let mut views = ViewTable::new();
    views.register(
        "Test.Format.DpmSession",
        View::table(vec![
            ViewColumn::property("Id"),
            ViewColumn::property("User"),
            ViewColumn::property("ClientHost").label("Client"),
            ViewColumn::property("OpenedAt"),
            ViewColumn::computed("Objects", object_count).align(Align::Right),
        ]),
    );
    views.register(
        "Test.Format.Small",
        View::list(vec![ViewColumn::property("A"), ViewColumn::property("B")]),
    );
    views.register_for(
        &["Test.Format.Left", "Test.Format.Right"],
        View::table(vec![
            ViewColumn::property("Kind").width(6),
            ViewColumn::property("N").width(4),
        ]),
    );
    let small = obj(
        "Test.Format.Small",
        vec![("A", Value::Int(1)), ("B", Value::str("b"))],
    );
    let left = obj(
        "Test.Format.Left",
        vec![("Kind", Value::str("left")), ("N", Value::Int(1))],
    );
    let right = obj(
        "Test.Format.Right",
        vec![("Kind", Value::str("right")), ("N", Value::Int(22))],
    );
    let cases: Vec<(&str, Vec<Value>, &str)> = vec![
        (
            "a table view with five columns, a label and a computed column",
            vec![session(1, "administrator", 2), session(12, "bob", 0)],
            "\nId User          Client OpenedAt            Objects\n-- ----          ------ --------            -------\n 1 administrator host1  1/5/2024 3:04:05 PM  2 held\n12 bob           host1  1/5/2024 3:04:05 PM  0 held\n\n",
        ),
        (
            "a list view for two properties",
            vec![small],
            "\nA : 1\nB : b\n\n",
        ),
        (
            "one view for two types: one table, fixed widths",
            vec![left, right],
            "\nKind      N\n----      -\nleft      1\nright    22\n\n",
        ),
    ];
    let views = Rc::new(views);
    for (name, values, want) in cases {
        assert_eq!(out_default(&values, &views, 120), want, "{name}");
    }
}

#[test]
fn a_view_with_every_width_fixed_prints_rows_as_they_come() {
    let mut views = ViewTable::new();
    views.register(
        "Test.Format.Fixed",
        View::table(vec![
            ViewColumn::property("Name").width(8),
            ViewColumn::property("Size").width(6).align(Align::Right),
        ]),
    );
    let item = |name: &str, size: i32| {
        obj(
            "Test.Format.Fixed",
            vec![("Name", Value::str(name)), ("Size", Value::Int(size))],
        )
    };
    let mut out = OutDefault::new(120, Rc::new(views));
    assert_eq!(
        out.push(&item("a", 1)),
        "\nName       Size\n----       ----\na             1\n"
    );
    assert_eq!(out.push(&item("longer-name", 20)), "longe...     20\n");
    assert_eq!(out.flush(), "");
    assert_eq!(out.finish(), "\n");
}

#[test]
fn objects_without_a_view_keep_the_property_count_rule() {
    let mut views = ViewTable::new();
    views.register(
        "Test.Format.Other",
        View::list(vec![ViewColumn::property("Name")]),
    );
    // The view belongs to another type name: this one is a table.
    assert_eq!(
        out_default(&[pg("PG-Exch", "Ok", 12)], &Rc::new(views), 120),
        "\nName    Status Count\n----    ------ -----\nPG-Exch Ok        12\n\n"
    );
}
