//! The public pages in a real browser on a 360x740 phone, in Chinese: a donor finds a drive by
//! county and township (htmx fills the townships; without script the form does), books alone,
//! keeps the booking page's address as the manage link, moves and cancels (answering the
//! page's confirmation); two browsers race for the last place; wrong fields and a duplicate
//! booking are explained beside the form; the language switch. Every page visited is
//! screenshotted and checked with axe-core.
//!
//! The data (stations, vehicles, points, drives) is made through the API as the admin, as in
//! `bookings.rs`: vehicle 1 has 4 places a half-hour slot, vehicle 2 has 2.

use chrono::Duration;
use donornet::i18n::Lang;

use super::{Browser, Driver, clear_screenshots};
use crate::bookings::{booked, left, published_stop, today};
use crate::helpers::on_each_backend;
use crate::plans::{COUNTY, DONGLING, Network, network};

/// 南塘镇, the township of point P2 (南塘镇献血点).
const NANTANG: &str = "990101103000";

const BOOK: &str = "form.booking button[type=submit]";
const MOVE: &str = "form[action$='/move'] button[type=submit]";
const CANCEL: &str = "form[action$='/cancel'] button[type=submit]";

/// True when `text` has Chinese characters (a sentence of the Chinese catalogue, not an id or
/// an English fallback).
fn chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// The booking code and token of a booking page's address (`/bookings/CODE?t=TOKEN&done=…`).
fn code_and_token(path: &str) -> (String, String) {
    let url = url::Url::parse(&format!("http://x{path}")).expect("an address");
    let code = url.path().trim_start_matches("/bookings/").to_owned();
    let token = url
        .query_pairs()
        .find(|(k, _)| k == "t")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no token in {path}"));
    (code, token)
}

/// Opens the stop's page and fills the booking form for one person (not sent).
async fn fill_booking(b: &Browser, stop: i64, slot: &str, name: &str, mobile: &str) {
    b.goto(&format!("/stops/{stop}")).await;
    b.wait_for_script().await;
    b.pick("#slot", slot).await;
    b.fill("#name", name).await;
    b.fill("#mobile", mobile).await;
}

