//! The simplest transaction, `ovs-vsctl --if-exists del-port NAME`, spoken
//! straight to ovsdb-server on its socket ([`del_port`]), without an ovs-vsctl
//! process: what every hotplug `ifdown NIC` (one process per NIC) runs.
//!
//! Why: an ovs-vsctl start costs a process, the download of the schema and a
//! monitor of the tables it touches (every port row, every time); the removal
//! itself is one `mutate` of the Bridge's `ports`. ovs-vsctl's guarantees are
//! kept: the same rows go (the Port leaves its Bridge's `ports`; OVSDB then
//! deletes the Port and its Interfaces, which nothing else holds), a missing
//! port is no error (`--if-exists`), a bridge's own local port (or a VLAN
//! bridge's) is left to ovs-vsctl (which refuses it with its message), and like ovs-vsctl without
//! `--no-wait` it waits until ovs-vswitchd applied the change: `next_cfg` is
//! raised in the same transaction, and `cur_cfg` is watched (a `monitor` of that
//! one column) until it reaches it. Everything happens within the time-out, on
//! one connection ([`Channel`]); a daemon that does not answer is a
//! [`daemon::Hung`] as for the reads, ovs-vswitchd not applying it in time is
//! [`NativeError::NotApplied`].

use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use serde_json::{Value, json};

use super::daemon::{self, Daemon, Hung, Silence};

/// Why [`del_port`] did not remove the port.
#[derive(Debug, thiserror::Error)]
pub enum NativeError {
    /// ovsdb-server did not answer in time (or could not be reached).
    #[error(transparent)]
    Hung(#[from] Hung),
    /// ovsdb-server answered with an error.
    #[error("ovsdb-server refused the transaction: {0}")]
    Refused(String),
    /// The transaction is in OVSDB, but ovs-vswitchd did not apply it in time.
    #[error(
        "ovs-vswitchd did not apply the change within {} s (OVSDB has it)",
        .limit.as_secs()
    )]
    NotApplied { limit: Duration },
    /// Not a case this module handles: ovs-vsctl does it.
    #[error("left to ovs-vsctl")]
    Unsupported,
}

/// What [`del_port`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Removed, and ovs-vswitchd applied it.
    Removed,
    /// No such port: nothing to do.
    Absent,
}

/// `ovs-vsctl --timeout=LIMIT --if-exists del-port NAME`, on the socket of the
/// ovsdb-server under `rundir` (see the module documentation).
pub fn del_port(rundir: &Path, name: &str, limit: Duration) -> Result<Removal, NativeError> {
    let mut ch = Channel::open(rundir, limit)?;
    let found = ch.transact(vec![
        json!({"op": "select", "table": "Port", "where": [["name", "==", name]], "columns": ["_uuid", "fake_bridge"]}),
        json!({"op": "select", "table": "Bridge", "where": [["name", "==", name]], "columns": ["_uuid"]}),
    ])?;
    let Some(uuid) = found[0]["rows"][0]["_uuid"][1].as_str().map(String::from) else {
        return Ok(Removal::Absent);
    };
    let fake = found[0]["rows"][0]["fake_bridge"].as_bool() == Some(true);
    if fake || found[1]["rows"].as_array().is_some_and(|r| !r.is_empty()) {
        // a bridge's (or VLAN bridge's) local port: ovs-vsctl refuses it, in
        // its own words
        return Err(NativeError::Unsupported);
    }
    let port = json!(["uuid", uuid]);
    let done = ch.transact(vec![
        json!({"op": "mutate", "table": "Bridge", "where": [["ports", "includes", port]],
               "mutations": [["ports", "delete", port]]}),
        json!({"op": "mutate", "table": "Open_vSwitch", "where": [],
               "mutations": [["next_cfg", "+=", 1]]}),
        json!({"op": "select", "table": "Open_vSwitch", "where": [], "columns": ["next_cfg"]}),
        json!({"op": "comment", "comment": format!("ifupdown-ovs: --if-exists del-port {name}")}),
    ])?;
    if done[0]["count"].as_i64() == Some(0) {
        // gone meanwhile (another run removed it)
        return Ok(Removal::Absent);
    }
    let target = done[2]["rows"][0]["next_cfg"].as_i64().ok_or_else(|| {
        NativeError::Refused(format!("no next_cfg in {}", Value::Array(done.clone())))
    })?;
    ch.wait_cur_cfg(target)?;
    Ok(Removal::Removed)
}

