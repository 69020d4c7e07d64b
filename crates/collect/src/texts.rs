//! Interface text of the 一表通 pages, in Chinese and English (key, 中文, English).

pub const TEXTS: tongban_platform::web::i18n::Texts =
    &[("nav.collect", "一表通", "One-form collection")];
