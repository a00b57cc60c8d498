//! Lists a request names: each id counts once, and there is a limit, so
//! that one request naming a datasource ten thousand times queues one job,
//! not ten thousand.

use std::collections::HashSet;
use std::hash::Hash;

use rdpm_types::ErrorId;

use crate::error::ApiError;

/// The most distinct entries one list of a request may hold. A DPM server
/// protects a few thousand datasources at most; the 2 MiB body limit
/// already bounds what is read.
pub(crate) const MAX_ENTRIES: usize = 10_000;

/// `list` without repeats, in the order each entry was first named.
///
/// # Errors
/// `400 InvalidRequest` naming `field` when more than [`MAX_ENTRIES`]
/// distinct entries remain.
pub(crate) fn distinct<T: Eq + Hash + Clone>(
    list: Vec<T>,
    field: &str,
) -> Result<Vec<T>, ApiError> {
    let mut seen = HashSet::with_capacity(list.len().min(MAX_ENTRIES + 1));
    let mut out = Vec::with_capacity(list.len().min(MAX_ENTRIES));
    for entry in list {
        if seen.insert(entry.clone()) {
            if out.len() == MAX_ENTRIES {
                return Err(ApiError::new(
                    ErrorId::InvalidRequest,
                    format!(
                        "{field} names more than {MAX_ENTRIES} different entries; split the \
                         request into several."
                    ),
                )
                .with_target(field));
            }
            out.push(entry);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_dropped_in_first_named_order_and_the_limit_holds() {
        assert_eq!(distinct(vec![3, 1, 3, 2, 1], "ids").unwrap(), vec![3, 1, 2]);
        let many: Vec<usize> = (0..=MAX_ENTRIES).chain(0..5).collect();
        let Err(err) = distinct(many, "datasources") else {
            panic!("over the limit");
        };
        assert!(
            err.detail().contains("datasources names more than 10000"),
            "{}",
            err.detail()
        );
        let at_limit: Vec<usize> = (0..MAX_ENTRIES).chain(0..MAX_ENTRIES).collect();
        assert_eq!(distinct(at_limit, "ids").unwrap().len(), MAX_ENTRIES);
    }
}
