//! docs/cli.md against clap (issue 15): every command has a section `## signet COMMAND`, every
//! flag of the command is described in it, and every usage line there (a code span starting
//! with `signet COMMAND`) names only flags the command has. A new command or flag fails this
//! test until docs/cli.md describes it; the message says what to add where.
//!
//! Flags under the "Registry options" heading (`RegistryArgs`) are described once, in the
//! section `## Registry options`; a command's section refers to them by that name.

use std::collections::BTreeSet;

use clap::CommandFactory;

use crate::args::{Cli, REGISTRY_OPTIONS};

const CLI_MD: &str = include_str!("../../../../docs/cli.md");

/// A leaf command: its path after `signet` (e.g. `attach sbom`) and its long flags, each with
/// its help heading and first help line.
struct Leaf {
    path: String,
    flags: Vec<(String, Option<String>, String)>,
}

fn leaves(command: &clap::Command, prefix: &str, out: &mut Vec<Leaf>) {
    for sub in command.get_subcommands() {
        let path = format!("{prefix}{}", sub.get_name());
        if sub.has_subcommands() {
            leaves(sub, &format!("{path} "), out);
            continue;
        }
        let flags = sub
            .get_arguments()
            .filter(|a| !a.is_hide_set())
            .filter_map(|a| {
                let long = a.get_long()?;
                let help = a.get_help().map(ToString::to_string).unwrap_or_default();
                let heading = a.get_help_heading().map(str::to_owned);
                Some((long.to_owned(), heading, help))
            })
            .filter(|(long, _, _)| long != "help" && long != "version")
            .collect();
        out.push(Leaf { path, flags });
    }
}

/// The sections of a Markdown text: (`## ` heading, body).
fn sections(text: &str) -> Vec<(&str, String)> {
    let mut out: Vec<(&str, String)> = Vec::new();
    for line in text.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            out.push((heading.trim(), String::new()));
        } else if let Some((_, body)) = out.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    out
}

/// The `--flags` a text mentions. `--a-{b,c}` stands for `--a-b --a-c`, and `--a[-b]` for
/// `--a --a-b`, as docs/cli.md abbreviates families of flags.
fn flags_in(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let chars: Vec<char> = text.chars().collect();
    let is_flag_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.';
    let mut i = 0;
    while i + 2 < chars.len() {
        let starts = chars[i] == '-'
            && chars[i + 1] == '-'
            && chars[i + 2].is_ascii_alphanumeric()
            && (i == 0 || !is_flag_char(chars[i - 1]));
        if !starts {
            i += 1;
            continue;
        }
        let mut end = i + 2;
        while end < chars.len() && is_flag_char(chars[end]) {
            end += 1;
        }
        let stem: String = chars[i + 2..end].iter().collect();
        let stem = stem.trim_end_matches('.').to_owned();
        match chars.get(end) {
            Some('{') => {
                let close = chars[end..].iter().position(|&c| c == '}').map(|p| end + p);
                if let Some(close) = close {
                    let inner: String = chars[end + 1..close].iter().collect();
                    for tail in inner.split(',') {
                        found.insert(format!("{stem}{}", tail.trim()));
                    }
                    end = close;
                }
            }
            Some('[') if chars.get(end + 1) == Some(&'-') => {
                let close = chars[end..].iter().position(|&c| c == ']').map(|p| end + p);
                if let Some(close) = close {
                    let tail: String = chars[end + 1..close].iter().collect();
                    found.insert(format!("{stem}{tail}"));
                    found.insert(stem.clone());
                    end = close;
                }
            }
            _ => {
                found.insert(stem.trim_end_matches('-').to_owned());
            }
        }
        i = end;
    }
    found
}

