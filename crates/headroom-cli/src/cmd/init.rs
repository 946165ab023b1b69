//! `headroom init`: create a project folder with a commented config and an
//! empty store.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use headroom_data::project::CONFIG_FILE;
use headroom_store::Store;

/// The commented `headroom.toml` that `init` writes: every setting with its
/// default.
pub const CONFIG_TEMPLATE: &str = include_str!("../headroom.toml");

/// Create a project folder: a commented headroom.toml and an empty store.
///
/// The config lists every setting with its default and unit: feature
/// options, model training, segment thresholds (with per customer segment
/// overrides), alerts, priority, review and retraining, and the reporting
/// currency with FX rates. Then import data into the folder. An existing
/// headroom.toml is kept unless --force is given.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The project folder to create (the current folder when omitted).
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,

    /// Replace an existing headroom.toml with the commented defaults. The
    /// store is opened first: when another command is using it, init stops
    /// and the old headroom.toml stays as it was.
    #[arg(long)]
    pub force: bool,
}

/// Runs `headroom init`.
pub fn run(args: &InitArgs) -> anyhow::Result<()> {
    let config = args.dir.join(CONFIG_FILE);
    if config.exists() && !args.force {
        bail!(
            "{} already exists\nhint: edit it, or pass --force to replace it with the commented defaults",
            config.display()
        );
    }

    // The store is opened (or created) and locked before the config is
    // written, so a project whose store is in use keeps its headroom.toml
    // byte for byte.
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("failed to create {}", args.dir.display()))?;
    let store_dir = Store::project_dir(&args.dir);
    let store_existed = store_dir.exists();
    let config_existed = config.exists();
    let store = Store::open_or_create(&store_dir)
        .with_context(|| format!("failed to create the store in {}", store_dir.display()))?;
    write_config(&config)?;
    store
        .close()
        .with_context(|| format!("failed to close the store in {}", store_dir.display()))?;

    let mut stdout = std::io::stdout().lock();
    let config_verb = if config_existed {
        "replaced"
    } else {
        "created"
    };
    writeln!(stdout, "{config_verb} {}", config.display())?;
    if store_existed {
        writeln!(
            stdout,
            "kept {} (its models, outcomes and snapshots are unchanged)",
            store_dir.display()
        )?;
    } else {
        writeln!(stdout, "created {}", store_dir.display())?;
    }
    writeln!(
        stdout,
        "next: headroom import EXPORTS_DIR [--mapping FILE] --out {}",
        args.dir.display()
    )?;
    Ok(())
}

/// Writes the template to `path` through a temporary file unique to this
/// process, renamed into place, so a failed write leaves no half-written
/// config and two writers never share the temporary file.
fn write_config(path: &Path) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let partial = path.with_file_name(format!(".{name}.{}.partial", std::process::id()));
    if let Err(err) = std::fs::write(&partial, CONFIG_TEMPLATE) {
        let _ = std::fs::remove_file(&partial);
        return Err(err).with_context(|| format!("failed to write {}", partial.display()));
    }
    std::fs::rename(&partial, path)
        .with_context(|| format!("failed to write {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use headroom_data::ProjectConfig;
    use headroom_features::FeatureOptions;
    use headroom_model::ModelConfig;
    use headroom_report::{AlertSettings, PrioritySettings, SegmentSettings};

    use super::CONFIG_TEMPLATE;

    fn template() -> ProjectConfig {
        ProjectConfig::parse(CONFIG_TEMPLATE, None).unwrap()
    }

    #[test]
    fn template_values_are_the_defaults() {
        let config = template();

        let features: FeatureOptions = config.section("features").unwrap();
        assert_eq!(features, FeatureOptions::default());
        let model: ModelConfig = config.section("model").unwrap();
        assert_eq!(model, ModelConfig::default());
        let segments: SegmentSettings = config.section("segments").unwrap();
        assert_eq!(segments, SegmentSettings::default());
        let alerts: AlertSettings = config.section("alerts").unwrap();
        assert_eq!(alerts, AlertSettings::default());
        let priority: PrioritySettings = config.section("priority").unwrap();
        assert_eq!(priority, PrioritySettings::default());
    }

    #[test]
    fn template_sections_are_all_known() {
        let table: toml::Table = CONFIG_TEMPLATE.parse().unwrap();
        let sections: Vec<&str> = table.keys().map(String::as_str).collect();

        assert_eq!(
            sections,
            [
                "alerts", "features", "model", "priority", "retrain", "review", "segments"
            ]
        );
    }
}
