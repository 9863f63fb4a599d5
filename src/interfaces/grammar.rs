//! nom parsers for one logical line of an interfaces(5) file.
//!
//! A line is words separated by C white space. Its first word says what it is:
//! `iface`, `mapping`, `source`, `source-directory` (ifupdown also accepts any prefix
//! of it from `source-dir` on), `auto`, `allow-CLASS`, `no-auto-down`, `no-scripts`,
//! `rename`; anything else is an option line whose meaning depends on the stanza it
//! is in (decided by `config`). Like ifupdown (which keeps words in 80-byte buffers),
//! words are cut to 79 bytes; an option's value is the rest of the line, not cut.
//! Family and method names are checked against ifupdown 0.8's Linux tables.

use nom::IResult;
use nom::Parser;
use nom::bytes::complete::{take_while, take_while1};
use nom::multi::many0;
use nom::sequence::terminated;

use super::lines::is_c_space_char;

/// Address families and their methods known to ifupdown 0.8.41 on Linux.
pub const FAMILIES: &[(&str, &[&str])] = &[
    (
        "inet",
        &[
            "loopback", "static", "manual", "dhcp", "bootp", "tunnel", "ppp", "wvdial", "ipv4ll",
        ],
    ),
    (
        "inet6",
        &[
            "auto", "loopback", "static", "manual", "dhcp", "tunnel", "v4tunnel", "6to4",
        ],
    ),
    ("ipx", &["static", "dynamic"]),
    ("can", &["static"]),
    ("meta", &["none"]),
];

/// Longest word ifupdown keeps (its buffers hold 80 bytes with the NUL).
pub const MAX_WORD: usize = 79;

/// Whether `family` is an address family ifupdown knows.
pub fn is_family(family: &str) -> bool {
    FAMILIES.iter().any(|(f, _)| *f == family)
}

/// Whether `method` is a method of `family`.
pub fn is_method(family: &str, method: &str) -> bool {
    FAMILIES
        .iter()
        .any(|(f, ms)| *f == family && ms.contains(&method))
}

/// The words of an `iface` line after ifupdown's interpretation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfaceLine {
    pub name: String,
    /// `None` when the line is `iface NAME inherits TEMPLATE` (taken from the template).
    pub family: Option<String>,
    /// `None` when the method word is `inherits` (taken from the template).
    pub method: Option<String>,
    pub inherits: Option<String>,
    /// An extra word that is not `inherits`: ifupdown warns and ignores it.
    pub ignored: Option<String>,
}

/// One logical line, classified by its first word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Iface(IfaceLine),
    /// `mapping PATTERN...`
    Mapping(Vec<String>),
    /// `source REST` (REST unparsed: it goes to shell-like word expansion).
    Source(String),
    /// `source-directory REST`
    SourceDirectory(String),
    /// `auto NAME...` (class "auto") or `allow-CLASS NAME...`
    Allow {
        class: String,
        names: Vec<String>,
    },
    NoAutoDown(Vec<String>),
    NoScripts(Vec<String>),
    /// `rename CUR=NEW...`, words as written.
    Rename(Vec<String>),
    /// Any other first word: an option (in an iface stanza) or `script`/`map` (in a
    /// mapping). `value` is the rest of the line and may be empty.
    Option {
        name: String,
        value: String,
    },
}

/// A line that ifupdown refuses. Messages are ifupdown's own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrammarError {
    #[error("too few parameters for iface line")]
    TooFewIfaceParameters,
    #[error("unknown or no address type and no inherits keyword specified")]
    UnknownFamily,
    #[error("unknown or no method and no inherits keyword specified")]
    UnknownMethod,
    #[error("'inherits' keyword is missing a parameter")]
    InheritsWithoutTemplate,
}

fn space0(i: &str) -> IResult<&str, &str> {
    take_while(is_c_space_char)(i)
}

/// One word (no white space), not cut.
fn raw_word(i: &str) -> IResult<&str, &str> {
    take_while1(|c: char| !is_c_space_char(c))(i)
}

/// All words of `i`.
fn words(i: &str) -> IResult<&str, Vec<&str>> {
    let (i, _) = space0(i)?;
    many0(terminated(raw_word, space0)).parse(i)
}

/// First word and the rest of the line after the white space that follows it. The
/// word is empty when the line starts with white space (which happens when a
/// continuation line supplies it: ifupdown then reads an option named "").
fn first_word(i: &str) -> IResult<&str, &str> {
    terminated(take_while(|c: char| !is_c_space_char(c)), space0).parse(i)
}

