//! Search of the service catalogue: the Chinese-aware engine (`tongban-search`) over items'
//! names, keywords and guides, with the catalogue's own filters.

use tongban_search::Searchable;

use super::item::ServiceDefinition;

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

/// The items matching `query` and the filters, best first (by name among equals).
pub fn search<'a>(
    items: &'a [ServiceDefinition],
    query: &str,
    filters: &Filters,
) -> Vec<&'a ServiceDefinition> {
    tongban_search::search(items, query, |item| filters.keep(item))
}
