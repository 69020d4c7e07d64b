//! tongban-search: Chinese-aware search over a catalogue held in memory — service items today,
//! datasets, forms and documents as those modules arrive.
//!
//! Chinese is written without spaces, and people type shortened names (个体户注册 for
//! 个体工商户注册登记), so an entry matches by the character pairs (bigrams) its title and
//! keywords share with the query, not only by whole words. Whole matches rank first: the exact
//! title, then a title or keyword containing the query, then shared pairs, then the body text.
//! Facets count the values of a field (department, theme …) among the entries found.
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// What a catalogue entry offers to search.
pub trait Searchable {
    /// The name people know the entry by.
    fn title(&self) -> &str;
    /// Other names and words it is known by.
    fn keywords(&self) -> &[String];
    /// Longer text (a guide, a description), matched only as a last resort.
    fn body(&self) -> &str;
    /// Its name in other languages, matched as keywords are.
    fn translated_titles(&self) -> Vec<&str> {
        Vec::new()
    }
}

/// A query, normalised once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query(Vec<char>);

impl Query {
    /// The longest query a caller should accept, in characters: enough for any name or
    /// phrase, and it bounds the work one request can ask of the ranking.
    pub const MAX_CHARS: usize = 100;

    pub fn new(text: &str) -> Query {
        Query(normalise(text))
    }