/// Cut a word to [`MAX_WORD`] bytes (at a character boundary).
pub fn cut(word: &str) -> String {
    if word.len() <= MAX_WORD {
        return word.to_string();
    }
    let mut end = MAX_WORD;
    while !word.is_char_boundary(end) {
        end -= 1;
    }
    word[..end].to_string()
}

fn cut_all(ws: &[&str]) -> Vec<String> {
    ws.iter().map(|w| cut(w)).collect()
}

/// Whether `word` (already cut) selects `source-directory`: ifupdown accepts
/// `source-dir`, `source-dire`, ... up to `source-directory`.
fn is_source_directory(word: &str) -> bool {
    word.len() >= "source-dir".len() && "source-directory".starts_with(word)
}

/// Classify one logical line. `Ok(None)` for a blank line.
pub fn parse_line(text: &str) -> Result<Option<Line>, GrammarError> {
    if text.trim_start_matches(is_c_space_char).is_empty() {
        return Ok(None);
    }
    let Ok((rest, first)) = first_word(text) else {
        return Ok(None);
    };
    let first = cut(first);
    let list = || match words(rest) {
        Ok((_, ws)) => cut_all(&ws),
        Err(_) => Vec::new(),
    };
    let line = match first.as_str() {
        "mapping" => Line::Mapping(list()),
        "source" => Line::Source(rest.to_string()),
        w if is_source_directory(w) => Line::SourceDirectory(rest.to_string()),
        "iface" => Line::Iface(parse_iface(&list())?),
        "auto" => Line::Allow {
            class: "auto".into(),
            names: list(),
        },
        w if w.len() > 6 && w.starts_with("allow-") => Line::Allow {
            class: w["allow-".len()..].to_string(),
            names: list(),
        },
        "no-auto-down" => Line::NoAutoDown(list()),
        "no-scripts" => Line::NoScripts(list()),
        "rename" => Line::Rename(list()),
        _ => Line::Option {
            name: first,
            value: rest.to_string(),
        },
    };
    Ok(Some(line))
}

