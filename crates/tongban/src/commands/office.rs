//! 协同办公 from the command line: a sealed document's PDF verified offline.

use anyhow::Context;

/// Verifies the file's signature and chain; with `root`, the chain must end in that root.
/// Prints the finding as JSON; exits 1 when refused.
pub(crate) fn verify(root: Option<&std::path::Path>, file: &std::path::Path) -> anyhow::Result<()> {
    let pdf = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let pinned = match root {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            Some(tongban_pades::cert::from_pem(&text).map_err(|e| anyhow::anyhow!("{e}"))?)
        }
        None => None,
    };
    let refuse = |reason: String| -> anyhow::Result<()> {
        println!("{}", serde_json::json!({"valid": false, "reason": reason}));
        std::process::exit(1);
    };
    let verified = match tongban_pades::verify(&pdf) {
        Ok(verified) => verified,
        Err(error) => return refuse(error.to_string()),
    };
    let root_subject = tongban_pades::cert::subject(verified.root()).unwrap_or_default();
    if let Some(pinned) = &pinned
        && pinned.as_slice() != verified.root()
    {
        return refuse(format!(
            "the certificates chain to {root_subject}, not to the root given"
        ));
    }
    println!(
        "{}",
        serde_json::json!({
            "valid": true,
            "signer": verified.signer,
            "algorithm": verified.algorithm.as_str(),
            "signed_at": verified.time,
            "root": root_subject,
            "root_pinned": pinned.is_some(),
        })
    );
    Ok(())
}
