//! The layers' import rules, checked on the source (DEVELOPERS.md, "Layers"):
//!
//! - no module outside `src/api/` uses `crate::api` except `src/lib.rs`, which builds the
//!   router: the command line (`main.rs`, `admin.rs`), the demo seed, the services and the
//!   store call services;
//! - a module of `src/api/` uses no other module of `src/api/` except the HTTP parts every
//!   handler shares (`extract`, `auth`'s `Caller`, and the router's OpenAPI document that
//!   the docs handler serves);
//! - no sea-orm query, transaction or audit record in `src/api/`: queries are the store's,
//!   transactions and audit records the services';
//! - no handler uses the store: reads and writes go through the capability's service, only the
//!   HTTP infrastructure reads it ([`STORE_READERS`]);
//! - the pages (`src/web/`) likewise: no store, query, transaction or audit record.
//!
//! Comment lines and test modules (from `#[cfg(test)]` on) are not checked.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a readable source directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code lines of `path` (1-based numbers), without comments and test modules.
fn code(path: &Path) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(path).expect("a readable source file");
    text.lines()
        .enumerate()
        .take_while(|(_, line)| line.trim() != "#[cfg(test)]")
        .filter(|(_, line)| !line.trim_start().starts_with("//"))
        .map(|(i, line)| (i + 1, line.to_owned()))
        .collect()
}

fn sources() -> Vec<(String, Vec<(usize, String)>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path
                .strip_prefix(root)
                .expect("under the manifest directory")
                .to_string_lossy()
                .replace('\\', "/");
            let lines = code(&path);
            (name, lines)
        })
        .collect()
}

fn offences(check: impl Fn(&str, &str) -> Option<String>) -> Vec<String> {
    let mut found = Vec::new();
    for (file, lines) in sources() {
        for (number, line) in lines {
            if let Some(why) = check(&file, &line) {
                found.push(format!("{file}:{number}: {why}: {}", line.trim()));
            }
        }
    }
    found
}

#[test]
fn nothing_outside_the_api_uses_the_api_but_the_router() {
    let found = offences(|file, line| {
        let outside = !file.starts_with("src/api/") && file != "src/lib.rs";
        (outside && (line.contains("crate::api") || line.contains("donornet::api")))
            .then(|| "uses the HTTP layer".to_owned())
    });
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn api_modules_use_no_other_api_module_but_the_shared_http_parts() {
    const SHARED: [&str; 3] = [
        "crate::api::extract",
        "crate::api::auth",
        "crate::api::openapi",
    ];
    let found = offences(|file, line| {
        if !file.starts_with("src/api/") || file == "src/api/mod.rs" {
            return None;
        }
        let mut rest = line;
        while let Some(at) = rest.find("crate::api::") {
            let used = &rest[at..];
            if !SHARED.iter().any(|s| used.starts_with(s)) {
                return Some("uses another API module".to_owned());
            }
            rest = &rest[at + "crate::api::".len()..];
        }
        let sideways = line.contains("super::")
            && !line.contains("super::extract")
            && !line.contains("super::auth");
        sideways.then(|| "uses another API module".to_owned())
    });
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_api_writes_no_queries_transactions_or_audit_records() {
    const QUERIES: [&str; 7] = [
        "sea_orm",
        "Entity::find",
        "Entity::insert",
        "Entity::update",
        "Entity::delete",
        "begin_write",
        "audit::record",
    ];
    let found = offences(|file, line| {
        if !file.starts_with("src/api/") {
            return None;
        }
        QUERIES
            .iter()
            .find(|q| line.contains(**q))
            .map(|q| format!("{q} in a handler"))
    });
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// The HTTP infrastructure that may read the store itself: the token lookup of every request
/// (`auth`) and the region range of listing filters (`extract`). Every other module of
/// `src/api/` reaches the database only through a service.
const STORE_READERS: [&str; 2] = ["src/api/auth.rs", "src/api/extract.rs"];

#[test]
fn handlers_do_not_use_the_store() {
    let found = offences(|file, line| {
        let handler = file.starts_with("src/api/") && !STORE_READERS.contains(&file);
        (handler && (line.contains("crate::store") || line.contains("store::")))
            .then(|| "uses the store, not its service".to_owned())
    });
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// The pages are a second face on the services, as thin as the handlers: no queries,
/// transactions, audit records or store reads of their own (a database error is only mapped to
/// an error page, in `web::errors`).
#[test]
fn pages_use_services_not_the_store() {
    const QUERIES: [&str; 8] = [
        "crate::store",
        "store::",
        "Entity::find",
        "Entity::insert",
        "Entity::update",
        "Entity::delete",
        "begin_write",
        "audit::record",
    ];
    let found = offences(|file, line| {
        if !file.starts_with("src/web/") {
            return None;
        }
        if let Some(q) = QUERIES.iter().find(|q| line.contains(**q)) {
            return Some(format!("{q} in a page"));
        }
        (line.contains("sea_orm") && file != "src/web/errors.rs")
            .then(|| "sea_orm in a page".to_owned())
    });
    assert!(found.is_empty(), "{}", found.join("\n"));
}
