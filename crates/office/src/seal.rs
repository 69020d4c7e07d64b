//! 用印 as a file: a sealed document's final PDF in the GB/T 9704 layout, signed as PAdES
//! baseline B under its organ's key, with an X.509 certificate the deployment's root issues
//! for that key. The file is made once, when first asked for after sealing (its signing time
//! is the seal's), stored, and its digest appended to the transparency log; every later read
//! gets the same bytes.
//!
//! Keys: in the `international` profile the seal signs with ECDSA P-256 (the algorithm PDF
//! readers and validators take; Ed25519 is not among them), in `gm` with SM2-SM3.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use serde::Serialize;
use tongban_crypto::{Profile, SignatureAlgorithm, Signer as _, SoftwareSigner};
use tongban_gongwen::draft::{Secrecy, Urgency};
use tongban_gongwen::flow::{Act, Step};
use tongban_gongwen::kind::{Direction, Kind};
use tongban_gongwen::pdf::{self, Face, Faces, Sheet, SignatureSlot};
use tongban_pades::cert::{self, Issuer, Request};

use crate::documents::{self, DocumentView};
use crate::error::{AppError, AppResult};
use crate::identity::model::Actor;
use crate::state::AppState;

const YEAR_MS: i64 = 365 * 86_400_000;
const ROOT_OWNER: &str = "platform";
const ROOT_PURPOSE: &str = "office-root";
const SEAL_PURPOSE: &str = "office-seal";

/// The faces of a fonts directory, read once per directory.
struct FontFiles {
    song: Vec<u8>,
    song_index: u32,
    kai: Vec<u8>,
    kai_index: u32,
}

fn fonts(dir: &Path) -> AppResult<Arc<FontFiles>> {
    static LOADED: OnceLock<Mutex<HashMap<PathBuf, Arc<FontFiles>>>> = OnceLock::new();
    let loaded = LOADED.get_or_init(Default::default);
    if let Some(files) = loaded.lock().ok().and_then(|m| m.get(dir).cloned()) {
        return Ok(files);
    }
    let read = |name: &str| {
        std::fs::read(dir.join(name)).map_err(|error| {
            tracing::error!(
                %error,
                file = %dir.join(name).display(),
                "the document faces are not installed: install fonts-arphic-uming and \
                 fonts-arphic-ukai, or set office_fonts_dir"
            );
            AppError::Unavailable
        })
    };
    let (song, kai) = (read("uming.ttc")?, read("ukai.ttc")?);
    let files = Arc::new(FontFiles {
        song_index: pdf::face_index(&song, "CN"),
        kai_index: pdf::face_index(&kai, "CN"),
        song,
        kai,
    });
    if let Ok(mut map) = loaded.lock() {
        map.insert(dir.to_owned(), files.clone());
    }
    Ok(files)
}

fn algorithm(profile: Profile) -> SignatureAlgorithm {
    match profile {
        Profile::International => SignatureAlgorithm::Es256,
        Profile::Gm => SignatureAlgorithm::Sm2Sm3,
    }
}

/// An RFC 4514 attribute value, its special characters escaped.
fn escaped(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        if matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=')
            || (i == 0 && matches!(c, '#' | ' '))
        {
            out.push('\\');
        }
        out.push(c);
    }
    out.trim_end().to_owned()
}

/// The certificate of `signer`'s key, issued (once) when there is none.
async fn certificate(
    state: &AppState,
    owner: &str,
    signer: &SoftwareSigner,
    subject: &str,
    issuer: Issuer<'_>,
    ca: bool,
) -> AppResult<Vec<u8>> {
    if let Some(der) = crate::store::certificate_der(state.pool(), signer.kid()).await? {
        return Ok(der);
    }
    let now = state.now();
    let serial: [u8; 16] = tongban_crypto::random_bytes(16)[..]
        .try_into()
        .map_err(|_| AppError::Internal(anyhow::anyhow!("16 random bytes")))?;
    let lifetime = if ca { 20 * YEAR_MS } else { 3 * YEAR_MS };
    let seconds = |ms: i64| u64::try_from(ms / 1000).unwrap_or(0);
    let der = cert::issue(
        &Request {
            subject,
            public_key: &signer.public_key(),
            serial,
            // A day back, for clocks a little behind.
            not_before: seconds(now - 86_400_000),
            not_after: seconds(now + lifetime),
            ca,
        },
        &issuer,
    )
    .map_err(|e| AppError::Internal(anyhow::anyhow!("issuing a certificate: {e}")))?;
    crate::store::insert_certificate(
        state.pool(),
        signer.kid(),
        owner,
        &der,
        subject,
        now + lifetime,
        now,
    )
    .await?;
    // Two nodes may have issued at once: the stored one is the certificate.
    Ok(crate::store::certificate_der(state.pool(), signer.kid())
        .await?
        .unwrap_or(der))
}

