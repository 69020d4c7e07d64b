//! The personal-data gate: before a resource is published every cell is scanned, and what
//! would point at a person stops it. Pure: no IO, so it is tested and fuzzed alone.
//!
//! What it finds, per column:
//! - resident ID numbers (GB 11643-1999: 17 digits and a check character, with a plausible
//!   birth date), mobile numbers (11 digits from 13–19, with or without +86), bank card
//!   numbers (16–19 digits passing Luhn) and e-mail addresses, anywhere in a cell, also
//!   written in groups (`138-0013-8000`, `6222 0212 3456 7890`);
//! - columns whose names say a person's name, address or identity document;
//! - columns the publisher marks as quasi-identifiers (age, district, occupation …) whose
//!   combinations single out fewer than k rows (k-anonymity, k 5 by default).
//!
//! A value found in the cells is cleared only when it is gone (the column dropped or masked);
//! a finding from a column's name alone is cleared by masking the column, or by the publisher
//! declaring, with a reason the approver reads, that it holds no person's data (an office's
//! address, a station's name).

use std::collections::HashMap;
use std::ops::Range;

use serde::{Deserialize, Serialize};

/// The k of k-anonymity when the publisher names none.
pub const DEFAULT_K: u64 = 5;
/// How many row numbers a finding lists, so the publisher can look.
const SAMPLE_ROWS: usize = 5;

/// What was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// 公民身份号码 (GB 11643), check character verified.
    ResidentId,
    /// A mainland mobile number.
    Mobile,
    /// A bank card number (Luhn).
    BankCard,
    Email,
    /// The column's name says a person's name (姓名, name …).
    NameColumn,
    /// The column's name says an address (地址, 住址, address …).
    AddressColumn,
    /// The column's name says an identity document (身份证, 证件号码, passport …).
    IdColumn,
    /// Combinations of the quasi-identifiers single out fewer than k rows.
    KAnonymity,
}

impl Kind {
    /// Found from the column's name alone (so a declaration or a mask clears it).
    pub fn by_name(self) -> bool {
        matches!(
            self,
            Kind::NameColumn | Kind::AddressColumn | Kind::IdColumn
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ResidentId => "resident_id",
            Kind::Mobile => "mobile",
            Kind::BankCard => "bank_card",
            Kind::Email => "email",
            Kind::NameColumn => "name_column",
            Kind::AddressColumn => "address_column",
            Kind::IdColumn => "id_column",
            Kind::KAnonymity => "k_anonymity",
        }
    }
}

/// One finding: a kind in a column, how many rows carry it and the first of them (numbered
/// from 1, the header not counted). Never the values themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Finding {
    pub column: String,
    pub kind: Kind,
    pub rows: u64,
    pub first_rows: Vec<u64>,
    /// For k-anonymity: the size of the smallest class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smallest_class: Option<u64>,
}

/// What the publisher did to a column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum Treatment {
    /// Removed from what is published.
    Drop,
    /// Values found are starred out; a name keeps its first character, an address its first
    /// six, an identity-document column nothing.
    Mask,
    /// The column's name misleads: it holds no person's data (a finding by name only).
    Declare { reason: String },
}

/// What a column's name says, if anything.
pub fn column_kind(name: &str) -> Option<Kind> {
    let folded: String = name
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '_' | '-' | '.'))
        .flat_map(char::to_lowercase)
        .collect();
    const ID: [&str; 12] = [
        "身份证",
        "证件号",
        "身份号",
        "公民身份",
        "护照",
        "idcard",
        "idnumber",
        "idno",
        "nationalid",
        "passport",
        "sfzh",
        "zjhm",
    ];
    const NAME: [&str; 5] = ["姓名", "名字", "联系人", "申请人", "法定代表人"];
    const NAME_EXACT: [&str; 9] = [
        "name",
        "fullname",
        "firstname",
        "lastname",
        "surname",
        "givenname",
        "personname",
        "contactname",
        "xm",
    ];
    const ADDRESS: [&str; 5] = ["地址", "住址", "住所", "address", "addr"];
    if ID.iter().any(|k| folded.contains(k)) {
        Some(Kind::IdColumn)
    } else if NAME.iter().any(|k| folded.contains(k)) || NAME_EXACT.contains(&folded.as_str()) {
        Some(Kind::NameColumn)
    } else if ADDRESS.iter().any(|k| folded.contains(k)) {
        Some(Kind::AddressColumn)
    } else {
        None
    }
}

