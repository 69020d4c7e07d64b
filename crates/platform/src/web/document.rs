//! A certificate drawn as the document it stands for: a card with the type's name on a band of
//! its colour, the holder and the items, the issuer's seal and the number — the shape people
//! know from the paper licence, used by the wallet and wherever a certificate is shown.

/// What a document card shows. Texts are in the page's language already.
#[derive(Debug, Clone, Default)]
pub struct DocumentCard {
    /// A key unique on the page (for the heading's id).
    pub key: String,
    pub title: String,
    pub number: String,
    pub holder: Option<String>,
    pub issuer: String,
    pub issued_on: String,
    pub valid_until: String,
    /// (name, value) of the items the card shows.
    pub items: Vec<(String, String)>,
    /// valid, suspended, revoked or expired, and its words.
    pub status: String,
    pub status_label: String,
    /// Where the card leads when it is one of several (the wallet).
    pub link: Option<String>,
    /// The colour of its band, 0–4, the same for every certificate of a type.
    pub tone: u8,
}

/// The tone of a certificate type: from its code, so a type keeps its colour.
pub fn tone(type_code: &str) -> u8 {
    let sum: u32 = type_code.bytes().map(u32::from).sum();
    (sum % 5) as u8
}

impl DocumentCard {
    /// The issuer's name as its seal shows it: at most twelve characters.
    pub fn seal(&self) -> String {
        self.issuer.chars().take(12).collect()
    }
}
