//! The simplest transactions, spoken straight to ovsdb-server on its socket
//! without an ovs-vsctl process: `ovs-vsctl --if-exists del-port NAME`
//! ([`del_port`]), what every hotplug `ifdown NIC` (one process per NIC) runs,
//! and the `--may-exist add-port` with its `set`s of a hotplug `ifup NIC`
//! ([`apply`]).
//!
//! [`apply`] takes only what it can do exactly as ovs-vsctl would, and says
//! [`NativeError::Unsupported`] for anything else (the caller runs ovs-vsctl):
//! `--may-exist add-br B` of an existing bridge (nothing to do), `--may-exist
//! add-port B P` (nothing when P is on B with its one interface P; else a new
//! Port and Interface put on B), `set T N ...` of a Bridge, Port or Interface
//! row that exists (or that the transaction adds) with `map:key=value` of
//! `external_ids`, `other_config` or `options`, or `column=value` of a few
//! string and integer columns. When ovsdb-server refuses it (a constraint),
//! nothing was changed and the caller runs ovs-vsctl too, whose message names
//! the problem as the user knows it.
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

/// Columns [`apply`] sets with `column=value`: strings.
const STRING_COLUMNS: &[&str] = &["datapath_type", "type", "vlan_mode", "bond_mode", "lacp"];
/// Columns [`apply`] sets with `column=value`: integers.
const INTEGER_COLUMNS: &[&str] = &["tag", "mtu_request", "ofport_request"];
/// Map columns [`apply`] sets with `column:key=value`.
const MAP_COLUMNS: &[&str] = &["external_ids", "other_config", "options"];

/// One command of a transaction, as [`apply`] understands it.
#[derive(Debug, Clone, PartialEq)]
enum Command {
    /// `--may-exist add-br B`
    Bridge(String),
    /// `--may-exist add-port B P`
    AddPort { bridge: String, port: String },
    /// `set TABLE NAME` with `(column, key, value)` settings.
    Set {
        table: String,
        name: String,
        settings: Vec<(String, Option<String>, Value)>,
    },
}

/// The value of `column[:key]=word` as OVSDB JSON: a quoted word is a JSON
/// string (ovs-vsctl's syntax for one, as `vsctl::quote_string` writes it);
/// a bare one a string or an integer by the column. None: not handled here.
fn value(column: &str, key: Option<&str>, word: &str) -> Option<Value> {
    if word.starts_with('"') {
        let text: String = serde_json::from_str(word).ok()?;
        let string = key.is_some() || STRING_COLUMNS.contains(&column);
        return string.then(|| Value::from(text));
    }
    let bare = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.+/@".contains(c));
    if key.is_some() || STRING_COLUMNS.contains(&column) {
        return bare.then(|| Value::from(word));
    }
    if INTEGER_COLUMNS.contains(&column) {
        return word.parse::<i64>().ok().map(Value::from);
    }
    None
}

/// The commands of `tx` as [`Command`]s; None when one is not handled here.
fn commands(tx: &[Vec<String>]) -> Option<Vec<Command>> {
    tx.iter()
        .map(|c| {
            let w: Vec<&str> = c.iter().map(String::as_str).collect();
            match w.as_slice() {
                ["--may-exist", "add-br", b] => Some(Command::Bridge(b.to_string())),
                ["--may-exist", "add-port", b, p] => Some(Command::AddPort {
                    bridge: b.to_string(),
                    port: p.to_string(),
                }),
                ["set", t @ ("Bridge" | "Port" | "Interface"), n, words @ ..]
                    if !words.is_empty() =>
                {
                    let settings = words
                        .iter()
                        .map(|a| {
                            let (lhs, word) = a.split_once('=')?;
                            let (column, key) = match lhs.split_once(':') {
                                Some((c, k)) if MAP_COLUMNS.contains(&c) && !k.is_empty() => {
                                    (c, Some(k))
                                }
                                Some(_) => return None,
                                None => (lhs, None),
                            };
                            let v = value(column, key, word)?;
                            Some((column.to_string(), key.map(String::from), v))
                        })
                        .collect::<Option<Vec<_>>>()?;
                    Some(Command::Set {
                        table: t.to_string(),
                        name: n.to_string(),
                        settings,
                    })
                }
                _ => None,
            }
        })
        .collect()
}

/// The rows [`apply`] looks at first: every bridge with its ports, and the
/// Port and Interface rows the commands name (uuid, interfaces).
struct Rows {
    bridges: Vec<(String, String, Vec<String>)>,
    ports: Vec<(String, String, Vec<String>)>,
    interfaces: Vec<(String, String)>,
}