/// The deployment's root for document signatures: its key and self-signed certificate.
async fn root(state: &AppState) -> AppResult<(SoftwareSigner, Vec<u8>)> {
    let key = crate::keys::service::signer_with(
        state,
        ROOT_OWNER,
        ROOT_PURPOSE,
        algorithm(state.config.profile),
    )
    .await?;
    let subject = format!(
        "CN=tongban 电子公文根证书 {},C=CN",
        escaped(&state.config.region_code)
    );
    let der = certificate(
        state,
        ROOT_OWNER,
        &key,
        &subject,
        Issuer {
            signer: &key,
            certificate: None,
        },
        true,
    )
    .await?;
    Ok((key, der))
}

/// The root certificate as PEM, for verifiers to pin (`tongban office verify --root`).
pub async fn root_pem(state: &AppState) -> AppResult<String> {
    let (_, der) = root(state).await?;
    cert::pem(&der).map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))
}

/// An organ's seal key and its chain (its certificate, then the root's).
async fn organ(
    state: &AppState,
    department: &str,
    name: &str,
) -> AppResult<(SoftwareSigner, Vec<Vec<u8>>)> {
    let (root_key, root_der) = root(state).await?;
    let owner = format!("department:{department}");
    let key = crate::keys::service::signer_with(
        state,
        &owner,
        SEAL_PURPOSE,
        algorithm(state.config.profile),
    )
    .await?;
    let subject = format!("CN={},C=CN", escaped(name));
    let der = certificate(
        state,
        &owner,
        &key,
        &subject,
        Issuer {
            signer: &root_key,
            certificate: Some(&root_der),
        },
        false,
    )
    .await?;
    Ok((key, vec![der, root_der]))
}

/// Whether a document in `step` has been sealed (its file can be made).
pub fn sealed(step: Step) -> bool {
    matches!(step, Step::Registering | Step::Distributing | Step::Sent)
}

fn chinese_date(day: time::Date) -> String {
    format!("{}年{}月{}日", day.year(), u8::from(day.month()), day.day())
}

/// The page's elements from a document.
fn sheet(view: &DocumentView, organ: &str, signed: time::Date, sealed: time::Date) -> Sheet {
    let draft = &view.draft;
    let names = |list: &[tongban_gongwen::draft::Recipient]| {
        (!list.is_empty()).then(|| {
            list.iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>()
                .join("，")
        })
    };
    Sheet {
        copy: draft.secrecy.map(|_| "000001".to_owned()),
        secrecy: draft.secrecy.map(|(level, years)| {
            let level = match level {
                Secrecy::Secret => "秘密",
                Secrecy::Confidential => "机密",
                Secrecy::TopSecret => "绝密",
            };
            match years {
                Some(years) => format!("{level}★{years}年"),
                None => level.to_owned(),
            }
        }),
        urgency: draft.urgency.map(|u| {
            match u {
                Urgency::Urgent => "加急",
                Urgency::Immediate => "特急",
            }
            .to_owned()
        }),
        mark: if draft.kind == Kind::Letter {
            organ.to_owned()
        } else {
            format!("{organ}文件")
        },
        number: view.number.clone(),
        signer: (draft.direction == Direction::Upward)
            .then(|| draft.signer.clone())
            .flatten(),
        title: draft.title.clone(),
        recipients: names(&draft.main_recipients),
        body: draft
            .body
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        attachments: draft.attachments.clone(),
        organ: organ.to_owned(),
        date: chinese_date(signed),
        seal: Some(organ.to_owned()),
        copied_to: names(&draft.copied_to),
        printed_by: organ.to_owned(),
        printed_on: chinese_date(sealed),
    }
}

/// A PDF date (`D:20261207101500+08'00'`) of `millis` in `zone`.
fn pdf_date(zone: tongban_core::Zone, millis: i64) -> String {
    let at = zone.at(millis);
    let offset = zone.offset();
    let (h, m, _) = offset.as_hms();
    let sign = if offset.is_negative() { '-' } else { '+' };
    format!(
        "D:{:04}{:02}{:02}{:02}{:02}{:02}{sign}{:02}'{:02}'",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        h.unsigned_abs(),
        m.unsigned_abs()
    )
}

