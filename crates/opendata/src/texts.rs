//! Interface text of the open-data pages, in Chinese and English (key, 中文, English).

pub const TEXTS: tongban_platform::web::i18n::Texts = &[("nav.opendata", "数据开放", "Open data")];