/// GB 11643's check: 17 digits weighted, the sum modulo 11 names the last character; the
/// first digit is a province's (1–8) and digits 7–14 a birth date.
pub fn is_resident_id(text: &[u8]) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    if text.len() != 18 || !text[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    if !(b'1'..=b'8').contains(&text[0]) {
        return false;
    }
    let number = |range: Range<usize>| {
        text[range]
            .iter()
            .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'))
    };
    let (year, month, day) = (number(6..10), number(10..12), number(12..14));
    if !(1900..=2099).contains(&year) || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return false;
    }
    let sum: u32 = text[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize] == text[17].to_ascii_uppercase()
}

/// Luhn's check over decimal digits.
pub fn luhn(digits: &[u8]) -> bool {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(d - b'0');
            if i % 2 == 1 {
                let twice = d * 2;
                if twice > 9 { twice - 9 } else { twice }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn is_mobile(digits: &[u8]) -> bool {
    let digits = match digits.len() {
        13 if digits.starts_with(b"86") => &digits[2..],
        _ => digits,
    };
    digits.len() == 11
        && digits[0] == b'1'
        && (b'3'..=b'9').contains(&digits[1])
        && digits.iter().all(u8::is_ascii_digit)
}

/// What a run of digits (an ID number may end in X) is, if it is personal.
fn classify(run: &[u8]) -> Option<Kind> {
    if is_resident_id(run) {
        Some(Kind::ResidentId)
    } else if is_mobile(run) {
        Some(Kind::Mobile)
    } else if (16..=19).contains(&run.len()) && luhn(run) {
        Some(Kind::BankCard)
    } else {
        None
    }
}

fn is_local_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

fn is_domain_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')
}

/// Calls `found` with the byte range and kind of every personal value in a cell.
pub fn each_match(cell: &str, mut found: impl FnMut(Range<usize>, Kind)) {
    let b = cell.as_bytes();
    // Runs of digits, as written and joined across single spaces or hyphens.
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        let mut joined: Vec<u8> = Vec::new();
        let mut groups = 0;
        let mut whole_end;
        let mut matched_alone = false;
        loop {
            let group_start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i - group_start == 17 && i < b.len() && matches!(b[i], b'X' | b'x') {
                i += 1;
            }
            let group = &b[group_start..i];
            if let Some(kind) = classify(group) {
                found(group_start..i, kind);
                matched_alone = true;
            }
            joined.extend_from_slice(group);
            groups += 1;
            whole_end = i;
            let more = i + 1 < b.len() && matches!(b[i], b' ' | b'-') && b[i + 1].is_ascii_digit();
            if !more || joined.len() > 19 {
                break;
            }
            i += 1;
        }
        if groups > 1
            && !matched_alone
            && let Some(kind) = classify(&joined)
        {
            found(start..whole_end, kind);
        }
        i = whole_end.max(start + 1);
    }
    // E-mail addresses: a local part, @, a domain with a dot and a letter-only last label.
    let mut from = 0;
    while let Some(at) = b[from..].iter().position(|&c| c == b'@').map(|p| p + from) {
        from = at + 1;
        let local_start = (0..at)
            .rev()
            .take_while(|&j| is_local_byte(b[j]))
            .last()
            .unwrap_or(at);
        let domain_end = (at + 1..b.len())
            .take_while(|&j| is_domain_byte(b[j]))
            .last()
            .map_or(at + 1, |j| j + 1);
        let domain = cell[at + 1..domain_end].trim_end_matches(['.', '-']);
        let last_label = domain.rsplit('.').next().unwrap_or_default();
        if local_start < at
            && domain.contains('.')
            && last_label.len() >= 2
            && last_label.bytes().all(|c| c.is_ascii_alphabetic())
        {
            found(local_start..at + 1 + domain.len(), Kind::Email);
        }
    }
}

