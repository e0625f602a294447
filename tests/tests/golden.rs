//! Golden tiles: several zooms and layers rendered through the router and compared with the
//! reviewed PNGs in `tests/expected/tiles/` (`make bless` refreshes them).

use placemap_e2e::{check_golden_png, get};

async fn golden_tile(uri: &str, name: &str) {
    let r = get(uri).await;
    assert_eq!(r.status, 200, "{uri}: {}", r.text());
    check_golden_png(&format!("tiles/{name}.png"), &r.body);
}

#[tokio::test]
async fn golden_lad19_england_z5_and_north_east_z8() {
    golden_tile(
        "/tiles/lad19/imd_score/5/15/10.png",
        "lad19_imd_score_5_15_10",
    )
    .await;
    golden_tile(
        "/tiles/lad19/imd_score/8/127/81.png?highlight=E06000001",
        "lad19_imd_score_8_127_81_highlight",
    )
    .await;
}

#[tokio::test]
async fn golden_lsoa11_deciles_z10_teesside() {
    golden_tile(
        "/tiles/lsoa11/imd_decile/10/508/325.png",
        "lsoa11_imd_decile_10_508_325",
    )
    .await;
}

#[tokio::test]
async fn golden_lad21_bng_pay_change_z6() {
    golden_tile(
        "/tiles/lad21/median_weekly_pay/6/31/20@2x.png?change=2010..2020&change_kind=pct",
        "lad21_pay_change_6_31_20_2x",
    )
    .await;
}

#[tokio::test]
async fn golden_bgc_cambridge_hole_z10() {
    // South Cambridgeshire carries Cambridge's hole as an overlapping shell: Cambridge must show.
    golden_tile(
        "/tiles/lad19_bgc/imd_score/10/512/337.png",
        "lad19_bgc_imd_score_10_512_337",
    )
    .await;
}

#[tokio::test]
async fn golden_msoa11_shapefile_z9_london() {
    golden_tile(
        "/tiles/msoa11/msoa_imd_score/9/255/170.png",
        "msoa11_9_255_170",
    )
    .await;
}
