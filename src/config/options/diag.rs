//! Errors and warnings about one interface's options, and the collector that the
//! checks report into.

use std::borrow::Cow;
use std::fmt;

use crate::config::schema::SchemaError;
use crate::interfaces::Position;

/// A problem that makes an interface's OVS configuration unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionError {
    /// A value that does not parse or is out of range.
    #[error("{}: {option}: {message}", head(pos, iface, "error"))]
    Invalid {
        iface: String,
        option: String,
        pos: Option<Position>,
        message: String,
    },
    /// Something the interface kind requires is absent.
    #[error("{}: {option}: {message}", head(pos, iface, "error"))]
    Missing {
        iface: String,
        option: String,
        pos: Option<Position>,
        message: String,
    },
    /// Two values that cannot both hold.
    #[error("{}: {option}: {message}", head(pos, iface, "error"))]
    Conflict {
        iface: String,
        option: String,
        pos: Option<Position>,
        message: String,
    },
    /// A word of `ovs_options` / `ovs_tunnel_options`, or an `ovs_extra` command
    /// (`command`), that the OVS schema or ovs-vsctl rejects.
    #[error(
        "{}: {option}: {}{error}",
        head(pos, iface, "error"),
        in_command(command)
    )]
    Schema {
        iface: String,
        option: String,
        pos: Option<Position>,
        /// The `ovs_extra` command, as the user wrote it (words the hook alone
        /// knows shown as `…`).
        command: Option<String>,
        error: SchemaError,
    },
}

fn in_command(command: &Option<String>) -> String {
    match command {
        Some(c) => format!("`{c}`: "),
        None => String::new(),
    }
}

impl OptionError {
    fn parts(&self) -> (&str, &str, Option<&Position>) {
        match self {
            OptionError::Invalid {
                iface, option, pos, ..
            }
            | OptionError::Missing {
                iface, option, pos, ..
            }
            | OptionError::Conflict {
                iface, option, pos, ..
            }
            | OptionError::Schema {
                iface, option, pos, ..
            } => (iface, option, pos.as_ref()),
        }
    }
    pub fn iface(&self) -> &str {
        self.parts().0
    }
    pub fn option(&self) -> &str {
        self.parts().1
    }
    pub fn pos(&self) -> Option<&Position> {
        self.parts().2
    }
    /// What is wrong, without the place and the option.
    pub fn message(&self) -> Cow<'_, str> {
        match self {
            OptionError::Invalid { message, .. }
            | OptionError::Missing { message, .. }
            | OptionError::Conflict { message, .. } => Cow::Borrowed(message),
            OptionError::Schema { command, error, .. } => {
                Cow::Owned(format!("{}{error}", in_command(command)))
            }
        }
    }
}

/// Something that works but is probably not what was meant (unknown option name, an
/// option the interface kind ignores).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionWarning {
    pub iface: String,
    pub option: String,
    pub pos: Option<Position>,
    pub message: String,
}

impl fmt::Display for OptionWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {}",
            head(&self.pos, &self.iface, "warning"),
            self.option,
            self.message
        )
    }
}

/// `FILE:LINE: SEVERITY: IFACE`, or `IFACE: SEVERITY` without a position: the
/// same place as `check` prints (`config::lint::Diagnostic`), so that the hook's
/// lines name the interface too.
fn head(pos: &Option<Position>, iface: &str, severity: &str) -> String {
    match pos {
        Some(p) => format!("{p}: {severity}: {iface}"),
        None => format!("{iface}: {severity}"),
    }
}

/// Collects diagnostics for one interface.
pub(super) struct Diag<'a> {
    pub iface: &'a str,
    pub errors: Vec<OptionError>,
    pub warnings: Vec<OptionWarning>,
}

#[derive(Clone, Copy)]
pub(super) enum Kind {
    Invalid,
    Missing,
    Conflict,
}

impl Diag<'_> {
    pub(super) fn error(
        &mut self,
        kind: Kind,
        option: &str,
        pos: Option<&Position>,
        message: String,
    ) {
        let (iface, option, pos) = (self.iface.to_string(), option.to_string(), pos.cloned());
        self.errors.push(match kind {
            Kind::Invalid => OptionError::Invalid {
                iface,
                option,
                pos,
                message,
            },
            Kind::Missing => OptionError::Missing {
                iface,
                option,
                pos,
                message,
            },
            Kind::Conflict => OptionError::Conflict {
                iface,
                option,
                pos,
                message,
            },
        });
    }
    pub(super) fn schema_error(
        &mut self,
        option: &str,
        pos: Option<&Position>,
        command: Option<String>,
        error: SchemaError,
    ) {
        self.errors.push(OptionError::Schema {
            iface: self.iface.to_string(),
            option: option.to_string(),
            pos: pos.cloned(),
            command,
            error,
        });
    }
    pub(super) fn warn(&mut self, option: &str, pos: Option<&Position>, message: String) {
        self.warnings.push(OptionWarning {
            iface: self.iface.to_string(),
            option: option.to_string(),
            pos: pos.cloned(),
            message,
        });
    }
}

/// `line 3` when `target` is in the same file as `here`, else `FILE:3`.
pub fn short_pos(target: &Position, here: Option<&Position>) -> String {
    match here {
        Some(h) if h.file == target.file => format!("line {}", target.line),
        _ => target.to_string(),
    }
}
