//! XLSForm workbooks read into a [`Form`]: the `survey` sheet (one row per question, group or
//! repeat), `choices` (the lists that selects draw from) and `settings` (title, id, version).
//!
//! The supported subset, as pyxform reads it: the question types of [`Kind`]; the columns
//! `type`, `name`, `label`, `hint`, `required`, `required_message`, `constraint`,
//! `constraint_message`, `relevant`, `calculation`, `default`, `read_only` and `appearance`
//! (with pyxform's spellings of them), and tongban's `prefill` (what the platform already holds
//! that fills a question in, [`crate::PREFILL`]; pyxform ignores the column); `${name}` references, written as absolute paths, or
//! relative ones between questions of the same repeat. Anything else a form designer might
//! rely on (several languages, media, choice filters, repeat counts, dynamic defaults) is refused
//! with the sheet, row and column named, never silently dropped. Every mistake found is
//! reported, not only the first.

use std::collections::BTreeMap;
use std::fmt;

use tongban_tables::xlsx::{self, Sheet};

use crate::{Choice, ChoiceList, EntityDeclaration, Form, Kind, Node, ROOT, is_xml_name, xpath};

/// The most rows a sheet of a form may have.
pub const MAX_ROWS: usize = 5_000;
/// The most mistakes reported at once.
const MAX_ERRORS: usize = 100;

/// A mistake in a workbook, where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetError {
    /// The sheet (`survey`, `choices`, `settings`), or empty for the workbook as a whole.
    pub sheet: String,
    /// The row as the spreadsheet numbers it.
    pub row: Option<u32>,
    /// The column's header.
    pub column: Option<String>,
    pub problem: String,
}

impl fmt::Display for SheetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.sheet.is_empty() {
            write!(f, "sheet {}", self.sheet)?;
            if let Some(row) = self.row {
                write!(f, ", row {row}")?;
            }
            if let Some(column) = &self.column {
                write!(f, ", column {column}")?;
            }
            write!(f, ": ")?;
        }
        write!(f, "{}", self.problem)
    }
}

/// Reads an XLSForm workbook; `file_stem` (the file's name without `.xlsx`) is the form's id
/// and title where the settings sheet gives none.
pub fn read(bytes: &[u8], file_stem: &str) -> Result<Form, Vec<SheetError>> {
    let sheets = xlsx::sheets(bytes, MAX_ROWS).map_err(|e| {
        vec![SheetError {
            sheet: String::new(),
            row: None,
            column: None,
            problem: format!("the workbook cannot be read: {e}"),
        }]
    })?;
    from_sheets(&sheets, file_stem)
}

/// A cell with the curly quotes a spreadsheet's autocorrect types (‘ ’ “ ”) made straight, as
/// pyxform makes them: an expression typed as `. = ‘yes’` means `. = 'yes'`.
fn straight_quotes(text: &str) -> String {
    text.replace(['\u{2018}', '\u{2019}'], "'")
        .replace(['\u{201c}', '\u{201d}'], "\"")
}

