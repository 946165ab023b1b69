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

/// The config sections that headroom's stages read.
pub const SECTIONS: [&str; 8] = [
    "features", "model", "segments", "alerts", "priority", "review", "retrain", "currency",
];

/// Returns the error for a top-level config entry no stage reads, naming the
/// closest section when one is close.
fn unknown_section(path: PathBuf, name: &str) -> DataError {
    let closest = SECTIONS
        .iter()
        .map(|section| (strsim::jaro_winkler(name, section), *section))
        .filter(|(similarity, _)| *similarity >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let listed = SECTIONS.map(|s| format!("[{s}]")).join(", ");
    let hint = match closest {
        Some((_, section)) => format!(
            "did you mean [{section}]? headroom reads {listed}; a setting outside them is ignored, so rename or remove this one"
        ),
        None => format!(
            "headroom reads {listed}; a setting outside them is ignored, so rename or remove this one"
        ),
    };
    DataError::UnknownConfigSection {
        path,
        name: name.to_string(),
        hint,
    }
}

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
        let path_for_errors = path.clone().unwrap_or_else(|| PathBuf::from(CONFIG_FILE));
        if let Some(name) = table.keys().find(|k| !SECTIONS.contains(&k.as_str())) {
            return Err(unknown_section(path_for_errors, name));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspelled_section_is_rejected() {
        let text = "[modle]\nhorizon_days = 90\n";
        let err = ProjectConfig::parse(text, Some(PathBuf::from("p/headroom.toml"))).unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with("invalid config p/headroom.toml: unknown section [modle]"),
            "{message}"
        );
        assert!(message.contains("did you mean [model]?"), "{message}");
    }

    #[test]
    fn setting_outside_sections_is_rejected() {
        let err = ProjectConfig::parse("horizon_days = 90\n", None).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("unknown section [horizon_days]"),
            "{message}"
        );
        assert!(!message.contains("did you mean"), "{message}");
    }

    #[test]
    fn every_known_section_parses() {
        let text: String = SECTIONS.iter().map(|s| format!("[{s}]\n")).collect();
        let config = ProjectConfig::parse(&text, None).unwrap();
        assert_eq!(config.table.len(), SECTIONS.len());
    }
}