    /// Whether the query has no letters or digits: every entry matches it.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The letters and digits of a text, lower-cased: spaces and punctuation do not count.
pub fn normalise(text: &str) -> Vec<char> {
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

type Pair = (char, char);

/// An entry's text, normalised once: what scoring reads.
#[derive(Debug, Clone, Default)]
struct Doc {
    title: Vec<char>,
    keywords: Vec<Vec<char>>,
    body: Vec<char>,
}

impl Doc {
    fn new(entry: &impl Searchable) -> Doc {
        Doc {
            title: normalise(entry.title()),
            keywords: entry
                .keywords()
                .iter()
                .map(String::as_str)
                .chain(entry.translated_titles())
                .map(normalise)
                .collect(),
            body: normalise(entry.body()),
        }
    }

    /// The pairs of its title and keywords, each once.
    fn name_pairs(&self) -> Vec<Pair> {
        let mut pool = bigrams(&self.title);
        for k in &self.keywords {
            pool.extend(bigrams(k));
        }
        pool.sort_unstable();
        pool.dedup();
        pool
    }

    /// The distinct pairs of its body.
    fn body_pairs(&self) -> Vec<Pair> {
        let mut pairs = bigrams(&self.body);
        pairs.sort_unstable();
        pairs.dedup();
        pairs
    }

    /// The score of a non-empty query; `shared` is how many of the query's pairs (counted
    /// with repeats) its title and keywords hold, when the caller has counted them.
    fn score(&self, query: &[char], wanted: &[Pair], shared: Option<usize>) -> u32 {
        if self.title == query {
            return 1000;
        }
        if contains(&self.title, query) {
            // Shorter titles that contain the query are closer to it.
            return 800 - (self.title.len().min(100) as u32);
        }
        if self.keywords.iter().any(|k| k == query) {
            return 700;
        }
        if self.keywords.iter().any(|k| contains(k, query)) {
            return 600;
        }
        let shared = shared.unwrap_or_else(|| {
            let pool = self.name_pairs();
            wanted
                .iter()
                .filter(|b| pool.binary_search(b).is_ok())
                .count()
        });
        // At least half the query's pairs, and two when it has two or more.
        if shared * 2 >= wanted.len() && shared >= wanted.len().min(2) {
            return 100 + (shared * 300 / wanted.len()) as u32;
        }
        if contains(&self.body, query) {
            return 50;
        }
        0
    }
}

/// How well an entry matches a query; 0 for no match, 1 for every entry on an empty query.
pub fn score(entry: &impl Searchable, query: &Query) -> u32 {
    if query.0.is_empty() {
        return 1;
    }
    Doc::new(entry).score(&query.0, &bigrams(&query.0), None)
}

/// Moves `at` out of the lists of the pairs in `old` only and into those of the pairs in `new`
/// only (both sorted). A list is copied only when another index still shares it.
fn patch_postings(lists: &mut HashMap<Pair, Arc<Vec<u32>>>, old: &[Pair], new: &[Pair], at: u32) {
    for pair in old.iter().filter(|p| new.binary_search(p).is_err()) {
        if let Some(list) = lists.get_mut(pair) {
            let list = Arc::make_mut(list);
            if let Some(i) = list.iter().position(|&p| p == at) {
                list.swap_remove(i);
            }
            if list.is_empty() {
                lists.remove(pair);
            }
        }
    }
    for pair in new.iter().filter(|p| old.binary_search(p).is_err()) {
        Arc::make_mut(lists.entry(*pair).or_default()).push(at);
    }
}

thread_local! {
    /// Per-entry tallies of a search, all zero between searches: (pairs its names share
    /// with the query, distinct pairs its body holds).
    static TALLIES: std::cell::RefCell<Vec<(u16, u16)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A catalogue indexed for search: each entry's text normalised once, and for each character
/// pair the entries whose title or keywords hold it, and those whose body does. A search
/// scores only the entries that share enough pairs with the query — the same scores
/// [`score`] gives, without reading the whole catalogue.
///
/// An index is patched entry by entry ([`Index::set`]) without being built again: a clone
/// shares every posting list and entry text, and a patch copies only the lists it changes.
#[derive(Debug, Clone, Default)]
pub struct Index {
    docs: Vec<Arc<Doc>>,
    /// Positions whose entry was removed: they are found by no query.
    gone: Vec<bool>,
    names: HashMap<Pair, Arc<Vec<u32>>>,
    bodies: HashMap<Pair, Arc<Vec<u32>>>,
}

impl Index {
    /// Indexes entries; a match is named by its position among them.
    pub fn new<'a, T: Searchable + 'a>(entries: impl IntoIterator<Item = &'a T>) -> Index {
        let mut names: HashMap<Pair, Vec<u32>> = HashMap::new();
        let mut bodies: HashMap<Pair, Vec<u32>> = HashMap::new();
        let mut docs = Vec::new();
        for (position, entry) in entries.into_iter().enumerate() {
            let doc = Doc::new(entry);
            let position = position as u32;
            for pair in doc.name_pairs() {
                names.entry(pair).or_default().push(position);
            }
            for pair in doc.body_pairs() {
                bodies.entry(pair).or_default().push(position);
            }
            docs.push(Arc::new(doc));
        }
        Index {
            gone: vec![false; docs.len()],
            docs,
            names: names.into_iter().map(|(k, v)| (k, Arc::new(v))).collect(),
            bodies: bodies.into_iter().map(|(k, v)| (k, Arc::new(v))).collect(),
        }
    }

    /// Sets the entry at `position` (one past the last appends it; `None` removes it): only
    /// the posting lists of the character pairs it gains or loses change.
    pub fn set<T: Searchable>(&mut self, position: usize, entry: Option<&T>) {
        if position > self.docs.len() {
            return;
        }
        let doc = entry.map(Doc::new).unwrap_or_default();
        let (old_names, old_bodies) = match self.docs.get(position) {
            Some(old) => (old.name_pairs(), old.body_pairs()),
            None => (Vec::new(), Vec::new()),
        };
        let at = position as u32;
        patch_postings(&mut self.names, &old_names, &doc.name_pairs(), at);
        patch_postings(&mut self.bodies, &old_bodies, &doc.body_pairs(), at);
        if position == self.docs.len() {
            self.docs.push(Arc::new(doc));
            self.gone.push(entry.is_none());
        } else {
            self.docs[position] = Arc::new(doc);
            self.gone[position] = entry.is_none();
        }
    }

    /// Positions held, removed ones included.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// Every entry that matches, as (position, score), in position order; on an empty query
    /// every entry, scored 1.
    pub fn matches(&self, query: &Query) -> Vec<(usize, u32)> {
        let query = query.0.as_slice();
        if query.is_empty() {
            return (0..self.docs.len())
                .filter(|&i| !self.gone[i])
                .map(|i| (i, 1))
                .collect();
        }
        let wanted = bigrams(query);
        if query.len() == 1 {
            // One character is a part of many pairs: read every entry.
            return self
                .docs
                .iter()
                .enumerate()
                .map(|(i, doc)| (i, doc.score(query, &wanted, None)))
                .filter(|(_, s)| *s > 0)
                .collect();
        }
        let mut distinct = wanted.clone();
        distinct.sort_unstable();
        distinct.dedup();
        let need = wanted.len().min(2);
        TALLIES.with(|tallies| {
            let mut tallies = tallies.borrow_mut();
            tallies.resize(self.docs.len(), (0, 0));
            let mut touched: Vec<u32> = Vec::new();
            // How many of the query's pairs (with repeats) each entry's names hold …
            for pair in &wanted {
                for &at in self.names.get(pair).map_or(&[][..], |l| l.as_slice()) {
                    let tally = &mut tallies[at as usize];
                    if *tally == (0, 0) {
                        touched.push(at);
                    }
                    tally.0 = tally.0.saturating_add(1);
                }
            }
            // … and how many distinct pairs its body holds: with all of them it may contain
            // the query.
            for pair in &distinct {
                for &at in self.bodies.get(pair).map_or(&[][..], |l| l.as_slice()) {
                    let tally = &mut tallies[at as usize];
                    if *tally == (0, 0) {
                        touched.push(at);
                    }
                    tally.1 += 1;
                }
            }
            touched.sort_unstable();
            let mut found = Vec::new();
            for at in touched {
                let (shared, in_body) = std::mem::take(&mut tallies[at as usize]);
                let n = shared as usize;
                if (n * 2 >= wanted.len() && n >= need) || in_body as usize == distinct.len() {
                    let score = self.docs[at as usize].score(query, &wanted, Some(n));
                    if score > 0 {
                        found.push((at as usize, score));
                    }
                }
            }
            found
        })
    }
}

/// The entries that match `query` and `keep`, best first (by title among equals).
pub fn search<'a, T: Searchable>(
    entries: &'a [T],
    query: &str,
    keep: impl Fn(&T) -> bool,
) -> Vec<&'a T> {
    let query = Query::new(query);
    let mut found: Vec<(u32, &T)> = entries
        .iter()
        .filter(|e| keep(e))
        .map(|e| (score(e, &query), e))
        .filter(|(s, _)| *s > 0)
        .collect();
    found.sort_by(|(a, x), (b, y)| b.cmp(a).then_with(|| x.title().cmp(y.title())));
    found.into_iter().map(|(_, e)| e).collect()
}

/// How many of `entries` carry each value of a field (an entry may carry several), most
/// first, then by value.
pub fn facet<'a, T: 'a, V: AsRef<str>>(
    entries: impl IntoIterator<Item = &'a T>,
    values: impl Fn(&T) -> Vec<V>,
) -> Vec<(String, usize)> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for entry in entries {
        let mut seen: Vec<String> = values(entry)
            .iter()
            .map(|v| v.as_ref().to_owned())
            .collect();
        seen.sort();
        seen.dedup();
        for value in seen {
            *counts.entry(value).or_default() += 1;
        }
    }
    let mut counts: Vec<(String, usize)> = counts.into_iter().collect();
    counts.sort_by(|(a, x), (b, y)| y.cmp(x).then_with(|| a.cmp(b)));
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Entry {
        title: &'static str,
        keywords: Vec<String>,
        body: &'static str,
        theme: &'static str,
    }