/// Builds a form from sheets already read.
pub fn from_sheets(sheets: &[Sheet], file_stem: &str) -> Result<Form, Vec<SheetError>> {
    let sheets: Vec<Sheet> = sheets
        .iter()
        .map(|sheet| Sheet {
            name: sheet.name.clone(),
            rows: sheet
                .rows
                .iter()
                .map(|(line, cells)| (*line, cells.iter().map(|c| straight_quotes(c)).collect()))
                .collect(),
        })
        .collect();
    let sheets = sheets.as_slice();
    let mut errors = Errors::default();
    let find = |name: &str| {
        sheets
            .iter()
            .find(|s| s.name.trim().eq_ignore_ascii_case(name))
    };
    let Some(survey) = find("survey") else {
        return Err(vec![SheetError {
            sheet: String::new(),
            row: None,
            column: None,
            problem: "the workbook has no sheet named survey".into(),
        }]);
    };
    let choices = find("choices").map(|s| read_choices(s, &mut errors));
    let settings = find("settings").map(|s| read_settings(s, &mut errors));
    let settings = settings.unwrap_or_default();
    let entity = find("entities").and_then(|s| read_entities(s, &mut errors));
    let id = settings
        .get("form_id")
        .cloned()
        .unwrap_or_else(|| file_stem.to_owned());
    if !is_form_id(&id) {
        errors.add(
            "settings",
            None,
            Some("form_id"),
            format!("the form id {id:?} may hold only letters, digits, _, - and ."),
        );
    }
    let mut form = Form {
        title: settings
            .get("form_title")
            .cloned()
            .unwrap_or_else(|| id.clone()),
        id,
        version: settings.get("version").cloned(),
        instance_name: None,
        children: Vec::new(),
        choices: choices.unwrap_or_default(),
        entity: None,
    };
    let rows = read_survey(survey, &mut errors);
    let tree = build_tree(&rows, &form, entity.is_some(), &mut errors);
    resolve(
        tree,
        &mut form,
        settings.get("instance_name"),
        entity,
        &mut errors,
    );
    if errors.list.is_empty() {
        Ok(form)
    } else {
        let rank = |sheet: &str| {
            ["", "settings", "survey", "choices", "entities"]
                .iter()
                .position(|s| *s == sheet)
        };
        errors.list.sort_by_key(|e| (rank(&e.sheet), e.row));
        Err(errors.list)
    }
}

fn is_form_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 100
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

#[derive(Default)]
struct Errors {
    list: Vec<SheetError>,
}

impl Errors {
    fn add(&mut self, sheet: &str, row: Option<u32>, column: Option<&str>, problem: String) {
        if self.list.len() < MAX_ERRORS {
            self.list.push(SheetError {
                sheet: sheet.to_owned(),
                row,
                column: column.map(str::to_owned),
                problem,
            });
        }
    }
}

/// The survey columns the subset knows, by every spelling pyxform accepts.
fn survey_column(header: &str) -> Option<&'static str> {
    Some(match header {
        "type" => "type",
        "name" => "name",
        "label" => "label",
        "hint" => "hint",
        "required" => "required",
        "required_message" | "required message" | "jr:requiredMsg" => "required_message",
        "constraint" => "constraint",
        "constraint_message" | "constraint message" | "jr:constraintMsg" => "constraint_message",
        "relevant" | "relevance" => "relevant",
        "calculation" | "calculate" => "calculation",
        "default" => "default",
        "read_only" | "readonly" => "read_only",
        "appearance" => "appearance",
        "prefill" => "prefill",
        "save_to" => "save_to",
        _ => return None,
    })
}

/// Columns a designer may rely on that the subset does not carry out: refused when used.
fn unsupported_column(header: &str) -> Option<&'static str> {
    let base = header.split("::").next().unwrap_or(header);
    if header.contains("::")
        && matches!(
            base,
            "label" | "hint" | "constraint_message" | "required_message"
        )
    {
        return Some("forms in several languages are not supported yet; use one label column");
    }
    Some(match base {
        "media" | "image" | "audio" | "video" => "media in questions are not supported",
        "choice_filter" => "choice filters are not supported",
        "repeat_count" => "repeat counts are not supported",
        "trigger" => "triggers are not supported",
        "parameters" => "question parameters are not supported",
        _ => return None,
    })
}

/// One row of the survey sheet with its columns by canonical name.
struct Row {
    line: u32,
    cells: BTreeMap<&'static str, String>,
}

impl Row {
    fn get(&self, column: &str) -> Option<&str> {
        self.cells
            .get(column)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }
}

fn header_of(sheet: &Sheet) -> Option<(u32, Vec<String>)> {
    sheet
        .rows
        .first()
        .map(|(line, cells)| (*line, cells.iter().map(|c| c.trim().to_owned()).collect()))
}