#[derive(Serialize)]
struct Logged<'a> {
    kind: &'static str,
    document: &'a str,
    digest: &'a str,
    kid: &'a str,
    at: i64,
}

/// The sealed document's signed PDF, for whoever may read the document; made on first read.
pub async fn file(state: &AppState, actor: &Actor, id: &str) -> AppResult<Vec<u8>> {
    let view = documents::view(state, actor, id).await?;
    if !sealed(view.step) {
        return Err(AppError::Conflict(
            "the document is not sealed yet: its file is made once the seal is set".into(),
        ));
    }
    if let Some(pdf) = crate::store::file_pdf(state.pool(), id).await? {
        return Ok(pdf);
    }
    let organ_name = crate::admin::store::department(state.pool(), &view.department_id)
        .await?
        .map(|d| d.name)
        .ok_or(AppError::NotFound)?;
    let at = |act: Act| {
        view.history
            .iter()
            .rev()
            .find(|h| h.act == act)
            .and_then(|h| crate::time_fmt::parse_millis(&h.at))
    };
    let sealed_at = at(Act::Seal).unwrap_or_else(|| state.now());
    let zone = state.zone();
    let signed_on = zone.date_of(at(Act::Sign).unwrap_or(sealed_at));
    let sheet = sheet(&view, &organ_name, signed_on, zone.date_of(sealed_at));
    let (key, chain) = organ(state, &view.department_id, &organ_name).await?;
    let faces = fonts(&state.config.office_fonts_dir)?;
    let slot = SignatureSlot {
        name: organ_name,
        time: pdf_date(zone, sealed_at),
        contents_len: tongban_pades::CONTENTS_LEN,
    };
    let made = tokio::task::spawn_blocking(move || {
        let laid = pdf::render(
            &sheet,
            &Faces {
                song: Face {
                    data: &faces.song,
                    index: faces.song_index,
                },
                kai: Face {
                    data: &faces.kai,
                    index: faces.kai_index,
                },
            },
            Some(&slot),
        )
        .map_err(|e| AppError::Invalid {
            field: "body",
            reason: format!("the document cannot be set: {e}"),
        })?;
        tongban_pades::sign(laid, &key, &chain)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("signing the file: {e}")))
            .map(|signed| (signed, key.kid().to_owned()))
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))??;
    let (signed, kid) = made;
    let digest = crate::desk::hex(&tongban_crypto::digest(
        state.config.profile.hash(),
        &signed,
    ));
    let inserted =
        crate::store::insert_file(state.pool(), id, &signed, &digest, &kid, state.now()).await?;
    if inserted {
        let entry = Logged {
            kind: "office_file",
            document: id,
            digest: &digest,
            kid: &kid,
            at: state.now(),
        };
        match crate::ledger::service::append(state, &entry).await {
            Ok(index) => {
                crate::store::set_file_log_index(
                    state.pool(),
                    id,
                    i64::try_from(index).unwrap_or(i64::MAX),
                )
                .await?;
            }
            Err(error) => tracing::warn!(%error, "a document file waits for the transparency log"),
        }
    }
    // Another node may have made it first: the stored file is the file.
    Ok(crate::store::file_pdf(state.pool(), id)
        .await?
        .unwrap_or(signed))
}

/// The file as an HTTP answer, shown in the browser's PDF viewer.
pub fn response(id: &str, file: Vec<u8>) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse as _;
    let name = id.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "");
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{name}.pdf\""),
            ),
        ],
        file,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_for_rfc_4514() {
        assert_eq!(escaped("临江区政务服务管理局"), "临江区政务服务管理局");
        assert_eq!(escaped("A, B+C"), "A\\, B\\+C");
        assert_eq!(escaped("#x"), "\\#x");
    }

    #[test]
    fn pdf_dates_carry_the_zone() {
        // 2026-12-07T02:15:00Z is 10:15 in China.
        let millis = 1_796_609_700_000;
        assert_eq!(
            pdf_date(tongban_core::Zone::CHINA, millis),
            "D:20261207101500+08'00'"
        );
        assert_eq!(
            pdf_date(tongban_core::Zone::UTC, millis),
            "D:20261207021500+00'00'"
        );
    }
}