    impl Searchable for Entry {
        fn title(&self) -> &str {
            self.title
        }
        fn keywords(&self) -> &[String] {
            &self.keywords
        }
        fn body(&self) -> &str {
            self.body
        }
    }

    fn entry(
        title: &'static str,
        keywords: &[&str],
        body: &'static str,
        theme: &'static str,
    ) -> Entry {
        Entry {
            title,
            keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
            body,
            theme,
        }
    }

    fn catalogue() -> Vec<Entry> {
        vec![
            entry(
                "个体工商户注册登记",
                &["开店", "营业执照"],
                "办理个体户营业执照",
                "开办企业",
            ),
            entry("食品经营许可", &["餐饮"], "开餐馆需要的许可", "开办企业"),
            entry("出生医学证明", &["新生儿"], "孩子出生后办理", "生育"),
            entry("个体工商户注销登记", &["关店"], "", "开办企业"),
        ]
    }

    fn titles(found: &[&Entry]) -> Vec<&'static str> {
        found.iter().map(|e| e.title).collect()
    }

    #[test]
    fn a_shortened_name_finds_the_item_by_shared_character_pairs() {
        let items = catalogue();
        let found = search(&items, "个体户注册", |_| true);
        assert_eq!(titles(&found)[0], "个体工商户注册登记");
    }

    #[test]
    fn the_exact_title_ranks_before_keywords_and_body_text() {
        let items = catalogue();
        assert_eq!(
            titles(&search(&items, "食品经营许可", |_| true)),
            ["食品经营许可"]
        );
        // 营业执照 is a keyword of one item and in the body of the same item only.
        assert_eq!(
            titles(&search(&items, "营业执照", |_| true)),
            ["个体工商户注册登记"]
        );
        // Body text alone still finds, last.
        assert_eq!(titles(&search(&items, "孩子", |_| true)), ["出生医学证明"]);
        assert!(search(&items, "护照", |_| true).is_empty());
    }

    #[test]
    fn spaces_punctuation_and_case_do_not_count() {
        assert_eq!(
            normalise(" 个体 工商户，ABC-1 "),
            normalise("个体工商户abc1")
        );
        assert!(Query::new(" ，。 ").is_empty());
    }

    #[test]
    fn an_empty_query_lists_every_kept_entry_by_title() {
        let items = catalogue();
        let kept = search(&items, "", |e| e.theme == "开办企业");
        assert_eq!(kept.len(), 3);
        let mut sorted = titles(&kept);
        sorted.sort();
        assert_eq!(titles(&kept), sorted);
    }

    #[test]
    fn the_index_scores_as_score_does() {
        let items = catalogue();
        let index = Index::new(&items);
        assert_eq!(index.len(), items.len());
        for query in [
            "",
            "个",
            "个体户注册",
            "营业执照",
            "孩子",
            "护照",
            "食品经营许可",
            "登记",
            "个体工商户注销登记",
            "餐饮许可",
            "出生",
            "生后办理",
            "工商工商",
        ] {
            let q = Query::new(query);
            let expected: Vec<(usize, u32)> = items
                .iter()
                .enumerate()
                .map(|(i, e)| (i, score(e, &q)))
                .filter(|(_, s)| *s > 0)
                .collect();
            assert_eq!(index.matches(&q), expected, "{query}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_query_over_any_entries_scores_alike(
            titles in proptest::collection::vec("[甲乙丙丁a-c ]{0,8}", 0..12),
            bodies in proptest::collection::vec("[甲乙丙丁a-c]{0,12}", 12),
            query in "[甲乙丙丁a-c ]{0,5}",
        ) {
            let items: Vec<Entry> = titles
                .iter()
                .zip(&bodies)
                .map(|(t, b)| Entry {
                    title: Box::leak(t.clone().into_boxed_str()),
                    keywords: vec![b.chars().take(3).collect()],
                    body: Box::leak(b.clone().into_boxed_str()),
                    theme: "",
                })
                .collect();
            let q = Query::new(&query);
            let expected: Vec<(usize, u32)> = items
                .iter()
                .enumerate()
                .map(|(i, e)| (i, score(e, &q)))
                .filter(|(_, s)| *s > 0)
                .collect();
            proptest::prop_assert_eq!(Index::new(&items).matches(&q), expected);
        }

        #[test]
        fn a_patched_index_finds_what_one_built_afresh_finds(
            titles in proptest::collection::vec("[甲乙丙丁a-c ]{0,8}", 0..8),
            patches in proptest::collection::vec(
                (0usize..10, proptest::option::of("[甲乙丙丁a-c ]{0,8}")),
                0..12,
            ),
            query in "[甲乙丙丁a-c ]{0,5}",
        ) {
            let entry = |t: &str| Entry {
                title: Box::leak(t.to_owned().into_boxed_str()),
                keywords: vec![t.chars().rev().take(3).collect()],
                body: Box::leak(format!("{t}{t}").into_boxed_str()),
                theme: "",
            };
            let mut current: Vec<Option<Entry>> = titles.iter().map(|t| Some(entry(t))).collect();
            let first: Vec<Entry> = titles.iter().map(|t| entry(t)).collect();
            let mut index = Index::new(&first);
            let shared = index.clone();
            for (at, title) in &patches {
                // Positions past the end append; further out they are ignored, as `set` does.
                let at = (*at).min(current.len() + 1);
                let new = title.as_deref().map(entry);
                index.set(at, new.as_ref());
                if at < current.len() {
                    current[at] = new;
                } else if at == current.len() {
                    current.push(new);
                }
            }
            let q = Query::new(&query);
            let expected: Vec<(usize, u32)> = current
                .iter()
                .enumerate()
                .filter_map(|(i, e)| Some((i, score(e.as_ref()?, &q))))
                .filter(|(_, s)| *s > 0)
                .collect();
            proptest::prop_assert_eq!(index.matches(&q), expected);
            // The clone taken before the patches still answers as the first index did.
            proptest::prop_assert_eq!(shared.matches(&q), Index::new(&first).matches(&q));
        }
    }

    #[test]
    fn facets_count_each_value_once_per_entry_most_first() {
        let items = catalogue();
        let found = search(&items, "", |_| true);
        assert_eq!(
            facet(found.iter().copied(), |e| vec![e.theme, e.theme]),
            [("开办企业".to_owned(), 3), ("生育".to_owned(), 1)]
        );
        let none: Vec<&Entry> = Vec::new();
        assert!(facet(none, |e| vec![e.theme]).is_empty());
    }
}