fn read_survey(sheet: &Sheet, errors: &mut Errors) -> Vec<Row> {
    let Some((header_line, header)) = header_of(sheet) else {
        errors.add("survey", None, None, "the sheet is empty".into());
        return Vec::new();
    };
    let mut columns: Vec<Option<&'static str>> = Vec::new();
    for name in &header {
        columns.push(survey_column(name));
    }
    for required in ["type", "name"] {
        if !columns.contains(&Some(required)) {
            errors.add(
                "survey",
                Some(header_line),
                None,
                format!("the header has no {required} column"),
            );
        }
    }
    let mut rows = Vec::new();
    for (line, cells) in sheet.rows.iter().skip(1) {
        let mut row = Row {
            line: *line,
            cells: BTreeMap::new(),
        };
        for (i, cell) in cells.iter().enumerate() {
            if cell.trim().is_empty() {
                continue;
            }
            let header_name = header.get(i).map_or("", String::as_str);
            match columns.get(i).copied().flatten() {
                Some(column) => {
                    row.cells.insert(column, cell.clone());
                }
                None => {
                    if let Some(problem) = unsupported_column(header_name) {
                        errors.add("survey", Some(*line), Some(header_name), problem.into());
                    }
                }
            }
        }
        if row.get("type").is_none() {
            if row.get("name").is_some() || row.get("label").is_some() {
                errors.add(
                    "survey",
                    Some(*line),
                    Some("type"),
                    "the type is missing".into(),
                );
            }
            continue;
        }
        rows.push(row);
    }
    rows
}

fn read_choices(sheet: &Sheet, errors: &mut Errors) -> Vec<ChoiceList> {
    let Some((header_line, header)) = header_of(sheet) else {
        return Vec::new();
    };
    let at = |name: &str| header.iter().position(|h| h == name);
    let (Some(list_at), Some(name_at)) = (at("list_name").or_else(|| at("list name")), at("name"))
    else {
        errors.add(
            "choices",
            Some(header_line),
            None,
            "the header needs list_name and name columns".into(),
        );
        return Vec::new();
    };
    let label_at = at("label");
    for (i, name) in header.iter().enumerate() {
        if let Some(problem) = unsupported_column(name) {
            let used = sheet
                .rows
                .iter()
                .skip(1)
                .find(|(_, cells)| cells.get(i).is_some_and(|c| !c.trim().is_empty()));
            if let Some((line, _)) = used {
                errors.add("choices", Some(*line), Some(name), problem.into());
            }
        }
    }
    let mut lists: Vec<ChoiceList> = Vec::new();
    for (line, cells) in sheet.rows.iter().skip(1) {
        let cell = |i: usize| cells.get(i).map_or("", |c| c.trim());
        let (list, name) = (cell(list_at), cell(name_at));
        let label = label_at.map_or("", cell);
        if list.is_empty() && name.is_empty() && label.is_empty() {
            continue;
        }
        if list.is_empty() {
            errors.add(
                "choices",
                Some(*line),
                Some("list_name"),
                "the list name is missing".into(),
            );
            continue;
        }
        if name.is_empty() {
            errors.add(
                "choices",
                Some(*line),
                Some("name"),
                "the choice has no name".into(),
            );
            continue;
        }
        if name.chars().any(char::is_whitespace) {
            errors.add(
                "choices",
                Some(*line),
                Some("name"),
                format!("the choice name {name:?} has a space; select_multiple answers are separated by spaces"),
            );
        }
        if label.is_empty() {
            errors.add(
                "choices",
                Some(*line),
                Some("label"),
                "the choice has no label".into(),
            );
        }
        let position = match lists.iter().position(|l| l.name == list) {
            Some(p) => p,
            None => {
                lists.push(ChoiceList {
                    name: list.to_owned(),
                    choices: Vec::new(),
                });
                lists.len() - 1
            }
        };
        let entry = &mut lists[position];
        if entry.choices.iter().any(|c| c.name == name) {
            errors.add(
                "choices",
                Some(*line),
                Some("name"),
                format!("the list {list} has the choice {name} twice"),
            );
            continue;
        }
        entry.choices.push(Choice {
            name: name.to_owned(),
            label: label.to_owned(),
        });
    }
    lists
}

