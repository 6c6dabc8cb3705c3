use rstest::rstest;
use tokio::io::BufReader;

use super::*;

fn path(name: &str) -> String {
    format!(
        "{}/tests/fixtures/shopify/bulk/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn flow(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(path(name)).unwrap()).unwrap()
}

async fn all(bytes: &[u8]) -> Result<Vec<Group>, BulkError> {
    let mut r = BulkReader::new(bytes);
    let mut out = Vec::new();
    while let Some(g) = r.next_group().await? {
        out.push(g);
    }
    Ok(out)
}

/// Reads a captured file from disk through a 7-byte buffer, so lines arrive
/// split across many reads.
async fn from_disk(name: &str) -> (Vec<Group>, u64) {
    let file = tokio::fs::File::open(path(name)).await.unwrap();
    let mut r = BulkReader::new(BufReader::with_capacity(7, file));
    let mut out = Vec::new();
    while let Some(g) = r.next_group().await.unwrap() {
        out.push(g);
    }
    (out, r.lines_read())
}

#[rstest]
#[case("root-count-run")]
#[case("root-count-variantRun")]
#[tokio::test]
async fn captured_files_agree_with_their_operations_counts(#[case] name: &str) {
    let (groups, lines) = from_disk(&format!("{name}.result.jsonl")).await;
    let op = &flow(&format!("{name}.flow.json"))["terminalOperation"];
    assert_eq!(op["status"], "COMPLETED");
    let count = |k: &str| op[k].as_str().unwrap().parse::<usize>().unwrap();
    assert_eq!(groups.len(), count("rootObjectCount"));
    let objects: usize = groups.iter().map(|g| 1 + g.children.len()).sum();
    assert_eq!(objects, count("objectCount"));
    assert_eq!(lines, objects as u64);
    let size = std::fs::metadata(path(&format!("{name}.result.jsonl")))
        .unwrap()
        .len();
    assert_eq!(size.to_string(), op["fileSize"].as_str().unwrap());
}

#[tokio::test]
async fn a_product_groups_its_variant_media_and_metafield() {
    let (groups, _) = from_disk("root-count-run.result.jsonl").await;
    let product = &groups[0];
    // `\/` unescaped by the parser.
    assert_eq!(product.id(), Some("gid://shopify/Product/10243914727730"));
    assert_eq!(
        product.root["title"],
        "Bulk root count bulk-root-mrrsb7hi-1xi0i"
    );
    let kinds: Vec<&str> = product
        .children
        .iter()
        .map(|c| c.object["id"].as_str().unwrap().split('/').nth(3).unwrap())
        .collect();
    assert_eq!(kinds, ["ProductVariant", "MediaImage", "Metafield"]);
    assert!(product.children.iter().all(|c| {
        c.parent_id == "gid://shopify/Product/10243914727730" && !c.object.contains_key(PARENT_ID)
    }));
    let variant = product
        .children_of("gid://shopify/Product/10243914727730")
        .next()
        .unwrap();
    assert_eq!(variant["sku"], "bulk-variant-bulk-root-mrrsb7hi-1xi0i");
}

#[tokio::test]
async fn a_variant_root_keeps_its_own_children() {
    let (groups, _) = from_disk("root-count-variantRun.result.jsonl").await;
    let [variant] = groups.as_slice() else {
        panic!("{groups:?}")
    };
    assert_eq!(
        variant.id(),
        Some("gid://shopify/ProductVariant/51487966167346")
    );
    assert_eq!(variant.children_of(variant.id().unwrap()).count(), 2);
}

/// The two captured files joined, as one file with two roots, and a
/// grandchild added under the variant.
fn two_roots() -> Vec<u8> {
    let mut out = std::fs::read(path("root-count-run.result.jsonl")).unwrap();
    out.extend_from_slice(
        br#"{"id":"gid:\/\/shopify\/Metafield\/1","key":"deep","__parentId":"gid:\/\/shopify\/ProductVariant\/51487966167346"}
"#,
    );
    out.extend(std::fs::read(path("root-count-variantRun.result.jsonl")).unwrap());
    out
}

#[tokio::test]
async fn groups_end_at_the_next_root_and_grandchildren_stay_with_their_root() {
    let groups = all(&two_roots()).await.unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].children.len(), 4);
    let deep = &groups[0].children[3];
    assert_eq!(
        deep.parent_id,
        "gid://shopify/ProductVariant/51487966167346"
    );
    assert_eq!(deep.object["key"], "deep");
    assert_eq!(groups[1].children.len(), 2);
}

