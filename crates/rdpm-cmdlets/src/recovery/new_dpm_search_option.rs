//! `New-DPMSearchOption`: builds the search `Get-DPMRecoverableItem
//! -SearchOption` runs. Built locally; no server is asked.

use chrono::Utc;
use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::{
    CommandContext, ErrorCategory, ErrorRecord, FlowResult, ParamType, ParameterDecl, Value,
};
use rdpm_types::{FsPath, SearchDetail, SearchRequest, SearchType};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::recovery::objects::{search_option, SEARCH_FILTER_TYPE, SEARCH_FOR_DETAIL};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const FROM_RECOVERY_POINT: Param = Param::new("FromRecoveryPoint");
    pub const LOCATION: Param = Param::new("Location");
    pub const RECURSIVE: Param = Param::new("Recursive");
    pub const SEARCH_DETAIL: Param = Param::new("SearchDetail");
    pub const SEARCH_STRING: Param = Param::new("SearchString");
    pub const SEARCH_TYPE: Param = Param::new("SearchType");
    pub const TO_RECOVERY_POINT: Param = Param::new("ToRecoveryPoint");
}

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "New-DPMSearchOption",
        "Rdpm.Commands.NewDPMSearchOptionCommand",
    );
    sig.synopsis = "Builds a search of recovery points for Get-DPMRecoverableItem.";
    sig.description = "The New-DPMSearchOption cmdlet builds a search option object for Get-DPMRecoverableItem -SearchOption: the recovery points to search (those made from -FromRecoveryPoint to -ToRecoveryPoint, both included), how to compare names (-SearchType) with the text (-SearchString), the folder to search in (-Location, a path on the production server; the datasource's folder when omitted), and whether to search the folders below it (-Recursive).\n\nNames are compared without regard to case. Dates are taken as the shell reads them (Get-Date and its AddDays method give local times) and sent to the server in UTC. rdpm searches files and folders only: -SearchDetail takes FilesFolders; DPM's mailbox, SharePoint and client volume searches are refused.";
    let one = |name, ty, pos: u32| {
        ParameterDecl::new(name, ty).in_set(ALL_PARAMETER_SETS, Some(pos), true)
    };
    sig.parameters = vec![
        one(p::FROM_RECOVERY_POINT.name(), ParamType::DateTime, 0)
            .help("Specifies the earliest time of the recovery points to search."),
        one(p::TO_RECOVERY_POINT.name(), ParamType::DateTime, 1)
            .help("Specifies the latest time of the recovery points to search."),
        one(p::SEARCH_DETAIL.name(), ParamType::Enum(&SEARCH_FOR_DETAIL), 2)
            .help("Specifies what to search for. rdpm supports FilesFolders (files and folders); the other values are refused."),
        one(p::SEARCH_TYPE.name(), ParamType::Enum(&SEARCH_FILTER_TYPE), 3)
            .help("Specifies how a name is compared with the search string: startsWith, contains, endsWith or exactMatch, without regard to case."),
        one(p::SEARCH_STRING.name(), ParamType::String, 4)
            .help("Specifies the text to look for in names."),
        p::LOCATION.decl(ParamType::String)
            .help("Specifies the folder to search in, as a path on the production server. The datasource's folder when omitted."),
        p::RECURSIVE.decl(ParamType::Switch)
            .help("Also searches the folders below the location."),
    ];
    sig.examples = vec![
        Example {
            title: "Example 1: Search for files by name",
            code: "New-DPMSearchOption -FromRecoveryPoint \"11/27/2026\" -ToRecoveryPoint \"11/28/2026\" -SearchDetail FilesFolders -SearchType contains -Location \"/srv/docs\" -SearchString \"invoice\" | Format-List",
            remarks: "This command builds a search for files and folders whose name contains 'invoice' in the folder /srv/docs of the recovery points made on 27 November 2026.",
        },
        Example {
            title: "Example 2: Search the last day, all folders",
            code: "$so = New-DPMSearchOption (Get-Date).AddDays(-1) (Get-Date) FilesFolders endsWith \".pdf\" -Recursive\n$so.SearchType, $so.Recursive",
            remarks: "This command builds, with positional parameters, a search of the last day's recovery points for names ending in .pdf in every folder.",
        },
    ];
    sig.outputs = "SearchOption";
    sig.notes = "-SearchDetail values other than FilesFolders are refused with an error: rdpm does not support them.";
    sig.related_links = &["Get-DPMRecoverableItem", "Get-DPMRecoveryPoint"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    match build(params) {
        Ok(v) => ctx.write_output(v),
        Err(e) => Err(ctx.terminating_error(e)),
    }
}