/// The inline code spans of a Markdown text, fenced blocks left out; spans may wrap lines.
fn code_spans(text: &str) -> Vec<String> {
    let mut prose = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            prose.push_str(line);
            prose.push('\n');
        }
    }
    prose
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn docs_cli_md_describes_every_command_and_flag_that_clap_knows() {
    let mut commands = Vec::new();
    leaves(&Cli::command(), "", &mut commands);
    let sections = sections(CLI_MD);
    let section = |title: &str| {
        sections
            .iter()
            .find(|(heading, _)| *heading == title)
            .map(|(_, body)| body.as_str())
    };
    let mut problems = Vec::new();

    let registry_section = section(REGISTRY_OPTIONS).unwrap_or_else(|| {
        problems.push(format!(
            "docs/cli.md has no section `## {REGISTRY_OPTIONS}`: add it, describing the flags \
             clap lists under that heading"
        ));
        ""
    });
    let registry_flags = flags_in(registry_section);

    for leaf in &commands {
        let title = format!("signet {}", leaf.path);
        let Some(body) = section(&title) else {
            let flags: Vec<String> = leaf.flags.iter().map(|f| format!("--{}", f.0)).collect();
            problems.push(format!(
                "docs/cli.md has no section for `{title}`: add `## {title}` with its usage, what \
                 it does, and its flags ({})",
                flags.join(" ")
            ));
            continue;
        };
        let described = flags_in(body);
        let registry = Some(REGISTRY_OPTIONS);
        if leaf.flags.iter().any(|f| f.1.as_deref() == registry) && !body.contains(REGISTRY_OPTIONS)
        {
            problems.push(format!(
                "docs/cli.md `## {title}` does not say that it takes the {REGISTRY_OPTIONS}: \
                 say so in that section"
            ));
        }
        for (flag, heading, help) in &leaf.flags {
            if heading.as_deref() == registry {
                if !registry_flags.contains(flag) {
                    problems.push(format!(
                        "docs/cli.md `## {REGISTRY_OPTIONS}` does not describe --{flag} ({help}): \
                         add it there"
                    ));
                }
            } else if !described.contains(flag) {
                problems.push(format!(
                    "docs/cli.md `## {title}` does not describe --{flag} ({help}): add it to \
                     that section's usage line or text"
                ));
            }
        }
        // Usage lines name only flags the command has.
        let own: BTreeSet<&str> = leaf.flags.iter().map(|f| f.0.as_str()).collect();
        for span in code_spans(body) {
            let Some(rest) = span.strip_prefix(&title) else {
                continue;
            };
            if !(rest.is_empty() || rest.starts_with(' ')) {
                continue;
            }
            for flag in flags_in(rest) {
                if !own.contains(flag.as_str()) && flag != "help" {
                    problems.push(format!(
                        "docs/cli.md `## {title}`: the usage `{span}` names --{flag}, which \
                         `{title}` does not have: remove or rename it"
                    ));
                }
            }
        }
    }

    // Sections for commands that no longer exist.
    let known: BTreeSet<String> = commands
        .iter()
        .map(|c| format!("signet {}", c.path))
        .collect();
    for (heading, _) in &sections {
        if heading.starts_with("signet ") && !known.contains(*heading) {
            problems.push(format!(
                "docs/cli.md has a section `## {heading}`, but signet has no such command: \
                 remove or rename it"
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

#[test]
fn flag_families_and_boundaries_are_read_as_written() {
    let found = flags_in(
        "`--certificate-github-workflow-{repository,ref}` and --certificate-identity[-regexp], \
         --registries.d, --digestAlg. Not --; not a--b.",
    );
    let expected = [
        "certificate-github-workflow-repository",
        "certificate-github-workflow-ref",
        "certificate-identity",
        "certificate-identity-regexp",
        "registries.d",
        "digestAlg",
    ];
    assert_eq!(
        found,
        expected
            .iter()
            .map(|s| s.to_string())
            .collect::<BTreeSet<_>>()
    );
    let spans = code_spans("a `signet x\n--y` b\n```\n`not`\n```\n`z`");
    assert_eq!(spans, ["signet x --y", "z"]);
}
