//! Search keys: how names, addresses and e-mail addresses are normalised so that a prefix typed by
//! staff (or a visitor to the public register) matches however the value was written.
//!
//! The rule: lower-case; accents folded to their base letter (Zoë → zoe, Nguyễn → nguyen); apostrophes
//! and full stops removed (O'Brien → obrien, St. Albans → st albans); every other run of
//! non-alphanumeric characters becomes one space; trimmed. Postcodes lose their spaces.
//! Services store these keys beside the values and search them with index range scans.

/// The search key of a name, town or free text.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if c == '\'' || c == '’' || c == '.' {
            continue;
        }
        let base = fold_char(c);
        match base {
            Some(b) => {
                if pending_space && !out.is_empty() {
                    out.push(' ');
                }
                pending_space = false;
                out.push_str(b);
            }
            None => pending_space = true,
        }
    }
    out
}

/// The search key of a postcode: upper-case letters and digits only.
pub fn postcode_key(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The smallest string greater than every string starting with `prefix` (for `key >= p AND key < next`).
/// `None` when there is no such bound (an empty prefix).
pub fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = char::from_u32(u32::from(last) + 1) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

fn fold_char(c: char) -> Option<&'static str> {
    // ASCII first: the common case.
    if c.is_ascii_alphanumeric() {
        return Some(ASCII_LOWER[usize::from(c.to_ascii_lowercase() as u8)]);
    }
    let s = match c {
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'Ā' | 'ā' | 'Ă'
        | 'ă' | 'Ą' | 'ą' | 'ạ' | 'ả' | 'ấ' | 'ầ' | 'ẩ' | 'ẫ' | 'ậ' | 'ắ' | 'ằ' | 'ẳ' | 'ẵ'
        | 'ặ' => "a",
        'Æ' | 'æ' => "ae",
        'Ç' | 'ç' | 'Ć' | 'ć' | 'Č' | 'č' | 'Ĉ' | 'ĉ' | 'Ċ' | 'ċ' => "c",
        'Ď' | 'ď' | 'Đ' | 'đ' | 'Ð' | 'ð' => "d",
        'È' | 'É' | 'Ê' | 'Ë' | 'è' | 'é' | 'ê' | 'ë' | 'Ē' | 'ē' | 'Ė' | 'ė' | 'Ę' | 'ę' | 'Ě'
        | 'ě' | 'ẹ' | 'ẻ' | 'ẽ' | 'ế' | 'ề' | 'ể' | 'ễ' | 'ệ' => "e",
        'Ğ' | 'ğ' | 'Ģ' | 'ģ' | 'Ġ' | 'ġ' => "g",
        'Ì' | 'Í' | 'Î' | 'Ï' | 'ì' | 'í' | 'î' | 'ï' | 'Ī' | 'ī' | 'Į' | 'į' | 'İ' | 'ı' | 'ỉ'
        | 'ị' => "i",
        'Ł' | 'ł' | 'Ľ' | 'ľ' | 'Ĺ' | 'ĺ' | 'Ļ' | 'ļ' => "l",
        'Ñ' | 'ñ' | 'Ń' | 'ń' | 'Ň' | 'ň' | 'Ņ' | 'ņ' => "n",
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ō' | 'ō' | 'Ő'
        | 'ő' | 'ơ' | 'Ơ' | 'ọ' | 'ỏ' | 'ố' | 'ồ' | 'ổ' | 'ỗ' | 'ộ' | 'ớ' | 'ờ' | 'ở' | 'ỡ'
        | 'ợ' => "o",
        'Œ' | 'œ' => "oe",
        'Ř' | 'ř' | 'Ŕ' | 'ŕ' => "r",
        'Ś' | 'ś' | 'Š' | 'š' | 'Ş' | 'ş' | 'Ș' | 'ș' => "s",
        'ß' => "ss",
        'Ť' | 'ť' | 'Ţ' | 'ţ' | 'Ț' | 'ț' => "t",
        'Þ' | 'þ' => "th",
        'Ù' | 'Ú' | 'Û' | 'Ü' | 'ù' | 'ú' | 'û' | 'ü' | 'Ū' | 'ū' | 'Ů' | 'ů' | 'Ű' | 'ű' | 'Ų'
        | 'ų' | 'ư' | 'Ư' | 'ụ' | 'ủ' | 'ứ' | 'ừ' | 'ử' | 'ữ' | 'ự' => "u",
        'Ý' | 'ý' | 'ÿ' | 'Ÿ' | 'ỳ' | 'ỵ' | 'ỷ' | 'ỹ' => "y",
        'Ź' | 'ź' | 'Ž' | 'ž' | 'Ż' | 'ż' => "z",
        _ => return None,
    };
    Some(s)
}

const ASCII_LOWER: [&str; 128] = {
    const ALL: [&str; 128] = [
        "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
        "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
        "", "", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "", "", "", "", "", "", "", "a",
        "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s",
        "t", "u", "v", "w", "x", "y", "z", "", "", "", "", "", "", "a", "b", "c", "d", "e", "f",
        "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t", "u", "v", "w", "x",
        "y", "z", "", "", "", "", "",
    ];
    ALL
};

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_fold_to_plain_lower_case_letters() {
        assert_eq!(fold("O'Brien"), "obrien");
        assert_eq!(fold("  Zoë   Achterberg-Smith "), "zoe achterberg smith");
        assert_eq!(fold("Nguyễn"), "nguyen");
        assert_eq!(fold("St. Albans"), "st albans");
        assert_eq!(fold("Fernández"), "fernandez");
    }

    #[test]
    fn postcodes_lose_spaces_and_case() {
        assert_eq!(postcode_key("sw1a 1aa"), "SW1A1AA");
    }

    #[test]
    fn a_prefix_bound_is_just_past_every_completion() {
        assert_eq!(prefix_upper_bound("smi").as_deref(), Some("smj"));
        assert_eq!(prefix_upper_bound(""), None);
        let upper = prefix_upper_bound("smi").unwrap();
        for s in ["smi", "smith", "smiz", "smi zzz"] {
            assert!(s >= "smi" && s < upper.as_str(), "{s}");
        }
        assert!("smj" >= upper.as_str());
    }

    proptest! {
        #[test]
        fn folding_is_idempotent(s in "\\PC{0,40}") {
            let once = fold(&s);
            prop_assert_eq!(fold(&once), once.clone());
            prop_assert!(!once.starts_with(' ') && !once.ends_with(' ') && !once.contains("  "));
        }

        #[test]
        fn every_completion_of_a_prefix_is_inside_its_range(p in "[a-z]{1,6}", rest in "[a-z ]{0,10}") {
            let upper = prefix_upper_bound(&p).unwrap();
            let s = format!("{p}{rest}");
            prop_assert!(s.as_str() >= p.as_str() && s.as_str() < upper.as_str());
        }
    }
}
