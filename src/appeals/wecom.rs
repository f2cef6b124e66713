//! WeCom (企业微信) group robots: a message is the documented JSON POSTed to
//! `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY`, answered with
//! `{"errcode":0,"errmsg":"ok"}`; any other `errcode` is a failure. HTTPS through rustls
//! (ring, the provider the database driver uses, given to this client alone) with the
//! Mozilla roots; the base address is configurable, so tests post to a stub on `http://`.
//!
//! The key is a secret: it is put in the request's address and nowhere else: not in errors,
//! logs, or anything stored.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// Where WeCom's group robots take messages.
pub const DEFAULT_URL: &str = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send";

/// How long one post may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A client of the group robots' webhook.
pub struct WeCom {
    url: String,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl std::fmt::Debug for WeCom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WeCom").field("url", &self.url).finish()
    }
}

impl WeCom {
    /// A client posting to `url` (the webhook's address without `?key=`).
    ///
    /// # Errors
    /// The TLS configuration cannot be built.
    pub fn new(url: &str) -> anyhow::Result<Self> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        Ok(WeCom {
            url: url.trim_end_matches('?').to_owned(),
            client: Client::builder(TokioExecutor::new()).build(connector),
        })
    }

    /// Posts `payload` to the robot with `key`.
    ///
    /// # Errors
    /// What went wrong, without the key: no connection, a status other than 2xx, an answer
    /// that is not WeCom's, or an `errcode` other than 0.
    pub async fn post(&self, key: &str, payload: &serde_json::Value) -> Result<(), String> {
        let key: String = url::form_urlencoded::byte_serialize(key.as_bytes()).collect();
        let request = hyper::Request::post(format!("{}?key={key}", self.url))
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(payload.to_string())))
            .map_err(|_| "wecom: the request cannot be built".to_owned())?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| format!("wecom: {}", connect_error(&e)))?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|_| "wecom: the answer broke off".to_owned())?
                .to_bytes();
            Ok::<_, String>((status, body))
        };
        let (status, body) = tokio::time::timeout(TIMEOUT, exchange)
            .await
            .map_err(|_| "wecom: no answer in time".to_owned())??;
        if !status.is_success() {
            return Err(format!("wecom answered {status}"));
        }
        let answer: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|_| format!("wecom answered {status} with something not JSON"))?;
        match answer.get("errcode").and_then(serde_json::Value::as_i64) {
            Some(0) => Ok(()),
            Some(code) => Err(format!(
                "wecom errcode {code}: {}",
                answer
                    .get("errmsg")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("")
                    .chars()
                    .take(200)
                    .collect::<String>()
            )),
            None => Err("wecom answered without an errcode".to_owned()),
        }
    }
}

/// The client the configuration names: `url` must be `https://` (the key travels in it).
///
/// # Errors
/// Not an `https://` URL, or the TLS configuration cannot be built.
pub fn from_config(url: &str) -> anyhow::Result<WeCom> {
    let parsed =
        url::Url::parse(url).map_err(|e| anyhow::anyhow!("--wecom-webhook-url {url:?}: {e}"))?;
    anyhow::ensure!(
        parsed.scheme() == "https",
        "--wecom-webhook-url must be an https:// URL (the robots' keys travel in it)"
    );
    WeCom::new(url)
}

/// A connection error in words, without the address (which carries the key).
fn connect_error(e: &hyper_util::client::legacy::Error) -> &'static str {
    if e.is_connect() {
        "cannot connect"
    } else {
        "the request failed"
    }
}
