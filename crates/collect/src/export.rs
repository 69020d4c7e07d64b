//! A form's submissions exported as ODK Central exports them, for the tools that read Central's
//! files (R's ruODK, pandas, Stata scripts written for Briefcase):
//!
//! - `GET …/forms/{form}/submissions.csv`: the root table;
//! - `GET …/forms/{form}/submissions.csv.zip`: the root table as `{form}.csv`, one table per
//!   repeat (`{form}-{repeat}.csv`, each row with its `PARENT_KEY` and `KEY`), and the files
//!   the submissions hold under `media/` (`?attachments=false` leaves them out).
//!
//! Columns: `SubmissionDate`, each question's path with its groups joined by `-`
//! (`?groupPaths=false`: its name alone), a geopoint as `-Latitude`, `-Longitude`, `-Altitude`,
//! `-Accuracy`, a select-multiple as its answer (`?splitSelectMultiples=true` adds a 0/1 column
//! per choice, `{path}/{choice}`), `meta-instanceID` (and `meta-instanceName`), then `KEY`,
//! `SubmitterID`, `SubmitterName`, `AttachmentsPresent`, `AttachmentsExpected`, `Status`,
//! `ReviewState`, `DeviceID`, `Edits`, `FormVersion`. Values are written as collected (an
//! export for analysis, not a spreadsheet made for reading: the roll-up's exports are those).
//!
//! The export opens every submission of the form: only the project's staff may ask, and each
//! export is recorded in the transparency log (who, the form, how many submissions).

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use tongban_xform::{Form, Instance, Kind, Node};

use crate::error::{AppError, AppResult};
use crate::identity::model::Actor;
use crate::service;
use crate::state::AppState;
use crate::store::{self, Project, SubmissionRow};
use crate::time_fmt::rfc3339;

/// The most submissions one export holds.
pub const MAX_ROWS: i64 = 50_000;

/// How the columns are named and whether files go with the tables.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub group_paths: bool,
    pub split_select_multiples: bool,
    pub attachments: bool,
}

