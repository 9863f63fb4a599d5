//! Physical lines to logical lines, exactly as ifupdown 0.8 reads them.
//!
//! * Leading white space of a line is dropped; a line whose first other character
//!   is `#` is a comment (a `#` anywhere else is data).
//! * A line whose last character is a backslash continues on the next physical line:
//!   the backslash is removed and the next line is appended as it is (its leading
//!   white space kept, and it is never a comment). A backslash followed by white space
//!   does not continue the line. A comment line never continues.
//! * Trailing white space of the joined line is removed.
//! * White space is C `isspace`: space, `\t`, `\n`, `\v`, `\f`, `\r`.
//! * A NUL byte ends a physical line's content (ifupdown reads lines with C strings).

/// One logical line with the physical lines it came from (1-based, inclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogicalLine {
    /// The joined text, without trailing white space. It starts with white space only
    /// when the first physical line was just a backslash and the next line is
    /// indented (ifupdown keeps that white space). May be empty.
    pub text: String,
    /// First physical line.
    pub line: usize,
    /// Last physical line (greater than `line` for continued lines).
    pub last_line: usize,
    /// The first byte that is not valid UTF-8 (replaced by U+FFFD in `text`): its
    /// offset in the joined line (`text` is the same up to there), and its value. The parser refuses such a
    /// line where the text would become a name (see `config`).
    pub invalid_utf8: Option<(usize, u8)>,
}

/// C `isspace` in the "C" locale.
pub fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Same as [`is_c_space`] for a `char`.
pub fn is_c_space_char(c: char) -> bool {
    c.is_ascii() && is_c_space(c as u8)
}

/// Split `input` into physical lines: the content before a `\n` (or the end), cut at
/// the first NUL byte.
fn physical_lines(input: &[u8]) -> Vec<&[u8]> {
    let mut out: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
    // A final "\n" does not start another line.
    if out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out.into_iter()
        .map(|l| match l.iter().position(|&b| b == 0) {
            Some(n) => &l[..n],
            None => l,
        })
        .collect()
}

/// Logical lines of a whole file, comments dropped. Blank lines are kept (with empty
/// `text`) so that callers can count them if they want; the grammar skips them.
/// Invalid UTF-8 is replaced (U+FFFD) and noted in [`LogicalLine::invalid_utf8`].
pub fn logical_lines(input: &[u8]) -> Vec<LogicalLine> {
    let phys = physical_lines(input);
    let mut out = Vec::new();
    let mut i = 0;
    while i < phys.len() {
        let first = i;
        let start = phys[i].iter().position(|&b| !is_c_space(b));
        let mut buf: Vec<u8> = match start {
            Some(s) => phys[i][s..].to_vec(),
            None => Vec::new(),
        };
        i += 1;
        if buf.first() == Some(&b'#') {
            continue;
        }
        let mut last = i; // 1-based number of the last physical line used
        while buf.last() == Some(&b'\\') {
            buf.pop();
            if i < phys.len() {
                buf.extend_from_slice(phys[i]);
                i += 1;
                last = i;
            }
        }
        while buf.last().is_some_and(|&b| is_c_space(b)) {
            buf.pop();
        }
        let invalid_utf8 = std::str::from_utf8(&buf).err().map(|e| {
            (
                e.valid_up_to(),
                buf.get(e.valid_up_to()).copied().unwrap_or(0),
            )
        });
        out.push(LogicalLine {
            invalid_utf8,
            text: String::from_utf8_lossy(&buf).into_owned(),
            line: first + 1,
            last_line: last,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<(String, usize, usize)> {
        logical_lines(s.as_bytes())
            .into_iter()
            .map(|l| (l.text, l.line, l.last_line))
            .collect()
    }

    #[test]
    fn comments_only_at_line_start() {
        let t = texts("# c\n  # indented comment\niface x inet manual # not a comment\n");
        assert_eq!(
            t,
            vec![("iface x inet manual # not a comment".into(), 3, 3)]
        );
    }

    #[test]
    fn continuation_joins_raw() {
        let t = texts("a b\\\n   c\nd\n");
        assert_eq!(t, vec![("a b   c".into(), 1, 2), ("d".into(), 3, 3)]);
    }

    #[test]
    fn continued_line_may_start_with_hash() {
        let t = texts("up echo \\\n#x\n");
        assert_eq!(t, vec![("up echo #x".into(), 1, 2)]);
    }

    #[test]
    fn comment_never_continues() {
        let t = texts("# c \\\nauto eth0\n");
        assert_eq!(t, vec![("auto eth0".into(), 2, 2)]);
    }

    #[test]
    fn backslash_then_space_is_not_continuation() {
        let t = texts("a \\ \nb\n");
        assert_eq!(t, vec![("a \\".into(), 1, 1), ("b".into(), 2, 2)]);
    }

    #[test]
    fn continuation_after_lone_backslash_keeps_indent() {
        let t = texts("  \\\n a b\n");
        assert_eq!(t, vec![(" a b".into(), 1, 2)]);
    }

    #[test]
    fn double_backslash_continues_and_keeps_one() {
        let t = texts("a\\\\\nb\n");
        assert_eq!(t, vec![("a\\b".into(), 1, 2)]);
    }

    #[test]
    fn backslash_at_eof_is_dropped() {
        let t = texts("a\\");
        assert_eq!(t, vec![("a".into(), 1, 1)]);
        let t = texts("a\\\\");
        assert_eq!(t, vec![("a".into(), 1, 1)]);
    }

    #[test]
    fn crlf_and_trailing_space_stripped() {
        let t = texts("auto eth0 \r\n\t\x0b\n");
        assert_eq!(t, vec![("auto eth0".into(), 1, 1), ("".into(), 2, 2)]);
    }

    #[test]
    fn nul_ends_physical_line() {
        let t = texts("auto a\0b c\nauto d\n");
        assert_eq!(t, vec![("auto a".into(), 1, 1), ("auto d".into(), 2, 2)]);
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let t = logical_lines(b"auto \xff\nauto b\n");
        assert_eq!(t[0].text, "auto \u{fffd}");
        assert_eq!(t[0].invalid_utf8, Some((5, 0xff)));
        assert_eq!(t[1].invalid_utf8, None);
    }

    #[test]
    fn no_trailing_newline() {
        assert_eq!(texts("auto a"), vec![("auto a".into(), 1, 1)]);
        assert!(texts("").is_empty());
    }
}
