//! A project folder: its config file, normalized tables, store and models.
//!
//! ```text
//! PROJECT/
//!   headroom.toml   settings, one section per stage
//!   tables/         normalized tables (Parquet) and meta.json
//!   store/          the sled store
//!   models/         trained model artifacts
//!   reports/        rendered reports
//! ```

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::error::DataError;

/// The config file name inside a project.
pub const CONFIG_FILE: &str = "headroom.toml";

/// A project's config file, parsed once; each stage reads its own section.
#[derive(Debug, Clone, Default)]
pub struct ProjectConfig {
    path: Option<PathBuf>,
    table: toml::Table,
}

impl ProjectConfig {
    /// Reads `PROJECT/headroom.toml`; a project without one uses the defaults.
    ///
    /// Fails when the file exists but is not valid TOML.
    pub fn load(project: &Path) -> Result<ProjectConfig, DataError> {
        let path = project.join(CONFIG_FILE);
        if !path.exists() {
            return Ok(ProjectConfig::default());
        }
        let text = std::fs::read_to_string(&path).map_err(|source| DataError::Io {
            path: path.clone(),
            source,
        })?;
        ProjectConfig::parse(&text, Some(path))
    }

    /// Parses config text; `path` is used in error messages.
    pub fn parse(text: &str, path: Option<PathBuf>) -> Result<ProjectConfig, DataError> {
        let table = text
            .parse::<toml::Table>()
            .map_err(|source| DataError::Config {
                path: path.clone().unwrap_or_else(|| PathBuf::from(CONFIG_FILE)),
                section: String::new(),
                message: source.to_string(),
            })?;
        Ok(ProjectConfig { path, table })
    }

    /// Deserializes one section (`[model]`, `[segments]`, ...) into a stage's
    /// settings type; a missing section gives the type's defaults.
    ///
    /// Fails on unknown keys or values of the wrong type, naming the section.
    pub fn section<T: DeserializeOwned + Default>(&self, name: &str) -> Result<T, DataError> {
        let Some(value) = self.table.get(name) else {
            return Ok(T::default());
        };
        value
            .clone()
            .try_into()
            .map_err(|err: toml::de::Error| DataError::Config {
                path: self
                    .path
                    .clone()
                    .unwrap_or_else(|| PathBuf::from(CONFIG_FILE)),
                section: name.to_string(),
                message: err.message().to_string(),
            })
    }
}
