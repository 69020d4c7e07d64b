//! Chinese-aware search over the service catalogue. Chinese is written without spaces, and
//! people type shortened names (个体户注册 for 个体工商户注册登记), so an item matches by the
//! character pairs (bigrams) its name and keywords share with the query, not only by whole
//! words. Whole matches rank first: the exact name, then a name or keyword containing the
//! query, then shared pairs.

use super::item::ServiceDefinition;

/// The letters and digits of a text, lower-cased: spaces and punctuation do not count.
fn normalise(text: &str) -> Vec<char> {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn bigrams(chars: &[char]) -> Vec<(char, char)> {
    match chars {
        [] => Vec::new(),
        [only] => vec![(*only, '\0')],
        _ => chars.windows(2).map(|w| (w[0], w[1])).collect(),
    }
}

fn contains(haystack: &[char], needle: &[char]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// How well an item matches a normalised query; 0 for no match.
pub fn score(item: &ServiceDefinition, query: &[char]) -> u32 {
    if query.is_empty() {
        return 1;
    }
    let name = normalise(&item.name);
    let keywords: Vec<Vec<char>> = item.keywords.iter().map(|k| normalise(k)).collect();
    if name == query {
        return 1000;
    }
    if contains(&name, query) {
        // Shorter names that contain the query are closer to it.
        return 800 - (name.len().min(100) as u32);
    }
    if keywords.iter().any(|k| k == query) {
        return 700;
    }
    if keywords.iter().any(|k| contains(k, query)) {
        return 600;
    }
    let wanted = bigrams(query);
    let mut pool: Vec<(char, char)> = bigrams(&name);
    for k in &keywords {
        pool.extend(bigrams(k));
    }
    let shared = wanted.iter().filter(|b| pool.contains(b)).count();
    // At least half the query's pairs, and two when it has two or more.
    if shared * 2 >= wanted.len() && shared >= wanted.len().min(2) {
        return 100 + (shared * 300 / wanted.len()) as u32;
    }
    if contains(&normalise(&item.guide), query) {
        return 50;
    }
    0
}

/// Filters beside the words: department (USCC), theme and life event.
#[derive(Debug, Default, Clone)]
pub struct Filters {
    pub department: Option<String>,
    pub theme: Option<String>,
    pub life_event: Option<String>,
}

/// The items matching `query` and the filters, best first (by name among equals).
pub fn search<'a>(
    items: &'a [ServiceDefinition],
    query: &str,
    filters: &Filters,
) -> Vec<&'a ServiceDefinition> {
    let query = normalise(query);
    let mut found: Vec<(u32, &ServiceDefinition)> = items
        .iter()
        .filter(|i| {
            filters
                .department
                .as_ref()
                .is_none_or(|d| &i.department == d)
        })
        .filter(|i| {
            filters
                .theme
                .as_ref()
                .is_none_or(|t| i.theme.as_ref() == Some(t))
        })
        .filter(|i| {
            filters
                .life_event
                .as_ref()
                .is_none_or(|e| i.life_events.contains(e))
        })
        .map(|i| (score(i, &query), i))
        .filter(|(s, _)| *s > 0)
        .collect();
    found.sort_by(|(a, x), (b, y)| b.cmp(a).then_with(|| x.name.cmp(&y.name)));
    found.into_iter().map(|(_, i)| i).collect()
}