/// The uuids of an OVSDB set of uuids (`["uuid", U]` or `["set", [...]]`).
fn uuids(v: &Value) -> Vec<String> {
    match v[0].as_str() {
        Some("uuid") => v[1].as_str().map(String::from).into_iter().collect(),
        Some("set") => v[1]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|u| u[1].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

impl Rows {
    fn read(ch: &mut Channel, names: &[&str]) -> Result<Rows, NativeError> {
        let mut ops = vec![
            json!({"op": "select", "table": "Bridge", "where": [], "columns": ["_uuid", "name", "ports"]}),
        ];
        for n in names {
            ops.push(json!({"op": "select", "table": "Port", "where": [["name", "==", n]], "columns": ["_uuid", "name", "interfaces"]}));
            ops.push(json!({"op": "select", "table": "Interface", "where": [["name", "==", n]], "columns": ["_uuid", "name"]}));
        }
        let r = ch.transact(ops)?;
        let rows = |v: &Value| v["rows"].as_array().cloned().unwrap_or_default();
        let text = |v: &Value, c: &str| v[c].as_str().unwrap_or_default().to_string();
        let uuid = |v: &Value| v["_uuid"][1].as_str().unwrap_or_default().to_string();
        let mut out = Rows {
            bridges: Vec::new(),
            ports: Vec::new(),
            interfaces: Vec::new(),
        };
        for b in rows(&r[0]) {
            out.bridges
                .push((text(&b, "name"), uuid(&b), uuids(&b["ports"])));
        }
        for pair in r[1..].chunks(2) {
            for p in rows(&pair[0]) {
                out.ports
                    .push((text(&p, "name"), uuid(&p), uuids(&p["interfaces"])));
            }
            for i in pair.get(1).map(rows).unwrap_or_default() {
                out.interfaces.push((text(&i, "name"), uuid(&i)));
            }
        }
        Ok(out)
    }

    fn exists(&self, table: &str, name: &str) -> bool {
        match table {
            "Bridge" => self.bridges.iter().any(|b| b.0 == name),
            "Port" => self.ports.iter().any(|p| p.0 == name),
            _ => self.interfaces.iter().any(|i| i.0 == name),
        }
    }
}

/// The OVSDB operations of `commands` against `rows`; Unsupported when one
/// would need more than this module does.
fn operations(commands: &[Command], rows: &Rows) -> Result<Vec<Value>, NativeError> {
    let mut ops = Vec::new();
    let mut added: Vec<String> = Vec::new();
    for c in commands {
        match c {
            Command::Bridge(b) if rows.exists("Bridge", b) => {}
            Command::Bridge(_) => return Err(NativeError::Unsupported),
            Command::AddPort { bridge, port } => {
                let Some(br) = rows.bridges.iter().find(|b| &b.0 == bridge) else {
                    return Err(NativeError::Unsupported);
                };
                match rows.ports.iter().find(|p| &p.0 == port) {
                    None if !rows.exists("Interface", port) && !rows.exists("Bridge", port) => {
                        let (p, i) = (format!("p{}", ops.len()), format!("i{}", ops.len()));
                        ops.push(json!({"op": "insert", "table": "Interface", "uuid-name": i, "row": {"name": port}}));
                        ops.push(json!({"op": "insert", "table": "Port", "uuid-name": p,
                            "row": {"name": port, "interfaces": ["named-uuid", i]}}));
                        ops.push(json!({"op": "mutate", "table": "Bridge", "where": [["_uuid", "==", ["uuid", br.1]]],
                            "mutations": [["ports", "insert", ["named-uuid", p]]]}));
                        added.push(port.clone());
                    }
                    // on this bridge with exactly its interface of the same name
                    Some(p)
                        if br.2.contains(&p.1)
                            && rows
                                .interfaces
                                .iter()
                                .find(|i| &i.0 == port)
                                .is_some_and(|i| p.2 == [i.1.clone()]) => {}
                    _ => return Err(NativeError::Unsupported),
                }
            }
            Command::Set {
                table,
                name,
                settings,
            } => {
                let new = added.contains(name) && table != "Bridge";
                if !new && !rows.exists(table, name) {
                    return Err(NativeError::Unsupported);
                }
                let at = json!([["name", "==", name]]);
                let mut row = serde_json::Map::new();
                let mut mutations = Vec::new();
                for (column, key, v) in settings {
                    match key {
                        Some(k) => {
                            mutations.push(json!([column, "delete", ["set", [k]]]));
                            mutations.push(json!([column, "insert", ["map", [[k, v]]]]));
                        }
                        None => {
                            row.insert(column.clone(), v.clone());
                        }
                    }
                }
                if !row.is_empty() {
                    ops.push(json!({"op": "update", "table": table, "where": at, "row": row}));
                }
                if !mutations.is_empty() {
                    ops.push(json!({"op": "mutate", "table": table, "where": at, "mutations": mutations}));
                }
            }
        }
    }
    Ok(ops)
}

/// Run `tx`'s commands (ovs-vsctl words, see the module documentation) as one
/// OVSDB transaction, then wait until ovs-vswitchd applied it, all within
/// `limit`. Unsupported: not a transaction this module does (nothing sent
/// that changes anything).
pub fn apply(rundir: &Path, tx: &[Vec<String>], limit: Duration) -> Result<(), NativeError> {
    let commands = commands(tx).ok_or(NativeError::Unsupported)?;
    if !commands
        .iter()
        .any(|c| matches!(c, Command::AddPort { .. }))
    {
        return Err(NativeError::Unsupported);
    }
    let mut names: Vec<&str> = Vec::new();
    for c in &commands {
        let n = match c {
            Command::AddPort { port, .. } => port,
            Command::Set { name, .. } => name,
            Command::Bridge(b) => b,
        };
        if !names.contains(&n.as_str()) {
            names.push(n);
        }
    }
    let mut ch = Channel::open(rundir, limit)?;
    let rows = Rows::read(&mut ch, &names)?;
    let mut ops = operations(&commands, &rows)?;
    ops.push(json!({"op": "mutate", "table": "Open_vSwitch", "where": [], "mutations": [["next_cfg", "+=", 1]]}));
    ops.push(
        json!({"op": "select", "table": "Open_vSwitch", "where": [], "columns": ["next_cfg"]}),
    );
    ops.push(json!({"op": "comment", "comment": "ifupdown-ovs: hotplug port"}));
    let n = ops.len();
    let done = ch.transact(ops)?;
    if done.len() < n {
        return Err(NativeError::Refused(format!(
            "{} results of {n}",
            done.len()
        )));
    }
    let target = done[n - 2]["rows"][0]["next_cfg"]
        .as_i64()
        .ok_or_else(|| NativeError::Refused("no next_cfg".into()))?;
    ch.wait_cur_cfg(target)
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
        let stream = daemon::connect_or_hung(Daemon::OvsdbServer, &socket, deadline)?;
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

    fn words(lines: &[&str]) -> Vec<Vec<String>> {
        lines
            .iter()
            .map(|l| l.split(' ').map(String::from).collect())
            .collect()
    }

    fn rows() -> Rows {
        Rows {
            bridges: vec![("br0".into(), "b0".into(), vec!["pb".into(), "p1".into()])],
            ports: vec![("eth1".into(), "p1".into(), vec!["i1".into()])],
            interfaces: vec![("eth1".into(), "i1".into())],
        }
    }

    /// What the hook's pre-up of a hotplug NIC sends: the bridge converged,
    /// the port added with its marks and tag.
    #[test]
    fn a_new_port_with_its_marks_and_tag() {
        let tx = words(&[
            "--may-exist add-br br0",
            r#"set Bridge br0 datapath_type=netdev external_ids:ifupdown-ovs="br0""#,
            "--may-exist add-port br0 eth2",
            r#"set Port eth2 tag=5 external_ids:ifupdown-ovs="eth2" external_ids:ifupdown-ovs-columns="tag""#,
            r#"set Interface eth2 external_ids:ifupdown-ovs="eth2""#,
        ]);
        let ops = operations(&commands(&tx).unwrap(), &rows()).unwrap();
        let text: Vec<String> = ops.iter().map(|o| o.to_string()).collect();
        assert_eq!(text.len(), 8, "{text:#?}");
        assert!(
            text[0].contains(r#""op":"update""#) && text[0].contains(r#""datapath_type":"netdev""#)
        );
        assert!(text[1].contains(r#"["external_ids","delete",["set",["ifupdown-ovs"]]]"#));
        assert!(text[2].contains(r#""table":"Interface""#) && text[2].contains(r#""name":"eth2""#));
        assert!(text[3].contains(r#""interfaces":["named-uuid","i2"]"#));
        assert!(text[4].contains(r#"["ports","insert",["named-uuid","p2"]]"#));
        assert!(text[5].contains(r#""tag":5"#));
        assert!(text[6].contains(r#"["ifupdown-ovs-columns","tag"]"#));
        // there already, with its interface: nothing to add
        let again = words(&["--may-exist add-port br0 eth1", "set Port eth1 tag=7"]);
        let ops = operations(&commands(&again).unwrap(), &rows()).unwrap();
        assert_eq!(ops.len(), 1);
    }

    #[test]
    fn anything_else_is_left_to_ovs_vsctl() {
        let unsupported = |lines: &[&str]| match commands(&words(lines)) {
            None => true,
            Some(c) => matches!(operations(&c, &rows()), Err(NativeError::Unsupported)),
        };
        assert!(unsupported(&["--may-exist add-br br9"]));
        assert!(unsupported(&["--may-exist add-port br9 eth2"]));
        assert!(unsupported(&["--may-exist add-port br0 eth1 eth1b"]));
        assert!(unsupported(&["set Port eth9 tag=5"]));
        assert!(unsupported(&["set Port eth1 trunks=1,2"]));
        assert!(unsupported(&["set Port eth1 tag=[]"]));
        assert!(unsupported(&[
            "set Interface eth1 mac=\"00:01:02:03:04:05\""
        ]));
        assert!(unsupported(&["set Port eth1 external_ids={}"]));
        assert!(unsupported(&["del-port eth1"]));
        assert!(unsupported(&["clear Port eth1 tag"]));
        // a port on another bridge (br0 does not hold p9)
        let mut r = rows();
        r.ports
            .push(("eth9".into(), "p9".into(), vec!["i9".into()]));
        r.interfaces.push(("eth9".into(), "i9".into()));
        let c = commands(&words(&["--may-exist add-port br0 eth9"])).unwrap();
        assert!(matches!(operations(&c, &r), Err(NativeError::Unsupported)));
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
