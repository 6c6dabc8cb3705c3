//! Word lists the generator draws from: people, places, products.
//!
//! Some names carry non-ASCII letters and apostrophes on purpose: real
//! stores have them, and they exercise `\uXXXX` escaping and SQL quoting.

#[rustfmt::skip]
pub(crate) const FIRST_NAMES: &[&str] = &[
    "Alice", "Bob", "Carla", "Dmitri", "Eve", "Fatima", "George", "Hannah", "Ivan", "Jasmine",
    "Kwame", "Laura", "Mohammed", "Niamh", "Oliver", "Priya", "Quentin", "Rosa", "Sven",
    "Tom\u{e1}s", "Uma", "Viktor", "Wei", "Xavier", "Yasmin", "Zo\u{eb}", "Chlo\u{e9}",
    "J\u{fc}rgen", "Siobh\u{e1}n", "Bj\u{f6}rn", "Ana", "Ben", "Chen", "Daniel", "Emma", "Finn",
    "Grace", "Hugo", "Isla", "Jack", "Kai", "Leah", "Maya", "Noah", "Olivia", "Paul", "Ruby",
    "Sam", "Tara", "Zack",
];

#[rustfmt::skip]
pub(crate) const LAST_NAMES: &[&str] = &[
    "Archer", "Baker", "Cruz", "Dvo\u{159}\u{e1}k", "O'Neill", "Smith", "Jones", "Taylor", "Brown",
    "Williams", "Wilson", "Evans", "Thomas", "Roberts", "M\u{fc}ller", "Schmidt", "Schneider",
    "Fischer", "Murphy", "Kelly", "Byrne", "Dubois", "Martin", "Bernard", "Garc\u{ed}a", "Nguyen",
    "Patel", "Khan", "Kowalski", "Novak", "Rossi", "Silva", "Johnson", "Lee", "Clark", "Walker",
    "Hall", "Young", "King", "Wright",
];

#[rustfmt::skip]
pub(crate) const COMPANIES: &[&str] = &[
    "Baker Ltd", "Northwind Traders", "Acme Catering", "Blue Door Caf\u{e9}", "Harbour Books",
    "Kettle & Co", "Lindenhof GmbH", "Atelier Dubois",
];

/// A city with what an address there needs.
pub(crate) struct City {
    pub country: &'static str,
    pub name: &'static str,
    pub state: &'static str,
    /// Postcode stem; the generator completes it per country.
    pub postcode: &'static str,
    pub phone_prefix: &'static str,
}

const fn city(
    country: &'static str,
    name: &'static str,
    state: &'static str,
    postcode: &'static str,
    phone_prefix: &'static str,
) -> City {
    City {
        country,
        name,
        state,
        postcode,
        phone_prefix,
    }
}

pub(crate) const GB_CITIES: &[City] = &[
    city("GB", "London", "", "SW1A", "+44 20 7946"),
    city("GB", "London", "", "EC1A", "+44 20 7946"),
    city("GB", "Manchester", "", "M1", "+44 161 496"),
    city("GB", "Edinburgh", "", "EH2", "+44 131 496"),
    city("GB", "Bristol", "", "BS1", "+44 117 496"),
    city("GB", "Leeds", "", "LS1", "+44 113 496"),
    city("GB", "Cardiff", "", "CF10", "+44 29 2018"),
    city("GB", "Brighton", "", "BN1", "+44 1273 900"),
];

pub(crate) const US_CITIES: &[City] = &[
    city("US", "San Francisco", "CA", "941", "+1 415 555"),
    city("US", "Beverly Hills", "CA", "90210", "+1 310 555"),
    city("US", "Los Angeles", "CA", "900", "+1 213 555"),
    city("US", "New York", "NY", "100", "+1 212 555"),
    city("US", "Buffalo", "NY", "142", "+1 716 555"),
];

pub(crate) const EU_CITIES: &[City] = &[
    city("DE", "Berlin", "DE-BE", "101", "+49 30 9018"),
    city("DE", "M\u{fc}nchen", "DE-BY", "803", "+49 89 2019"),
    city("DE", "Hamburg", "DE-HH", "200", "+49 40 4288"),
    city("IE", "Dublin", "D", "D02", "+353 1 555"),
    city("IE", "Cork", "CO", "T12", "+353 21 555"),
    city("IE", "Galway", "G", "H91", "+353 91 555"),
    city("FR", "Paris", "", "750", "+33 1 5555"),
    city("FR", "Lyon", "", "690", "+33 4 5555"),
];

