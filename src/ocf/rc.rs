//! OCF exit codes and the one way an action fails: an [`Outcome`] with the code and
//! a reason, printed as Pacemaker's `ocf-exit-reason:` line.

use std::fmt;

/// The OCF return codes (resource-agents' ocf-returncodes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rc {
    Success = 0,
    ErrGeneric = 1,
    ErrArgs = 2,
    Unimplemented = 3,
    ErrPerm = 4,
    ErrInstalled = 5,
    ErrConfigured = 6,
    NotRunning = 7,
}

impl Rc {
    /// The numeric exit code.
    pub fn code(self) -> i32 {
        self as i32
    }

    /// The name ocf-returncodes gives it, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Rc::Success => "OCF_SUCCESS",
            Rc::ErrGeneric => "OCF_ERR_GENERIC",
            Rc::ErrArgs => "OCF_ERR_ARGS",
            Rc::Unimplemented => "OCF_ERR_UNIMPLEMENTED",
            Rc::ErrPerm => "OCF_ERR_PERM",
            Rc::ErrInstalled => "OCF_ERR_INSTALLED",
            Rc::ErrConfigured => "OCF_ERR_CONFIGURED",
            Rc::NotRunning => "OCF_NOT_RUNNING",
        }
    }
}

impl fmt::Display for Rc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.code())
    }
}

/// An action's result other than plain success: the code and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub rc: Rc,
    pub reason: String,
}

impl Outcome {
    pub fn new(rc: Rc, reason: impl Into<String>) -> Outcome {
        Outcome {
            rc,
            reason: reason.into(),
        }
    }

    pub fn generic(reason: impl Into<String>) -> Outcome {
        Outcome::new(Rc::ErrGeneric, reason)
    }

    pub fn configured(reason: impl Into<String>) -> Outcome {
        Outcome::new(Rc::ErrConfigured, reason)
    }

    pub fn installed(reason: impl Into<String>) -> Outcome {
        Outcome::new(Rc::ErrInstalled, reason)
    }

    pub fn not_running(reason: impl Into<String>) -> Outcome {
        Outcome::new(Rc::NotRunning, reason)
    }

    /// The line Pacemaker shows as the failure's reason (one line, no newline).
    pub fn exit_reason_line(&self) -> String {
        let one_line: String = self
            .reason
            .chars()
            .map(|c| if c == '\n' { ' ' } else { c })
            .collect();
        format!("ocf-exit-reason:{one_line}")
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.rc, self.reason)
    }
}

/// What an action returns: `Ok(())` is [`Rc::Success`].
pub type ActionResult = Result<(), Outcome>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_ocf() {
        let all = [
            (Rc::Success, 0),
            (Rc::ErrGeneric, 1),
            (Rc::ErrArgs, 2),
            (Rc::Unimplemented, 3),
            (Rc::ErrPerm, 4),
            (Rc::ErrInstalled, 5),
            (Rc::ErrConfigured, 6),
            (Rc::NotRunning, 7),
        ];
        for (rc, code) in all {
            assert_eq!(rc.code(), code, "{rc}");
        }
    }

    #[test]
    fn exit_reason_is_one_line() {
        let o = Outcome::generic("MAC is wrong\nand more");
        assert_eq!(
            o.exit_reason_line(),
            "ocf-exit-reason:MAC is wrong and more"
        );
        assert_eq!(o.to_string(), "OCF_ERR_GENERIC (1): MAC is wrong\nand more");
    }
}
