//! The accounts file: a CSV exported from the CRM, the join key between the
//! desk (`desk_org`), metrics and alerts (`tenant`) and the contract
//! (segment, seats, ARR, renewal, owner).
//!
//! Errors name the line and the column, because the person fixing them has
//! the spreadsheet open, not the code.

use std::path::Path;

use jiff::civil::Date;
use serde::Deserialize;

use crate::core::domain::{Account, Segment, Tier};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AccountsError {
    #[error("{path}: cannot read: {message}")]
    Read { path: String, message: String },
    #[error("{path}:{line}: column {column}: {message}")]
    Invalid {
        path: String,
        line: u64,
        column: String,
        message: String,
    },
}

/// One CSV row as written (the known columns; the others are collected
/// separately into `Account::extra`).
#[derive(Debug, Deserialize)]
struct Row {
    id: String,
    name: String,
    desk_org: String,
    tenant: String,
    segment: String,
    seats: String,
    arr: String,
    renewal_date: String,
    owner: String,
    tier: String,
    #[serde(default)]
    nps: String,
    #[serde(default)]
    csat: String,
    #[serde(default)]
    pulse: String,
    #[serde(default)]
    champion_changed: String,
    #[serde(default)]
    key_features: String,
}

/// Optional columns the cockpit reads; any other column is kept as extra.
const OPTIONAL: [&str; 5] = ["nps", "csat", "pulse", "champion_changed", "key_features"];

const REQUIRED: [&str; 10] = [
    "id",
    "name",
    "desk_org",
    "tenant",
    "segment",
    "seats",
    "arr",
    "renewal_date",
    "owner",
    "tier",
];

/// What one read of the accounts file gave: the rows that are sound, and
/// each row that was not, with its line and column. One bad row in a CRM
/// export of hundreds must not drop every customer; it is skipped and
/// reported (the chip and `check` name it) while the rest join.
#[derive(Debug, PartialEq, Default)]
pub struct Loaded {
    pub accounts: Vec<Account>,
    pub rejected: Vec<AccountsError>,
}

/// Load and validate the accounts file. A file that cannot be read or
/// whose header lacks a required column is an error; a bad row is skipped
/// and listed in `rejected`, with the file's path.
pub fn load(path: &Path) -> Result<Loaded, AccountsError> {
    let text = std::fs::read_to_string(path).map_err(|e| AccountsError::Read {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    let located = |e: AccountsError| match e {
        AccountsError::Invalid {
            line,
            column,
            message,
            ..
        } => AccountsError::Invalid {
            path: path.display().to_string(),
            line,
            column,
            message,
        },
        other => other,
    };
    let loaded = parse_rows(&text).map_err(located)?;
    Ok(Loaded {
        accounts: loaded.accounts,
        rejected: loaded.rejected.into_iter().map(located).collect(),
    })
}

/// Parse accounts CSV text strictly: the first bad row is the error
/// (errors carry an empty path).
pub fn parse(text: &str) -> Result<Vec<Account>, AccountsError> {
    let loaded = parse_rows(text)?;
    match loaded.rejected.into_iter().next() {
        Some(first) => Err(first),
        None => Ok(loaded.accounts),
    }
}

/// Parse accounts CSV text, keeping the good rows and listing the bad ones
/// (errors carry an empty path).
pub fn parse_rows(text: &str) -> Result<Loaded, AccountsError> {
    let invalid = |line: u64, column: &str, message: String| AccountsError::Invalid {
        path: String::new(),
        line,
        column: column.to_owned(),
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| invalid(1, "-", e.to_string()))?
        .clone();
    if let Some(missing) = REQUIRED.iter().find(|c| !headers.iter().any(|h| h == **c)) {
        return Err(invalid(
            1,
            missing,
            "required column is missing from the header row".into(),
        ));
    }
    // Unknown columns, by position: kept on each account as written.
    let extra_columns: Vec<(usize, String)> = headers
        .iter()
        .enumerate()
        .filter(|(_, h)| !REQUIRED.contains(h) && !OPTIONAL.contains(h) && !h.is_empty())
        .map(|(i, h)| (i, h.to_owned()))
        .collect();
    let mut loaded = Loaded::default();
    let mut seen = std::collections::HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                loaded.rejected.push(invalid(line, "-", e.to_string()));
                continue;
            }
        };
        let line = record.position().map_or(0, csv::Position::line);
        let row: Row = match record.deserialize(Some(&headers)) {
            Ok(row) => row,
            Err(e) => {
                loaded.rejected.push(invalid(line, "-", e.to_string()));
                continue;
            }
        };
        let mut account = match convert(row) {
            Ok(account) => account,
            Err((column, message)) => {
                loaded.rejected.push(invalid(line, column, message));
                continue;
            }
        };
        // The first row with an id keeps it; a later one is the mistake.
        if let Some(&first) = seen.get(&account.id) {
            loaded.rejected.push(invalid(
                line,
                "id",
                format!(
                    "duplicate id {:?} (first used on line {first}); each account needs its own id",
                    account.id
                ),
            ));
            continue;
        }
        seen.insert(account.id.clone(), line);
        account.extra = extra_columns
            .iter()
            .filter_map(|(i, name)| Some((name.clone(), record.get(*i)?.to_owned())))
            .collect();
        loaded.accounts.push(account);
    }
    Ok(loaded)
}

