//! Finding and reading the YAML under `deploy/`. Every file is read as a
//! stream of documents (`---` separated); empty documents are skipped.

use crate::{Error, Result};
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One YAML document of one file.
#[derive(Debug, Clone)]
pub struct Doc {
    /// Path relative to the directory that was walked.
    pub path: PathBuf,
    /// Position of the document in its file (0-based, empty documents counted).
    pub index: usize,
    pub value: Value,
}

impl Doc {
    /// `apiVersion`, or "" when absent.
    pub fn api_version(&self) -> &str {
        self.value.get("apiVersion").and_then(Value::as_str).unwrap_or("")
    }
    /// `kind`, or "" when absent.
    pub fn kind(&self) -> &str {
        self.value.get("kind").and_then(Value::as_str).unwrap_or("")
    }
    /// `metadata.name`, or "" when absent.
    pub fn name(&self) -> &str {
        self.value.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("")
    }
    /// `metadata.namespace`, or "" when absent.
    pub fn namespace(&self) -> &str {
        self.value.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("")
    }
    /// `file#index kind/name`, for messages.
    pub fn label(&self) -> String {
        format!("{}#{} {}/{}", self.path.display(), self.index, self.kind(), self.name())
    }
}

/// Every `.yaml`/`.yml` file under `root`, sorted, skipping hidden directories,
/// `target` directories and the directories named in `skip` (relative to `root`).
pub fn yaml_files(root: &Path, skip: &[&str]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|source| Error::Io { path: dir.clone(), source })?;
        for entry in entries {
            let entry = entry.map_err(|source| Error::Io { path: dir.clone(), source })?;
            let path = entry.path();
            let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                let skipped = skip.iter().any(|s| rel == Path::new(s));
                if !(name.starts_with('.') || name == "target" || skipped) {
                    stack.push(path);
                }
            } else if name.ends_with(".yaml") || name.ends_with(".yml") {
                out.push(rel);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The non-empty documents of one file; `rel` is how the path is reported.
pub fn read_docs(root: &Path, rel: &Path) -> Result<Vec<Doc>> {
    let full = root.join(rel);
    let text = std::fs::read_to_string(&full).map_err(|source| Error::Io { path: full.clone(), source })?;
    parse_docs(rel, &text)
}

/// Splits YAML text into documents.
pub fn parse_docs(rel: &Path, text: &str) -> Result<Vec<Doc>> {
    let mut out = Vec::new();
    for (index, de) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let value = Value::deserialize(de).map_err(|e| Error::Yaml {
            path: rel.to_path_buf(),
            index,
            message: e.to_string(),
        })?;
        if !value.is_null() {
            out.push(Doc { path: rel.to_path_buf(), index, value });
        }
    }
    Ok(out)
}

/// Every document of every YAML file under `root` (see [`yaml_files`]).
pub fn tree(root: &Path, skip: &[&str]) -> Result<Vec<Doc>> {
    let mut out = Vec::new();
    for rel in yaml_files(root, skip)? {
        out.extend(read_docs(root, &rel)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::parse_docs;
    use std::path::Path;

    #[test]
    fn splits_documents_and_skips_empty_ones() {
        let docs = parse_docs(Path::new("x.yaml"), "---\nkind: A\n---\n---\nkind: B\n").unwrap();
        let kinds: Vec<_> = docs.iter().map(|d| (d.index, d.kind().to_owned())).collect();
        assert_eq!(kinds, vec![(0, "A".to_owned()), (2, "B".to_owned())]);
        assert!(parse_docs(Path::new("x.yaml"), "a: [").is_err());
    }
}