fn read_settings(sheet: &Sheet, errors: &mut Errors) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some((_, header)) = header_of(sheet) else {
        return out;
    };
    let Some((line, values)) = sheet.rows.get(1) else {
        return out;
    };
    for (i, name) in header.iter().enumerate() {
        let value = values.get(i).map_or("", |v| v.trim());
        if value.is_empty() {
            continue;
        }
        match name.as_str() {
            "form_title" | "form_id" | "version" | "instance_name" => {
                out.insert(name.clone(), value.to_owned());
            }
            "default_language" | "style" | "allow_choice_duplicates" => {}
            "public_key" | "submission_url" => errors.add(
                "settings",
                Some(*line),
                Some(name),
                "encrypted forms and other submission addresses are not supported".into(),
            ),
            _ => {}
        }
    }
    out
}

/// The entities sheet: the one list each submission makes an entity in, and its label (an
/// XLSForm expression, resolved with the survey's names later).
fn read_entities(sheet: &Sheet, errors: &mut Errors) -> Option<EntityDeclaration> {
    let (header_line, header) = header_of(sheet)?;
    let mut rows = sheet
        .rows
        .iter()
        .skip(1)
        .filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()));
    let (line, cells) = rows.next()?;
    if let Some((extra, _)) = rows.next() {
        errors.add(
            "entities",
            Some(*extra),
            None,
            "a form makes entities in one list: one row only".into(),
        );
    }
    let mut dataset = None;
    let mut label = None;
    for (i, name) in header.iter().enumerate() {
        let value = cells.get(i).map_or("", |v| v.trim());
        match name.as_str() {
            "list_name" | "dataset" => dataset = Some(value),
            "label" => label = Some(value),
            "entity_id" | "create_if" | "update_if" if !value.is_empty() => errors.add(
                "entities",
                Some(*line),
                Some(name),
                "updating entities or making them conditionally is not supported; each submission makes one entity".into(),
            ),
            _ => {}
        }
    }
    let Some(dataset) = dataset.filter(|d| !d.is_empty()) else {
        errors.add(
            "entities",
            Some(header_line),
            Some("list_name"),
            "the list_name is missing".into(),
        );
        return None;
    };
    if !crate::is_xml_name(dataset) || dataset.contains('.') || dataset.starts_with("__") {
        errors.add(
            "entities",
            Some(*line),
            Some("list_name"),
            format!("{dataset:?} cannot name an entity list: a letter or _ first, then letters, digits, _ or -, no period, not __ first"),
        );
    }
    let Some(label) = label.filter(|l| !l.is_empty()) else {
        errors.add(
            "entities",
            Some(*line),
            Some("label"),
            "the label is missing: every entity needs one".into(),
        );
        return None;
    };
    Some(EntityDeclaration {
        dataset: dataset.to_owned(),
        label: label.to_owned(),
    })
}

/// A node under construction: the row it came from, its raw (XLSForm) expressions.
struct Draft {
    line: u32,
    node: Node,
    children: Vec<Draft>,
}

