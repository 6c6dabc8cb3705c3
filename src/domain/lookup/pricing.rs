//! The price a till charges now, worked out offline from the replica.
//!
//! The shop's own `price` field is the active price *when the product was
//! last saved*; a scheduled sale that starts or ends while the till is
//! offline (or simply between two saves) does not change it. So the till
//! recomputes it from the regular price, the sale price and the sale window.
//! The window is taken from the `*_gmt` dates: WooCommerce stores sale dates
//! in the shop's local time (a sale "to" date ends at 23:59:59 local), and
//! the GMT forms are those instants in UTC, whatever the till's time zone.

use serde::Serialize;

use crate::domain::{Amount, GmtTime};

/// The price fields of a product or variation as mirrored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PriceFacts {
    pub regular: Option<Amount>,
    pub sale: Option<Amount>,
    pub sale_from: Option<GmtTime>,
    pub sale_to: Option<GmtTime>,
    /// The shop's `price` at the last save; used when there is no regular
    /// price to start from (a variable product's own row, a plugin type).
    pub listed: Option<Amount>,
}

/// What the till shows and charges.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceView {
    /// The price now: the sale price inside its window, else the regular price.
    pub price: Option<Amount>,
    pub regular_price: Option<Amount>,
    pub sale_price: Option<Amount>,
    pub on_sale: bool,
    pub sale_from_gmt: Option<GmtTime>,
    pub sale_to_gmt: Option<GmtTime>,
}

impl PriceFacts {
    /// WooCommerce's `is_on_sale()`: a sale price below the regular price,
    /// with `now` inside the window (both ends inclusive, either may be open).
    pub fn on_sale(&self, now: GmtTime) -> bool {
        let (Some(sale), Some(regular)) = (self.sale, self.regular) else {
            return false;
        };
        sale < regular
            && self.sale_from.is_none_or(|from| from <= now)
            && self.sale_to.is_none_or(|to| now <= to)
    }

    /// The price charged at `now`.
    pub fn effective(&self, now: GmtTime) -> Option<Amount> {
        if self.on_sale(now) {
            self.sale
        } else {
            self.regular.or(self.listed)
        }
    }

    /// The view of these facts at `now`.
    pub fn view(&self, now: GmtTime) -> PriceView {
        PriceView {
            price: self.effective(now),
            regular_price: self.regular,
            sale_price: self.sale,
            on_sale: self.on_sale(now),
            sale_from_gmt: self.sale_from,
            sale_to_gmt: self.sale_to,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn t(s: &str) -> GmtTime {
        GmtTime::parse(s).unwrap()
    }

    fn amount(s: &str) -> Amount {
        s.parse().unwrap()
    }

    fn facts(sale: Option<&str>, from: Option<&str>, to: Option<&str>) -> PriceFacts {
        PriceFacts {
            regular: Some(amount("10.00")),
            sale: sale.map(amount),
            sale_from: from.map(t),
            sale_to: to.map(t),
            listed: Some(amount("9.00")),
        }
    }

    const NOW: &str = "2026-06-15T12:00:00";

    #[rstest]
    #[case::no_sale_price_charges_regular(facts(None, None, None), "10.00", false)]
    #[case::open_ended_sale_is_on(facts(Some("7.50"), None, None), "7.50", true)]
    #[case::inside_the_window(
        facts(Some("7.50"), Some("2026-06-01T00:00:00"), Some("2026-06-30T22:59:59")),
        "7.50",
        true
    )]
    #[case::window_not_started(
        facts(Some("7.50"), Some("2026-06-15T12:00:01"), None),
        "10.00",
        false
    )]
    #[case::window_starts_this_second(facts(Some("7.50"), Some(NOW), None), "7.50", true)]
    #[case::window_ends_this_second(facts(Some("7.50"), None, Some(NOW)), "7.50", true)]
    #[case::window_over(
        facts(Some("7.50"), Some("2026-06-01T00:00:00"), Some("2026-06-15T11:59:59")),
        "10.00",
        false
    )]
    #[case::sale_not_below_regular(facts(Some("10.00"), None, None), "10.00", false)]
    fn effective_price_follows_the_sale_window(
        #[case] f: PriceFacts,
        #[case] price: &str,
        #[case] on_sale: bool,
    ) {
        let now = t(NOW);
        assert_eq!(f.effective(now), Some(amount(price)));
        assert_eq!(f.on_sale(now), on_sale);
        let v = f.view(now);
        assert_eq!((v.price, v.on_sale), (Some(amount(price)), on_sale));
    }

    #[test]
    fn without_a_regular_price_the_listed_price_is_charged() {
        let f = PriceFacts {
            regular: None,
            sale: Some(amount("5.00")),
            listed: Some(amount("12.00")),
            ..PriceFacts::default()
        };
        assert_eq!(f.effective(t(NOW)), Some(amount("12.00")));
        assert!(!f.on_sale(t(NOW)));
        assert_eq!(PriceFacts::default().effective(t(NOW)), None);
    }
}
