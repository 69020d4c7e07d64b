//! Finding the residents a foreign credential may name. A health card of another country names
//! its holder in letters and gives a birth date; a resident of this region who shows one stays
//! under their own status. Each person registered here has keyed indexes of the spellings of
//! their name (see [`tongban_core::names`]) with their birth date, so a card's name and date
//! find them without any name or date being stored in clear, and nobody without the index key
//! can test a guess against the table.

use time::Date;
use tongban_core::ResidentId;
use tongban_core::names;

use super::personal::{PersonalText, index_person, mark_indexed, match_key, open_person_field};
use crate::error::AppResult;
use crate::state::AppState;

/// Indexes the persons registered before match keys existed. Runs when the node starts; the
/// platform opens their name and ID number to do so, which the transparency log records once,
/// with the number of persons.
pub async fn index_unmatched_persons(state: &AppState) -> AppResult<u64> {
    let mut indexed = 0u64;
    loop {
        let rows: Vec<(String, Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT id, name_sealed, resident_id_sealed FROM persons WHERE match_keyed IS NULL LIMIT 200",
        )
        .fetch_all(state.pool())
        .await?;
        if rows.is_empty() {
            break;
        }
        for (id, name, resident_id) in rows {
            let mut tx = state.pool().begin().await?;
            let opened = open_person_field(state, "name", &id, &name).and_then(|name| {
                let number: PersonalText =
                    open_person_field(state, "resident_id", &id, &resident_id)?;
                Ok((name, number))
            });
            match opened {
                Ok((name, number)) => match number.expose().parse::<ResidentId>() {
                    Ok(number) => index_person(state, &mut tx, &id, name.expose(), &number).await?,
                    // A number that no longer parses (it did when registered) gives no birth
                    // date: the person is marked indexed with no keys.
                    Err(_) => mark_indexed(state, &mut tx, &id).await?,
                },
                // Fields that do not open (a lost key) are the operator's to mend; the node
                // still starts, and the person is left unmatched.
                Err(error) => {
                    tracing::error!(person = %id, %error, "a person's fields do not open; not indexed for matching");
                    mark_indexed(state, &mut tx, &id).await?;
                }
            }
            tx.commit().await?;
            indexed += 1;
        }
    }
    if indexed > 0 {
        let entry = serde_json::json!({
            "kind": "person_match_keys_built",
            "at": crate::time_fmt::rfc3339(state.now()),
            "persons": indexed,
        });
        crate::ledger::service::append(state, &entry)
            .await
            .map_err(|_| crate::error::AppError::Unavailable)?;
    }
    Ok(indexed)
}

/// The persons registered here whose name, in one of its spellings, and birth date are those a
/// credential gives (`parts`: surname first; several spellings of the same name may be given,
/// such as a card's transliterated and original-script names).
pub async fn residents_matching(
    state: &AppState,
    spelt: &[Vec<&str>],
    birth: Date,
) -> AppResult<Vec<String>> {
    let mut keys: Vec<String> = Vec::new();
    for parts in spelt {
        for spelling in names::spellings(parts) {
            let key = match_key(state, &spelling, birth);
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT DISTINCT person_id FROM person_match_keys WHERE match_key IN ({}) ORDER BY person_id",
        crate::db::in_list(1, keys.len())
    );
    let mut query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
    for key in keys {
        query = query.bind(key);
    }
    Ok(query.fetch_all(state.pool()).await?)
}
