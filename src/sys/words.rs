//! Splitting `ovs_options`, `ovs_extra` and `ovs_tunnel_options` into argv words the
//! way a POSIX shell would, without running one: white space separates words;
//! `'...'`, `"..."` and `\` quote; `$VAR` and `${VAR}` expand from the hook
//! environment (unquoted expansions are split at white space, as in a shell).
//! [`split_assignment`] tells a `COLUMN[:KEY]=VALUE` word, for `config` (which checks
//! the words) and `ovsdb::vsctl` (which quotes them) alike.
//!
//! `$(...)` and `` `...` `` are command substitutions, the same thing in two
//! spellings (Debian's hook `eval`s ovs_extra in sh, where both work). They are
//! allowed only where [`Subst::Run`] says so — in `ovs_extra`, for compatibility with
//! Debian's hook (README.Debian example 4: `external-ids:iface-id=$(hostname -s)`).
//! That is the one place where ifupdown-ovs runs a shell: `/bin/sh -c TEXT` with the
//! hook environment, stdin closed, in a process group of its own
//! ([`process::run_contained`]). Its limits, because a substitution is a word or a
//! few and must never hold `ifup`:
//!
//! * its output must be complete within [`SUBST_TIMEOUT`], background processes
//!   holding it open included; then every process of its group is killed;
//! * it may print at most [`SUBST_OUTPUT_CAP`];
//! * it runs at most once per hook run for one text and one environment: the
//!   [`Memo`] that the caller holds for the run keeps its result, failures
//!   included. A plan asks for a bridge's node once per port that needs the bridge
//!   (`ifup -a` of 20 ports), and a substitution with side effects must not run 20
//!   times.
//!
//! `plan` uses [`Subst::Keep`], which leaves the text as written instead of running it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::process::Command;
use std::time::Duration;

use super::process::{self, ProcessError, failure_line, show_bytes};

/// How long one command substitution may take, until its output is complete.
pub const SUBST_TIMEOUT: Duration = Duration::from_secs(10);

/// The most a command substitution may print (on stdout, and on stderr): 64 KiB.
/// Its output becomes a word or a few of one ovs-vsctl command line.
pub const SUBST_OUTPUT_CAP: usize = 64 << 10;

/// What to do with `$(...)` and backticks.
#[derive(Debug, Clone, Copy)]
pub enum Subst<'a> {
    /// They are an error (ovs_options, ovs_tunnel_options).
    Forbidden,
    /// Run them with `/bin/sh -c`, in exactly this environment, each text at
    /// most once per `memo`.
    Run {
        env: &'a [(String, String)],
        memo: &'a Memo,
    },
    /// Keep them as written (for `plan`, which runs nothing).
    Keep,
}

/// How to expand: variables come from `vars`; command substitution per `subst`.
pub struct Expand<'a> {
    pub vars: &'a dyn Fn(&str) -> Option<String>,
    pub subst: Subst<'a>,
}

/// Why a value could not be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WordsError {
    #[error("unterminated {0}")]
    Unterminated(&'static str),
    #[error("unsupported expansion `{0}` (only $NAME and ${{NAME}} are expanded)")]
    Unsupported(String),
    #[error("command substitution `{0}` is only allowed in ovs_extra")]
    SubstForbidden(String),
    #[error("command substitution `{cmd}` failed: {why}")]
    SubstFailed { cmd: String, why: String },
    #[error(
        "command substitution `{cmd}` did not finish within {} s and was killed",
        .limit.as_secs()
    )]
    SubstTimeout { cmd: String, limit: Duration },
    #[error(
        "command substitution `{cmd}`: the shell exited, but a process it left in the \
         background kept its output open for more than {} s (killed)",
        .limit.as_secs()
    )]
    SubstHeld { cmd: String, limit: Duration },
    #[error(
        "command substitution `{cmd}` printed more than {} on {stream} (its cap) and was killed",
        show_bytes(*.cap)
    )]
    SubstTooLong {
        cmd: String,
        stream: &'static str,
        cap: usize,
    },
}

/// The results of the command substitutions of one hook run, by environment and
/// text: each runs at most once (see the module doc).
#[derive(Debug, Clone, Default)]
pub struct Memo {
    done: RefCell<HashMap<MemoKey, Result<String, WordsError>>>,
}

type MemoKey = (Vec<(String, String)>, String);

impl Memo {
    /// How many distinct substitutions ran.
    pub fn runs(&self) -> usize {
        self.done.borrow().len()
    }
}

