//! `tongban forms`: XLSForm workbooks read and written as ODK XForms, offline.

use std::path::Path;

use anyhow::{Context, bail};
use tongban_core::zone::Zone;
use tongban_xform::check::Refusal;
use tongban_xform::xpath::Env;
use tongban_xform::{Checker, Form, xform, xlsform};

use crate::cli::FormsCommand;

pub(crate) fn forms(command: FormsCommand) -> anyhow::Result<()> {
    match command {
        FormsCommand::Xform { file } => {
            let form = read(&file)?;
            println!("{}", xform::write(&form));
            Ok(())
        }
        FormsCommand::Starter { file } => {
            std::fs::write(&file, tongban_app::collect::starter::workbook())
                .with_context(|| format!("writing {}", file.display()))?;
            println!("{}", file.display());
            Ok(())
        }
        FormsCommand::Check {
            file,
            submission,
            today,
        } => {
            let form = read(&file)?;
            let checker = Checker::new(form).map_err(|(path, e)| anyhow::anyhow!("{path}: {e}"))?;
            let xml = std::fs::read_to_string(&submission)
                .with_context(|| format!("reading {}", submission.display()))?;
            let today = match today {
                Some(day) => time::Date::parse(
                    &day,
                    time::macros::format_description!("[year]-[month]-[day]"),
                )
                .context("--today takes YYYY-MM-DD")?,
                None => Zone::CHINA.date_of_seconds(super::unix_now()),
            };
            match checker.check(&xml, &Env { today }) {
                Ok(checked) => {
                    let answers: Vec<serde_json::Value> = checked
                        .answers
                        .iter()
                        .map(|a| serde_json::json!({"path": a.path, "value": a.value}))
                        .collect();
                    let out = serde_json::json!({
                        "instance_id": checked.instance_id,
                        "instance_name": checked.instance_name,
                        "answers": answers,
                    });
                    println!("{}", serde_json::to_string_pretty(&out)?);
                    Ok(())
                }
                Err(Refusal::Invalid(list)) => {
                    for problem in &list {
                        eprintln!("{problem}");
                    }
                    bail!("{} answer(s) break the form's rules", list.len())
                }
                Err(other) => bail!("{other}"),
            }
        }
    }
}

fn read(file: &Path) -> anyhow::Result<Form> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("form")
        .to_owned();
    xlsform::read(&bytes, &stem).map_err(|errors| {
        for error in &errors {
            eprintln!("{error}");
        }
        anyhow::anyhow!("{} mistake(s) in {}", errors.len(), file.display())
    })
}