fn convert(row: Row) -> Result<Account, (&'static str, String)> {
    let non_empty = |column: &'static str, value: String| {
        if value.is_empty() {
            Err((column, "must not be empty".to_owned()))
        } else {
            Ok(value)
        }
    };
    let segment = match row.segment.to_ascii_lowercase().as_str() {
        "enterprise" => Segment::Enterprise,
        "mid-market" | "midmarket" | "mid_market" => Segment::MidMarket,
        "small" | "smb" => Segment::Small,
        other => segment_from_size(other).ok_or_else(|| {
            (
                "segment",
                format!(
                    "{other:?} is not one of enterprise, mid-market, small, or a company size (employees, e.g. 250, 51-200, 1000+)"
                ),
            )
        })?,
    };
    let tier = match row.tier.to_ascii_lowercase().as_str() {
        "high" => Tier::High,
        "low" => Tier::Low,
        "tech-touch" | "techtouch" | "tech_touch" => Tier::TechTouch,
        other => {
            return Err((
                "tier",
                format!("{other:?} is not one of high, low, tech-touch"),
            ));
        }
    };
    Ok(Account {
        id: non_empty("id", row.id)?.into(),
        name: non_empty("name", row.name)?,
        desk_org: non_empty("desk_org", row.desk_org)?,
        tenant: non_empty("tenant", row.tenant)?,
        segment,
        seats: row
            .seats
            .parse()
            .map_err(|_| ("seats", format!("{:?} is not a whole number", row.seats)))?,
        arr: row
            .arr
            .parse()
            .ok()
            .filter(|a: &f64| a.is_finite() && *a >= 0.0)
            .ok_or(("arr", format!("{:?} is not an amount", row.arr)))?,
        renewal_date: optional_date("renewal_date", &row.renewal_date)?,
        owner: non_empty("owner", row.owner)?,
        tier,
        nps: optional(&row.nps, "nps", "an NPS score from 0 to 10", |s| {
            s.parse::<u8>().ok().filter(|n| *n <= 10)
        })?,
        csat: optional(&row.csat, "csat", "a CSAT fraction from 0 to 1", |s| {
            s.parse::<f64>().ok().filter(|c| (0.0..=1.0).contains(c))
        })?,
        pulse: Some(row.pulse).filter(|p| !p.is_empty()),
        champion_changed: optional_date("champion_changed", &row.champion_changed)?,
        key_features: optional(
            &row.key_features,
            "key_features",
            "a whole number ≥ 1",
            |s| s.parse::<u32>().ok().filter(|n| *n > 0),
        )?,
        extra: std::collections::BTreeMap::new(),
    })
}

/// Company size in employees (`250`, `51-200`, `1000+`) to a segment:
/// under 100 small, under 1,000 mid-market, else enterprise. A range counts
/// by its upper end, so a band never straddles two segments.
fn segment_from_size(raw: &str) -> Option<Segment> {
    let upper = raw
        .trim_end_matches('+')
        .rsplit(['-', '–'])
        .next()?
        .trim()
        .replace([',', '_'], "");
    let employees: u64 = upper.parse().ok()?;
    Some(match employees {
        0..=99 => Segment::Small,
        100..=999 => Segment::MidMarket,
        _ => Segment::Enterprise,
    })
}