#[rustfmt::skip]
pub(crate) const STREETS_GB: &[&str] = &[
    "Downing St", "Market St", "Mill Lane", "Princes St", "High Street", "Station Road",
    "Church Lane", "Victoria Road", "Queen's Road", "Park Avenue",
];
#[rustfmt::skip]
pub(crate) const STREETS_US: &[&str] = &[
    "Market St", "5th Ave", "Broadway", "Sunset Blvd", "Elm Street", "Main Street", "Oak Avenue",
];
#[rustfmt::skip]
pub(crate) const STREETS_EU: &[&str] = &[
    "Hauptstra\u{df}e", "Schillerstra\u{df}e", "Rue de la Paix", "Rue Victor Hugo",
    "Grafton Street", "O'Connell Street", "Lindenallee",
];

pub(crate) const ADJECTIVES: &[&str] = &[
    "Classic", "Organic", "Deluxe", "Everyday", "Premium", "Rustic", "Nordic", "Vintage", "Urban",
    "Heritage", "Midnight", "Sunrise", "Coastal", "Alpine", "Smoky", "Velvet", "Crisp", "Bold",
    "Gentle", "Wild",
];

/// A leaf category: name, SKU prefix, product nouns, default tax class,
/// whether its variable products vary by size and/or colour, price band.
pub(crate) struct CategorySpec {
    pub name: &'static str,
    pub parent: Option<&'static str>,
    pub prefix: &'static str,
    pub nouns: &'static [&'static str],
    pub tax_class: &'static str,
    pub sizes: bool,
    pub colours: bool,
    /// Typical price range in pence.
    pub price: (i64, i64),
    pub description: &'static str,
}

const fn cat(
    name: &'static str,
    parent: Option<&'static str>,
    prefix: &'static str,
    nouns: &'static [&'static str],
    tax_class: &'static str,
    variant: (bool, bool),
    price: (i64, i64),
) -> CategorySpec {
    CategorySpec {
        name,
        parent,
        prefix,
        nouns,
        tax_class,
        sizes: variant.0,
        colours: variant.1,
        price,
        description: "",
    }
}