/// Interpret the words after `iface` the way ifupdown 0.8 does.
fn parse_iface(ws: &[String]) -> Result<IfaceLine, GrammarError> {
    let mut it = ws.iter();
    let name = it
        .next()
        .ok_or(GrammarError::TooFewIfaceParameters)?
        .clone();
    let mut family = None;
    let mut method = None;
    let mut keyword = false;
    if let Some(fam) = it.next() {
        if is_family(fam) {
            family = Some(fam.clone());
            if let Some(m) = it.next() {
                if is_method(fam, m) {
                    method = Some(m.clone());
                } else {
                    keyword = m == "inherits";
                }
            }
        } else {
            keyword = fam == "inherits";
        }
    }
    if family.is_none() && !keyword {
        return Err(GrammarError::UnknownFamily);
    }
    if method.is_none() && !keyword {
        return Err(GrammarError::UnknownMethod);
    }
    let mut ignored = None;
    if !keyword && let Some(w) = it.next() {
        if w == "inherits" {
            keyword = true;
        } else {
            ignored = Some(w.clone());
        }
    }
    let mut inherits = None;
    if keyword {
        inherits = Some(
            it.next()
                .ok_or(GrammarError::InheritsWithoutTemplate)?
                .clone(),
        );
    }
    Ok(IfaceLine {
        name,
        family,
        method,
        inherits,
        ignored,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Line {
        match parse_line(s) {
            Ok(Some(l)) => l,
            other => panic!("{s:?} -> {other:?}"),
        }
    }

    fn iface(name: &str, fam: Option<&str>, m: Option<&str>, inh: Option<&str>) -> Line {
        Line::Iface(IfaceLine {
            name: name.into(),
            family: fam.map(Into::into),
            method: m.map(Into::into),
            inherits: inh.map(Into::into),
            ignored: None,
        })
    }

    #[test]
    fn blank() {
        assert_eq!(parse_line(""), Ok(None));
        assert_eq!(parse_line(" \t"), Ok(None));
    }

    #[test]
    fn iface_lines() {
        assert_eq!(
            p("iface br0 inet static"),
            iface("br0", Some("inet"), Some("static"), None)
        );
        assert_eq!(
            p("iface br0  inet6\tauto  inherits t"),
            iface("br0", Some("inet6"), Some("auto"), Some("t"))
        );
        assert_eq!(
            p("iface a inet inherits t"),
            iface("a", Some("inet"), None, Some("t"))
        );
        assert_eq!(p("iface a inherits t"), iface("a", None, None, Some("t")));
        assert_eq!(
            p("iface a inherits t more"),
            iface("a", None, None, Some("t"))
        );
    }

    #[test]
    fn iface_extra_word_ignored() {
        let Line::Iface(l) = p("iface a inet manual extra more") else {
            panic!()
        };
        assert_eq!(l.ignored.as_deref(), Some("extra"));
        assert_eq!(l.inherits, None);
    }

    #[test]
    fn iface_errors() {
        use GrammarError::*;
        assert_eq!(parse_line("iface"), Err(TooFewIfaceParameters));
        assert_eq!(parse_line("iface x"), Err(UnknownFamily));
        assert_eq!(parse_line("iface x foo manual"), Err(UnknownFamily));
        assert_eq!(parse_line("iface x foo inherits t"), Err(UnknownFamily));
        assert_eq!(parse_line("iface x inet"), Err(UnknownMethod));
        assert_eq!(parse_line("iface x inet auto"), Err(UnknownMethod));
        assert_eq!(
            parse_line("iface x inet inherits"),
            Err(InheritsWithoutTemplate)
        );
        assert_eq!(
            parse_line("iface x inet manual inherits"),
            Err(InheritsWithoutTemplate)
        );
        assert_eq!(
            TooFewIfaceParameters.to_string(),
            "too few parameters for iface line"
        );
        assert_eq!(
            UnknownFamily.to_string(),
            "unknown or no address type and no inherits keyword specified"
        );
        assert_eq!(
            UnknownMethod.to_string(),
            "unknown or no method and no inherits keyword specified"
        );
        assert_eq!(
            InheritsWithoutTemplate.to_string(),
            "'inherits' keyword is missing a parameter"
        );
    }

    #[test]
    fn allow_lines() {
        assert_eq!(
            p("auto lo  br0"),
            Line::Allow {
                class: "auto".into(),
                names: vec!["lo".into(), "br0".into()]
            }
        );
        assert_eq!(
            p("allow-auto x"),
            Line::Allow {
                class: "auto".into(),
                names: vec!["x".into()]
            }
        );
        assert_eq!(
            p("allow-ovs br0"),
            Line::Allow {
                class: "ovs".into(),
                names: vec!["br0".into()]
            }
        );
        assert_eq!(
            p("auto"),
            Line::Allow {
                class: "auto".into(),
                names: vec![]
            }
        );
        // "allow-" alone is not a keyword: an option line.
        assert_eq!(
            p("allow- x"),
            Line::Option {
                name: "allow-".into(),
                value: "x".into()
            }
        );
    }

    #[test]
    fn other_keywords() {
        assert_eq!(
            p("no-auto-down a b"),
            Line::NoAutoDown(vec!["a".into(), "b".into()])
        );
        assert_eq!(p("no-scripts a"), Line::NoScripts(vec!["a".into()]));
        assert_eq!(
            p("rename a=b c=d"),
            Line::Rename(vec!["a=b".into(), "c=d".into()])
        );
        assert_eq!(
            p("mapping eth* wlan*"),
            Line::Mapping(vec!["eth*".into(), "wlan*".into()])
        );
        assert_eq!(p("source  a b"), Line::Source("a b".into()));
        assert_eq!(p("source"), Line::Source("".into()));
        assert_eq!(p("source-directory d"), Line::SourceDirectory("d".into()));
        assert_eq!(p("source-dir d"), Line::SourceDirectory("d".into()));
        assert_eq!(p("source-dire d"), Line::SourceDirectory("d".into()));
        assert!(matches!(p("source-d d"), Line::Option { .. }));
        assert!(matches!(p("source-directoryX d"), Line::Option { .. }));
    }

    #[test]
    fn option_keeps_rest_verbatim() {
        assert_eq!(
            p("up  echo  a   # b"),
            Line::Option {
                name: "up".into(),
                value: "echo  a   # b".into()
            }
        );
        assert_eq!(
            p("ovs-foo"),
            Line::Option {
                name: "ovs-foo".into(),
                value: "".into()
            }
        );
    }

    #[test]
    fn words_are_cut_to_79_bytes() {
        let long = "a".repeat(100);
        let Line::Option { name, value } = p(&format!("{long} v")) else {
            panic!()
        };
        assert_eq!(name.len(), 79);
        assert_eq!(value, "v");
        // multi-byte characters are cut at a boundary
        assert!(cut(&"é".repeat(50)).len() <= 79);
    }

    #[test]
    fn leading_space_gives_an_empty_option_name() {
        // From "\\\n a b": ifupdown's first word is empty.
        assert_eq!(
            p(" a b"),
            Line::Option {
                name: "".into(),
                value: "a b".into()
            }
        );
    }

    #[test]
    fn vertical_tab_is_space() {
        assert_eq!(
            p("auto\x0ba\x0cb"),
            Line::Allow {
                class: "auto".into(),
                names: vec!["a".into(), "b".into()]
            }
        );
    }
}