/// Several JSON-RPC requests to ovsdb-server on one connection, all before
/// one deadline.
pub struct Channel {
    stream: UnixStream,
    socket: PathBuf,
    limit: Duration,
    deadline: Instant,
    /// Bytes read and not parsed yet.
    buf: Vec<u8>,
    next_id: u64,
    /// `update` notifications that came before the reply asked for.
    updates: Vec<Value>,
}

impl Channel {
    /// Connect to `RUNDIR/db.sock` (a full queue of connections is waited
    /// for); every later step must end within `limit` from now.
    pub fn open(rundir: &Path, limit: Duration) -> Result<Channel, Hung> {
        let socket = rundir.join("db.sock");
        let deadline = Instant::now() + limit;
        let hung = |silence| Hung {
            daemon: Daemon::OvsdbServer,
            silence,
        };
        let stream = match daemon::connect_by(&socket, deadline) {
            Ok(s) => s,
            Err(Errno::EAGAIN) => return Err(hung(Silence::QueueFull { socket })),
            Err(e) => {
                return Err(hung(Silence::Io {
                    socket,
                    source: e.into(),
                }));
            }
        };
        Ok(Channel {
            stream,
            socket,
            limit,
            deadline,
            buf: Vec::new(),
            next_id: 1,
            updates: Vec::new(),
        })
    }

    fn hung(&self, silence: Silence) -> Hung {
        Hung {
            daemon: Daemon::OvsdbServer,
            silence,
        }
    }

    fn no_reply(&self) -> Hung {
        self.hung(Silence::NoReply {
            socket: self.socket.clone(),
            limit: self.limit,
        })
    }

    fn io(&self, source: std::io::Error) -> Hung {
        match source.kind() {
            ErrorKind::WouldBlock | ErrorKind::TimedOut => self.no_reply(),
            _ => self.hung(Silence::Io {
                socket: self.socket.clone(),
                source,
            }),
        }
    }

