//! Search of the service catalogue: the Chinese-aware engine (`tongban-search`) over items'
//! names, keywords and guides, with the catalogue's own filters.

use tongban_search::Searchable;

use super::item::ServiceDefinition;
use crate::error::{AppError, AppResult};

impl Searchable for ServiceDefinition {
    fn title(&self) -> &str {
        &self.name
    }

    fn keywords(&self) -> &[String] {
        &self.keywords
    }

    fn body(&self) -> &str {
        &self.guide
    }

    fn translated_titles(&self) -> Vec<&str> {
        self.en.iter().map(|en| en.name.as_str()).collect()
    }
}

/// Filters beside the words: department (USCC), theme and life event.
#[derive(Debug, Default, Clone)]
pub struct Filters {
    pub department: Option<String>,
    pub theme: Option<String>,
    pub life_event: Option<String>,
}

impl Filters {
    fn keep(&self, item: &ServiceDefinition) -> bool {
        self.department
            .as_ref()
            .is_none_or(|d| &item.department == d)
            && self
                .theme
                .as_ref()
                .is_none_or(|t| item.theme.as_ref() == Some(t))
            && self
                .life_event
                .as_ref()
                .is_none_or(|e| item.life_events.contains(e))
    }
}

/// The words of a search as asked in `field`: trimmed, `None` when empty, refused when longer
/// than the engine takes.
pub fn words(field: &'static str, query: Option<&str>) -> AppResult<Option<String>> {
    let Some(query) = query.map(str::trim).filter(|q| !q.is_empty()) else {
        return Ok(None);
    };
    if query.chars().count() > tongban_search::Query::MAX_CHARS {
        return Err(AppError::invalid(
            field,
            format!("at most {} characters", tongban_search::Query::MAX_CHARS),
        ));
    }
    Ok(Some(query.to_owned()))
}

/// [`search`] on a blocking thread, so that ranking a large catalogue never holds an async
/// worker that other requests wait for. Returns the matching items, best first.
pub async fn find(
    items: Vec<ServiceDefinition>,
    query: String,
    filters: Filters,
) -> AppResult<Vec<ServiceDefinition>> {
    tokio::task::spawn_blocking(move || {
        search(&items, &query, &filters)
            .into_iter()
            .cloned()
            .collect()
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))
}

/// The items matching `query` and the filters, best first (by name among equals). A query
/// that names a life event or a theme (生孩子, 退休, 婚姻登记) finds that event's or theme's
/// items first, as a person who types the words of their situation expects, then whatever
/// else the words match.
pub fn search<'a>(
    items: &'a [ServiceDefinition],
    query: &str,
    filters: &Filters,
) -> Vec<&'a ServiceDefinition> {
    let words = query.trim();
    let mut found: Vec<&ServiceDefinition> = if words.is_empty() {
        Vec::new()
    } else {
        items
            .iter()
            .filter(|item| {
                filters.keep(item)
                    && (item.life_events.iter().any(|e| e == words)
                        || item.theme.as_deref() == Some(words))
            })
            .collect()
    };
    found.sort_by(|a, b| a.name.cmp(&b.name));
    for item in tongban_search::search(items, query, |item| filters.keep(item)) {
        if !found.iter().any(|f| std::ptr::eq(*f, item)) {
            found.push(item);
        }
    }
    found
}
