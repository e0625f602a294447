//! Scale-out (issue 11): several `placemap serve` processes behind one load balancer answer the
//! same request with the same bytes and the same ETag, so any of them may serve any reader and
//! caches in front of them agree. State lives in the data directory and the datasets store only.

use crate::datasets::{http_full, serve_args};

fn etag(head: &str) -> Option<String> {
    head.lines()
        .find_map(|l| {
            l.strip_prefix("etag: ")
                .or_else(|| l.strip_prefix("ETag: "))
        })
        .map(str::to_string)
}

#[test]
fn two_servers_on_the_same_data_answer_with_the_same_bytes_and_etags() {
    let state = tempfile::tempdir().expect("state dir");
    // One public address, as behind a load balancer: absolute links are the same too.
    let args = [
        "--layers",
        "lad19",
        "--public-url",
        "https://maps.example.org",
    ];
    let a = serve_args(state.path(), &args);
    let b = serve_args(state.path(), &args);
    for path in [
        "/tiles/lad19/imd_score/7/63/41.png",
        "/tiles/lad19/imd_score/7/63/41@2x.png?scheme=jenks&k=7",
        "/tiles/lad19/7/63/41.mvt?indicators=imd_score",
        "/tiles/lad19/imd_score.json",
        "/legend/lad19/imd_score.json",
        "/legend/lad19/imd_score.svg",
        "/styles/lad19/imd_score.json",
        "/static/lad19/imd_score.png?width=400&height=300",
        "/layers/lad19.geojson?zoom=6",
        "/layers/lad19.csv",
        "/ogc/collections/lad19/items?limit=5",
    ] {
        let (sa, ha, ba) = http_full(&a.addr, "GET", path, &[], b"");
        let (sb, hb, bb) = http_full(&b.addr, "GET", path, &[], b"");
        assert_eq!((sa, sb), (200, 200), "{path}: {ha} {hb}");
        assert!(
            ba == bb,
            "{path}: the two servers' bodies differ ({} and {} bytes)",
            ba.len(),
            bb.len()
        );
        assert_eq!(etag(&ha), etag(&hb), "{path}");
    }
    // The tile answers carry an ETag that either server honours.
    let (_, head, _) = http_full(
        &a.addr,
        "GET",
        "/tiles/lad19/imd_score/7/63/41.png",
        &[],
        b"",
    );
    let tag = etag(&head).expect("tiles have an ETag");
    let (status, _, _) = http_full(
        &b.addr,
        "GET",
        "/tiles/lad19/imd_score/7/63/41.png",
        &[("If-None-Match", &tag)],
        b"",
    );
    assert_eq!(status, 304);
}
