//! Finding the data directory and the catalogue: `--data DIR`, else `PLACEMAP_DATA`, else
//! `../shared/data` seen from the repository root. Every command says which one it used.

use std::path::{Path, PathBuf};

/// Where a directory or file choice came from, for the "using ..." message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Given on the command line.
    Flag,
    /// From the `PLACEMAP_DATA` environment variable.
    Env,
    /// The default, `../shared/data` seen from the repository root.
    Default,
}

/// A resolved data directory and how it was chosen.
#[derive(Clone, Debug)]
pub struct DataDir {
    pub path: PathBuf,
    pub origin: Origin,
}

impl std::fmt::Display for DataDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let how = match self.origin {
            Origin::Flag => "from --data",
            Origin::Env => "from PLACEMAP_DATA",
            Origin::Default => "default ../shared/data beside the repository",
        };
        write!(f, "{} ({how})", self.path.display())
    }
}

/// The repository root this crate was built in (two levels above this crate's manifest).
pub fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Resolves the data directory. `flag` is `--data`, `env` the value of `PLACEMAP_DATA`.
/// Returns an error message that says what was tried when no directory exists.
///
/// ```
/// use districts::data_dir::{resolve_data_dir, Origin};
/// let d = resolve_data_dir(Some(std::env::temp_dir()), None).unwrap();
/// assert_eq!(d.origin, Origin::Flag);
/// assert!(resolve_data_dir(Some("/no/such/dir".into()), None).is_err());
/// ```
pub fn resolve_data_dir(flag: Option<PathBuf>, env: Option<String>) -> Result<DataDir, String> {
    let (path, origin) = if let Some(p) = flag {
        (p, Origin::Flag)
    } else if let Some(p) = env.filter(|s| !s.trim().is_empty()) {
        (PathBuf::from(p), Origin::Env)
    } else {
        let cwd_default = PathBuf::from("../shared/data");
        if cwd_default.is_dir() {
            (cwd_default, Origin::Default)
        } else {
            (repository_root().join("../shared/data"), Origin::Default)
        }
    };
    if !path.is_dir() {
        let how = match origin {
            Origin::Flag => "given with --data",
            Origin::Env => "given in PLACEMAP_DATA",
            Origin::Default => {
                "the default (../shared/data beside the repository; pass --data DIR or set PLACEMAP_DATA)"
            }
        };
        return Err(format!(
            "data directory {} does not exist: {how}",
            path.display()
        ));
    }
    let path = path.canonicalize().unwrap_or(path);
    Ok(DataDir { path, origin })
}

/// Resolves the catalogue file: `flag`, else `boundaries/catalog.toml` in the current directory,
/// else the one in the repository this binary was built from.
pub fn resolve_catalog(flag: Option<PathBuf>) -> Result<PathBuf, String> {
    if let Some(p) = flag {
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!(
                "catalogue {} does not exist (given with --catalog)",
                p.display()
            ))
        };
    }
    let local = PathBuf::from("boundaries/catalog.toml");
    if local.is_file() {
        return Ok(local);
    }
    let built = repository_root().join("boundaries/catalog.toml");
    if built.is_file() {
        return Ok(built.canonicalize().unwrap_or(built));
    }
    Err("no catalogue found: expected boundaries/catalog.toml in the current directory or the repository; pass --catalog FILE".into())
}
