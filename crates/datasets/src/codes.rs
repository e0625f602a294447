//! What GSS codes say about themselves: the pattern, the entity kind in the first three
//! characters, the nation in the first letter, and which kinds are not districts.

/// Normalises a cell that may be a GSS code: trimmed, inner spaces removed, upper case;
/// `None` unless it matches `[EWSNK]\d{8}`.
pub fn gss(cell: &str) -> Option<String> {
    let s: String = cell
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let b = s.as_bytes();
    (b.len() == 9 && b"EWSNK".contains(&b[0]) && b[1..].iter().all(u8::is_ascii_digit)).then_some(s)
}

/// The entity kind of a code (`E06`).
pub fn kind(code: &str) -> &str {
    code.get(..3).unwrap_or(code)
}

/// What a kind of code names, for reports.
pub fn kind_name(kind: &str) -> &'static str {
    match kind {
        "E00" | "W00" | "S00" | "N00" => "output area",
        "E01" | "W01" => "lower layer super output area (LSOA)",
        "E02" | "W02" => "middle layer super output area (MSOA)",
        "S01" => "data zone",
        "S02" => "intermediate zone",
        "E04" | "W04" => "parish or community",
        "E05" | "W05" | "S13" | "N08" => "electoral ward",
        "E06" => "unitary authority",
        "E07" => "non-metropolitan district",
        "E08" => "metropolitan district",
        "E09" => "London borough",
        "W06" => "Welsh principal area",
        "S12" => "Scottish council area",
        "N09" => "Northern Ireland district",
        "E10" => "county",
        "E11" => "metropolitan county",
        "E12" => "region",
        "E13" => "inner or outer London",
        "E14" | "W07" | "S14" | "N05" | "N06" => "Westminster constituency",
        "E47" => "combined authority",
        "E92" => "country (England)",
        "W92" => "country (Wales)",
        "S92" => "country (Scotland)",
        "N92" => "country (Northern Ireland)",
        "K02" => "United Kingdom",
        "K03" => "Great Britain",
        "K04" => "England and Wales",
        "E38" | "E54" => "health area (sub-ICB or ICB)",
        _ => "other geography",
    }
}

/// Kinds that are aggregates above districts (regions, counties, nations...): listed as "not
/// districts" in a district table rather than as errors.
pub fn is_aggregate_kind(kind: &str) -> bool {
    matches!(
        kind,
        "E10"
            | "E11"
            | "E12"
            | "E13"
            | "E47"
            | "E92"
            | "W92"
            | "S92"
            | "N92"
            | "K02"
            | "K03"
            | "K04"
    )
}

/// Kinds of small statistical areas (output areas, LSOAs, MSOAs, data zones...): tables of
/// these are mapped by aggregating them to a district column of the same table.
pub fn is_small_area_kind(kind: &str) -> bool {
    matches!(
        kind,
        "E00" | "W00" | "S00" | "N00" | "E01" | "W01" | "E02" | "W02" | "S01" | "S02"
    )
}

/// Kinds of local authority district codes (what the district layers hold).
pub fn is_district_kind(kind: &str) -> bool {
    matches!(kind, "E06" | "E07" | "E08" | "E09" | "W06" | "S12" | "N09")
}

/// The last English LSOA code of 2011. ONS kept a code in 2021 when the LSOA did not change
/// and numbered the new ones after it, so `E01033769` and above exist only from 2021
/// (checked: IMD 2019 File 1 ends at E01033768, the 1,945 new codes of IMD 2025 File 1 start
/// at E01033769).
const LAST_LSOA_2011_ENGLAND: u32 = 33_768;

/// Whether a code is an English LSOA created in 2021 (no 2011 boundary has it).
pub fn is_lsoa_2021_only(code: &str) -> bool {
    code.strip_prefix("E01")
        .and_then(|n| n.parse::<u32>().ok())
        .is_some_and(|n| n > LAST_LSOA_2011_ENGLAND)
}

/// The nation of a code's first letter.
pub fn nation(code: &str) -> &'static str {
    match code.as_bytes().first() {
        Some(b'E') => "England",
        Some(b'W') => "Wales",
        Some(b'S') => "Scotland",
        Some(b'N') => "Northern Ireland",
        _ => "the UK as a whole",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_in_any_case_with_spaces() {
        assert_eq!(gss(" e06000001 ").as_deref(), Some("E06000001"));
        assert_eq!(gss("E06 000001").as_deref(), Some("E06000001"));
        assert_eq!(gss("X06000001"), None);
        assert_eq!(gss("E0600000"), None);
        assert!(is_aggregate_kind(kind("E12000001")));
        assert!(!is_aggregate_kind(kind("E06000001")));
        assert!(is_small_area_kind(kind("E01000001")) && is_district_kind("E09"));
        assert!(is_lsoa_2021_only("E01033769") && !is_lsoa_2021_only("E01033768"));
    }
}