/// The cell with every personal value starred out, and then what the column's name asks:
/// a name keeps its first character, an address its first six, an ID column nothing.
pub fn mask_cell(cell: &str, by_name: Option<Kind>) -> String {
    let mut masked = star_matches(cell);
    // Starring a match can split a run of digit groups so that what is left reads as a
    // number of its own: star again until nothing is found (each round stars a digit).
    loop {
        let mut found = false;
        each_match(&masked, |_, _| found = true);
        if !found {
            break;
        }
        masked = star_matches(&masked);
    }
    let keep = match by_name {
        Some(Kind::NameColumn) => 1,
        Some(Kind::AddressColumn) => 6,
        Some(Kind::IdColumn) => 0,
        _ => return masked,
    };
    masked
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i < keep || c.is_whitespace() {
                c
            } else {
                '*'
            }
        })
        .collect()
}

/// The cell with every character of what [`each_match`] finds starred.
fn star_matches(cell: &str) -> String {
    let mut spans: Vec<Range<usize>> = Vec::new();
    each_match(cell, |range, _| spans.push(range));
    if spans.is_empty() {
        return cell.to_owned();
    }
    cell.char_indices()
        .map(|(at, c)| {
            if spans.iter().any(|s| s.contains(&at)) {
                '*'
            } else {
                c
            }
        })
        .collect()
}

#[derive(Default)]
struct Tally {
    rows: u64,
    first_rows: Vec<u64>,
}

impl Tally {
    fn add(&mut self, row: u64) {
        self.rows += 1;
        if self.first_rows.len() < SAMPLE_ROWS {
            self.first_rows.push(row);
        }
    }
}

/// Scans a table: every cell of every column, the columns' names, and the quasi-identifiers'
/// classes against `k`. Findings come in column order, then kind.
pub fn scan<'a>(
    columns: &[String],
    rows: impl IntoIterator<Item = &'a [String]>,
    quasi: &[String],
    k: u64,
) -> Vec<Finding> {
    let mut scanner = Scanner::new(columns, quasi, k);
    for row in rows {
        scanner.add(row);
    }
    scanner.finish()
}

/// The gate's scan gathered as rows pass, so that a table of any length is scanned in one
/// pass without being held: what it keeps is a tally per column and kind, and a count per
/// class of the quasi-identifiers.
pub struct Scanner {
    columns: Vec<String>,
    quasi: Vec<usize>,
    k: u64,
    tallies: HashMap<(usize, Kind), Tally>,
    classes: HashMap<Vec<String>, (u64, Vec<u64>)>,
    count: u64,
}

impl Scanner {
    pub fn new(columns: &[String], quasi: &[String], k: u64) -> Self {
        Scanner {
            quasi: quasi
                .iter()
                .filter_map(|q| columns.iter().position(|c| c == q))
                .collect(),
            columns: columns.to_vec(),
            k,
            tallies: HashMap::new(),
            classes: HashMap::new(),
            count: 0,
        }
    }

    /// Scans the next row.
    pub fn add(&mut self, row: &[String]) {
        self.count += 1;
        let number = self.count;
        for (column, cell) in row.iter().enumerate() {
            let mut seen = [false; 4];
            let tallies = &mut self.tallies;
            each_match(cell, |_, kind| {
                let slot = match kind {
                    Kind::ResidentId => 0,
                    Kind::Mobile => 1,
                    Kind::BankCard => 2,
                    _ => 3,
                };
                if !seen[slot] {
                    seen[slot] = true;
                    tallies.entry((column, kind)).or_default().add(number);
                }
            });
        }
        if !self.quasi.is_empty() {
            let key: Vec<String> = self
                .quasi
                .iter()
                .map(|&q| row.get(q).cloned().unwrap_or_default())
                .collect();
            let class = self.classes.entry(key).or_default();
            class.0 += 1;
            if class.1.len() < SAMPLE_ROWS {
                class.1.push(number);
            }
        }
    }

    /// The rows scanned so far.
    pub fn rows(&self) -> u64 {
        self.count
    }

