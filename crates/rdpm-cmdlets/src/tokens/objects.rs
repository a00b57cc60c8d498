//! API token objects (`Get-DPMApiToken`): whose, which role, until when,
//! and whether it still works. Never the secret, which only
//! `New-DPMApiToken`'s object carries, once.

use rdpm_shell::format::{View, ViewColumn};
use rdpm_shell::value::EnumType;
use rdpm_shell::Registry;
use rdpm_shell::{PsObject, Value};
use rdpm_types::ApiTokenInfo;

use crate::objects::utc_to_local;

/// Type name of an API token object.
pub const API_TOKEN_TYPE: &str = "Rdpm.ApiToken";
/// Type name of the object `New-DPMApiToken` returns: a token with its
/// secret.
pub const NEW_API_TOKEN_TYPE: &str = "Rdpm.NewApiToken";

/// The built-in roles, as `-Role` takes them.
pub static BUILTIN_ROLE_TYPE: EnumType = EnumType {
    full_name: "Rdpm.BuiltinRole",
    name: "BuiltinRole",
    values: &[("Administrator", 0), ("Operator", 1), ("Reader", 2)],
};

/// Registers the table view of API tokens, and the list view of a token
/// just made, whose text is too long for a table.
pub fn register_views(registry: &mut Registry) {
    registry.register_view(
        NEW_API_TOKEN_TYPE,
        View::list(
            ["Id", "UserName", "Role", "ExpiresAt", "Token"]
                .map(ViewColumn::property)
                .to_vec(),
        ),
    );
    registry.register_view(
        API_TOKEN_TYPE,
        View::table(
            [
                "Id",
                "UserName",
                "Role",
                "State",
                "ExpiresAt",
                "Description",
            ]
            .map(ViewColumn::property)
            .to_vec(),
        ),
    );
}

/// Active, Expired or Revoked, as of now on this computer's clock.
fn state(t: &ApiTokenInfo) -> &'static str {
    if t.revoked_at.is_some() {
        "Revoked"
    } else if t.expires_at <= chrono::Utc::now() {
        "Expired"
    } else {
        "Active"
    }
}

fn properties(server: &str, t: &ApiTokenInfo) -> Vec<(String, Value)> {
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| t.map_or(Value::Null, utc_to_local);
    [
        ("Id", Value::str(t.id.to_string())),
        ("UserName", Value::str(&t.user_name)),
        ("Role", Value::str(t.role.as_str())),
        ("State", Value::str(state(t))),
        ("Description", Value::str(&t.description)),
        ("CreatedAt", utc_to_local(t.created_at)),
        ("CreatedBy", Value::str(&t.created_by)),
        ("ExpiresAt", utc_to_local(t.expires_at)),
        ("RevokedAt", when(t.revoked_at)),
        ("LastUsedAt", when(t.last_used_at)),
        ("DPMServerName", Value::str(server)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// An API token object.
pub fn api_token(server: &str, t: &ApiTokenInfo) -> Value {
    Value::object(PsObject::new(
        vec![API_TOKEN_TYPE.into(), "System.Object".into()],
        properties(server, t),
    ))
}

/// The object of a token just made: the token's properties and `Token`,
/// its text with the secret, shown this once.
pub fn new_api_token(server: &str, t: &ApiTokenInfo, token: &str) -> Value {
    let mut props = properties(server, t);
    props.insert(0, ("Token".to_string(), Value::str(token)));
    let mut obj = PsObject::new(
        vec![
            NEW_API_TOKEN_TYPE.into(),
            API_TOKEN_TYPE.into(),
            "System.Object".into(),
        ],
        props,
    );
    obj.default_display = ["Id", "UserName", "Role", "ExpiresAt", "Token"]
        .map(String::from)
        .to_vec();
    Value::object(obj)
}
