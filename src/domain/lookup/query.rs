//! What a till asks for: validated search text, barcodes, paging and sort
//! orders. Each `parse` returns the reason a value is refused, in words the
//! API puts after the parameter's name (`per_page: must be ...`).

use uuid::Uuid;

/// Items per page when none is asked for.
pub const DEFAULT_PER_PAGE: u32 = 20;
/// The largest page.
pub const MAX_PER_PAGE: u32 = 100;
/// The deepest page; beyond it the offset is meaningless for a till.
pub const MAX_PAGE: u32 = 100_000;
/// Longest search text, in characters.
pub const MAX_SEARCH_CHARS: usize = 100;
/// Most words in a search.
pub const MAX_SEARCH_WORDS: usize = 8;
/// Longest barcode.
pub const MAX_BARCODE_CHARS: usize = 64;
/// Longest SKU.
pub const MAX_SKU_CHARS: usize = 100;
/// Fewest digits that make a search look like a phone number.
const MIN_PHONE_DIGITS: usize = 6;

/// A page of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        }
    }
}

impl PageRequest {
    pub fn parse_page(s: &str) -> Result<u32, String> {
        parse_in_range(s, 1, MAX_PAGE)
    }

    pub fn parse_per_page(s: &str) -> Result<u32, String> {
        parse_in_range(s, 1, MAX_PER_PAGE)
    }

    pub fn limit(&self) -> i64 {
        i64::from(self.per_page)
    }

    pub fn offset(&self) -> i64 {
        i64::from(self.page.saturating_sub(1)) * i64::from(self.per_page)
    }
}

fn parse_in_range(s: &str, lo: u32, hi: u32) -> Result<u32, String> {
    match s.trim().parse::<u32>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(n),
        _ => Err(format!("must be {lo}..={hi}")),
    }
}

/// Text typed at the till, split into the words a search index holds.
/// Words are letters and digits (any script); everything else separates
/// them, as the index's tokenizer does. Each word matches as a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText {
    pub words: Vec<String>,
    /// The digits alone, without leading zeros (a trunk or international
    /// prefix), when the text looks like a phone number (`020 7946-0018`),
    /// to match however the number was written.
    pub digits: Option<String>,
    /// The text as typed (trimmed), for what is matched whole rather than
    /// word by word: a receipt number such as `POS1-000123`.
    pub raw: String,
}

impl SearchText {
    pub fn parse(s: &str) -> Result<SearchText, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("must not be empty".to_owned());
        }
        if s.chars().count() > MAX_SEARCH_CHARS {
            return Err(format!("must be at most {MAX_SEARCH_CHARS} characters"));
        }
        if s.chars().any(char::is_control) {
            return Err("must not contain control characters".to_owned());
        }
        let words: Vec<String> = s
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        if words.is_empty() {
            return Err("must contain a letter or a digit".to_owned());
        }
        if words.len() > MAX_SEARCH_WORDS {
            return Err(format!("must be at most {MAX_SEARCH_WORDS} words"));
        }
        let phone_like = s
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c));
        let digits: String = s.chars().filter(char::is_ascii_digit).collect();
        let digits = digits.trim_start_matches('0');
        let same_as_the_word = words.len() == 1 && words[0] == digits;
        let digits = (phone_like && digits.len() >= MIN_PHONE_DIGITS && !same_as_the_word)
            .then(|| digits.to_owned());
        Ok(SearchText {
            words,
            digits,
            raw: s.to_owned(),
        })
    }
}

/// A barcode as scanned: letters, digits and dashes.
pub fn parse_barcode(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if s.len() > MAX_BARCODE_CHARS {
        return Err(format!("must be at most {MAX_BARCODE_CHARS} characters"));
    }
    if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err("must be letters, digits and dashes only".to_owned());
    }
    Ok(s.to_owned())
}

/// A SKU, matched exactly but without regard to case.
pub fn parse_sku(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if s.chars().count() > MAX_SKU_CHARS {
        return Err(format!("must be at most {MAX_SKU_CHARS} characters"));
    }
    if s.chars().any(char::is_control) {
        return Err("must not contain control characters".to_owned());
    }
    Ok(s.to_owned())
}

/// An upstream id given by a till: a positive whole number.
pub fn parse_id(s: &str) -> Result<i64, String> {
    match s.trim().parse::<i64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err("must be a positive whole number".to_owned()),
    }
}