/// Split `input` into words, expanding as `ex` says.
pub fn split(input: &str, ex: &Expand) -> Result<Vec<String>, WordsError> {
    let mut s = Splitter {
        chars: input.chars().collect(),
        i: 0,
        words: Vec::new(),
        cur: String::new(),
        started: false,
    };
    s.run(ex)?;
    Ok(s.words)
}

/// Cut words into commands at each `--` (ovs-vsctl's command separator). Empty
/// commands are dropped.
pub fn commands(words: Vec<String>) -> Vec<Vec<String>> {
    let mut out = vec![Vec::new()];
    for w in words {
        if w == "--" {
            out.push(Vec::new());
        } else if let Some(last) = out.last_mut() {
            last.push(w);
        }
    }
    out.retain(|c| !c.is_empty());
    out
}

/// Quote one word for display in a POSIX shell (for `plan` output and messages).
pub fn shell_quote(w: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./=:,+@%^".contains(c);
    if !w.is_empty() && w.chars().all(safe) {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}

/// A whole argv as one shell-quoted line.
pub fn shell_line<S: AsRef<str>>(argv: &[S]) -> String {
    argv.iter()
        .map(|w| shell_quote(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

struct Splitter {
    chars: Vec<char>,
    i: usize,
    words: Vec<String>,
    cur: String,
    started: bool,
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

impl Splitter {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn end_word(&mut self) {
        if self.started {
            self.words.push(std::mem::take(&mut self.cur));
            self.started = false;
        }
    }

    fn push(&mut self, c: char) {
        self.cur.push(c);
        self.started = true;
    }

    /// Append an unquoted expansion: its white space separates words.
    fn push_split(&mut self, text: &str) {
        for c in text.chars() {
            if c.is_whitespace() {
                self.end_word();
            } else {
                self.push(c);
            }
        }
    }

    /// Append an unquoted expansion: split, unless it is text kept as written.
    fn push_unquoted(&mut self, e: Expansion) {
        match e {
            Expansion::Text(t) => self.push_split(&t),
            Expansion::Kept(t) => {
                self.cur.push_str(&t);
                self.started = true;
            }
        }
    }

    fn run(&mut self, ex: &Expand) -> Result<(), WordsError> {
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                c if c.is_whitespace() => self.end_word(),
                '\'' => {
                    self.started = true;
                    loop {
                        match self.peek() {
                            None => return Err(WordsError::Unterminated("single quote")),
                            Some('\'') => {
                                self.i += 1;
                                break;
                            }
                            Some(c) => {
                                self.i += 1;
                                self.cur.push(c);
                            }
                        }
                    }
                }
                '"' => {
                    self.started = true;
                    self.double_quoted(ex)?;
                }
                '\\' => match self.peek() {
                    Some('\n') => self.i += 1,
                    Some(c) => {
                        self.i += 1;
                        self.push(c);
                    }
                    None => self.push('\\'),
                },
                '$' => {
                    if let Some(e) = self.dollar(ex)? {
                        self.push_unquoted(e);
                    }
                }
                '`' => {
                    let e = self.backtick(ex)?;
                    self.push_unquoted(e);
                }
                c => self.push(c),
            }
        }
        self.end_word();
        Ok(())
    }

    fn double_quoted(&mut self, ex: &Expand) -> Result<(), WordsError> {
        loop {
            let c = self
                .peek()
                .ok_or(WordsError::Unterminated("double quote"))?;
            self.i += 1;
            match c {
                '"' => return Ok(()),
                '\\' => match self.peek() {
                    Some(e @ ('$' | '`' | '"' | '\\')) => {
                        self.i += 1;
                        self.cur.push(e);
                    }
                    Some('\n') => self.i += 1,
                    _ => self.cur.push('\\'),
                },
                '$' => {
                    if let Some(e) = self.dollar(ex)? {
                        self.cur.push_str(e.text());
                    }
                }
                '`' => {
                    let e = self.backtick(ex)?;
                    self.cur.push_str(e.text());
                }
                c => self.cur.push(c),
            }
        }
    }

    /// After a `$`: the expansion, or None for a literal `$` (already pushed).
    fn dollar(&mut self, ex: &Expand) -> Result<Option<Expansion>, WordsError> {
        match self.peek() {
            Some('{') => {
                let start = self.i + 1;
                let end = (start..self.chars.len())
                    .find(|&j| self.chars[j] == '}')
                    .ok_or(WordsError::Unterminated("${"))?;
                let name: String = self.chars[start..end].iter().collect();
                self.i = end + 1;
                let valid = name.chars().next().is_some_and(is_name_start)
                    && name.chars().all(is_name_char);
                if !valid {
                    return Err(WordsError::Unsupported(format!("${{{name}}}")));
                }
                Ok(Some(Expansion::Text((ex.vars)(&name).unwrap_or_default())))
            }
            Some('(') => {
                let start = self.i + 1;
                let end = self.matching_paren(start)?;
                let cmd: String = self.chars[start..end].iter().collect();
                self.i = end + 1;
                substitute(&cmd, &format!("$({cmd})"), ex).map(Some)
            }
            Some(c) if is_name_start(c) => {
                let start = self.i;
                while self.peek().is_some_and(is_name_char) {
                    self.i += 1;
                }
                let name: String = self.chars[start..self.i].iter().collect();
                Ok(Some(Expansion::Text((ex.vars)(&name).unwrap_or_default())))
            }
            Some(c) if c.is_ascii_digit() || "?$!#@*-".contains(c) => {
                Err(WordsError::Unsupported(format!("${c}")))
            }
            _ => {
                self.push('$');
                Ok(None)
            }
        }
    }

    /// Index of the `)` closing a `$(` whose text starts at `start`, skipping quotes.
    fn matching_paren(&self, start: usize) -> Result<usize, WordsError> {
        let mut depth = 1usize;
        let mut j = start;
        let mut quote: Option<char> = None;
        while j < self.chars.len() {
            let c = self.chars[j];
            match (quote, c) {
                (Some('\''), '\'') => quote = None,
                (Some('\''), _) => {}
                (_, '\\') => j += 1,
                (Some('"'), '"') => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '(') => depth += 1,
                (None, ')') => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(j);
                    }
                }
                (None, _) => {}
            }
            j += 1;
        }
        Err(WordsError::Unterminated("$("))
    }

    fn backtick(&mut self, ex: &Expand) -> Result<Expansion, WordsError> {
        let mut cmd = String::new();
        loop {
            let c = self.peek().ok_or(WordsError::Unterminated("backquote"))?;
            self.i += 1;
            match c {
                '`' => break,
                '\\' if matches!(self.peek(), Some('`' | '\\' | '$')) => {
                    if let Some(e) = self.peek() {
                        cmd.push(e);
                    }
                    self.i += 1;
                }
                c => cmd.push(c),
            }
        }
        substitute(&cmd, &format!("`{cmd}`"), ex)
    }
}

