//! The division import, through the library function behind `import-divisions`, checked
//! through the API.

use std::io::Write;

use donornet::domain::region::Level;
use donornet::import::divisions::{self, ImportError, ImportOptions, Source};
use flate2::write::GzEncoder;

use crate::helpers::{luohe_csv, on_each_backend, test_data};

#[tokio::test]
async fn a_second_import_changes_nothing_and_says_so() {
    on_each_backend(|app| async move {
        let first = app.import_luohe().await;
        assert_eq!(first.total().inserted, 1400);
        assert_eq!(first.level(Level::Township).inserted, 58);
        assert_eq!(first.level(Level::Village).inserted, 1334);
        let before = app.get_ok("/api/v1/regions/411103101000").await;

        let second = app.import_luohe().await;
        assert!(second.changed_nothing(), "{second}");
        assert_eq!(second.total().unchanged, 1400);
        assert!(second.to_string().contains("nothing changed"));
        let after = app.get_ok("/api/v1/regions/411103101000").await;
        assert_eq!(
            before["updated_at"], after["updated_at"],
            "an unchanged row was rewritten"
        );
        app
    })
    .await;
}

#[tokio::test]
async fn a_changed_name_is_updated_and_counted() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let dir = tempfile::tempdir().unwrap();
        let edited = dir.path().join("edited.csv");
        let text = std::fs::read_to_string(luohe_csv()).unwrap();
        std::fs::write(
            &edited,
            text.replace("411103101000,孟庙镇,", "411103101000,孟庙新镇,"),
        )
        .unwrap();
        let summary = app.import(&edited).await;
        assert_eq!(summary.level(Level::Township).updated, 1, "{summary}");
        assert_eq!(summary.total().updated, 1, "{summary}");
        assert_eq!(summary.total().unchanged, 1399);
        let township = app.get_ok("/api/v1/regions/411103101000").await;
        assert_eq!(township["name"], "孟庙新镇");
        assert_ne!(township["created_at"], township["updated_at"]);
        app
    })
    .await;
}

/// Writes `lines` (header first) to a temporary CSV and imports it, expecting a refusal.
async fn refused(app: &crate::helpers::TestApp, lines: &[String]) -> ImportError {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    divisions::import(&app.db, Source::File(&path), ImportOptions::default())
        .await
        .expect_err("the import should be refused")
}

#[tokio::test]
async fn a_corrupted_copy_is_refused_with_its_line_number_and_nothing_changes() {
    on_each_backend(|app| async move {
        let original: Vec<String> = std::fs::read_to_string(luohe_csv())
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        // Each case corrupts one line of a copy that also renames 孟庙镇 (line 21) and adds
        // a new village, so that a partial write would show.
        type Corruption = fn(&str) -> String;
        let cases: &[(usize, Corruption, &str)] = &[
            (
                700,
                |l| l.replacen(",village,", ",hamlet,", 1),
                "unknown level",
            ),
            (700, |l| l[1..].to_owned(), "not 12 digits"),
            (
                700,
                |l| {
                    let (head, _) = l.rsplit_once(',').unwrap();
                    format!("{head},411199999000")
                },
                "neither in the file nor in the database",
            ),
            (
                30,
                |l| {
                    let (head, _) = l.rsplit_once(',').unwrap();
                    format!("{head},411103101001")
                },
                "cannot sit below",
            ),
            (
                900,
                |l| {
                    l.replacen(',', ",另一个名字,", 1)
                        .split(',')
                        .enumerate()
                        .filter(|(i, _)| *i != 2)
                        .map(|(_, f)| f)
                        .collect::<Vec<_>>()
                        .join(",")
                },
                "appears again",
            ),
        ];
        for (line, corrupt, reason) in cases {
            let before = app.get_ok("/api/v1/regions").await;
            let mut lines = original.clone();
            lines[20] = lines[20].replace("孟庙镇", "改名镇");
            lines.push("411103101299,新增村委会,village,411103101000".to_owned());
            if *reason == "appears again" {
                // A duplicate of an earlier code with another name, placed at `line`.
                lines[line - 1] = corrupt(&original[240]);
            } else {
                lines[line - 1] = corrupt(&original[line - 1]);
            }
            let err = refused(&app, &lines).await;
            let text = err.to_string();
            assert!(
                text.starts_with(&format!("line {line}: ")),
                "{reason}: {text}"
            );
            assert!(text.contains(reason), "{reason}: {text}");
            // Nothing was written: on a fresh database there is still nothing.
            assert_eq!(app.get_ok("/api/v1/regions").await, before);
            let (status, _) = app.get_json("/api/v1/regions/411103101299").await;
            assert_eq!(
                status, 404,
                "{reason}: a row of the refused file was stored"
            );
        }
        // With Luohe stored, a refused file leaves every stored row as it was.
        app.import_luohe().await;
        let mut lines = original.clone();
        lines[20] = lines[20].replace("孟庙镇", "改名镇");
        lines[699] = lines[699].replacen(",village,", ",hamlet,", 1);
        let err = refused(&app, &lines).await;
        assert!(err.to_string().starts_with("line 700: "), "{err}");
        assert_eq!(
            app.get_ok("/api/v1/regions/411103101000").await["name"],
            "孟庙镇"
        );
        app
    })
    .await;
}