/// Longest receipt number taken in a path.
pub const MAX_RECEIPT_CHARS: usize = 64;

/// An order as a till names it in `/api/orders/{id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderKey {
    /// A positive whole number: the shop's order id (failing that, a
    /// receipt number made of digits only, from a till without a prefix).
    Upstream(i64),
    /// A sale made at this till, by its id.
    Local(Uuid),
    /// A sale made at this till, by its receipt number, in any case.
    Receipt(String),
}

impl OrderKey {
    pub fn parse(s: &str) -> Result<OrderKey, String> {
        let s = s.trim();
        if let Ok(u) = Uuid::parse_str(s) {
            return Ok(OrderKey::Local(u));
        }
        // A number written as a number is an id; digits with leading
        // zeros (`000123`) are a receipt number.
        if let Ok(n) = s.parse::<i64>()
            && n.to_string() == s
        {
            return match n {
                1.. => Ok(OrderKey::Upstream(n)),
                _ => Err("must be a positive whole number".to_owned()),
            };
        }
        if s.is_empty() {
            return Err("must not be empty".to_owned());
        }
        if s.chars().count() > MAX_RECEIPT_CHARS || s.chars().any(char::is_control) {
            return Err(format!(
                "must be an order id, a sale's id or a receipt number of at most {MAX_RECEIPT_CHARS} printable characters"
            ));
        }
        Ok(OrderKey::Receipt(s.to_owned()))
    }
}

/// `true`/`false` (also `1`/`0`).
pub fn parse_bool(s: &str) -> Result<bool, String> {
    match s.trim() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err("must be true or false".to_owned()),
    }
}

/// Declares a sort order enum with its accepted names.
macro_rules! sort_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            pub fn parse(s: &str) -> Result<Self, String> {
                match s.trim() {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(format!("must be one of {}", Self::NAMES.join(", "))),
                }
            }
        }
    };
}

sort_enum!(
    /// Product listing order. `relevance` needs a search text.
    ProductSort {
        Relevance = "relevance",
        Name = "name",
        NameDesc = "-name",
        Price = "price",
        PriceDesc = "-price",
        Id = "id",
        IdDesc = "-id",
    }
);

sort_enum!(
    /// Customer listing order. `relevance` needs a search text.
    CustomerSort {
        Relevance = "relevance",
        Name = "name",
        NameDesc = "-name",
        Id = "id",
        IdDesc = "-id",
    }
);

sort_enum!(
    /// Order listing order. `relevance` needs a search text.
    OrderSort {
        Relevance = "relevance",
        Newest = "newest",
        Oldest = "oldest",
    }
);

/// How products are picked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductLookup {
    /// Every product.
    All,
    /// Full text over name, SKU, barcode, categories and attribute values.
    Text(SearchText),
    /// Exact SKU, any case; a variation's SKU finds its parent.
    Sku(String),
    /// Exact barcode; a variation's barcode finds its parent.
    Barcode(String),
}

/// A product listing request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductQuery {
    pub lookup: ProductLookup,
    /// A category id; its subcategories are included.
    pub category: Option<i64>,
    pub in_stock: Option<bool>,
    pub sort: ProductSort,
    pub page: PageRequest,
}

/// A customer listing request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerQuery {
    pub text: Option<SearchText>,
    pub sort: CustomerSort,
    pub page: PageRequest,
}