fn kind_of(type_text: &str) -> Result<Kind, String> {
    let mut words = type_text.split_whitespace();
    let first = words.next().unwrap_or("");
    let rest: Vec<&str> = words.collect();
    let list = |kind: fn(String) -> Kind| match rest.as_slice() {
        [list] => Ok(kind((*list).to_owned())),
        [] => Err(format!("{first} needs the name of a choice list")),
        _ => Err(format!(
            "{type_text:?} is not a type: one choice list after {first}"
        )),
    };
    let single = |kind: Kind| {
        if rest.is_empty() {
            Ok(kind)
        } else {
            Err(format!("{type_text:?} is not a type"))
        }
    };
    match first {
        "select_one" => list(Kind::SelectOne),
        "select_multiple" => list(Kind::SelectMultiple),
        "select_one_from_file" => match rest.as_slice() {
            [file] if crate::file_list(file).is_some() => {
                Ok(Kind::SelectOneFromFile((*file).to_owned()))
            }
            [file] => Err(format!(
                "{file:?}: select_one_from_file takes a CSV file named after an entity list (households.csv)"
            )),
            _ => Err("select_one_from_file needs one file name".into()),
        },
        "text" | "string" => single(Kind::Text),
        "integer" | "int" => single(Kind::Integer),
        "decimal" => single(Kind::Decimal),
        "date" => single(Kind::Date),
        "time" => single(Kind::Time),
        "dateTime" | "datetime" => single(Kind::DateTime),
        "note" => single(Kind::Note),
        "calculate" => single(Kind::Calculate),
        "geopoint" => single(Kind::Geopoint),
        "image" | "photo" => single(Kind::Image),
        "file" => single(Kind::File),
        "start" => single(Kind::Start),
        "end" => single(Kind::End),
        "today" => single(Kind::Today),
        "deviceid" => single(Kind::DeviceId),
        _ => {
            let spaced = type_text.split_whitespace().collect::<Vec<_>>().join(" ");
            match spaced.as_str() {
                "begin group" | "begin_group" => Ok(Kind::Group),
                "begin repeat" | "begin_repeat" => Ok(Kind::Repeat),
                _ => Err(format!(
                    "the type {type_text:?} is unknown or not supported (supported: text, integer, decimal, date, time, dateTime, select_one, select_multiple, select_one_from_file, note, calculate, geopoint, image, file, start, end, today, deviceid, begin/end group, begin/end repeat)"
                )),
            }
        }
    }
}

fn is_end(type_text: &str) -> Option<Kind> {
    let spaced = type_text.split_whitespace().collect::<Vec<_>>().join(" ");
    match spaced.as_str() {
        "end group" | "end_group" => Some(Kind::Group),
        "end repeat" | "end_repeat" => Some(Kind::Repeat),
        _ => None,
    }
}

fn yes_no(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "yes" | "true" | "true()" | "1" => Some(true),
        "no" | "false" | "false()" | "0" => Some(false),
        _ => None,
    }
}