#[tokio::test]
async fn the_earliest_bad_line_is_reported_even_when_its_parent_comes_later() {
    on_each_backend(|app| async move {
        let lines: Vec<String> = [
            "code,name,level,parent_code",
            "410000000000,河南省,province,",
            "411103101001,李村居民委员会,village,411103101000",
            "411100000000,漯河市,city,410000000000",
            "411103000000,郾城区,county,411100000000",
            "411103102000,商桥镇,township,411103000000",
            "411103102001,坏村,hamlet,411103102000",
        ]
        .map(str::to_owned)
        .to_vec();
        let err = refused(&app, &lines).await;
        assert!(err.to_string().starts_with("line 3: "), "{err}");
        app
    })
    .await;
}

#[tokio::test]
async fn children_listed_before_their_parents_are_imported_in_level_order() {
    on_each_backend(|app| async move {
        let mut lines: Vec<String> = std::fs::read_to_string(luohe_csv())
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        lines[1..].reverse();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reversed.csv");
        std::fs::write(&path, lines.join("\n")).unwrap();
        let summary = app.import(&path).await;
        assert_eq!(summary.total().inserted, 1400);
        let city = app.get_ok("/api/v1/regions/411100000000").await;
        assert_eq!(city["descendant_counts"]["village"], 1334);
        app
    })
    .await;
}

#[tokio::test]
async fn a_city_without_counties_holds_its_townships_directly() {
    on_each_backend(|app| async move {
        // 东莞市 (4419), extracted from the national table: townships sit directly under the
        // city. Gzipped, as the national table comes.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dongguan.csv.gz");
        let mut gz = GzEncoder::new(
            std::fs::File::create(&path).unwrap(),
            flate2::Compression::default(),
        );
        gz.write_all(&std::fs::read(test_data().join("dongguan-divisions-2023.csv")).unwrap())
            .unwrap();
        gz.finish().unwrap();
        let summary = app.import(&path).await;
        assert_eq!(summary.level(Level::County).inserted, 0);
        assert_eq!(summary.level(Level::Township).inserted, 36, "{summary}");
        assert_eq!(summary.level(Level::Village).inserted, 609, "{summary}");
        let city = app.get_ok("/api/v1/regions/441900000000").await;
        assert_eq!(city["name"], "东莞市");
        assert_eq!(city["descendant_counts"]["county"], 0);
        let townships = app.list_all("parent=441900000000", 100).await;
        assert_eq!(
            townships.len() as u64,
            city["descendant_counts"]["township"].as_u64().unwrap()
        );
        let township = &townships[0];
        let villages = app
            .list_all(
                &format!("parent={}", township["code"].as_str().unwrap()),
                100,
            )
            .await;
        let village = app
            .get_ok(&format!(
                "/api/v1/regions/{}",
                villages[0]["code"].as_str().unwrap()
            ))
            .await;
        let levels: Vec<&str> = village["ancestors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["level"].as_str().unwrap())
            .collect();
        assert_eq!(levels, ["province", "city", "township"]);
        app
    })
    .await;
}

#[tokio::test]
async fn a_file_with_parents_already_in_the_database_can_be_imported_alone() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("extra.csv");
        std::fs::write(
            &path,
            "code,name,level,parent_code\n411103101298,新建村委会,village,411103101000\n",
        )
        .unwrap();
        let summary = app.import(&path).await;
        assert_eq!(summary.level(Level::Village).inserted, 1);
        let township = app.get_ok("/api/v1/regions/411103101000").await;
        let villages = app.list_all("parent=411103101000", 500).await;
        assert_eq!(villages.last().unwrap()["name"], "新建村委会");
        assert_eq!(
            township["descendant_counts"]["village"].as_u64().unwrap() as usize,
            villages.len()
        );
        app
    })
    .await;
}

