//! Interface text of the 跨省通办 pages, in Chinese and English (key, 中文, English).

pub const TEXTS: tongban_platform::web::i18n::Texts =
    &[("nav.cross_region", "跨省通办", "Across regions")];