/// An order listing request (returns desk, pickups).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderQuery {
    /// Order number, customer name, email or phone.
    pub text: Option<SearchText>,
    /// Only these statuses; `None` = all.
    pub statuses: Option<Vec<String>>,
    /// Only orders with a shipping line of one of these methods.
    pub shipping_methods: Option<Vec<String>>,
    pub sort: OrderSort,
    pub page: PageRequest,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::words_lowercased("Blue  T-Shirt", &["blue", "t", "shirt"], None)]
    #[case::accents_kept_for_the_tokenizer("Crème brûlée", &["crème", "brûlée"], None)]
    #[case::email_splits("anna.smith@example", &["anna", "smith", "example"], None)]
    #[case::phone_keeps_its_digits("+44 20 7946-0018", &["44", "20", "7946", "0018"], Some("442079460018"))]
    #[case::national_form_drops_the_trunk_zero("020 7946 0018", &["020", "7946", "0018"], Some("2079460018"))]
    #[case::short_number_is_just_a_word("10042", &["10042"], None)]
    fn search_text_splits_like_the_index(
        #[case] input: &str,
        #[case] words: &[&str],
        #[case] digits: Option<&str>,
    ) {
        let t = SearchText::parse(input).unwrap();
        assert_eq!(t.words, words);
        assert_eq!(t.digits.as_deref(), digits);
    }

    #[rstest]
    #[case::empty("  ", "must not be empty")]
    #[case::punctuation_only("--!", "must contain a letter or a digit")]
    #[case::too_long(&"a".repeat(101), "must be at most 100 characters")]
    #[case::too_many_words("a b c d e f g h i", "must be at most 8 words")]
    #[case::control("a\u{0}b", "must not contain control characters")]
    fn bad_search_text_says_why(#[case] input: &str, #[case] reason: &str) {
        assert_eq!(SearchText::parse(input).unwrap_err(), reason);
    }

    #[rstest]
    #[case::zero("0", Err("must be 1..=100"))]
    #[case::too_big("101", Err("must be 1..=100"))]
    #[case::not_a_number("ten", Err("must be 1..=100"))]
    #[case::negative("-5", Err("must be 1..=100"))]
    #[case::max("100", Ok(100))]
    fn per_page_is_bounded(#[case] input: &str, #[case] expected: Result<u32, &str>) {
        assert_eq!(
            PageRequest::parse_per_page(input),
            expected.map_err(str::to_owned)
        );
    }

    #[test]
    fn search_text_keeps_what_was_typed_for_receipt_numbers() {
        assert_eq!(SearchText::parse("  t9-000001 ").unwrap().raw, "t9-000001");
    }

    #[rstest]
    #[case::an_id("1042", Ok(OrderKey::Upstream(1042)))]
    #[case::a_sale_id(
        "0b8a3f4e-58c8-4a6e-9d3c-4d8e2f1a7b6c",
        Ok(OrderKey::Local(Uuid::parse_str("0b8a3f4e-58c8-4a6e-9d3c-4d8e2f1a7b6c").unwrap()))
    )]
    #[case::a_receipt_number("POS1-000123", Ok(OrderKey::Receipt("POS1-000123".into())))]
    #[case::digits_with_leading_zeros_are_a_receipt("000123", Ok(OrderKey::Receipt("000123".into())))]
    #[case::zero("0", Err("must be a positive whole number".to_owned()))]
    #[case::negative("-5", Err("must be a positive whole number".to_owned()))]
    #[case::control("T9\u{7}1", Err(format!("must be an order id, a sale's id or a receipt number of at most {MAX_RECEIPT_CHARS} printable characters")))]
    #[case::too_long(&"A".repeat(65), Err(format!("must be an order id, a sale's id or a receipt number of at most {MAX_RECEIPT_CHARS} printable characters")))]
    #[case::too_big_for_an_id(&"9".repeat(20), Ok(OrderKey::Receipt("9".repeat(20))))]
    fn order_keys_say_which_order(#[case] input: &str, #[case] expected: Result<OrderKey, String>) {
        assert_eq!(OrderKey::parse(input), expected);
    }

    #[test]
    fn offsets_follow_pages() {
        let p = PageRequest {
            page: 3,
            per_page: 25,
        };
        assert_eq!((p.offset(), p.limit()), (50, 25));
    }

    #[test]
    fn other_parsers_refuse_with_reasons() {
        assert_eq!(parse_barcode("4006381333931").unwrap(), "4006381333931");
        assert_eq!(
            parse_barcode("40 06").unwrap_err(),
            "must be letters, digits and dashes only"
        );
        assert_eq!(parse_sku(" TS-1 ").unwrap(), "TS-1");
        assert_eq!(
            parse_id("0").unwrap_err(),
            "must be a positive whole number"
        );
        assert_eq!(parse_id("12").unwrap(), 12);
        assert_eq!(parse_bool("yes").unwrap_err(), "must be true or false");
        assert_eq!(
            ProductSort::parse("cheapest").unwrap_err(),
            "must be one of relevance, name, -name, price, -price, id, -id"
        );
        assert_eq!(OrderSort::parse("oldest").unwrap(), OrderSort::Oldest);
    }
}