#[tokio::test]
async fn a_donor_on_a_phone_finds_a_drive_by_township_books_moves_and_cancels() {
    const TEST: &str = "donor_books_moves_and_cancels";
    let Some(driver) = Driver::start(TEST).await else {
        return;
    };
    clear_screenshots(TEST);
    on_each_backend(|app| {
        let driver = &driver;
        async move {
            let zh = Lang::ZhCn;
            let Network { vehicles, points } = network(&app).await;
            let date = today() + Duration::days(10);
            // P2 in 南塘镇, and P1 in 东岭镇 the day after (not in 南塘镇's list).
            let (_, stop) =
                published_stop(&app, vehicles[0], points[1], date, "09:00", "11:30").await;
            let (_, elsewhere) = published_stop(
                &app,
                vehicles[0],
                points[0],
                date + Duration::days(1),
                "09:00",
                "11:30",
            )
            .await;
            let mut b = driver.browser(&app, "").await;

            // `/` leads to the schedule: every stop of the next 30 days.
            b.goto("/").await;
            assert_eq!(b.path().await, "/drives");
            b.wait_for_script().await;
            assert_eq!(b.text("h1").await, zh.t("drives-title"));
            assert!(b.has(&format!("a[href='/stops/{stop}']")).await);
            assert!(b.has(&format!("a[href='/stops/{elsewhere}']")).await);
            b.check_wide("schedule").await;

            // The county, then the township that htmx fetched for it.
            assert_eq!(b.options("#township").await, [""]);
            b.pick("#county", COUNTY).await;
            b.find(&format!("#township option[value='{NANTANG}']"))
                .await;
            let townships = b.options("#township").await;
            assert!(
                townships.contains(&DONGLING.to_owned()),
                "both townships with stops: {townships:?}"
            );
            b.pick("#township", NANTANG).await;
            b.check("schedule-township-picked").await;
            b.click_to_load("form.place button[type=submit]").await;
            let path = b
                .wait_for_path("the township's schedule", |p| {
                    p.contains(&format!("township={NANTANG}"))
                })
                .await;
            assert!(path.starts_with("/drives?"), "{path}");
            assert_eq!(
                b.text("#list").await,
                zh.t1("drives-heading-in", "place", "南塘镇")
            );
            assert!(b.has(&format!("a[href='/stops/{stop}']")).await);
            assert!(!b.has(&format!("a[href='/stops/{elsewhere}']")).await);
            b.check("schedule-nantang").await;

            // The stop, its slots and the form.
            b.click_to_load(&format!("a[href='/stops/{stop}']")).await;
            assert_eq!(b.path().await, format!("/stops/{stop}"));
            assert_eq!(b.text("h1").await, "南塘镇献血点");
            b.wait_for_script().await;
            // With script the form shows one kind's fields: a person's by default.
            assert!(b.find("#name").await.is_displayed().await.unwrap());
            assert!(!b.find("#organisation").await.is_displayed().await.unwrap());
            b.check_wide("stop").await;

            // Booking alone.
            b.pick("#slot", "09:00").await;
            b.fill("#name", "张三").await;
            b.fill("#mobile", "13812345678").await;
            b.click_to_load(BOOK).await;
            let path = b
                .wait_for_path("the booking page", |p| p.starts_with("/bookings/"))
                .await;
            assert!(path.ends_with("&done=booked"), "{path}");
            let (code, token) = code_and_token(&path);
            assert_eq!(b.text("#booking-code").await, code);
            assert_eq!(b.text(".notice").await, zh.t("notice-booked"));
            assert_eq!(b.text("#booking-status").await, zh.t("booking-active"));
            assert!(b.text("#booking-when").await.contains("09:00–09:30"));
            let seen = b.visible_text().await;
            assert!(seen.contains(&zh.t("booking-keep-link")), "{seen}");
            assert!(
                !seen.contains(&token),
                "the token travels in the address only, never shown: {seen}"
            );
            b.check_wide("booked").await;
            assert_eq!(left(&app, stop).await[0], ("09:00".to_owned(), 3));

            // The page's address is the manage link: opened again, it shows the booking.
            let manage = format!("/bookings/{code}?t={token}");
            b.goto(&manage).await;
            assert_eq!(b.text("#booking-code").await, code);
            assert!(!b.has(".notice").await);

            // Moving to 10:00.
            b.wait_for_script().await;
            b.pick("form[action$='/move'] select[name=slot]", "10:00")
                .await;
            b.click_to_load(MOVE).await;
            b.wait_for_path("the moved booking", |p| p.ends_with("&done=moved"))
                .await;
            assert_eq!(b.text(".notice").await, zh.t("notice-moved"));
            assert!(b.text("#booking-when").await.contains("10:00–10:30"));
            b.check("moved").await;
            let places = left(&app, stop).await;
            assert_eq!(places[0], ("09:00".to_owned(), 4));
            assert_eq!(places[2], ("10:00".to_owned(), 3));

            // Cancelling asks first: "no" keeps the booking…
            b.wait_for_script().await;
            b.click(CANCEL).await;
            assert_eq!(b.dialog_text().await, zh.t("booking-cancel-confirm"));
            b.dismiss_dialog().await;
            assert_eq!(b.text("#booking-status").await, zh.t("booking-active"));
            assert!(!b.path().await.contains("done=cancelled"));
            // …"yes" cancels it.
            b.click(CANCEL).await;
            assert_eq!(b.dialog_text().await, zh.t("booking-cancel-confirm"));
            b.accept_dialog().await;
            b.wait_for_path("the cancelled booking", |p| p.ends_with("&done=cancelled"))
                .await;
            assert_eq!(b.text("#booking-status").await, "已取消");
            assert_eq!(b.text(".notice").await, zh.t("notice-cancelled"));
            assert!(!b.has(CANCEL).await, "nothing left to cancel");
            b.check("cancelled").await;
            assert_eq!(left(&app, stop).await[2], ("10:00".to_owned(), 4));
            b.close().await;
            app
        }
    })
    .await;
}