/// The search option object the parameters describe.
fn build(params: &Args) -> Result<Value, ErrorRecord> {
    let detail = params
        .get(p::SEARCH_DETAIL)
        .map(Value::to_invariant_string)
        .unwrap_or_default();
    if !detail.eq_ignore_ascii_case("FilesFolders") {
        return Err(ErrorRecord::new(
            format!(
                "The value '{detail}' of the parameter 'SearchDetail' is not supported by rdpm: rdpm searches file-system recovery points only. Use -SearchDetail FilesFolders."
            ),
            "SearchDetailNotSupported",
            ErrorCategory::NotImplemented,
        )
        .with_exception("NotSupportedException")
        .with_target(Value::str(detail)));
    }
    let search_type = params
        .get(p::SEARCH_TYPE)
        .map(Value::to_invariant_string)
        .and_then(|t| search_type_from(&t))
        .unwrap_or(SearchType::Contains);
    let from = params.value(p::FROM_RECOVERY_POINT);
    let to = params.value(p::TO_RECOVERY_POINT);
    let (Value::DateTime(from_t), Value::DateTime(to_t)) = (&from, &to) else {
        return Err(ErrorRecord::new(
            "-FromRecoveryPoint and -ToRecoveryPoint need dates.",
            "InvalidDate",
            ErrorCategory::InvalidArgument,
        ));
    };
    let (from_utc, to_utc) = (from_t.with_timezone(&Utc), to_t.with_timezone(&Utc));
    if from_utc > to_utc {
        return Err(ErrorRecord::new(
            format!(
                "-FromRecoveryPoint ({}) is later than -ToRecoveryPoint ({}): no recovery point can lie between them. Give the earlier time first.",
                from.to_invariant_string(),
                to.to_invariant_string()
            ),
            "InvalidSearchRange",
            ErrorCategory::InvalidArgument,
        )
        .with_exception("ArgumentException")
        .with_target(from.clone()));
    }
    let location = params.string(p::LOCATION).filter(|l| !l.is_empty());
    if let Some(l) = &location {
        if !l.starts_with('/') {
            return Err(ErrorRecord::new(
                format!(
                    "-Location '{l}' is not an absolute path. Give the folder as a path on the production server, such as /srv/docs."
                ),
                "InvalidSearchLocation",
                ErrorCategory::InvalidArgument,
            )
            .with_exception("ArgumentException")
            .with_target(Value::str(l)));
        }
    }
    let request = SearchRequest {
        from: from_utc,
        to: to_utc,
        detail: SearchDetail::FilesFolders,
        search_type,
        search_string: params.string(p::SEARCH_STRING).unwrap_or_default(),
        location: location.as_deref().map(FsPath::from_text),
        recursive: params.switch(p::RECURSIVE),
        page_size: None,
    };
    Ok(search_option(from, to, request))
}

