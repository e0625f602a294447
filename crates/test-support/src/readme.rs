//! The README's fenced code blocks and the shell commands in them, for the tests that run the
//! README's examples (`tests/tests/readme.rs` for HTTP, `crates/placemap/tests/cli.rs` for the
//! CLI). Hand-written: a Markdown crate would give the blocks, but the commands (continuation
//! lines, `# output` lines) are the README's own convention.

/// README.md of the repository.
pub fn readme() -> String {
    let path = super::repo_root().join("README.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One command of a ```` ```sh ```` block, continuation lines joined, with the `# ...` lines
/// that follow it (its documented output).
pub struct Command {
    /// Line number of its first line in the README.
    pub line: usize,
    /// The command, continuation lines joined with spaces.
    pub text: String,
    /// Its documented output: the `# ...` lines right after it, without the `#`.
    pub output: Vec<String>,
}

/// The fenced code blocks: (language, first line number, lines).
pub fn blocks(text: &str) -> Vec<(String, usize, Vec<&str>)> {
    let mut out = Vec::new();
    let mut open: Option<(String, usize, Vec<&str>)> = None;
    for (n, line) in text.lines().enumerate() {
        match (&mut open, line.trim_start().strip_prefix("```")) {
            (None, Some(lang)) => open = Some((lang.trim().to_string(), n + 2, Vec::new())),
            (Some(_), Some(_)) => out.extend(open.take()),
            (Some((_, _, lines)), None) => lines.push(line),
            (None, None) => {}
        }
    }
    out
}

/// Splits a line at its first `#` outside quotes: (command, comment).
pub fn split_comment(line: &str) -> (&str, Option<&str>) {
    let (mut single, mut double) = (false, false);
    for (i, c) in line.char_indices() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '#' if !single && !double && (i == 0 || line[..i].ends_with(' ')) => {
                return (line[..i].trim_end(), Some(line[i + 1..].trim()));
            }
            _ => {}
        }
    }
    (line, None)
}

/// The commands of a block whose first line is line `first` of the README.
pub fn commands(lines: &[&str], first: usize) -> Vec<Command> {
    let mut out: Vec<Command> = Vec::new();
    let mut pending: Option<Command> = None;
    let mut last_was_command = false;
    for (k, raw) in lines.iter().enumerate() {
        let line = raw.trim();
        if let Some(mut c) = pending.take() {
            c.text.push(' ');
            c.text.push_str(line.trim_end_matches('\\').trim());
            if line.ends_with('\\') || line.ends_with('|') {
                pending = Some(c);
            } else {
                out.push(c);
                last_was_command = true;
            }
            continue;
        }
        if let Some(doc) = line.strip_prefix('#') {
            if last_was_command && let Some(c) = out.last_mut() {
                c.output.push(doc.trim().to_string());
            }
            continue;
        }
        last_was_command = false;
        if line.is_empty() {
            continue;
        }
        let c = Command {
            line: first + k,
            text: line.trim_end_matches('\\').trim().to_string(),
            output: Vec::new(),
        };
        if line.ends_with('\\') || line.ends_with('|') {
            pending = Some(c);
        } else {
            out.push(c);
            last_was_command = true;
        }
    }
    out.extend(pending);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_join_continuations_and_keep_output_and_comments() {
        let lines = [
            "printf 'a\\nb\\n' |",
            "  curl -s --data-binary @- \\",
            "    'localhost:8080/lookup?layer=lad19'",
            "# a,b",
            "curl -s 'localhost:8080/x' | jq '.results[0].name'   # \"Cumberland\"",
        ];
        let c = commands(&lines, 1);
        assert_eq!(c.len(), 2);
        assert_eq!(
            c[0].text,
            "printf 'a\\nb\\n' | curl -s --data-binary @- 'localhost:8080/lookup?layer=lad19'"
        );
        assert_eq!(c[0].output, ["a,b"]);
        assert_eq!(c[1].line, 5);
        assert_eq!(split_comment(&c[1].text).1, Some("\"Cumberland\""));
        let b = blocks("x\n```sh\ncurl a\n```\n");
        assert_eq!(b, vec![("sh".to_string(), 3, vec!["curl a"])]);
    }
}
