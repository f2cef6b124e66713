//! Installs the web app's front-end packages (htmx, Leaflet; axe-core for the browser tests)
//! with `npm ci` from `src/web/assets/package-lock.json` into `$OUT_DIR/npm`, where
//! `src/web/assets.rs` embeds them in the binary. Runs again only when the lockfile or
//! `package.json` change. Nothing is fetched at run time.
//!
//! Needs Node.js and npm on the build machine (the README says so). `DONORNET_NODE_MODULES`
//! may name a `node_modules` directory installed beforehand from the same lockfile (an offline
//! build); it is then used as it is.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

const FILES: [&str; 2] = ["package.json", "package-lock.json"];

fn main() {
    let source = Path::new("src/web/assets");
    for file in FILES {
        println!("cargo::rerun-if-changed={}", source.join(file).display());
    }
    println!("cargo::rerun-if-env-changed=DONORNET_NODE_MODULES");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target = out.join("npm");
    let modules = target.join("node_modules");
    if let Some(given) = env::var_os("DONORNET_NODE_MODULES") {
        link_or_copy(Path::new(&given), &modules);
        return;
    }
    let lock = fs::read(source.join("package-lock.json")).expect("read package-lock.json");
    let installed = fs::read(target.join("package-lock.json")).ok();
    if installed.as_deref() == Some(lock.as_slice()) && modules.is_dir() {
        return;
    }
    fs::create_dir_all(&target).expect("create $OUT_DIR/npm");
    for file in FILES {
        fs::copy(source.join(file), target.join(file)).expect("copy the npm manifest");
    }
    let npm = env::var("NPM").unwrap_or_else(|_| "npm".to_owned());
    let status = Command::new(&npm)
        .args([
            "ci",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ])
        .current_dir(&target)
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!(
            "`npm ci` for the web app's front-end packages failed ({s}); see its output above. \
             Node.js and npm are needed to build donornet (see the README)"
        ),
        Err(e) => panic!(
            "cannot run `{npm}` ({e}): Node.js and npm are needed to build donornet's web app \
             (see the README), or set DONORNET_NODE_MODULES to an installed node_modules"
        ),
    }
}

/// Uses an installed `node_modules` as it is (a symbolic link where the system has them).
fn link_or_copy(from: &Path, to: &Path) {
    assert!(
        from.join("htmx.org").is_dir(),
        "DONORNET_NODE_MODULES={} holds no htmx.org package",
        from.display()
    );
    let _ = fs::remove_dir_all(to);
    let _ = fs::remove_file(to);
    fs::create_dir_all(to.parent().expect("a parent")).expect("create $OUT_DIR/npm");
    #[cfg(unix)]
    std::os::unix::fs::symlink(from, to).expect("link DONORNET_NODE_MODULES");
    #[cfg(not(unix))]
    panic!("DONORNET_NODE_MODULES is supported on Unix only");
}