/// A `SearchFilterType` name, compared without case as enum binding does.
fn search_type_from(name: &str) -> Option<SearchType> {
    [
        SearchType::StartsWith,
        SearchType::Contains,
        SearchType::EndsWith,
        SearchType::ExactMatch,
    ]
    .into_iter()
    .find(|t| crate::recovery::objects::search_type_name(*t).eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdpm_shell::binder::BoundParameters;
    use rdpm_shell::Command;

    /// The option of parameters `b` bound to New-DPMSearchOption.
    fn build(b: &BoundParameters) -> Result<Value, ErrorRecord> {
        let cmd = command();
        super::build(&Args::new(b, cmd.signature()))
    }
    use rdpm_shell::value::EnumValue;

    fn bound(values: Vec<(&'static str, Value)>) -> BoundParameters {
        let mut b = BoundParameters::default();
        for (k, v) in values {
            b.values.insert(k, v);
        }
        b
    }

    fn time(s: &str) -> Value {
        Value::DateTime(chrono::DateTime::parse_from_rfc3339(s).expect("a time"))
    }

    fn enum_value(ty: &'static rdpm_shell::value::EnumType, name: &str) -> Value {
        let v: EnumValue = ty.by_name(name).expect("a value");
        Value::Enum(v)
    }

    fn params(detail: &str, kind: &str, from: &str, to: &str) -> BoundParameters {
        bound(vec![
            ("FromRecoveryPoint", time(from)),
            ("ToRecoveryPoint", time(to)),
            ("SearchDetail", enum_value(&SEARCH_FOR_DETAIL, detail)),
            ("SearchType", enum_value(&SEARCH_FILTER_TYPE, kind)),
            ("SearchString", Value::str("Invoice")),
        ])
    }

    #[test]
    fn search_types_bind_without_case() {
        let cases = [
            ("STARTSWITH", SearchType::StartsWith),
            ("contains", SearchType::Contains),
            ("EndsWith", SearchType::EndsWith),
            ("exactmatch", SearchType::ExactMatch),
        ];
        for (typed, expected) in cases {
            let p = params(
                "FilesFolders",
                typed,
                "2026-11-27T10:00:00+02:00",
                "2026-11-28T10:00:00+02:00",
            );
            let v = build(&p).expect("an option");
            let req = crate::recovery::objects::search_option_of(&v).expect("a search");
            assert_eq!(req.search_type, expected, "{typed}");
        }
    }

    #[test]
    fn dates_travel_in_utc() {
        let p = params(
            "FilesFolders",
            "contains",
            "2026-11-27T10:00:00+02:00",
            "2026-11-28T01:30:00-05:00",
        );
        let v = build(&p).expect("an option");
        let req = crate::recovery::objects::search_option_of(&v).expect("a search");
        assert_eq!(req.from.to_rfc3339(), "2026-11-27T08:00:00+00:00");
        assert_eq!(req.to.to_rfc3339(), "2026-11-28T06:30:00+00:00");
        assert_eq!(req.search_string, "Invoice");
        assert!(!req.recursive);
        assert_eq!(req.location, None);
    }

    #[test]
    fn other_searches_and_bad_ranges_are_refused_naming_the_input() {
        let cases = [
            (
                params("MailboxByAlias", "contains", "2026-11-27T10:00:00Z", "2026-11-28T10:00:00Z"),
                "The value 'MailboxByAlias' of the parameter 'SearchDetail' is not supported by rdpm",
            ),
            (
                params("WssSite", "contains", "2026-11-27T10:00:00Z", "2026-11-28T10:00:00Z"),
                "'WssSite' of the parameter 'SearchDetail'",
            ),
            (
                params("FilesFolders", "contains", "2026-11-29T10:00:00Z", "2026-11-28T10:00:00Z"),
                "-FromRecoveryPoint (11/29/2026 10:00:00) is later than -ToRecoveryPoint",
            ),
        ];
        for (p, expected) in cases {
            let e = build(&p).expect_err("refused");
            assert!(e.to_string().contains(expected), "{e}");
        }
        let mut p = params(
            "FilesFolders",
            "contains",
            "2026-11-27T10:00:00Z",
            "2026-11-28T10:00:00Z",
        );
        p.values.insert("Location", Value::str("srv/docs"));
        let e = build(&p).expect_err("relative");
        assert!(
            e.to_string()
                .contains("-Location 'srv/docs' is not an absolute path"),
            "{e}"
        );
    }
}
