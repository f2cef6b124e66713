//! A browser without script for the page tests: signed in through the `/login` form, the session
//! cookie and this site's `Origin` on every request (as browsers send it with form posts),
//! redirects not followed (so that tests see them); and reading a page's form fields back.

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Client, StatusCode};

use crate::helpers::{TestApp, user_with_token};

/// The password of the accounts [`signed_in`] makes.
pub(crate) const PASSWORD: &str = "long enough passphrase";

/// Signs in through the `/login` form: the status (303 when signed in) and, when signed in,
/// the signed-in client (else a plain one).
pub(crate) async fn try_sign_in(
    app: &TestApp,
    username: &str,
    password: &str,
) -> (StatusCode, Client) {
    let plain = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = plain
        .post(app.url("/login"))
        .header("origin", &app.address)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("username", username),
            ("password", password),
            ("next", "/"),
        ]))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let Some(cookie) = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("donornet_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
    else {
        return (status, plain);
    };
    let mut headers = HeaderMap::new();
    headers.insert("cookie", HeaderValue::from_str(&cookie).unwrap());
    headers.insert("origin", HeaderValue::from_str(&app.address).unwrap());
    let client = Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    (status, client)
}

/// Signs in through the `/login` form (which must succeed).
pub(crate) async fn sign_in(app: &TestApp, username: &str, password: &str) -> Client {
    let (status, client) = try_sign_in(app, username, password).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "signing in {username}");
    client
}

/// A new account of `role` bound to `regions` (password [`PASSWORD`]), signed in.
pub(crate) async fn signed_in(
    app: &TestApp,
    username: &str,
    role: &str,
    regions: &[&str],
) -> Client {
    user_with_token(&app.db, username, role, regions, Some(PASSWORD)).await;
    sign_in(app, username, PASSWORD).await
}

/// Fields as a browser encodes a form.
pub(crate) fn form(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

/// The status and the page at `path`.
pub(crate) async fn get(app: &TestApp, client: &Client, path: &str) -> (StatusCode, String) {
    let response = client.get(app.url(path)).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

/// Posts a form; the status, the `Location` (if any) and the page.
pub(crate) async fn post(
    app: &TestApp,
    client: &Client,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String, String) {
    let response = client
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(fields))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, location, response.text().await.unwrap())
}

/// The `value` of the first input named `name` in `html` (empty when it has none).
pub(crate) fn input_value(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("name=\"{name}\""))
        .unwrap_or_else(|| panic!("no input {name}"));
    let tag_start = html[..at].rfind('<').expect("the tag starts");
    let tag_end = at + html[at..].find('>').expect("the tag ends");
    let tag = &html[tag_start..tag_end];
    let Some(value) = tag.find("value=\"") else {
        return String::new();
    };
    let value = value + "value=\"".len();
    let end = tag[value..].find('"').expect("the value ends");
    tag[value..value + end].to_owned()
}
