//! Categories, tags, global attributes and attribute terms.

use serde_json::Value;

use super::{ALLOW_ITEM, Ctx, Links, Obj};
use crate::woo::model::{Attribute, AttributeTerm, Term};

pub(crate) fn category(ctx: &Ctx<'_>, t: &Term, count: usize) -> Value {
    let mut links = Links::new()
        .self_(
            ctx.rest(&format!("wc/v3/products/categories/{}", t.id)),
            ALLOW_ITEM,
        )
        .link("collection", ctx.rest("wc/v3/products/categories"));
    if t.parent != 0 {
        links = links.link(
            "up",
            ctx.rest(&format!("wc/v3/products/categories/{}", t.parent)),
        );
    }
    Obj::new()
        .set("id", t.id)
        .set("name", t.name.as_str())
        .set("slug", t.slug.as_str())
        .set("parent", t.parent)
        .set("description", t.description.as_str())
        .set("display", t.display)
        .set("image", Value::Null)
        .set("menu_order", t.menu_order)
        .set("count", count)
        .set("_links", links.build())
        .build()
}

pub(crate) fn tag(ctx: &Ctx<'_>, t: &Term, count: usize) -> Value {
    Obj::new()
        .set("id", t.id)
        .set("name", t.name.as_str())
        .set("slug", t.slug.as_str())
        .set("description", t.description.as_str())
        .set("count", count)
        .set(
            "_links",
            Links::new()
                .self_(
                    ctx.rest(&format!("wc/v3/products/tags/{}", t.id)),
                    ALLOW_ITEM,
                )
                .link("collection", ctx.rest("wc/v3/products/tags"))
                .build(),
        )
        .build()
}

pub(crate) fn attribute(ctx: &Ctx<'_>, a: &Attribute) -> Value {
    Obj::new()
        .set("id", a.id)
        .set("name", a.name.as_str())
        .set("slug", a.slug.as_str())
        .set("type", "select")
        .set("order_by", a.order_by)
        .set("has_archives", false)
        .set(
            "_links",
            Links::new()
                .self_(
                    ctx.rest(&format!("wc/v3/products/attributes/{}", a.id)),
                    ALLOW_ITEM,
                )
                .link("collection", ctx.rest("wc/v3/products/attributes"))
                .build(),
        )
        .build()
}

pub(crate) fn attribute_term(ctx: &Ctx<'_>, t: &AttributeTerm, count: usize) -> Value {
    let base = format!("wc/v3/products/attributes/{}/terms", t.attribute_id);
    Obj::new()
        .set("id", t.id)
        .set("name", t.name.as_str())
        .set("slug", t.slug.as_str())
        .set("description", "")
        .set("menu_order", t.menu_order)
        .set("count", count)
        .set(
            "_links",
            Links::new()
                .self_(ctx.rest(&format!("{base}/{}", t.id)), ALLOW_ITEM)
                .link("collection", ctx.rest(&base))
                .build(),
        )
        .build()
}