fn optional<T>(
    raw: &str,
    column: &'static str,
    expected: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, (&'static str, String)> {
    if raw.is_empty() {
        return Ok(None);
    }
    parse(raw)
        .map(Some)
        .ok_or_else(|| (column, format!("{raw:?} is not {expected}")))
}

fn optional_date(column: &'static str, raw: &str) -> Result<Option<Date>, (&'static str, String)> {
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse::<Date>()
        .map(Some)
        .map_err(|_| (column, format!("{raw:?} is not a date (YYYY-MM-DD)")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "id,name,desk_org,tenant,segment,seats,arr,renewal_date,owner,tier,nps,extra\n";

    #[test]
    fn parses_rows_and_keeps_extra_columns() {
        let text = format!(
            "{HEADER}c1,Acme,Acme Inc,acme,enterprise,500,120000,2027-01-31,Ana,high,9,whatever\n"
        );
        let accounts = parse(&text).unwrap();
        assert_eq!(accounts.len(), 1);
        assert_eq!(accounts[0].segment, Segment::Enterprise);
        assert_eq!(accounts[0].nps, Some(9));
        assert_eq!(
            accounts[0].renewal_date,
            Some(jiff::civil::date(2027, 1, 31))
        );
        assert_eq!(
            accounts[0].extra,
            std::collections::BTreeMap::from([("extra".to_owned(), "whatever".to_owned())])
        );
        assert_eq!(accounts[0].key_features, None);
    }

    #[test]
    fn company_size_maps_to_a_segment() {
        assert_eq!(segment_from_size("40"), Some(Segment::Small));
        assert_eq!(segment_from_size("51-200"), Some(Segment::MidMarket));
        assert_eq!(segment_from_size("1,000+"), Some(Segment::Enterprise));
        assert_eq!(segment_from_size("huge"), None);
        let text = format!("{HEADER}c1,Acme,Acme,acme,501-1000,5,1,,Ana,low,,\n");
        assert_eq!(parse(&text).unwrap()[0].segment, Segment::Enterprise);
    }

    #[test]
    fn key_features_column_is_read() {
        let text = "id,name,desk_org,tenant,segment,seats,arr,renewal_date,owner,tier,key_features\n\
                    c1,Acme,Acme,acme,small,5,1,,Ana,low,6\n";
        assert_eq!(parse(text).unwrap()[0].key_features, Some(6));
        let bad = text.replace(",6\n", ",six\n");
        let err = parse(&bad).unwrap_err().to_string();
        assert_eq!(
            err,
            ":2: column key_features: \"six\" is not a whole number ≥ 1"
        );
    }

    #[test]
    fn bad_date_names_line_column_and_format() {
        let text = format!("{HEADER}c1,Acme,Acme,acme,small,5,1,2027-13-01,Ana,low,,\n");
        let err = parse(&text).unwrap_err();
        assert_eq!(
            err.to_string(),
            ":2: column renewal_date: \"2027-13-01\" is not a date (YYYY-MM-DD)"
        );
    }

    #[test]
    fn bad_value_names_line_and_column() {
        let text = format!(
            "{HEADER}c1,Acme,Acme Inc,acme,enterprise,500,120000,2027-01-31,Ana,high,,\nc2,Beta,Beta,beta,huge,5,1,,Bo,low,,\n"
        );
        let err = parse(&text).unwrap_err();
        assert!(
            matches!(&err, AccountsError::Invalid { line: 3, column, .. } if column == "segment"),
            "{err}"
        );
    }

    #[test]
    fn missing_required_column_is_reported() {
        let err = parse("id,name\nc1,Acme\n").unwrap_err();
        assert!(
            matches!(&err, AccountsError::Invalid { line: 1, column, .. } if column == "desk_org"),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            ":1: column desk_org: required column is missing from the header row"
        );
    }

    #[test]
    fn bad_rows_are_skipped_and_reported_while_good_rows_load() {
        let text = format!(
            "{HEADER}c1,Acme,Acme,acme,small,5,1,,Ana,low,,\n\
             c2,Beta,Beta,beta,huge,5,1,,Bo,low,,\n\
             c3,Gamma,Gamma,gamma,small,5,1,2027-02-30,Cy,low,,\n\
             c1,Acme again,Acme,acme,small,5,1,,Ana,low,,\n\
             c4,Delta,Delta,delta,small,5,1,,Di,low,,\n"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accounts.csv");
        std::fs::write(&path, text).unwrap();
        let loaded = load(&path).unwrap();
        let ids: Vec<&str> = loaded.accounts.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["c1", "c4"]);
        let rejected: Vec<String> = loaded.rejected.iter().map(ToString::to_string).collect();
        assert_eq!(rejected.len(), 3, "{rejected:?}");
        let file = path.display().to_string();
        assert!(
            rejected[0].starts_with(&format!("{file}:3: column segment:")),
            "{rejected:?}"
        );
        assert!(
            rejected[1].starts_with(&format!("{file}:4: column renewal_date:")),
            "{rejected:?}"
        );
        assert!(
            rejected[2].contains(":5: column id: duplicate id"),
            "{rejected:?}"
        );
        // A header without a required column is still the whole file's error.
        std::fs::write(&path, "id,name\nc1,Acme\n").unwrap();
        assert!(load(&path).is_err());
    }

    #[test]
    fn duplicate_ids_are_rejected() {
        let row = "c1,Acme,Acme,acme,small,5,1,,Ana,low,,\n";
        let err = parse(&format!("{HEADER}{row}{row}")).unwrap_err();
        assert!(
            matches!(&err, AccountsError::Invalid { line: 3, column, .. } if column == "id"),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("duplicate id \"c1\" (first used on line 2)"),
            "{err}"
        );
    }
}