    /// The findings, in column order, then kind.
    pub fn finish(self) -> Vec<Finding> {
        let Scanner {
            columns,
            quasi,
            k,
            tallies,
            classes,
            count,
        } = self;
        let mut findings: Vec<Finding> = tallies
            .into_iter()
            .map(|((column, kind), tally)| Finding {
                column: columns.get(column).cloned().unwrap_or_default(),
                kind,
                rows: tally.rows,
                first_rows: tally.first_rows,
                smallest_class: None,
            })
            .collect();
        for name in &columns {
            if let Some(kind) = column_kind(name) {
                findings.push(Finding {
                    column: name.clone(),
                    kind,
                    rows: count,
                    first_rows: Vec::new(),
                    smallest_class: None,
                });
            }
        }
        let small: Vec<&(u64, Vec<u64>)> = classes.values().filter(|(n, _)| *n < k).collect();
        if !small.is_empty() {
            let mut first_rows: Vec<u64> =
                small.iter().flat_map(|(_, r)| r.iter().copied()).collect();
            first_rows.sort_unstable();
            first_rows.truncate(SAMPLE_ROWS);
            findings.push(Finding {
                column: quasi
                    .iter()
                    .map(|&q| columns[q].as_str())
                    .collect::<Vec<_>>()
                    .join(" + "),
                kind: Kind::KAnonymity,
                rows: small.iter().map(|(n, _)| n).sum(),
                first_rows,
                smallest_class: small.iter().map(|(n, _)| *n).min(),
            });
        }
        let order = |f: &Finding| {
            (
                columns
                    .iter()
                    .position(|c| *c == f.column)
                    .unwrap_or(usize::MAX),
                f.kind as u8,
            )
        };
        findings.sort_by_key(order);
        findings
    }
}