#[tokio::test]
async fn without_script_the_township_is_picked_and_the_booking_made_by_plain_forms() {
    const TEST: &str = "without_script";
    let Some(driver) = Driver::start(TEST).await else {
        return;
    };
    clear_screenshots(TEST);
    on_each_backend(|app| {
        let driver = &driver;
        async move {
            let zh = Lang::ZhCn;
            let Network { vehicles, points } = network(&app).await;
            let date = today() + Duration::days(5);
            let (_, stop) =
                published_stop(&app, vehicles[0], points[1], date, "09:00", "11:30").await;
            let mut b = driver.browser_without_script(&app, "").await;
            b.goto("/drives").await;
            assert!(!b.has("html.js").await, "no script ran");
            // No htmx: the county is sent with the form, and the page comes back with its
            // townships to pick from.
            b.pick("#county", COUNTY).await;
            assert_eq!(b.options("#township").await, [""]);
            b.click_to_load("form.place button[type=submit]").await;
            b.wait_for_path("the county's schedule", |p| {
                p.contains(&format!("county={COUNTY}"))
            })
            .await;
            b.find(&format!("#township option[value='{NANTANG}']"))
                .await;
            b.check("schedule-county").await;
            b.pick("#township", NANTANG).await;
            b.click_to_load("form.place button[type=submit]").await;
            b.wait_for_path("the township's schedule", |p| {
                p.contains(&format!("township={NANTANG}"))
            })
            .await;
            b.click_to_load(&format!("a[href='/stops/{stop}']")).await;
            // Both kinds' fields show; the radio says which are sent.
            assert!(b.find("#organisation").await.is_displayed().await.unwrap());
            b.check("stop").await;
            b.pick("#slot", "09:30").await;
            b.fill("#name", "王五").await;
            b.fill("#mobile", "13700001111").await;
            b.click_to_load(BOOK).await;
            b.wait_for_path("the booking page", |p| p.starts_with("/bookings/"))
                .await;
            assert_eq!(b.text(".notice").await, zh.t("notice-booked"));
            b.check("booked").await;
            // No confirmation without script: the form posts at once.
            b.click_to_load(CANCEL).await;
            b.wait_for_path("the cancelled booking", |p| p.ends_with("&done=cancelled"))
                .await;
            assert_eq!(b.text("#booking-status").await, "已取消");
            b.check("cancelled").await;
            b.close().await;
            app
        }
    })
    .await;
}

#[tokio::test]
async fn two_phones_race_for_the_last_place_and_the_one_too_late_is_told_plainly() {
    const TEST: &str = "race_for_the_last_place";
    let Some(driver) = Driver::start(TEST).await else {
        return;
    };
    clear_screenshots(TEST);
    on_each_backend(|app| {
        let driver = &driver;
        async move {
            let zh = Lang::ZhCn;
            let Network { vehicles, points } = network(&app).await;
            let date = today() + Duration::days(7);
            // Vehicle 2: 2 places a slot; one taken through the API.
            let (_, stop) =
                published_stop(&app, vehicles[1], points[1], date, "09:00", "10:00").await;
            booked(&app, stop, "赵六", "13600000000", "09:00").await;
            assert_eq!(left(&app, stop).await[0], ("09:00".to_owned(), 1));

            let mut first = driver.browser(&app, "first-").await;
            let mut second = driver.browser(&app, "second-").await;
            fill_booking(&first, stop, "09:00", "钱七", "13600000001").await;
            fill_booking(&second, stop, "09:00", "孙八", "13600000002").await;
            first.check("stop").await;
            second.check("stop").await;

            // Both send at once.
            tokio::join!(first.click_to_load(BOOK), second.click_to_load(BOOK));
            let first_path = first.path().await;
            let second_path = second.path().await;
            let (mut winner, mut loser, loser_name) = match (
                first_path.starts_with("/bookings/"),
                second_path.starts_with("/bookings/"),
            ) {
                (true, false) => (first, second, "孙八"),
                (false, true) => (second, first, "钱七"),
                _ => panic!("exactly one should book: {first_path} / {second_path}"),
            };
            assert_eq!(winner.text(".notice").await, zh.t("notice-booked"));
            winner.check("won").await;

            // The other is back on the stop with what was typed, the slot gone from the
            // choices, and the reason in plain words.
            assert_eq!(loser.path().await, format!("/stops/{stop}/book"));
            let problem = loser.text("#problem").await;
            assert_eq!(problem, zh.t("refused-full"));
            let top = loser.top_of("#problem").await;
            assert!((0.0..40.0).contains(&top), "the problem is {top} px down");
            assert!(chinese(&problem), "{problem}");
            assert_eq!(loser.value("#name").await, loser_name);
            let slots = loser.options("#slot").await;
            assert!(!slots.contains(&"09:00".to_owned()), "{slots:?}");
            assert!(slots.contains(&"09:30".to_owned()), "{slots:?}");
            loser.check("too-late").await;
            assert_eq!(left(&app, stop).await[0], ("09:00".to_owned(), 0));
            winner.close().await;
            loser.close().await;
            app
        }
    })
    .await;
}

