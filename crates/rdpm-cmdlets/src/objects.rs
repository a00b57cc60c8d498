//! What every object the DPM cmdlets return shares: the handle that ties
//! it to its connection, the ways back from a shell value to that handle,
//! and the grouping of pipeline objects by connection.

use std::rc::Rc;
use std::sync::Arc;

use rdpm_shell::{ErrorCategory, ErrorRecord, PsObject, Value};

use crate::connection::{Connection, ConnectionState};

/// Native part of every object a connection hands out: it knows its
/// connection, so that using the object after the connection closed says so.
pub struct Handle<T: 'static> {
    /// The server's name as the connection was opened.
    pub server: String,
    /// The connection's shared state.
    pub state: Arc<ConnectionState>,
    /// The object's own payload.
    pub payload: T,
}

impl<T: 'static> Handle<T> {
    /// The error to raise when the connection is closed, if it is.
    pub fn check_open(&self) -> Result<(), ErrorRecord> {
        match self.state.closed() {
            None => Ok(()),
            Some(why) => Err(Connection::closed_error(&self.server, &why)),
        }
    }
}

/// Recovers the handle of a shell object made by this crate.
pub fn handle_of<T: 'static>(value: &Value, type_name: &str) -> Option<Rc<PsObject>> {
    match value {
        Value::Object(o) if o.is_a(type_name) => {
            let ok = o
                .native
                .as_ref()
                .is_some_and(|n| n.as_any().downcast_ref::<Handle<T>>().is_some());
            ok.then(|| Rc::clone(o))
        }
        _ => None,
    }
}

/// The handle of a shell object made by this crate with payload `T`.
pub fn handle_ref<T: 'static>(value: &Value) -> Option<&Handle<T>> {
    let Value::Object(o) = value else {
        return None;
    };
    o.native.as_ref()?.as_any().downcast_ref::<Handle<T>>()
}

/// `part` of the payload of an object with payload `T`, with the server
/// and state of the connection that made the object.
pub fn payload_of<T: 'static, R>(
    value: &Value,
    part: impl FnOnce(&T) -> R,
) -> Option<(String, Arc<ConnectionState>, R)> {
    let h = handle_ref::<T>(value)?;
    Some((h.server.clone(), Arc::clone(&h.state), part(&h.payload)))
}

/// The error PowerShell gives for a method called with arguments it does
/// not take, when `args` are not empty.
pub fn no_args(name: &str, args: &[Value]) -> Result<(), ErrorRecord> {
    if args.is_empty() {
        Ok(())
    } else {
        Err(ErrorRecord::new(
            format!(
                "Cannot find an overload for \"{name}\" and the argument count: \"{}\".",
                args.len()
            ),
            "MethodCountCouldNotFindBest",
            ErrorCategory::NotSpecified,
        )
        .with_exception("MethodException"))
    }
}

/// A UTC time as the shell shows it: in local time.
pub fn utc_to_local(t: chrono::DateTime<chrono::Utc>) -> Value {
    Value::DateTime(t.with_timezone(&chrono::Local).fixed_offset())
}

/// Items of a pipeline grouped by the connection they came from, each
/// once, in the order given: the cmdlets that start one job per server
/// collect them in `process` and start the jobs in `end`.
pub struct Batch<T> {
    /// The server as the connection was opened.
    pub server: String,
    /// The connection's state.
    pub state: Arc<ConnectionState>,
    /// The items, in the order given.
    pub items: Vec<T>,
}

/// The [`Batch`]es of a run.
pub struct Batches<T>(Vec<Batch<T>>);

impl<T> Default for Batches<T> {
    fn default() -> Self {
        Batches(Vec::new())
    }
}

impl<T> Batches<T> {
    /// Adds `item` of the connection `state` to its batch unless `same` says
    /// the batch has it already.
    pub fn add(
        &mut self,
        server: String,
        state: Arc<ConnectionState>,
        item: T,
        same: impl Fn(&T, &T) -> bool,
    ) {
        match self.0.iter_mut().find(|b| Arc::ptr_eq(&b.state, &state)) {
            Some(b) => {
                if !b.items.iter().any(|i| same(i, &item)) {
                    b.items.push(item);
                }
            }
            None => self.0.push(Batch {
                server,
                state,
                items: vec![item],
            }),
        }
    }

    /// The batches, leaving none.
    pub fn take(&mut self) -> Vec<Batch<T>> {
        std::mem::take(&mut self.0)
    }
}
