//! Names as travel documents spell them: the letters A–Z only, as ICAO Doc 9303 writes a name
//! in the machine-readable zone, so that a name on a foreign health card can be compared with
//! a name registered here. Chinese characters are spelt in pinyin (ü as `YU`, as Chinese
//! passports have written it since 2012, or as `U`, as older ones did; every reading of a
//! character with several); Latin letters lose their accents; spaces, hyphens, apostrophes,
//! the filler `<` and the middle dot are dropped.

use unicode_normalization::UnicodeNormalization;

/// At most this many spellings of one name (characters with several readings multiply them).
pub const MAX_SPELLINGS: usize = 16;

/// Every spelling of a name given as its parts, surname first, joined without separators:
/// `["张", "伟"]` and `["ZHANG", "WEI"]` both give `ZHANGWEI`. Empty when no part has a
/// letter.
pub fn spellings(parts: &[&str]) -> Vec<String> {
    let mut out = vec![String::new()];
    for c in parts.iter().flat_map(|part| part.chars()) {
        let options = letters(c);
        if options.is_empty() {
            continue;
        }
        let mut next = Vec::with_capacity(out.len() * options.len());
        for stem in &out {
            for option in &options {
                if next.len() < MAX_SPELLINGS {
                    next.push(format!("{stem}{option}"));
                }
            }
        }
        out = next;
    }
    out.retain(|spelling| !spelling.is_empty());
    out
}

/// The spellings of a name as registered here, in one text: as written (a Chinese name is
/// surname first) and, for a name in Latin letters of several words, with its last word
/// first too (`John Smith` is `SMITH`, `JOHN` on a travel document).
pub fn registered_spellings(name: &str) -> Vec<String> {
    let mut out = spellings(&[name]);
    let words: Vec<&str> = name.split_whitespace().collect();
    if let [first @ .., last] = words.as_slice()
        && !first.is_empty()
        && !name.chars().any(is_han)
    {
        let mut reordered = vec![*last];
        reordered.extend_from_slice(first);
        for spelling in spellings(&reordered) {
            if !out.contains(&spelling) && out.len() < 2 * MAX_SPELLINGS {
                out.push(spelling);
            }
        }
    }
    out
}

/// At most this many initials spellings of one text (see [`initials`]).
pub const MAX_INITIALS: usize = 4;