#[tokio::test]
async fn wrong_fields_and_a_duplicate_booking_are_explained_in_chinese_beside_the_form() {
    const TEST: &str = "wrong_fields_and_duplicate";
    let Some(driver) = Driver::start(TEST).await else {
        return;
    };
    clear_screenshots(TEST);
    on_each_backend(|app| {
        let driver = &driver;
        async move {
            let zh = Lang::ZhCn;
            let Network { vehicles, points } = network(&app).await;
            let date = today() + Duration::days(3);
            let (_, stop) =
                published_stop(&app, vehicles[0], points[1], date, "09:00", "11:30").await;
            let mut b = driver.browser(&app, "").await;

            // No name and a short mobile number: each explained under its field, what was
            // typed kept, the first problem read out.
            fill_booking(&b, stop, "09:00", "", "1381234").await;
            b.click_to_load(BOOK).await;
            assert_eq!(b.path().await, format!("/stops/{stop}/book"));
            assert_eq!(b.text("#problem").await, zh.t("refused-fields"));
            let name_error = b.text("#name-error").await;
            assert_eq!(name_error, zh.t("hint-name"));
            assert!(chinese(&name_error));
            assert_eq!(b.text("#mobile-error").await, zh.t("hint-mobile"));
            assert_eq!(
                b.attr("#mobile", "aria-invalid").await.as_deref(),
                Some("true")
            );
            assert_eq!(
                b.attr("#mobile", "aria-describedby").await.as_deref(),
                Some("mobile-error")
            );
            assert_eq!(b.value("#mobile").await, "1381234");
            assert_eq!(b.value("#slot").await, "09:00");
            assert!(!b.has("#slot-error").await);
            // The problem is brought to the top of the screen, the fields below it.
            let top = b.top_of("#problem").await;
            assert!((0.0..40.0).contains(&top), "the problem is {top} px down");
            b.check_wide("wrong-fields").await;
            b.scroll_to("#mobile-error").await;
            b.screenshot("wrong-fields-mobile").await;

            // Put right, it books.
            b.fill("#name", "李四").await;
            b.fill("#mobile", "13912345678").await;
            b.click_to_load(BOOK).await;
            b.wait_for_path("the booking page", |p| p.starts_with("/bookings/"))
                .await;

            // The same mobile at the same stop again: told to use the link it has.
            fill_booking(&b, stop, "09:30", "李四", "13912345678").await;
            b.click_to_load(BOOK).await;
            assert_eq!(b.path().await, format!("/stops/{stop}/book"));
            let problem = b.text("#problem").await;
            assert_eq!(problem, zh.t("refused-duplicate"));
            assert!(chinese(&problem));
            assert_eq!(b.value("#mobile").await, "13912345678");
            b.check("duplicate").await;
            let places = left(&app, stop).await;
            assert_eq!(places[0], ("09:00".to_owned(), 3));
            assert_eq!(places[1], ("09:30".to_owned(), 4));
            b.close().await;
            app
        }
    })
    .await;
}