/// What an expansion produced.
enum Expansion {
    /// A value or command output: split at white space when unquoted.
    Text(String),
    /// A command substitution kept as written (for `plan`): one piece.
    Kept(String),
}

impl Expansion {
    fn text(&self) -> &str {
        match self {
            Expansion::Text(t) | Expansion::Kept(t) => t,
        }
    }
}

/// Run (or keep, or refuse) one command substitution; output without trailing newlines.
fn substitute(cmd: &str, as_written: &str, ex: &Expand) -> Result<Expansion, WordsError> {
    match ex.subst {
        Subst::Forbidden => Err(WordsError::SubstForbidden(as_written.to_string())),
        Subst::Keep => Ok(Expansion::Kept(as_written.to_string())),
        Subst::Run { env, memo } => {
            let key = (env.to_vec(), cmd.to_string());
            if let Some(done) = memo.done.borrow().get(&key) {
                return done.clone().map(Expansion::Text);
            }
            let out = run_shell(cmd, as_written, env);
            memo.done.borrow_mut().insert(key, out.clone());
            out.map(Expansion::Text)
        }
    }
}

/// `/bin/sh -c CMD` within the limits of a substitution; its output without
/// trailing newlines.
fn run_shell(cmd: &str, as_written: &str, env: &[(String, String)]) -> Result<String, WordsError> {
    let mut command = Command::new("/bin/sh");
    command
        .arg("-c")
        .arg(cmd)
        .env_clear()
        .envs(env.iter().cloned());
    let cmd = as_written.to_string();
    let f =
        process::run_contained(&mut command, SUBST_TIMEOUT, SUBST_OUTPUT_CAP).map_err(
            |e| match e {
                ProcessError::Timeout { limit, .. } => WordsError::SubstTimeout { cmd, limit },
                ProcessError::OutputHeld { limit, .. } => WordsError::SubstHeld { cmd, limit },
                ProcessError::TooMuchOutput { stream, cap, .. } => {
                    WordsError::SubstTooLong { cmd, stream, cap }
                }
                e @ ProcessError::Spawn { .. } => WordsError::SubstFailed {
                    cmd,
                    why: e.to_string(),
                },
            },
        )?;
    if !f.success() {
        return Err(WordsError::SubstFailed {
            cmd: as_written.to_string(),
            why: failure_line(&f),
        });
    }
    Ok(f.stdout.trim_end_matches('\n').to_string())
}

