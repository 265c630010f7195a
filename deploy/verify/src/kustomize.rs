//! Which files a kustomization deploys, without a kustomize binary: resources
//! are files or directories holding a `kustomization.yaml`, followed
//! recursively. Enough to know what a `kubectl apply -k` would send (before
//! patches and transformers) and to catch dangling or forgotten files.

use crate::typed::Kustomization;
use crate::typed::crd::strict;
use crate::{Error, Result, load};
use std::path::{Component, Path, PathBuf};

/// The manifest files (relative to `root`) that the kustomization in `dir`
/// includes, directly or through nested kustomizations, in order. Also returns
/// every kustomization file visited.
pub fn resources(root: &Path, dir: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let mut files = Vec::new();
    let mut kustomizations = Vec::new();
    visit(root, dir, &mut files, &mut kustomizations, 0)?;
    Ok((files, kustomizations))
}

fn visit(root: &Path, dir: &Path, files: &mut Vec<PathBuf>, ks: &mut Vec<PathBuf>, depth: usize) -> Result<()> {
    if depth > 16 {
        return Err(Error::Manifest(format!("{}: kustomizations nest too deep (a cycle?)", dir.display())));
    }
    let kfile = normalize(&dir.join("kustomization.yaml"));
    let docs = load::read_docs(root, &kfile)?;
    let [doc] = docs.as_slice() else {
        return Err(Error::Manifest(format!("{}: expected one document", kfile.display())));
    };
    let k: Kustomization = strict(&doc.value).map_err(|e| Error::Manifest(format!("{}: {e}", kfile.display())))?;
    ks.push(kfile.clone());
    for r in k.resources.iter().chain(&k.components) {
        let rel = normalize(&dir.join(r));
        let full = root.join(&rel);
        if full.is_dir() {
            visit(root, &rel, files, ks, depth + 1)?;
        } else if full.is_file() {
            files.push(rel);
        } else {
            return Err(Error::Manifest(format!("{}: resource {r:?} does not exist", kfile.display())));
        }
    }
    for p in k.patches.iter().filter_map(|p| p.path.as_ref()) {
        let rel = normalize(&dir.join(p));
        if !root.join(&rel).is_file() {
            return Err(Error::Manifest(format!("{}: patch {p:?} does not exist", kfile.display())));
        }
        files.push(rel);
    }
    Ok(())
}

/// Resolves `.` and `..` lexically (paths here never involve symlinks).
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalize;
    use std::path::Path;

    #[test]
    fn normalizes_relative_paths() {
        assert_eq!(normalize(Path::new("overlays/dev/../../base/./x.yaml")), Path::new("base/x.yaml"));
    }
}