#[tokio::test]
async fn a_group_books_its_places_over_the_slots_it_prefers() {
    const TEST: &str = "group_books";
    let Some(driver) = Driver::start(TEST).await else {
        return;
    };
    clear_screenshots(TEST);
    on_each_backend(|app| {
        let driver = &driver;
        async move {
            let Network { vehicles, points } = network(&app).await;
            let date = today() + Duration::days(10);
            let (_, stop) =
                published_stop(&app, vehicles[0], points[1], date, "09:00", "11:30").await;
            let before = left(&app, stop).await;
            let mut b = driver.browser(&app, "").await;
            b.goto(&format!("/stops/{stop}")).await;
            b.wait_for_script().await;

            // The form shows the fields of the kind chosen: a person's, then a group's.
            let shown = async |css: &str| b.find(css).await.is_displayed().await.unwrap();
            assert!(shown("#name").await && !shown("#organisation").await);
            b.click("input[name=kind][value=group]").await;
            assert!(!shown("#name").await && shown("#organisation").await);
            b.fill("#organisation", "南塘镇中学").await;
            b.fill("#contact_name", "赵老师").await;
            b.fill("#contact_mobile", "13600000000").await;
            b.fill("#headcount", "6").await;
            b.click("input[name=preferred_slots][value='09:00']").await;
            b.click("input[name=preferred_slots][value='09:30']").await;
            b.check("group-form").await;
            b.click_to_load(BOOK).await;
            let path = b
                .wait_for_path("the group's booking page", |p| p.starts_with("/bookings/"))
                .await;
            let (code, _) = code_and_token(&path);
            let page = b.visible_text().await;
            assert!(
                page.contains("南塘镇中学") && page.contains(&code),
                "{page}"
            );
            b.check("group-booked").await;

            // Six places held, three in each slot it preferred.
            let after = left(&app, stop).await;
            for ((slot, was), (_, now)) in before.iter().zip(&after) {
                let held = if slot == "09:00" || slot == "09:30" {
                    3
                } else {
                    0
                };
                assert_eq!(was - now, held, "{slot}: {before:?} -> {after:?}");
            }
            b.close().await;
            app
        }
    })
    .await;
}

#[tokio::test]
async fn the_language_switch_shows_english_and_back() {
    const TEST: &str = "language_switch";
    let Some(driver) = Driver::start(TEST).await else {
        return;
    };
    clear_screenshots(TEST);
    on_each_backend(|app| {
        let driver = &driver;
        async move {
            let (zh, en) = (Lang::ZhCn, Lang::English);
            let Network { vehicles, points } = network(&app).await;
            let date = today() + Duration::days(4);
            let (_, stop) =
                published_stop(&app, vehicles[0], points[1], date, "09:00", "11:30").await;
            let mut b = driver.browser(&app, "").await;
            // Chinese for a browser that asks for it (and by default).
            b.goto("/drives").await;
            assert_eq!(b.attr("html", "lang").await.as_deref(), Some("zh-CN"));
            assert_eq!(b.text("h1").await, zh.t("drives-title"));

            b.click_to_load("a[hreflang='en']").await;
            b.find("html[lang='en']").await;
            assert_eq!(b.path().await, "/drives");
            assert_eq!(b.text("h1").await, en.t("drives-title"));
            b.check_wide("schedule-en").await;
            // It stays English from page to page.
            b.click_to_load(&format!("a[href='/stops/{stop}']")).await;
            assert_eq!(b.text("#book-h").await, en.t("book-title"));
            assert_eq!(b.text("label[for=mobile]").await, en.t("book-mobile"));
            b.check("stop-en").await;

            b.click_to_load("a[hreflang='zh-CN']").await;
            b.find("html[lang='zh-CN']").await;
            assert_eq!(b.path().await, format!("/stops/{stop}"));
            assert_eq!(b.text("#book-h").await, zh.t("book-title"));
            b.check("stop-zh").await;
            b.close().await;
            app
        }
    })
    .await;
}

#[tokio::test]
async fn the_accessibility_check_finds_a_field_without_a_label() {
    const TEST: &str = "accessibility_check";
    let Some(driver) = Driver::start(TEST).await else {
        return;
    };
    clear_screenshots(TEST);
    on_each_backend(|app| {
        let driver = &driver;
        async move {
            let b = driver.browser(&app, "").await;
            b.goto("/drives").await;
            assert_eq!(b.axe_violations().await, Vec::<serde_json::Value>::new());
            // A field no one can name: axe-core, run as every test runs it, says so.
            b.run(
                "const i = document.createElement('input'); i.type = 'text'; \
                 document.querySelector('main').append(i);",
            )
            .await;
            let found = b.axe_violations().await;
            assert!(
                found
                    .iter()
                    .any(|v| v["id"] == "label" && v["impact"] == "critical"),
                "{found:?}"
            );
            b.close().await;
            app
        }
    })
    .await;
}
