//! Ids in request paths. An id that is not one names nothing, so it is
//! answered as the "not found" of what it would name, naming the text.

use std::str::FromStr;

use rdpm_types::{
    AlertId, DatasourceId, ErrorId, JobId, ObjectId, ProductionServerId, ProtectionGroupId, RoleId,
    SessionId,
};

use crate::error::ApiError;

/// An id a path names.
pub(crate) trait PathId: FromStr {
    /// The error of an id that names nothing.
    const NOT_FOUND: ErrorId;
    /// What it names: "production server".
    const NOUN: &'static str;
    /// Where it is looked for: " on this server", " in this session" or "".
    const PLACE: &'static str;
    /// What its ids are called, when not after [`PathId::NOUN`].
    const IDS: &'static str = Self::NOUN;
}

/// The id `text` names, or the "not found" of what it would name.
pub(crate) fn parse_id<I: PathId>(text: &str) -> Result<I, ApiError> {
    text.parse().map_err(|_| {
        ApiError::new(
            I::NOT_FOUND,
            format!(
                "No {noun} {text:?}{place}: {ids} ids are UUIDs.",
                noun = I::NOUN,
                place = I::PLACE,
                ids = I::IDS,
            ),
        )
        .with_target(text)
    })
}

/// A browse or search cursor: a session object, named as a cursor.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CursorId(pub(crate) ObjectId);

impl FromStr for CursorId {
    type Err = <ObjectId as FromStr>::Err;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.parse().map(CursorId)
    }
}

/// A storage pool member.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PoolMemberId(pub(crate) uuid::Uuid);

impl FromStr for PoolMemberId {
    type Err = uuid::Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.parse().map(PoolMemberId)
    }
}

impl PathId for PoolMemberId {
    const NOT_FOUND: ErrorId = ErrorId::PoolMemberNotFound;
    const NOUN: &'static str = "storage pool member";
    const PLACE: &'static str = "";
    const IDS: &'static str = "pool member";
}

macro_rules! path_id {
    ($($id:ty => $not_found:ident, $noun:literal, $place:literal;)*) => {
        $(impl PathId for $id {
            const NOT_FOUND: ErrorId = ErrorId::$not_found;
            const NOUN: &'static str = $noun;
            const PLACE: &'static str = $place;
        })*
    };
}

path_id! {
    SessionId => SessionNotFound, "session", " on this server";
    JobId => JobNotFound, "job", " on this server";
    AlertId => AlertNotFound, "alert", " on this server";
    DatasourceId => DatasourceNotFound, "datasource", " on this server";
    ProductionServerId => ProductionServerNotFound, "production server", "";
    ProtectionGroupId => ProtectionGroupNotFound, "protection group", "";
    ObjectId => ObjectNotFound, "object", " in this session";
    CursorId => ObjectNotFound, "cursor", " in this session";
    RoleId => RoleNotFound, "recovery role", " on this server";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_id_is_the_not_found_of_what_it_would_name() {
        let e = parse_id::<ProductionServerId>("nope").unwrap_err();
        assert_eq!(
            e.detail(),
            "No production server \"nope\": production server ids are UUIDs."
        );
        let e = parse_id::<CursorId>("x").unwrap_err();
        assert_eq!(
            e.detail(),
            "No cursor \"x\" in this session: cursor ids are UUIDs."
        );
        let e = parse_id::<PoolMemberId>("y").unwrap_err();
        assert_eq!(
            e.detail(),
            "No storage pool member \"y\": pool member ids are UUIDs."
        );
        let id = uuid::Uuid::from_u128(5).to_string();
        assert_eq!(parse_id::<JobId>(&id).unwrap().to_string(), id);
    }
}
