//! `signet completion SHELL` (clap_complete) and `signet manpages DIR` (clap_mangen): both
//! generated from the same clap definition the binary parses with, so they cannot drift.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use clap::CommandFactory;
use clap_complete::Shell;

use crate::args::{Cli, CompletionArgs, CompletionShell, ManpagesArgs};

pub(crate) fn completion(args: &CompletionArgs) -> anyhow::Result<ExitCode> {
    let shell = match args.shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
        CompletionShell::Powershell => Shell::PowerShell,
    };
    let mut command = Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut command, "signet", &mut out);
    Ok(ExitCode::SUCCESS)
}

/// Writes `signet.1` and one page per subcommand, `signet-sign.1`, `signet-attach-sbom.1`…,
/// into the directory (created if missing). Hidden commands and `help` get no page.
pub(crate) fn manpages(args: &ManpagesArgs) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("creating {}", args.out_dir.display()))?;
    let mut command = Cli::command();
    command.build();
    let mut written = 0usize;
    write_pages(&command, "signet", &args.out_dir, &mut written)?;
    eprintln!("Wrote {written} man pages to {}", args.out_dir.display());
    Ok(ExitCode::SUCCESS)
}

fn write_pages(
    command: &clap::Command,
    name: &str,
    dir: &Path,
    written: &mut usize,
) -> anyhow::Result<()> {
    // The page's title is the full command name (`signet-attach-sbom`), as git and cargo do.
    let page = command.clone().display_name(name.to_owned());
    let mut bytes = Vec::new();
    // Footer: "signet 0.1.0" and the build date (reproducible: see build.rs), not the clock.
    let date = env!("SIGNET_BUILD_DATE").get(..10).unwrap_or("unknown");
    clap_mangen::Man::new(page)
        .source(format!("signet {}", env!("CARGO_PKG_VERSION")))
        .date(date)
        .render(&mut bytes)
        .with_context(|| format!("rendering the man page of {name}"))?;
    let path = dir.join(format!("{name}.1"));
    std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    *written += 1;
    for sub in command
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
    {
        write_pages(sub, &format!("{name}-{}", sub.get_name()), dir, written)?;
    }
    Ok(())
}