/// The tree of the survey's rows; rows in error are left out (and reported), so that the
/// expressions of the rest are still checked.
fn build_tree(rows: &[Row], form: &Form, has_entities: bool, errors: &mut Errors) -> Vec<Draft> {
    // The properties saved to, with their rows.
    let mut saved: Vec<(String, u32)> = Vec::new();
    // The questions marked for prefill: (row, what).
    let mut prefills: Vec<(u32, String)> = Vec::new();
    // The open containers; the bottom one is the form itself.
    let mut stack: Vec<Draft> = vec![Draft {
        line: 0,
        node: Node::new(ROOT, Kind::Group),
        children: Vec::new(),
    }];
    for row in rows {
        let type_text = row.get("type").unwrap_or_default();
        if let Some(kind) = is_end(type_text) {
            if stack.len() == 1 || stack.last().is_some_and(|d| d.node.kind != kind) {
                errors.add(
                    "survey",
                    Some(row.line),
                    Some("type"),
                    format!(
                        "{type_text} closes nothing: no {} is open here",
                        if kind == Kind::Group {
                            "group"
                        } else {
                            "repeat"
                        }
                    ),
                );
                continue;
            }
            if let Some(done) = stack.pop()
                && let Some(parent) = stack.last_mut()
            {
                parent.children.push(done);
            }
            continue;
        }
        let kind = match kind_of(type_text) {
            Ok(kind) => kind,
            Err(problem) => {
                errors.add("survey", Some(row.line), Some("type"), problem);
                continue;
            }
        };
        let Some(name) = row.get("name") else {
            errors.add(
                "survey",
                Some(row.line),
                Some("name"),
                "the name is missing".into(),
            );
            continue;
        };
        if !is_xml_name(name) || name == "meta" {
            errors.add(
                "survey",
                Some(row.line),
                Some("name"),
                format!("{name:?} cannot name a question: a letter or _ first, then letters, digits, _, - or ., and not meta"),
            );
        }
        if let Kind::SelectOne(list) | Kind::SelectMultiple(list) = &kind
            && form.list(list).is_none()
        {
            errors.add(
                "survey",
                Some(row.line),
                Some("type"),
                format!("the choice list {list} is not on the choices sheet"),
            );
        }
        let mut node = Node::new(name, kind.clone());
        node.label = row.get("label").unwrap_or_default().to_owned();
        node.hint = row.get("hint").unwrap_or_default().to_owned();
        node.appearance = row.get("appearance").map(str::to_owned);
        node.required_message = row.get("required_message").map(str::to_owned);
        node.constraint_message = row.get("constraint_message").map(str::to_owned);
        node.required = row.get("required").map(|r| match yes_no(r) {
            Some(true) => "true()".to_owned(),
            Some(false) => "false()".to_owned(),
            None => r.to_owned(),
        });
        node.constraint = row.get("constraint").map(str::to_owned);
        node.relevant = row.get("relevant").map(str::to_owned);
        node.calculation = row.get("calculation").map(str::to_owned);
        if let Some(read_only) = row.get("read_only") {
            match yes_no(read_only) {
                Some(flag) => node.read_only = flag,
                None => errors.add(
                    "survey",
                    Some(row.line),
                    Some("read_only"),
                    "read_only takes yes or no".into(),
                ),
            }
        }
        if let Some(save_to) = row.get("save_to") {
            let inside_repeat = stack.iter().any(|d| d.node.kind == Kind::Repeat);
            let lower = save_to.to_ascii_lowercase();
            let problem = if !has_entities {
                Some("save_to needs an entities sheet naming the list to save to".to_owned())
            } else if lower == "name" || lower == "label" || save_to.starts_with("__") {
                Some(format!(
                    "{save_to:?} cannot name a property: not name or label, not __ first"
                ))
            } else if !crate::is_xml_name(save_to) {
                Some(format!(
                    "{save_to:?} cannot name a property: a letter or _ first, then letters, digits, _, - or ."
                ))
            } else if kind.is_container() || matches!(kind, Kind::Note) {
                Some("only a question's answer is saved to an entity".into())
            } else if inside_repeat {
                Some("answers inside a repeat are not saved to entities".into())
            } else if let Some((_, first)) = saved.iter().find(|(p, _)| p == save_to) {
                Some(format!(
                    "the property {save_to} is already saved to on row {first}"
                ))
            } else {
                None
            };
            match problem {
                Some(problem) => errors.add("survey", Some(row.line), Some("save_to"), problem),
                None => saved.push((save_to.to_owned(), row.line)),
            }
            node.save_to = Some(save_to.to_owned());
        }
        if let Some(prefill) = row.get("prefill") {
            let inside_repeat = stack.iter().any(|d| d.node.kind == Kind::Repeat);
            let from_entity = crate::entity_prefill(prefill).is_some();
            let problem = if !crate::PREFILL.contains(&prefill) && !from_entity {
                Some(format!(
                    "{prefill:?} is not something the platform prefills: {}, or entity.<list>.<property>",
                    crate::PREFILL.join(", ")
                ))
            } else if from_entity
                && !matches!(
                    kind,
                    Kind::Text | Kind::Integer | Kind::Decimal | Kind::Date | Kind::SelectOne(_)
                )
            {
                Some("a question prefilled from an entity is a text, integer, decimal, date or select_one question".into())
            } else if !from_entity && kind != Kind::Text {
                Some("a prefilled question is a text question".into())
            } else if inside_repeat {
                Some("questions inside a repeat are not prefilled".into())
            } else {
                None
            };
            match problem {
                Some(problem) => errors.add("survey", Some(row.line), Some("prefill"), problem),
                None => prefills.push((row.line, prefill.to_owned())),
            }
            node.prefill = Some(prefill.to_owned());
        }
        if let Some(default) = row.get("default") {
            if default.contains("${") || default.contains('(') {
                errors.add(
                    "survey",
                    Some(row.line),
                    Some("default"),
                    "a default worked out from other answers is not supported; give a fixed value"
                        .into(),
                );
            }
            node.default = Some(default.to_owned());
        }
        if kind == Kind::Calculate && node.calculation.is_none() {
            errors.add(
                "survey",
                Some(row.line),
                Some("calculation"),
                "a calculate row needs a calculation".into(),
            );
        }
        if node.label.is_empty()
            && !kind.is_metadata()
            && !matches!(kind, Kind::Calculate | Kind::Group)
        {
            errors.add(
                "survey",
                Some(row.line),
                Some("label"),
                "the label is missing".into(),
            );
        }
        let draft = Draft {
            line: row.line,
            node,
            children: Vec::new(),
        };
        if kind.is_container() {
            stack.push(draft);
        } else if let Some(parent) = stack.last_mut() {
            parent.children.push(draft);
        }
    }
    // Each prefilled question needs its key, once.
    let choosers = |list: &str| {
        rows.iter()
            .filter(|r| {
                r.get("type").is_some_and(|t| {
                    matches!(kind_of(t), Ok(Kind::SelectOneFromFile(f)) if crate::file_list(&f) == Some(list))
                })
            })
            .count()
    };
    for (line, what) in &prefills {
        if let Some((list, _)) = crate::entity_prefill(what) {
            let count = choosers(list);
            if count != 1 {
                errors.add(
                    "survey",
                    Some(*line),
                    Some("prefill"),
                    format!("{what} is filled from the entity chosen in the one question of type select_one_from_file {list}.csv; the form has {count}"),
                );
            }
            continue;
        }
        let key = if what.starts_with("person.") {
            "person.resident_id"
        } else {
            "enterprise.uscc"
        };
        let keys = prefills.iter().filter(|(_, w)| w == key).count();
        if what == key && keys > 1 {
            errors.add(
                "survey",
                Some(*line),
                Some("prefill"),
                format!("{key} marks one question only"),
            );
        } else if keys == 0 {
            errors.add(
                "survey",
                Some(*line),
                Some("prefill"),
                format!("{what} is looked up by the question marked {key}, and there is none"),
            );
        }
    }
    while stack.len() > 1 {
        if let Some(open) = stack.pop() {
            errors.add(
                "survey",
                Some(open.line),
                Some("type"),
                format!("{} is never closed", open.node.name),
            );
            if let Some(parent) = stack.last_mut() {
                parent.children.push(open);
            }
        }
    }
    stack.pop().map(|d| d.children).unwrap_or_default()
}

