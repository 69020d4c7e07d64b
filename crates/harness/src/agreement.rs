//! A 跨省通办 agreement between two regions' nodes, made as their administrators make it, over
//! each node's own API: each region's two security administrators recognise the other region
//! (its trust list and root key), each government-services administration grants the other's
//! intake department the intake resource, and each records the other as a partner. Used by
//! `tongban bench cross-region` and by `tongban demo` when it starts a partner region.

use anyhow::Context;
use serde_json::{Value, json};

/// A region's node as the agreement reaches it: its state, address and demo tokens.
pub struct Region<'a> {
    pub state: &'a tongban_app::state::AppState,
    pub base: &'a str,
    /// (username, API token) of its demo accounts.
    pub tokens: &'a [(String, String)],
}

impl Region<'_> {
    fn token(&self, username: &str) -> anyhow::Result<&str> {
        self.tokens
            .iter()
            .find(|(name, _)| name == username)
            .map(|(_, token)| token.as_str())
            .context("a demo account")
    }

    /// The USCC of the city's department of `kind`.
    pub async fn uscc(&self, kind: &str) -> anyhow::Result<String> {
        tongban_app::admin::store::departments(self.state.pool())
            .await?
            .into_iter()
            .find(|d| d.kind == kind && d.region_code.as_str() == tongban_app::demo::CITY)
            .and_then(|d| d.uscc)
            .context("a city department with a USCC")
    }

    async fn post(
        &self,
        client: &reqwest::Client,
        username: &str,
        path: &str,
        body: &Value,
    ) -> anyhow::Result<Value> {
        let response = client
            .post(format!("{}{path}", self.base))
            .bearer_auth(self.token(username)?)
            .json(body)
            .send()
            .await?;
        let status = response.status();
        let text = response.text().await?;
        anyhow::ensure!(status.is_success(), "{path}: {status} {text}");
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

/// `to` recognises `from` (one security administrator proposes, a second approves).
pub async fn recognise(
    client: &reqwest::Client,
    to: &Region<'_>,
    from: &Region<'_>,
) -> anyhow::Result<()> {
    use base64::Engine as _;
    use tongban_crypto::Signer as _;
    let list: Value = client
        .get(format!("{}/api/v1/trust-list", from.base))
        .send()
        .await?
        .json()
        .await?;
    let region = from.state.config.region_code.clone();
    let root =
        tongban_app::keys::service::signer(from.state, &region, tongban_app::keys::service::ROOT)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    let root = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(root.public_key().bytes);
    let proposed = to
        .post(
            client,
            "demo.secadmin",
            "/api/v1/admin/trusted-regions",
            &json!({"trust_list": list, "root_key": root}),
        )
        .await?;
    let id = proposed["proposal"].as_str().context("a proposal")?;
    to.post(
        client,
        "demo.secadmin2",
        &format!("/api/v1/admin/trust-proposals/{id}/approve"),
        &json!({}),
    )
    .await?;
    Ok(())
}

/// The whole agreement, both ways: recognition, the intake grants, the partners (whose
/// catalogues each then reads).
pub async fn agree(client: &reqwest::Client, a: &Region<'_>, b: &Region<'_>) -> anyhow::Result<()> {
    recognise(client, b, a).await?;
    recognise(client, a, b).await?;
    let until = tongban_core::zone::ymd(b.state.today() + time::Duration::days(365));
    let items: Vec<&str> = tongban_app::crossregion::intake::ITEMS
        .iter()
        .map(|(code, _, _)| *code)
        .collect();
    for (owner, other) in [(b, a), (a, b)] {
        owner
            .post(
                client,
                "demo.deptadmin",
                "/api/v1/exchange/foreign-grants",
                &json!({"resource": tongban_app::crossregion::INTAKE_RESOURCE,
                    "uscc": other.uscc("government_services").await?, "name": "合作地区政务服务管理局",
                    "items": items, "purpose": "跨省通办：收件、回执与事项清单",
                    "legal_basis": "跨省通办合作协议", "until": until}),
            )
            .await?;
    }
    for (here, other) in [(a, b), (b, a)] {
        here.post(
            client,
            "demo.deptadmin",
            "/api/v1/cross-region/partners",
            &json!({"region": other.state.config.region_code,
                "intake_uscc": other.uscc("government_services").await?, "name": "合作地区"}),
        )
        .await?;
    }
    Ok(())
}