/// Departments come first, each followed by its children, so any prefix of
/// the list is a consistent tree. Small stores take a prefix.
#[rustfmt::skip]
pub(crate) const CATEGORIES: &[CategorySpec] = &[
    CategorySpec { description: "Apparel and garments", ..cat("Clothing", None, "CLO", &["Apron", "Scarf", "Beanie"], "", (true, true), (900, 4500)) },
    cat("T-shirts", Some("Clothing"), "TEE", &["Logo T-shirt", "Pocket Tee", "Graphic Tee"], "", (true, true), (1200, 2800)),
    cat("Hoodies", Some("Clothing"), "HOOD", &["Zip Hoodie", "Pullover Hoodie", "Fleece"], "", (true, false), (3500, 6500)),
    cat("Socks", Some("Clothing"), "SOCK", &["Wool Socks", "Trainer Socks", "Hiking Socks"], "reduced-rate", (true, true), (500, 1500)),
    cat("Food &amp; Drink", None, "FOOD", &["Shortbread Tin", "Fudge", "Crackers"], "food", (false, false), (150, 1500)),
    cat("Coffee", Some("Food &amp; Drink"), "COF", &["Espresso Beans", "Filter Coffee", "Decaf Beans", "Cold Brew"], "food", (false, false), (300, 2600)),
    cat("Tea", Some("Food &amp; Drink"), "TEA", &["Breakfast Tea", "Earl Grey", "Green Tea", "Chai"], "food", (false, false), (250, 1200)),
    cat("Chocolate", Some("Food &amp; Drink"), "CHOC", &["Chocolate Bar 70%", "Truffles", "Hot Chocolate"], "food", (false, false), (150, 1800)),
    cat("Home", None, "HOM", &["Candle", "Cushion", "Throw"], "", (false, true), (800, 6000)),
    cat("Kitchen", Some("Home"), "KIT", &["Ceramic Pour-Over", "Glass Carafe", "Burr Grinder", "Digital Scale"], "", (false, false), (1000, 15000)),
    cat("Mugs &amp; Cups", Some("Home"), "MUG", &["Enamel Mug", "Reusable Cup", "Espresso Cup"], "", (false, true), (600, 2000)),
    cat("Accessories", None, "ACC", &["Canvas Tote Bag", "Enamel Pin", "Keyring", "Baseball Cap"], "", (false, true), (200, 2500)),
    cat("Bags", Some("Accessories"), "BAG", &["Backpack", "Messenger Bag", "Wash Bag"], "", (false, true), (1500, 9000)),
    cat("Stationery", Some("Accessories"), "STA", &["Notebook", "Pencil Set", "Postcard Pack"], "", (false, false), (50, 1500)),
    cat("Gifts", None, "GIFT", &["Gift Set", "Hamper"], "", (false, false), (1500, 8000)),
    cat("Gift Cards", Some("Gifts"), "GC", &["Gift Card"], "zero-rate", (false, false), (1000, 10000)),
    cat("Books", None, "BOOK", &["Guide", "Almanac"], "zero-rate", (false, false), (800, 3000)),
    cat("Cookbooks", Some("Books"), "CKB", &["Baking Book", "Coffee Book"], "zero-rate", (false, false), (1200, 3500)),
    cat("Travel", Some("Books"), "TRV", &["City Guide", "Walking Maps"], "zero-rate", (false, false), (900, 2500)),
    cat("Electronics", None, "ELE", &["Desk Lamp", "Alarm Clock"], "", (false, true), (1500, 12000)),
    cat("Audio", Some("Electronics"), "AUD", &["Bluetooth Speaker", "Headphones", "Earbuds"], "", (false, true), (2500, 19900)),
    cat("Cables &amp; Chargers", Some("Electronics"), "CAB", &["USB-C Cable", "Wall Charger", "Power Bank"], "", (false, true), (500, 4000)),
    cat("Garden", None, "GDN", &["Watering Can", "Seed Kit"], "", (false, false), (500, 4000)),
    cat("Tools", Some("Garden"), "TOOL", &["Trowel", "Pruner", "Gloves"], "", (true, false), (700, 3500)),
    cat("Planters", Some("Garden"), "PLNT", &["Terracotta Pot", "Hanging Planter"], "", (false, true), (600, 5000)),
    cat("Jackets", Some("Clothing"), "JKT", &["Rain Jacket", "Denim Jacket", "Gilet"], "", (true, true), (4500, 14000)),
    cat("Hats", Some("Clothing"), "HAT", &["Bucket Hat", "Wool Cap"], "", (true, true), (1200, 3200)),
    cat("Snacks", Some("Food &amp; Drink"), "SNK", &["Oat Bar", "Trail Mix", "Crisps"], "food", (false, false), (100, 600)),
    cat("Syrups", Some("Food &amp; Drink"), "SYR", &["Coffee Syrup Vanilla", "Caramel Syrup", "Hazelnut Syrup"], "food", (false, false), (400, 900)),
    cat("Decor", Some("Home"), "DEC", &["Wall Print", "Vase", "Photo Frame"], "", (false, true), (900, 6000)),
    cat("Textiles", Some("Home"), "TEX", &["Tea Towel", "Napkin Set", "Table Runner"], "", (false, true), (600, 3000)),
    cat("Keyrings", Some("Accessories"), "KEY", &["Leather Keyring", "Bottle Opener Keyring"], "", (false, false), (200, 1200)),
    cat("Pins", Some("Accessories"), "PIN", &["Enamel Pin", "Badge Set"], "", (false, false), (300, 900)),
    cat("Gift Sets", Some("Gifts"), "GSET", &["Coffee Lover Set", "Tea Time Set"], "", (false, false), (2000, 7500)),
    cat("Outdoor", None, "OUT", &["Camping Mug", "Picnic Blanket"], "", (false, true), (1000, 6000)),
    cat("Bottles", Some("Outdoor"), "BTL", &["Water Bottle", "Flask"], "", (false, true), (900, 3500)),
    cat("Lights", Some("Outdoor"), "LGT", &["Head Torch", "Lantern"], "", (false, false), (1200, 5000)),
    cat("Toys", None, "TOY", &["Wooden Puzzle", "Plush Bear"], "", (false, true), (500, 3000)),
    cat("Games", Some("Toys"), "GAME", &["Card Game", "Board Game"], "", (false, false), (900, 4500)),
];

#[rustfmt::skip]
pub(crate) const TAGS: &[&str] = &[
    "Bestseller", "Clearance", "Gift idea", "New", "Organic", "Fair trade", "Vegan",
    "Limited edition", "Local", "Eco", "Handmade", "Seasonal", "Staff pick", "Imported", "Sale",
];

/// `(name, slug)` of the size terms, in menu order.
pub(crate) const SIZES: &[(&str, &str)] = &[
    ("XS", "xs"),
    ("S", "s"),
    ("M", "m"),
    ("L", "l"),
    ("XL", "xl"),
    ("XXL", "xxl"),
];

/// `(name, slug, SKU code)` of the colour terms.
pub(crate) const COLOURS: &[(&str, &str, &str)] = &[
    ("Black", "black", "BLA"),
    ("White", "white", "WHI"),
    ("Grey", "grey", "GRE"),
    ("Navy", "navy", "NAV"),
    ("Red", "red", "RED"),
    ("Blue", "blue", "BLU"),
    ("Green", "green", "GRN"),
    ("Natural", "natural", "NAT"),
];

#[rustfmt::skip]
pub(crate) const REFUND_REASONS: &[&str] = &[
    "Damaged bag of beans", "Wrong size", "Customer changed their mind", "Item arrived late",
    "Faulty item", "",
];

#[rustfmt::skip]
pub(crate) const CUSTOMER_NOTES: &[&str] = &[
    "Please leave with a neighbour.", "Gift \u{2014} no receipt please.", "Ring the bell twice.",
];

#[rustfmt::skip]
pub(crate) const USER_AGENTS: &[&str] = &[
   
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15",
];