/// A `column[:key]` on the left of `=` in an ovs-vsctl `set`.
fn is_column_ref(lhs: &str) -> bool {
    let (col, key) = match lhs.split_once(':') {
        Some((c, k)) => (c, Some(k)),
        None => (lhs, None),
    };
    col.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && col
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && key.is_none_or(|k| !k.is_empty() && !k.contains(['"', ' ', '=']))
}

/// Split `column[:key]=value` (as written in `ovs_options`) into its parts, or None
/// when the word is not such an assignment.
pub fn split_assignment(word: &str) -> Option<(&str, &str)> {
    let (lhs, value) = word.split_once('=')?;
    is_column_ref(lhs).then_some((lhs, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<String> {
        match name {
            "IFACE" => Some("eth0".into()),
            "SPACED" => Some(" a  b ".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    fn w(input: &str) -> Vec<String> {
        let ex = Expand {
            vars: &vars,
            subst: Subst::Forbidden,
        };
        split(input, &ex).unwrap()
    }

    #[test]
    fn plain_and_quoted() {
        assert_eq!(
            w("  tag=5   vlan_mode=access "),
            ["tag=5", "vlan_mode=access"]
        );
        assert_eq!(w(r#"a'b c'd "e f" g\ h"#), ["ab cd", "e f", "g h"]);
        assert_eq!(w(r#"mac="00:01:02:03:04:05""#), ["mac=00:01:02:03:04:05"]);
        assert_eq!(w(r#"x='"q"' y="a\"b\\c\d""#), [r#"x="q""#, r#"y=a"b\c\d"#]);
        assert_eq!(w("'' \"\""), ["", ""]);
        assert_eq!(w("a\\\nb"), ["ab"]);
        assert_eq!(w(""), Vec::<String>::new());
    }

    #[test]
    fn variables() {
        assert_eq!(
            w("set interface ${IFACE} external-ids:x=$IFACE.1"),
            ["set", "interface", "eth0", "external-ids:x=eth0.1"]
        );
        // unquoted expansions split, quoted ones do not, empty ones vanish
        assert_eq!(w("x$SPACED y"), ["x", "a", "b", "y"]);
        assert_eq!(w("\"x$SPACED\" $EMPTY $UNSET z"), ["x a  b ", "z"]);
        assert_eq!(w("\"$EMPTY\""), [""]);
    }

    #[test]
    fn literal_dollar() {
        assert_eq!(w("cost=5$ $"), ["cost=5$", "$"]);
        assert_eq!(w("'$IFACE'"), ["$IFACE"]);
        assert_eq!(w("\\$IFACE"), ["$IFACE"]);
    }

    #[test]
    fn errors() {
        let ex = Expand {
            vars: &vars,
            subst: Subst::Forbidden,
        };
        assert_eq!(
            split("'abc", &ex),
            Err(WordsError::Unterminated("single quote"))
        );
        assert_eq!(
            split("\"abc", &ex),
            Err(WordsError::Unterminated("double quote"))
        );
        assert_eq!(split("${IFACE", &ex), Err(WordsError::Unterminated("${")));
        assert!(matches!(
            split("${IFACE:-x}", &ex),
            Err(WordsError::Unsupported(_))
        ));
        assert!(matches!(split("$1", &ex), Err(WordsError::Unsupported(_))));
        assert_eq!(
            split("id=$(hostname -s)", &ex),
            Err(WordsError::SubstForbidden("$(hostname -s)".into()))
        );
        assert!(matches!(split("`x", &ex), Err(WordsError::Unterminated(_))));
    }

    #[test]
    fn command_substitution_runs_sh_with_given_env() {
        let env = vec![
            ("IFACE".to_string(), "vlan100".to_string()),
            ("PATH".to_string(), "/usr/bin:/bin".to_string()),
        ];
        let memo = Memo::default();
        let ex = Expand {
            vars: &vars,
            subst: Subst::Run {
                env: &env,
                memo: &memo,
            },
        };
        assert_eq!(
            split(
                "set interface ${IFACE} external-ids:iface-id=$(echo \"$IFACE\"-x)",
                &ex
            )
            .unwrap(),
            [
                "set",
                "interface",
                "eth0",
                "external-ids:iface-id=vlan100-x"
            ]
        );
        assert_eq!(split("a=$(printf 'p q\\n\\n')", &ex).unwrap(), ["a=p", "q"]);
        assert_eq!(split("\"a=$(printf 'p q')\"", &ex).unwrap(), ["a=p q"]);
        assert_eq!(split("a=`echo b`", &ex).unwrap(), ["a=b"]);
        assert_eq!(
            split("a=$(echo $(echo nested))", &ex).unwrap(),
            ["a=nested"]
        );
        assert!(matches!(
            split("$(echo oops >&2; exit 2)", &ex),
            Err(WordsError::SubstFailed { why, .. }) if why == "oops"
        ));
    }

    #[test]
    fn keep_only_keeps_substitutions() {
        let v = |n: &str| (n == "V").then(|| "$(a b)".to_string());
        let ex = Expand {
            vars: &v,
            subst: Subst::Keep,
        };
        assert_eq!(split("x=$V", &ex).unwrap(), ["x=$(a", "b)"]);
    }

    #[test]
    fn keep_leaves_substitution_text() {
        let ex = Expand {
            vars: &vars,
            subst: Subst::Keep,
        };
        assert_eq!(
            split("external-ids:iface-id=$(hostname -s)", &ex).unwrap(),
            ["external-ids:iface-id=$(hostname -s)"]
        );
    }

    #[test]
    fn commands_split_at_double_dash() {
        let c = commands(w("-- set a b -- -- set c d --"));
        assert_eq!(c, vec![vec!["set", "a", "b"], vec!["set", "c", "d"]]);
    }

    #[test]
    fn shell_quoting_for_display() {
        assert_eq!(
            shell_line(&["ovs-vsctl", "mac=\"00:01\"", "a b", "it's", ""]),
            "ovs-vsctl 'mac=\"00:01\"' 'a b' 'it'\\''s' ''"
        );
    }

    fn run_env() -> Vec<(String, String)> {
        vec![("PATH".to_string(), "/usr/bin:/bin".to_string())]
    }

    #[test]
    fn a_substitution_prints_at_most_its_cap() {
        let (env, memo) = (run_env(), Memo::default());
        let ex = Expand {
            vars: &vars,
            subst: Subst::Run {
                env: &env,
                memo: &memo,
            },
        };
        let t = std::time::Instant::now();
        let e = split("x=$(yes)", &ex).unwrap_err();
        assert!(t.elapsed() < SUBST_TIMEOUT, "{:?}", t.elapsed());
        assert_eq!(
            e.to_string(),
            "command substitution `$(yes)` printed more than 64 KiB on stdout (its cap) and was killed"
        );
        // Up to the cap is fine.
        let w = split("`head -c 65536 /dev/zero | tr '\\0' x`", &ex).unwrap();
        assert_eq!(w[0].len(), SUBST_OUTPUT_CAP);
    }

    #[test]
    fn a_substitution_runs_once_per_memo() {
        let dir = tempfile::tempdir().unwrap();
        let count = dir.path().join("count");
        let env = vec![
            ("PATH".to_string(), "/usr/bin:/bin".to_string()),
            ("COUNT".to_string(), count.display().to_string()),
        ];
        let memo = Memo::default();
        let ex = Expand {
            vars: &vars,
            subst: Subst::Run {
                env: &env,
                memo: &memo,
            },
        };
        let text = "a=$(echo run >> \"$COUNT\"; echo 1) b=`echo tick >> \"$COUNT\"; exit 3`";
        for _ in 0..3 {
            assert_eq!(
                split("a=$(echo run >> \"$COUNT\"; echo 1)", &ex).unwrap(),
                ["a=1"]
            );
            // A failure is remembered as well.
            assert!(matches!(
                split(text, &ex),
                Err(WordsError::SubstFailed { .. })
            ));
        }
        assert_eq!(memo.runs(), 2);
        let runs = std::fs::read_to_string(&count).unwrap();
        assert_eq!(runs, "run\ntick\n");
        // Another environment is another substitution.
        let env2 = [env.clone(), vec![("IFACE".to_string(), "p2".to_string())]].concat();
        let ex2 = Expand {
            vars: &vars,
            subst: Subst::Run {
                env: &env2,
                memo: &memo,
            },
        };
        split("a=$(echo run >> \"$COUNT\"; echo 1)", &ex2).unwrap();
        assert_eq!(memo.runs(), 3);
    }

    #[test]
    fn a_background_process_not_holding_the_output_is_killed() {
        let (env, memo) = (run_env(), Memo::default());
        let ex = Expand {
            vars: &vars,
            subst: Subst::Run {
                env: &env,
                memo: &memo,
            },
        };
        // What the background process does not hold open is fine, and it is
        // killed: the substitution returns at once.
        let t = std::time::Instant::now();
        assert_eq!(
            split("$(sleep 30 >/dev/null 2>&1 & echo x)", &ex).unwrap(),
            ["x"]
        );
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
    }
}