/// Where each name is: its path of names from the root, and whether each step is a repeat.
struct Places {
    by_name: BTreeMap<String, (Vec<String>, Vec<bool>, u32)>,
}

fn collect(
    drafts: &[Draft],
    path: &mut Vec<String>,
    repeats: &mut Vec<bool>,
    places: &mut Places,
    errors: &mut Errors,
) {
    for draft in drafts {
        path.push(draft.node.name.clone());
        repeats.push(draft.node.kind == Kind::Repeat);
        if let Some((_, _, first)) = places.by_name.get(&draft.node.name) {
            errors.add(
                "survey",
                Some(draft.line),
                Some("name"),
                format!(
                    "the name {} is already used on row {first}",
                    draft.node.name
                ),
            );
        } else {
            places.by_name.insert(
                draft.node.name.clone(),
                (path.clone(), repeats.clone(), draft.line),
            );
        }
        collect(&draft.children, path, repeats, places, errors);
        path.pop();
        repeats.pop();
    }
}

/// The path written for `${target}` in an expression of the node at `from`: relative when
/// both are in the same repeat (as pyxform writes it), absolute otherwise.
fn reference(from: &[String], target: &[String], target_repeats: &[bool]) -> String {
    let shared = from.iter().zip(target).take_while(|(a, b)| a == b).count();
    // The deepest repeat above the target that also holds the referring node.
    let in_same_repeat = (0..target.len().saturating_sub(1))
        .filter(|i| target_repeats[*i])
        .any(|i| i < shared && i + 1 < from.len());
    if !in_same_repeat {
        return format!("/{ROOT}/{}", target.join("/"));
    }
    let parent = &from[..from.len() - 1];
    let common = parent
        .iter()
        .zip(target)
        .take_while(|(a, b)| a == b)
        .count();
    let up = from.len() - common;
    let mut parts: Vec<&str> = vec![".."; up];
    parts.extend(target[common..].iter().map(String::as_str));
    parts.join("/")
}