#[tokio::test]
async fn an_empty_file_and_blank_lines_read_as_nothing() {
    assert_eq!(all(b"").await.unwrap(), vec![]);
    assert_eq!(all(b"\n\n").await.unwrap(), vec![]);
    let no_final_newline = br#"{"id":"gid://shopify/Product/1"}"#;
    assert_eq!(all(no_final_newline).await.unwrap().len(), 1);
    let crlf = b"{\"id\":\"a\"}\r\n{\"id\":\"b\",\"__parentId\":\"a\"}\r\n";
    assert_eq!(all(crlf).await.unwrap()[0].children.len(), 1);
}

#[tokio::test]
async fn an_ungrouped_file_is_refused_at_the_line_that_breaks_grouping() {
    // The product's metafield moved after the next root (the variant run's
    // variant): its parent is no longer the group being read.
    let run = std::fs::read(path("root-count-run.result.jsonl")).unwrap();
    let variant = std::fs::read(path("root-count-variantRun.result.jsonl")).unwrap();
    let run_lines: Vec<&[u8]> = run.split(|b| *b == b'\n').collect();
    let variant_lines: Vec<&[u8]> = variant.split(|b| *b == b'\n').collect();
    let file = [run_lines[0], variant_lines[0], run_lines[3]].join(&b'\n');
    let e = all(&file).await.unwrap_err();
    assert_eq!(
        e,
        BulkError::Ungrouped {
            line: 3,
            parent_id: "gid://shopify/Product/10243914727730".to_owned()
        }
    );
    assert_eq!(
        e.to_string(),
        "bulk result line 3 is a child of gid://shopify/Product/10243914727730, which is not \
         the record it follows (run the bulk query with groupObjects: true)"
    );

    // A child before any root.
    let e = all(variant_lines[1]).await.unwrap_err();
    assert!(matches!(e, BulkError::Ungrouped { line: 1, .. }), "{e:?}");
}

#[rstest]
#[case(b"{\"id\":\"a\"}\n{\"id\":\"b\",\n".as_slice(), BulkError::NotJson { line: 2, detail: String::new() })]
#[case(b"{\"id\":\"a\"}\n\n[1,2]\n".as_slice(), BulkError::NotAnObject { line: 3 })]
#[case(b"{\"id\":\"a\"}\n{\"id\":\"b\",\"__parentId\":7}\n".as_slice(), BulkError::BadParentId { line: 2 })]
#[case(b"{\"id\":\"a\",\"t\":\"\xff\"}\n".as_slice(), BulkError::NotJson { line: 1, detail: String::new() })]
#[tokio::test]
async fn malformed_lines_are_named_by_number(#[case] file: &[u8], #[case] want: BulkError) {
    let got = all(file).await.unwrap_err();
    match (&got, &want) {
        (BulkError::NotJson { line: a, .. }, BulkError::NotJson { line: b, .. }) => {
            assert_eq!(a, b)
        }
        _ => assert_eq!(got, want),
    }
    assert!(got.to_string().starts_with("bulk result line "), "{got}");
}

#[tokio::test]
async fn the_groups_before_a_bad_line_are_delivered_and_then_reading_stops() {
    let mut file = std::fs::read(path("root-count-run.result.jsonl")).unwrap();
    file.extend_from_slice(b"{\"id\":\"next\"}\nnot json\n");
    let mut r = BulkReader::new(file.as_slice());
    assert_eq!(r.next_group().await.unwrap().unwrap().children.len(), 3);
    assert!(matches!(
        r.next_group().await,
        Err(BulkError::NotJson { line: 6, .. })
    ));
    assert_eq!(r.next_group().await, Ok(None));
}

#[tokio::test]
async fn a_line_over_the_cap_is_refused_without_reading_it_whole() {
    let file = std::fs::read(path("root-count-run.result.jsonl")).unwrap();
    // The captured lines are 99 to 213 bytes long.
    let mut r = BulkReader::with_line_limit(BufReader::with_capacity(16, file.as_slice()), 150);
    assert_eq!(
        r.next_group().await,
        Err(BulkError::LineTooLong {
            line: 2,
            limit: 150
        })
    );
}

#[test]
fn a_broken_download_is_transient_and_a_bad_file_is_malformed() {
    let read = UpstreamError::from(BulkError::Read {
        line: 9,
        reason: "connection reset".into(),
    });
    assert!(read.is_transient());
    let bad = UpstreamError::from(BulkError::NotAnObject { line: 3 });
    assert!(matches!(bad, UpstreamError::Malformed { .. }));
    assert!(bad.to_string().contains("line 3"));
}