/// The initials of a text's pinyin, as a directory's search box is typed (`政务服务管理局` →
/// `zwfwglj`): each Chinese character gives the first letter of its common reading, letters
/// and digits stay (lowercased), anything else is dropped. A first character read several
/// ways with different first letters — a surname: 单 is Shàn, 曾 Zēng — gives a spelling for
/// each, at most [`MAX_INITIALS`], separated by spaces, the common one first.
pub fn initials(text: &str) -> String {
    let mut firsts: Vec<char> = Vec::new();
    let mut rest = String::new();
    for c in text.chars() {
        let readings: Vec<char> = if c.is_ascii_alphanumeric() {
            vec![c.to_ascii_lowercase()]
        } else if is_han(c) {
            han_readings(c)
                .iter()
                .filter_map(|reading| reading.chars().next())
                .map(|first| first.to_ascii_lowercase())
                .collect()
        } else {
            Vec::new()
        };
        let Some(&common) = readings.first() else {
            continue;
        };
        if firsts.is_empty() {
            for first in readings {
                if !firsts.contains(&first) && firsts.len() < MAX_INITIALS {
                    firsts.push(first);
                }
            }
        } else {
            rest.push(common);
        }
    }
    firsts
        .iter()
        .map(|first| format!("{first}{rest}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{3134F}')
}

/// The ways one character is written in A–Z (none for separators and other signs).
fn letters(c: char) -> Vec<String> {
    if c.is_ascii_alphabetic() {
        return vec![c.to_ascii_uppercase().to_string()];
    }
    if is_han(c) {
        return han_readings(c);
    }
    // Letters ICAO spells with two (Doc 9303, part 3), with the one-letter form too where
    // documents use both.
    let special: &[&str] = match c {
        'Ä' | 'ä' => &["AE", "A"],
        'Ö' | 'ö' => &["OE", "O"],
        'Ü' | 'ü' => &["UE", "U"],
        'Å' | 'å' => &["AA", "A"],
        'Æ' | 'æ' => &["AE"],
        'Ø' | 'ø' => &["OE"],
        'ß' | 'ẞ' => &["SS"],
        'Þ' | 'þ' => &["TH"],
        _ => &[],
    };
    if !special.is_empty() {
        return special.iter().map(|s| (*s).to_owned()).collect();
    }
    let plain: String = c
        .nfkd()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if plain.is_empty() {
        Vec::new()
    } else {
        vec![plain]
    }
}

fn han_readings(c: char) -> Vec<String> {
    use pinyin::ToPinyinMulti;
    let Some(multi) = c.to_pinyin_multi() else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for reading in multi {
        let plain = reading.plain().to_uppercase();
        let forms = if plain.contains('Ü') {
            vec![plain.replace('Ü', "YU"), plain.replace('Ü', "U")]
        } else {
            vec![plain]
        };
        for form in forms {
            if !out.contains(&form) {
                out.push(form);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_are_typed_as_a_search_box_is() {
        assert_eq!(initials("政务服务管理局"), "zwfwglj");
        // The common reading first (王 is read yù too).
        assert_eq!(initials("王建国").split(' ').next(), Some("wjg"));
        assert_eq!(initials("第2科（综合）"), "d2kzh");
        // 单 is Dān, and Shàn as a surname: both are found.
        let shan = initials("单立新");
        assert!(shan.split(' ').any(|s| s == "dlx"), "{shan}");
        assert!(shan.split(' ').any(|s| s == "slx"), "{shan}");
        assert!(initials("").is_empty());
        let many = "单单单单单单";
        assert!(initials(many).split(' ').count() <= MAX_INITIALS);
    }

    #[test]
    fn a_chinese_name_is_spelt_as_its_passport_spells_it() {
        assert!(spellings(&["张伟"]).contains(&"ZHANGWEI".to_owned()));
        assert_eq!(spellings(&["张", "伟"]), spellings(&["张伟"]));
        assert!(spellings(&["ZHANG", "WEI"]) == vec!["ZHANGWEI".to_owned()]);
        // 吕: LYU on passports since 2012, LU before.
        let lyu = spellings(&["吕", "方"]);
        assert!(lyu.contains(&"LYUFANG".to_owned()), "{lyu:?}");
        assert!(lyu.contains(&"LUFANG".to_owned()), "{lyu:?}");
        // A character with several readings gives each: 单 is DAN, SHAN and CHAN.
        let shan = spellings(&["单", "明"]);
        assert!(shan.contains(&"SHANMING".to_owned()), "{shan:?}");
        assert!(shan.contains(&"DANMING".to_owned()), "{shan:?}");
    }

    #[test]
    fn separators_and_accents_do_not_count() {
        assert_eq!(
            spellings(&["O'NEILL-SMITH", "JOSÉ<MARÍA"]),
            vec!["ONEILLSMITHJOSEMARIA"]
        );
        assert_eq!(spellings(&["Müller"]), vec!["MUELLER", "MULLER"]);
        assert_eq!(spellings(&["Strauß"]), vec!["STRAUSS"]);
        assert_eq!(
            spellings(&["欧阳·娜娜"]).first().map(String::as_str),
            Some("OUYANGNANA")
        );
        assert!(spellings(&["", "<<"]).is_empty());
    }

    #[test]
    fn a_latin_name_registered_here_is_also_spelt_surname_first() {
        let spelt = registered_spellings("John Smith");
        assert!(spelt.contains(&"JOHNSMITH".to_owned()));
        assert!(spelt.contains(&"SMITHJOHN".to_owned()));
        assert_eq!(registered_spellings("张伟"), spellings(&["张伟"]));
    }

    #[test]
    fn many_readings_are_bounded() {
        let long = "行行行行行行行行行行";
        assert!(spellings(&[long]).len() <= MAX_SPELLINGS);
        assert!(registered_spellings("Ä Ä Ä Ä Ä Ä Ä Ä").len() <= 2 * MAX_SPELLINGS);
    }
}