/// The findings that still stop publication once the treatments are taken into account (the
/// table scanned is the treated one: dropped columns are gone, masked cells starred).
pub fn blocking(findings: &[Finding], treatments: &[(String, Treatment)]) -> Vec<Finding> {
    findings
        .iter()
        .filter(|f| {
            !(f.kind.by_name()
                && treatments
                    .iter()
                    .any(|(column, t)| *column == f.column && !matches!(t, Treatment::Drop)))
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(cell: &str) -> Vec<(String, Kind)> {
        let mut out = Vec::new();
        each_match(cell, |r, k| out.push((cell[r].to_owned(), k)));
        out
    }

    #[test]
    fn resident_ids_are_known_by_their_check_character() {
        assert!(is_resident_id(b"11010519491231002X"));
        assert!(is_resident_id(b"11010519491231002x"));
        assert!(
            !is_resident_id(b"110105194912310021"),
            "wrong check character"
        );
        assert!(!is_resident_id(b"110105194913310028"), "month 13");
        assert!(!is_resident_id(b"91010519491231002X"), "no province 9");
    }

    #[test]
    fn cells_yield_ids_phones_cards_and_mail_where_they_are() {
        assert_eq!(
            kinds("张三 11010519491231002X 住江北"),
            vec![("11010519491231002X".into(), Kind::ResidentId)]
        );
        assert_eq!(
            kinds("电话13800138000"),
            vec![("13800138000".into(), Kind::Mobile)]
        );
        assert_eq!(
            kinds("+86 138-0013-8000"),
            vec![("86 138-0013-8000".into(), Kind::Mobile)]
        );
        assert_eq!(
            kinds("卡号 6222 0212 3456 7894"),
            vec![("6222 0212 3456 7894".into(), Kind::BankCard)]
        );
        assert_eq!(
            kinds("write to li.ming+x@example.com.cn."),
            vec![("li.ming+x@example.com.cn".into(), Kind::Email)]
        );
        assert!(kinds("2026-12-04 12:00, 3.1415926, 0571-88776655, a@b, x@y.1").is_empty());
        assert!(
            kinds("12345678901234567").is_empty(),
            "17 digits, no Luhn, not a phone"
        );
    }

    #[test]
    fn column_names_that_say_a_person() {
        assert_eq!(column_kind("姓名"), Some(Kind::NameColumn));
        assert_eq!(column_kind("Full Name"), Some(Kind::NameColumn));
        assert_eq!(column_kind("身份证号码"), Some(Kind::IdColumn));
        assert_eq!(column_kind("id_number"), Some(Kind::IdColumn));
        assert_eq!(column_kind("家庭住址"), Some(Kind::AddressColumn));
        assert_eq!(column_kind("站点名称"), None);
        assert_eq!(column_kind("id"), None);
        assert_eq!(column_kind("station_name"), None);
    }

    #[test]
    fn a_scan_counts_rows_per_column_and_never_keeps_values() {
        let columns: Vec<String> = ["区县", "联系方式", "备注"].map(String::from).to_vec();
        let rows: Vec<Vec<String>> = vec![
            vec!["江北区".into(), "13800138000".into(), "".into()],
            vec![
                "江北区".into(),
                "13900139000".into(),
                "11010519491231002X".into(),
            ],
            vec!["江南区".into(), "0571-1234567".into(), "".into()],
        ];
        let findings = scan(
            &columns,
            rows.iter().map(Vec::as_slice),
            &["区县".into()],
            2,
        );
        assert_eq!(findings.len(), 3, "{findings:?}");
        assert_eq!((findings[0].kind, findings[0].rows), (Kind::KAnonymity, 1));
        assert_eq!(findings[0].smallest_class, Some(1));
        assert_eq!(findings[0].first_rows, vec![3]);
        assert_eq!(
            (findings[1].column.as_str(), findings[1].kind),
            ("联系方式", Kind::Mobile)
        );
        assert_eq!(
            (findings[1].rows, findings[1].first_rows.clone()),
            (2, vec![1, 2])
        );
        assert_eq!(
            (findings[2].column.as_str(), findings[2].kind),
            ("备注", Kind::ResidentId)
        );
        let text = serde_json::to_string(&findings).expect("json");
        assert!(!text.contains("13800138000") && !text.contains("1949"));
    }

    #[test]
    fn masks_star_out_what_is_found_and_what_the_name_says() {
        assert_eq!(mask_cell("电话13800138000", None), "电话***********");
        assert_eq!(mask_cell("王小明", Some(Kind::NameColumn)), "王**");
        assert_eq!(
            mask_cell("临江市江北区滨江路1号", Some(Kind::AddressColumn)),
            "临江市江北区*****"
        );
        let masked = mask_cell("13800138000", Some(Kind::IdColumn));
        assert!(kinds(&masked).is_empty());
    }

    #[test]
    fn a_declaration_clears_a_name_finding_but_never_a_value() {
        let findings = vec![
            Finding {
                column: "地址".into(),
                kind: Kind::AddressColumn,
                rows: 3,
                first_rows: vec![],
                smallest_class: None,
            },
            Finding {
                column: "地址".into(),
                kind: Kind::Mobile,
                rows: 1,
                first_rows: vec![2],
                smallest_class: None,
            },
        ];
        let declared = vec![(
            "地址".to_owned(),
            Treatment::Declare {
                reason: "办事大厅的地址".into(),
            },
        )];
        let left = blocking(&findings, &declared);
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].kind, Kind::Mobile);
    }

    #[test]
    fn masking_leaves_no_number_behind_in_a_split_run_of_groups() {
        // Starring the first eighteen digits leaves two groups that read as a card number.
        let cell = "0000000)000000000000000000 0000000000 000000000";
        let masked = mask_cell(cell, None);
        let mut left = 0;
        each_match(&masked, |_, _| left += 1);
        assert_eq!(left, 0, "{masked}");
    }

    proptest::proptest! {
        #[test]
        fn any_text_scans_and_masks_without_panicking(cell in "\\PC{0,80}") {
            each_match(&cell, |range, _| { let _ = &cell[range]; });
            let masked = mask_cell(&cell, Some(Kind::AddressColumn));
            proptest::prop_assert_eq!(masked.chars().count(), cell.chars().count());
        }

        #[test]
        fn a_masked_cell_has_nothing_left_to_find(cell in "[0-9 @a-z.\\-]{0,60}") {
            let masked = mask_cell(&cell, None);
            let mut left = 0;
            each_match(&masked, |_, _| left += 1);
            proptest::prop_assert_eq!(left, 0);
        }
    }
}