    fn send(&mut self, message: &Value) -> Result<(), Hung> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        let r = self
            .stream
            .set_write_timeout(Some(left.max(Duration::from_millis(1))))
            .and_then(|()| self.stream.write_all(message.to_string().as_bytes()));
        r.map_err(|e| self.io(e))
    }

    /// The next whole JSON message, read before the deadline.
    fn next_message(&mut self) -> Result<Value, Hung> {
        loop {
            let mut it = serde_json::Deserializer::from_slice(&self.buf).into_iter::<Value>();
            match it.next() {
                Some(Ok(v)) => {
                    let used = it.byte_offset();
                    self.buf.drain(..used);
                    return Ok(v);
                }
                Some(Err(e)) if !e.is_eof() => {
                    return Err(self.io(std::io::Error::new(ErrorKind::InvalidData, e)));
                }
                _ => {}
            }
            let left = self.deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(self.no_reply());
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = self
                .stream
                .set_read_timeout(Some(left))
                .and_then(|()| self.stream.read(&mut chunk))
                .map_err(|e| self.io(e))?;
            if n == 0 {
                return Err(self.hung(Silence::Closed {
                    socket: self.socket.clone(),
                }));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Send `method(params)`; its reply, answering ovsdb-server's `echo`
    /// requests and keeping `update` notifications meanwhile.
    fn call(&mut self, method: &str, params: Value) -> Result<Value, NativeError> {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"id": id, "method": method, "params": params}))?;
        loop {
            let m = self.next_message()?;
            if self.routine(&m)? {
                continue;
            }
            if m["id"].as_u64() == Some(id) {
                if !m["error"].is_null() {
                    return Err(NativeError::Refused(m["error"].to_string()));
                }
                return Ok(m["result"].clone());
            }
        }
    }

    /// Handle a message that is no reply: an `echo` request is answered, an
    /// `update` kept. True when `m` was one of them.
    fn routine(&mut self, m: &Value) -> Result<bool, Hung> {
        match m["method"].as_str() {
            Some("echo") => {
                let reply = json!({"id": m["id"], "result": m["params"], "error": null});
                self.send(&reply)?;
                Ok(true)
            }
            Some("update") => {
                self.updates.push(m["params"][1].clone());
                Ok(true)
            }
            Some(_) => Ok(true),
            None => Ok(false),
        }
    }

    /// One `transact` of `ops` on `Open_vSwitch`: the result of each op; an
    /// op's error (the transaction then changed nothing) is refused.
    pub fn transact(&mut self, ops: Vec<Value>) -> Result<Vec<Value>, NativeError> {
        let mut params = vec![json!("Open_vSwitch")];
        params.extend(ops);
        let result = self.call("transact", Value::Array(params))?;
        let results = result.as_array().cloned().unwrap_or_default();
        if let Some(e) = results.iter().find(|r| !r["error"].is_null()) {
            return Err(NativeError::Refused(e.to_string()));
        }
        Ok(results)
    }

    /// Wait until `Open_vSwitch:cur_cfg` is at least `target` (ovs-vswitchd
    /// applied every change up to it), watching that one column.
    pub fn wait_cur_cfg(&mut self, target: i64) -> Result<(), NativeError> {
        let params = json!(["Open_vSwitch", "cur_cfg", {"Open_vSwitch": {"columns": ["cur_cfg"]}}]);
        let first = self.call("monitor", params)?;
        let reached = |update: &Value| {
            update["Open_vSwitch"].as_object().is_some_and(|rows| {
                rows.values()
                    .any(|r| r["new"]["cur_cfg"].as_i64().is_some_and(|c| c >= target))
            })
        };
        if reached(&first) || self.updates.iter().any(reached) {
            return Ok(());
        }
        loop {
            let m = match self.next_message() {
                Ok(m) => m,
                Err(Hung {
                    silence: Silence::NoReply { .. },
                    ..
                }) => return Err(NativeError::NotApplied { limit: self.limit }),
                Err(h) => return Err(h.into()),
            };
            self.updates.clear();
            self.routine(&m)?;
            if self.updates.iter().any(reached) {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    /// A stand-in ovsdb-server under `dir`: answers each request line by line
    /// with `replies` (in order; `{id}` replaced by the request's id), sends an
    /// echo request first.
    fn server(dir: &Path, replies: Vec<String>) -> std::thread::JoinHandle<Vec<Value>> {
        let l = UnixListener::bind(dir.join("db.sock")).unwrap();
        std::thread::spawn(move || {
            let (s, _) = l.accept().unwrap();
            let mut w = s.try_clone().unwrap();
            w.write_all(br#"{"id":"e1","method":"echo","params":[]}"#)
                .unwrap();
            let mut seen = Vec::new();
            let mut replies = replies.into_iter();
            for v in serde_json::Deserializer::from_reader(s).into_iter::<Value>() {
                let Ok(v) = v else { break };
                seen.push(v.clone());
                if v["id"] == "e1" {
                    continue;
                }
                let Some(reply) = replies.next() else { break };
                let reply = reply.replace("{id}", &v["id"].to_string());
                w.write_all(reply.as_bytes()).unwrap();
            }
            seen
        })
    }

    #[test]
    fn messages_split_and_joined_are_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let l = UnixListener::bind(dir.path().join("db.sock")).unwrap();
        let t = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            s.write_all(br#"{"id":null,"method":"update","params":[null,{"a":1}]}{"id":1,"res"#)
                .unwrap();
            std::thread::sleep(Duration::from_millis(20));
            s.write_all(br#"ult":[{"count":1}],"error":null}"#).unwrap();
            std::thread::sleep(Duration::from_millis(200));
        });
        let mut ch = Channel::open(dir.path(), Duration::from_secs(2)).unwrap();
        let r = ch.call("transact", json!([])).unwrap();
        assert_eq!(r, json!([{"count": 1}]));
        assert_eq!(ch.updates, [json!({"a": 1})]);
        // nothing more comes: an error (closed, reset), not a wait past the limit
        let start = Instant::now();
        assert!(ch.next_message().is_err());
        assert!(start.elapsed() < Duration::from_secs(2));
        t.join().unwrap();
    }

    #[test]
    fn absent_port_is_nothing_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let s = server(
            dir.path(),
            vec![r#"{"id":{id},"result":[{"rows":[]},{"rows":[]}],"error":null}"#.into()],
        );
        let r = del_port(dir.path(), "eth9", Duration::from_secs(2)).unwrap();
        assert_eq!(r, Removal::Absent);
        drop(s);
    }

    #[test]
    fn removal_waits_for_cur_cfg() {
        let dir = tempfile::tempdir().unwrap();
        let s = server(
            dir.path(),
            vec![
                r#"{"id":{id},"result":[{"rows":[{"_uuid":["uuid","u1"]}]},{"rows":[]}],"error":null}"#.into(),
                r#"{"id":{id},"result":[{"count":1},{"count":1},{"rows":[{"next_cfg":7}]},{}],"error":null}"#.into(),
                concat!(
                    r#"{"id":{id},"result":{"Open_vSwitch":{"r":{"new":{"cur_cfg":6}}}},"error":null}"#,
                    r#"{"id":null,"method":"update","params":["cur_cfg",{"Open_vSwitch":{"r":{"old":{"cur_cfg":6},"new":{"cur_cfg":7}}}}]}"#
                )
                .into(),
            ],
        );
        let r = del_port(dir.path(), "eth9", Duration::from_secs(2)).unwrap();
        assert_eq!(r, Removal::Removed);
        let seen = s.join().unwrap();
        let mutate = seen
            .iter()
            .find(|v| v.to_string().contains("\"delete\""))
            .unwrap();
        assert_eq!(
            mutate["params"][1]["mutations"],
            json!([["ports", "delete", ["uuid", "u1"]]])
        );
    }

    #[test]
    fn cur_cfg_that_does_not_rise_is_not_applied() {
        let dir = tempfile::tempdir().unwrap();
        let _s = server(
            dir.path(),
            vec![
                r#"{"id":{id},"result":[{"rows":[{"_uuid":["uuid","u1"]}]},{"rows":[]}],"error":null}"#.into(),
                r#"{"id":{id},"result":[{"count":1},{"count":1},{"rows":[{"next_cfg":7}]},{}],"error":null}"#.into(),
                r#"{"id":{id},"result":{"Open_vSwitch":{"r":{"new":{"cur_cfg":6}}}},"error":null}"#.into(),
            ],
        );
        let start = Instant::now();
        let e = del_port(dir.path(), "eth9", Duration::from_millis(300)).unwrap_err();
        assert!(matches!(e, NativeError::NotApplied { .. }), "{e}");
        assert!(start.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn a_bridge_local_port_is_left_to_ovs_vsctl() {
        let dir = tempfile::tempdir().unwrap();
        let _s = server(
            dir.path(),
            vec![r#"{"id":{id},"result":[{"rows":[{"_uuid":["uuid","u1"]}]},{"rows":[{"_uuid":["uuid","b1"]}]}],"error":null}"#.into()],
        );
        let e = del_port(dir.path(), "br0", Duration::from_secs(2)).unwrap_err();
        assert!(matches!(e, NativeError::Unsupported), "{e}");
    }
}