/// A table being written: its header and rows.
struct Table {
    name: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// The columns of the questions under `nodes` (not descending into repeats), with the
/// element path of each.
fn columns(
    nodes: &[Node],
    prefix: &[String],
    form: &Form,
    options: Options,
    out: &mut Vec<(String, Vec<String>, Column)>,
) {
    for node in nodes {
        let mut path = prefix.to_vec();
        path.push(node.name.clone());
        let name = if options.group_paths {
            path.join("-")
        } else {
            node.name.clone()
        };
        match &node.kind {
            Kind::Group => columns(&node.children, &path, form, options, out),
            Kind::Repeat | Kind::Note => {}
            Kind::Geopoint => {
                for (i, part) in ["Latitude", "Longitude", "Altitude", "Accuracy"]
                    .iter()
                    .enumerate()
                {
                    out.push((format!("{name}-{part}"), path.clone(), Column::Part(i)));
                }
            }
            Kind::SelectMultiple(list) => {
                out.push((name.clone(), path.clone(), Column::Whole));
                if options.split_select_multiples
                    && let Some(list) = form.list(list)
                {
                    for choice in &list.choices {
                        out.push((
                            format!("{name}/{}", choice.name),
                            path.clone(),
                            Column::Chosen(choice.name.clone()),
                        ));
                    }
                }
            }
            _ => out.push((name, path, Column::Whole)),
        }
    }
}

/// What a column takes from its element's text.
#[derive(Debug, Clone)]
enum Column {
    Whole,
    /// One of a geopoint's space-separated parts.
    Part(usize),
    /// 1 when the choice is among the answers, else 0.
    Chosen(String),
}

fn cell(doc: &Instance, at: usize, path: &[String], column: &Column) -> String {
    let mut node = Some(at);
    for name in path {
        node = node.and_then(|n| doc.children_named(n, name).next());
    }
    let text = node.map(|n| doc.text(n).trim()).unwrap_or("");
    match column {
        Column::Whole => text.to_owned(),
        Column::Part(i) => text.split_whitespace().nth(*i).unwrap_or("").to_owned(),
        // Not answered: neither chosen nor refused.
        Column::Chosen(_) if text.is_empty() => String::new(),
        Column::Chosen(choice) => {
            if text.split_whitespace().any(|v| v == choice) {
                "1".into()
            } else {
                "0".into()
            }
        }
    }
}

/// The repeats under `nodes` (outside other repeats), with their element paths.
fn repeats<'a>(nodes: &'a [Node], prefix: &[String], out: &mut Vec<(Vec<String>, &'a Node)>) {
    for node in nodes {
        let mut path = prefix.to_vec();
        path.push(node.name.clone());
        match node.kind {
            Kind::Repeat => out.push((path, node)),
            Kind::Group => repeats(&node.children, &path, out),
            _ => {}
        }
    }
}

/// Writes the rows of one repeat's instances under `at` (and, recursively, of the repeats
/// inside them) into `tables`.
#[allow(clippy::too_many_arguments)]
fn repeat_rows(
    doc: &Instance,
    at: usize,
    path: &[String],
    node: &Node,
    parent_key: &str,
    form: &Form,
    options: Options,
    tables: &mut Vec<Table>,
) {
    let name = format!("{}-{}", form.id, node.name);
    let mut cols = Vec::new();
    columns(&node.children, &[], form, options, &mut cols);
    let position = match tables.iter().position(|t| t.name == name) {
        Some(p) => p,
        None => {
            let mut header: Vec<String> = cols.iter().map(|(n, _, _)| n.clone()).collect();
            header.push("PARENT_KEY".into());
            header.push("KEY".into());
            tables.push(Table {
                name: name.clone(),
                header,
                rows: Vec::new(),
            });
            tables.len() - 1
        }
    };
    // The repeat's elements: the groups above it, then every instance of it.
    let mut holder = Some(at);
    for step in &path[..path.len() - 1] {
        holder = holder.and_then(|n| doc.children_named(n, step).next());
    }
    let Some(holder) = holder else {
        return;
    };
    for (n, element) in doc.children_named(holder, &node.name).enumerate() {
        let key = format!("{parent_key}/{}[{}]", node.name, n + 1);
        let mut row: Vec<String> = cols
            .iter()
            .map(|(_, p, c)| cell(doc, element, p, c))
            .collect();
        row.push(parent_key.to_owned());
        row.push(key.clone());
        tables[position].rows.push(row);
        let mut inner = Vec::new();
        repeats(&node.children, &[], &mut inner);
        for (inner_path, inner_node) in inner {
            repeat_rows(
                doc,
                element,
                &inner_path,
                inner_node,
                &key,
                form,
                options,
                tables,
            );
        }
    }
}

/// The tables of a form's submissions: the root first, then one per repeat (when `with_repeats`).
fn tables(
    form: &Form,
    submissions: &[(SubmissionRow, String, Option<String>, usize)],
    options: Options,
    with_repeats: bool,
) -> AppResult<Vec<Table>> {
    let mut cols = Vec::new();
    columns(&form.children, &[], form, options, &mut cols);
    let meta = |name: &str| {
        if options.group_paths {
            format!("meta-{name}")
        } else {
            name.to_owned()
        }
    };
    let mut header = vec!["SubmissionDate".to_owned()];
    header.extend(cols.iter().map(|(n, _, _)| n.clone()));
    header.push(meta("instanceID"));
    if form.instance_name.is_some() {
        header.push(meta("instanceName"));
    }
    for name in [
        "KEY",
        "SubmitterID",
        "SubmitterName",
        "AttachmentsPresent",
        "AttachmentsExpected",
        "Status",
        "ReviewState",
        "DeviceID",
        "Edits",
        "FormVersion",
    ] {
        header.push(name.to_owned());
    }
    let mut root = Table {
        name: form.id.clone(),
        header,
        rows: Vec::with_capacity(submissions.len()),
    };
    let mut others = Vec::new();
    let mut repeat_nodes = Vec::new();
    repeats(&form.children, &[], &mut repeat_nodes);
    for (submission, submitter, xml, files) in submissions {
        let Some(xml) = xml else { continue };
        let doc = Instance::parse(xml).map_err(|e| AppError::Internal(e.into()))?;
        let at = Instance::ROOT;
        let mut row = vec![rfc3339(submission.created_at)];
        row.extend(cols.iter().map(|(_, p, c)| cell(&doc, at, p, c)));
        let meta_text = |name: &str| {
            doc.children_named(at, "meta")
                .next()
                .and_then(|m| doc.children_named(m, name).next())
                .map(|n| doc.text(n).trim().to_owned())
                .unwrap_or_default()
        };
        row.push(meta_text("instanceID"));
        if form.instance_name.is_some() {
            row.push(meta_text("instanceName"));
        }
        row.push(submission.instance_id.clone());
        row.push(submission.submitter_id.to_string());
        row.push(submitter.clone());
        row.push(files.to_string());
        row.push(files.to_string());
        row.push(String::new());
        row.push(submission.review_state.clone().unwrap_or_default());
        row.push(submission.device_id.clone().unwrap_or_default());
        row.push("0".into());
        row.push(submission.version.clone());
        root.rows.push(row);
        if with_repeats {
            for (path, node) in &repeat_nodes {
                repeat_rows(
                    &doc,
                    at,
                    path,
                    node,
                    &submission.instance_id,
                    form,
                    options,
                    &mut others,
                );
            }
        }
    }
    let mut out = vec![root];
    out.extend(others);
    Ok(out)
}

fn csv_of(table: &Table) -> Vec<u8> {
    tongban_tables::table::to_csv(&table.header, table.rows.iter().map(Vec::as_slice))
}

/// Exports a form's submissions: the root table as CSV, or (`zip`) every table and the files.
pub async fn export(
    state: &AppState,
    actor: &Actor,
    project: &Project,
    xml_form_id: &str,
    options: Options,
    zip: bool,
) -> AppResult<Response> {
    let row = store::form(state.pool(), project.id, xml_form_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let form: Form =
        serde_json::from_str(&row.definition).map_err(|e| AppError::Internal(e.into()))?;
    let rows = store::submissions(state.pool(), project.id, xml_form_id, 0, MAX_ROWS).await?;
    service::log(
        state,
        actor,
        "collect.submissions_exported",
        serde_json::json!({
            "project": project.id,
            "form": xml_form_id,
            "submissions": rows.len(),
            "format": if zip { "csv.zip" } else { "csv" },
        }),
    )
    .await?;
    let names: std::collections::HashMap<i64, String> = store::collector_names(
        state.pool(),
        &rows.iter().map(|r| r.submitter_id).collect::<Vec<_>>(),
    )
    .await?
    .into_iter()
    .collect();
    let mut opened = Vec::with_capacity(rows.len());
    let mut media = Vec::new();
    for submission in rows {
        let xml = service::submission_xml(state, &submission)?;
        let files = store::attachment_bodies(
            state.pool(),
            project.id,
            xml_form_id,
            &submission.instance_id,
        )
        .await?;
        if zip && options.attachments {
            for (name, sealed) in &files {
                let plain = state.vault.open_field(
                    &service::file_context(project.id, xml_form_id, &submission.instance_id, name),
                    sealed,
                )?;
                media.push((format!("media/{name}"), plain.to_vec()));
            }
        }
        let count = files.len();
        let submitter = names
            .get(&submission.submitter_id)
            .cloned()
            .unwrap_or_default();
        opened.push((submission, submitter, Some(xml), count));
    }
    let tables = tables(&form, &opened, options, zip)?;
    let (body, content_type, file) = if zip {
        let mut files: Vec<(String, Vec<u8>)> = tables
            .iter()
            .map(|t| (format!("{}.csv", t.name), csv_of(t)))
            .collect();
        files.extend(media);
        (
            tongban_tables::table::archive(&files),
            "application/zip",
            format!("{xml_form_id}.zip"),
        )
    } else {
        (
            csv_of(&tables[0]),
            "text/csv; charset=utf-8",
            format!("{xml_form_id}.csv"),
        )
    };
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