/// Replaces `${name}` references with paths; `Err` names the first unknown reference.
fn substitute(text: &str, from: &[String], places: &Places) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err("a ${ reference is never closed".into());
        };
        let name = after[..end].trim();
        let Some((path, repeats, _)) = places.by_name.get(name) else {
            return Err(format!("${{{name}}} names no question of this form"));
        };
        out.push(' ');
        out.push_str(&reference(from, path, repeats));
        out.push(' ');
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn resolve(
    drafts: Vec<Draft>,
    form: &mut Form,
    instance_name: Option<&String>,
    entity: Option<EntityDeclaration>,
    errors: &mut Errors,
) {
    let mut places = Places {
        by_name: BTreeMap::new(),
    };
    collect(
        &drafts,
        &mut Vec::new(),
        &mut Vec::new(),
        &mut places,
        errors,
    );
    let mut path = Vec::new();
    form.children = drafts
        .into_iter()
        .map(|d| finish(d, &mut path, &places, errors))
        .collect();
    if let Some(text) = instance_name {
        let from = vec!["meta".to_owned(), "instanceName".to_owned()];
        match substitute(text, &from, &places) {
            Ok(written) => match xpath::parse(&written) {
                Ok(_) => form.instance_name = Some(written),
                Err(e) => errors.add("settings", None, Some("instance_name"), e.to_string()),
            },
            Err(problem) => errors.add("settings", None, Some("instance_name"), problem),
        }
    }
    if let Some(entity) = entity {
        let from = ["meta", "entity", "label"].map(str::to_owned);
        match substitute(&entity.label, &from, &places) {
            Ok(written) => match xpath::parse(&written) {
                Ok(_) => {
                    form.entity = Some(EntityDeclaration {
                        label: written,
                        ..entity
                    })
                }
                Err(e) => errors.add(
                    "entities",
                    None,
                    Some("label"),
                    format!(
                        "the expression {:?} cannot be read: {}",
                        entity.label, e.problem
                    ),
                ),
            },
            Err(problem) => errors.add("entities", None, Some("label"), problem),
        }
    }
}

fn finish(draft: Draft, path: &mut Vec<String>, places: &Places, errors: &mut Errors) -> Node {
    let Draft {
        line,
        mut node,
        children,
    } = draft;
    path.push(node.name.clone());
    for (column, slot) in [
        ("required", &mut node.required),
        ("constraint", &mut node.constraint),
        ("relevant", &mut node.relevant),
        ("calculation", &mut node.calculation),
    ] {
        let Some(text) = slot.take() else { continue };
        match substitute(&text, path, places) {
            Ok(written) => match xpath::parse(&written) {
                Ok(_) => *slot = Some(written),
                Err(e) => errors.add(
                    "survey",
                    Some(line),
                    Some(column),
                    format!("the expression {text:?} cannot be read: {}", e.problem),
                ),
            },
            Err(problem) => errors.add("survey", Some(line), Some(column), problem),
        }
    }
    node.children = children
        .into_iter()
        .map(|d| finish(d, path, places, errors))
        .collect();
    path.pop();
    node
}
