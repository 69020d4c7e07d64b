//! The ops module's own tables: alert rules and the alerts they raised. Private to the module.

use crate::db::Exec;
use crate::error::AppResult;

/// A stored rule: id, region, figure, per, threshold, who set it, when (Unix milliseconds).
pub type RuleRow = (String, String, String, String, i64, String, i64);

/// An open alert: id, rule, period's start, value, raised at.
pub type AlertRow = (String, String, i64, i64, i64);

pub async fn rules(db: impl Exec<'_>) -> AppResult<Vec<RuleRow>> {
    Ok(sqlx::query_as(
        "SELECT id, region_code, figure, per, threshold, created_by, created_at FROM ops_alert_rules ORDER BY created_at, id",
    )
    .fetch_all(db)
    .await?)
}

pub async fn insert_rule(db: impl Exec<'_>, rule: &RuleRow) -> AppResult<()> {
    let (id, region, figure, per, threshold, created_by, created_at) = rule;
    sqlx::query("INSERT INTO ops_alert_rules (id, region_code, figure, per, threshold, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(id.clone())
        .bind(region.clone())
        .bind(figure.clone())
        .bind(per.clone())
        .bind(*threshold)
        .bind(created_by.clone())
        .bind(*created_at)
        .execute(db)
        .await?;
    Ok(())
}

/// Raises a rule's alert for a period unless it was raised: true when this raised it.
pub async fn raise(
    db: impl Exec<'_>,
    rule_id: &str,
    period_start: i64,
    value: i64,
    now: i64,
) -> AppResult<bool> {
    let inserted = sqlx::query("INSERT INTO ops_alerts (id, rule_id, period_start, value, raised_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (rule_id, period_start) DO NOTHING")
        .bind(crate::random::new_id())
        .bind(rule_id.to_owned())
        .bind(period_start)
        .bind(value)
        .bind(now)
        .execute(db)
        .await?;
    Ok(inserted.rows_affected() == 1)
}

/// The newest open alerts of the given rules, at most `limit`.
pub async fn open_alerts(
    db: &sqlx::AnyPool,
    rule_ids: &[&str],
    limit: i64,
) -> AppResult<Vec<AlertRow>> {
    const RULES_PER_STATEMENT: usize = 500;
    let mut rows: Vec<AlertRow> = Vec::new();
    for chunk in rule_ids.chunks(RULES_PER_STATEMENT) {
        let marks: Vec<String> = (2..chunk.len() + 2).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT id, rule_id, period_start, value, raised_at FROM ops_alerts \
             WHERE acknowledged_at IS NULL AND rule_id IN ({}) ORDER BY raised_at DESC LIMIT $1",
            marks.join(", ")
        );
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(limit);
        for id in chunk {
            query = query.bind((*id).to_owned());
        }
        rows.extend(query.fetch_all(db).await?);
    }
    rows.sort_by(|a, b| b.4.cmp(&a.4).then_with(|| a.0.cmp(&b.0)));
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(rows)
}

/// The region of an alert's rule, if the alert exists.
pub async fn alert_region(db: impl Exec<'_>, id: &str) -> AppResult<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT r.region_code FROM ops_alerts a JOIN ops_alert_rules r ON r.id = a.rule_id WHERE a.id = $1",
    )
    .bind(id.to_owned())
    .fetch_optional(db)
    .await?)
}

/// Marks an open alert acknowledged: false when it was already.
pub async fn acknowledge(db: impl Exec<'_>, id: &str, by: &str, now: i64) -> AppResult<bool> {
    let done = sqlx::query("UPDATE ops_alerts SET acknowledged_by = $2, acknowledged_at = $3 WHERE id = $1 AND acknowledged_at IS NULL")
        .bind(id.to_owned())
        .bind(by.to_owned())
        .bind(now)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether any figure is stored yet (the demo's history is seeded only into an empty table).
pub async fn any_figures(db: impl Exec<'_>) -> AppResult<bool> {
    let stored: Option<i64> = sqlx::query_scalar("SELECT 1 FROM ops_counts LIMIT 1")
        .fetch_optional(db)
        .await?;
    Ok(stored.is_some())
}
