//! Finding the data directory and the catalogue: `--data DIR`, else `PLACEMAP_DATA`, else
//! `../shared/data` seen from the repository that holds the current directory (the nearest
//! directory upwards with `boundaries/catalog.toml`). Nothing is baked in at build time, so a
//! binary copied elsewhere finds the data of where it runs. Every command says which it used.

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
    /// The directory.
    pub path: PathBuf,
    /// Where the choice came from (flag, environment, default).
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

/// The repository holding `dir`: the nearest directory from `dir` upwards that has
/// `boundaries/catalog.toml`.
///
/// ```
/// # let root = std::env::temp_dir().join(format!("pm-root-{}", std::process::id()));
/// # std::fs::create_dir_all(root.join("boundaries")).unwrap();
/// # std::fs::create_dir_all(root.join("crates/x")).unwrap();
/// # std::fs::write(root.join("boundaries/catalog.toml"), "").unwrap();
/// use placemap::data_dir::repository_root;
/// assert_eq!(repository_root(&root.join("crates/x")), Some(root.clone()));
/// ```
pub fn repository_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join("boundaries/catalog.toml").is_file())
        .map(Path::to_path_buf)
}

fn current_dir() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
}

/// Resolves the data directory. `flag` is `--data`, `env` the value of `PLACEMAP_DATA`.
/// Returns an error message that says what was tried when no directory exists.
///
/// ```
/// use placemap::data_dir::{resolve_data_dir, Origin};
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
        let cwd = current_dir();
        let path = match repository_root(&cwd) {
            Some(root) => root.join("../shared/data"),
            None => cwd.join("../shared/data"),
        };
        (path, Origin::Default)
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

/// Resolves the catalogue file: `flag`, else `boundaries/catalog.toml` of the repository holding
/// the current directory.
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
    match repository_root(&current_dir()) {
        Some(root) => {
            let p = root.join("boundaries/catalog.toml");
            Ok(p.canonicalize().unwrap_or(p))
        }
        None => Err("no catalogue found: expected boundaries/catalog.toml in the current directory or a directory above it; pass --catalog FILE".into()),
    }
}