#[tokio::test]
async fn the_demo_county_carries_coordinates_and_an_empty_cell_keeps_them() {
    on_each_backend(|app| async move {
        assert!(donornet::seed::load_demo_if_empty(&app.db).await.unwrap());
        assert!(
            !donornet::seed::load_demo_if_empty(&app.db).await.unwrap(),
            "loaded twice"
        );
        let county = app.get_ok("/api/v1/regions/990101000000").await;
        assert_eq!(county["descendant_counts"]["township"], 4);
        let villages = app.list_all("parent=990101000000&level=village", 100).await;
        assert!(villages.len() >= 20);
        for v in &villages {
            assert!(
                v["longitude"].is_f64() && v["latitude"].is_f64() && v["population"].is_u64(),
                "{v}"
            );
        }
        // A sheet with an empty location cell does not erase the stored location.
        let first = &villages[0];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sheet.csv");
        std::fs::write(
            &path,
            format!(
                "code,name,level,parent_code,longitude,latitude,population\n{},{},village,{},,,\n",
                first["code"].as_str().unwrap(),
                first["name"].as_str().unwrap(),
                first["parent_code"].as_str().unwrap()
            ),
        )
        .unwrap();
        assert!(app.import(&path).await.changed_nothing());
        let again = app
            .get_ok(&format!(
                "/api/v1/regions/{}",
                first["code"].as_str().unwrap()
            ))
            .await;
        assert_eq!(again["longitude"], first["longitude"]);
        assert_eq!(again["population"], first["population"]);
        app
    })
    .await;
}

#[tokio::test]
async fn demoting_a_region_above_its_stored_children_is_rolled_back() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        // 郾城区 as a township would leave its stored townships below a township. The check
        // runs after the row was written, so this also proves the rollback of a written row.
        let lines = [
            "code,name,level,parent_code",
            "411103000000,郾城区,township,411100000000",
        ]
        .map(str::to_owned);
        let err = refused(&app, &lines).await;
        let text = err.to_string();
        assert!(text.starts_with("line 2: "), "{text}");
        assert!(text.contains("cannot sit below"), "{text}");
        let district = app.get_ok("/api/v1/regions/411103000000").await;
        assert_eq!(district["level"], "county");
        assert_eq!(district["updated_at"], district["created_at"]);
        app
    })
    .await;
}

#[tokio::test]
async fn a_parent_that_skips_an_existing_unit_is_refused() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        // A township of 郾城区 (411103…) that names the city as its parent skips the district.
        let lines = [
            "code,name,level,parent_code",
            "411103199000,跳级镇,township,411100000000",
        ]
        .map(str::to_owned);
        let err = refused(&app, &lines).await;
        let text = err.to_string();
        assert!(
            text.starts_with("line 2: ") && text.contains("lies between them"),
            "{text}"
        );
        assert!(text.contains("411103000000"), "{text}");
        // The same within one file, with the district on a later line.
        let lines = [
            "code,name,level,parent_code",
            "430000000000,湖南省,province,",
            "430100000000,长沙市,city,430000000000",
            "430102101000,某镇,township,430100000000",
            "430102000000,某区,county,430100000000",
        ]
        .map(str::to_owned);
        let err = refused(&app, &lines).await;
        assert!(err.to_string().starts_with("line 4: "), "{err}");
        let (status, _) = app.get_json("/api/v1/regions/430000000000").await;
        assert_eq!(status, 404);
        app
    })
    .await;
}

#[tokio::test]
async fn control_characters_in_names_are_refused_on_their_line() {
    on_each_backend(|app| async move {
        let lines = [
            "code,name,level,parent_code",
            "410000000000,河南省,province,",
            "411100000000,漯河\u{0}市,city,410000000000",
        ]
        .map(str::to_owned);
        let err = refused(&app, &lines).await;
        assert!(
            err.to_string().starts_with("line 3: ")
                && err.to_string().contains("control character"),
            "{err}"
        );
        app
    })
    .await;
}
