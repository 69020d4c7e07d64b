//! What a document carries to another region (跨地区公文交换), and which of the organs it names
//! are a partner region's — the part of the document exchange the sending uses
//! (see [`crate::exchange`] for the provider and the outbox).

use serde::{Deserialize, Serialize};

use crate::error::AppResult;
use crate::gongwen::draft::Draft;
use crate::state::AppState;
use crate::store;

/// An organ: its USCC and its full name.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Organ {
    pub uscc: String,
    pub name: String,
}

/// An organ a package is for, and whether it is copied (抄送) rather than addressed (主送).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Addressee {
    pub uscc: String,
    pub name: String,
    #[serde(default)]
    pub copied: bool,
}

/// What one region sends another: the sent document as it stands, with its sender and the
/// organs of that region it names.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Package {
    /// The document's id in the sending region.
    pub document: String,
    pub sender: Organ,
    /// 发文字号.
    pub number: String,
    /// 成文日期, as written on it.
    pub dated: String,
    pub draft: Draft,
    pub recipients: Vec<Addressee>,
}

/// The organs of one partner region a document names.
pub struct Bound {
    pub region: String,
    /// The USCC of that region's document exchange.
    pub exchange_uscc: String,
    /// The organs, each with its name's position on the document.
    pub organs: Vec<(usize, Addressee)>,
}

/// The partner regions' organs named on a document that are not this region's, by region.
pub async fn remote_recipients(
    state: &AppState,
    names: &[(usize, &str, bool)],
) -> AppResult<Vec<Bound>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let partners = tongban_crossregion::partners::list(state).await?;
    let mut out: Vec<Bound> = Vec::new();
    for (position, name, copied) in names {
        let Some((region, uscc)) = store::remote_organ_named(state.pool(), name).await? else {
            continue;
        };
        let Some(partner) = partners.iter().find(|p| p.region == region) else {
            continue;
        };
        let addressee = Addressee {
            uscc,
            name: (*name).to_owned(),
            copied: *copied,
        };
        match out.iter_mut().find(|bound| bound.region == region) {
            Some(bound) => bound.organs.push((*position, addressee)),
            None => out.push(Bound {
                region,
                exchange_uscc: partner.intake_uscc.clone(),
                organs: vec![(*position, addressee)],
            }),
        }
    }
    Ok(out)
}
