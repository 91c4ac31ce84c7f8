//! The four programs as a user runs them: help, refusals, and agent, registrar and phone as
//! separate processes on loopback.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const AGENT: &str = env!("CARGO_BIN_EXE_agent");
const REGISTRAR: &str = env!("CARGO_BIN_EXE_registrar");
const PHONE: &str = env!("CARGO_BIN_EXE_phone");
const ENTERPRISE: &str = env!("CARGO_BIN_EXE_enterprise");

fn run(program: &str, args: &[&str], dir: &Path) -> Output {
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// Kills the child when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "port {port} never opened");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn every_program_explains_itself() {
    let dir = tempfile::tempdir().unwrap();
    for program in [AGENT, REGISTRAR, PHONE, ENTERPRISE] {
        let out = run(program, &["--help"], dir.path());
        assert!(out.status.success(), "{program}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage:"),
            "{program}"
        );
    }
}

#[test]
fn seed_readable_by_others_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        run(AGENT, &["new-seed", "seed"], dir.path())
            .status
            .success()
    );
    let seed = dir.path().join("seed");
    assert_eq!(
        std::fs::metadata(&seed).unwrap().permissions().mode() & 0o777,
        0o600
    );
    std::fs::set_permissions(&seed, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = run(
        AGENT,
        &["serve", "--seed", "seed", "--generate-demo-pki", "pki"],
        dir.path(),
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("has mode 0644: group and others must have no access"),
        "{stderr}"
    );
}

#[test]
fn agent_registrar_and_phone_as_processes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    assert!(run(AGENT, &["new-seed", "seed"], path).status.success());
    let inventory = "extension,serial,mac,login,pin\n2001,SN1,00:11:22:33:44:01,alice,2468\n";
    std::fs::write(path.join("inv.csv"), inventory).unwrap();
    std::fs::write(path.join("pin"), "2468").unwrap();
    std::fs::set_permissions(path.join("pin"), std::fs::Permissions::from_mode(0o600)).unwrap();
    let (device, facing, sip) = (free_port(), free_port(), free_port());
    let device_addr = format!("127.0.0.1:{device}");
    let facing_addr = format!("127.0.0.1:{facing}");
    let sip_addr = format!("127.0.0.1:{sip}");

    let _agent = spawn(
        AGENT,
        path,
        &[
            "serve",
            "--seed",
            "seed",
            "--database",
            "agent.sqlite",
            "--inventory",
            "inv.csv",
            "--generate-demo-pki",
            "pki",
            "--device-listen",
            &device_addr,
            "--registrar-listen",
            &facing_addr,
        ],
    );
    wait_for_port(facing);
    let _registrar = spawn(
        REGISTRAR,
        path,
        &[
            "--listen",
            &sip_addr,
            "--agent",
            &facing_addr,
            "--ca",
            "pki/ca.pem",
            "--cert",
            "pki/registrar-sip.example.test.pem",
            "--key",
            "pki/registrar-sip.example.test.key",
        ],
    );
    wait_for_port(sip);
    let out = run(
        PHONE,
        &[
            "--agent",
            &device_addr,
            "--ca",
            "pki/ca.pem",
            "--agent-cert",
            "pki/agent.pem",
            "--serial",
            "SN1",
            "--login",
            "alice",
            "--pin-file",
            "pin",
            "--credentials",
            "p.cred",
            "--registrar",
            &sip_addr,
            "--transport",
            "tcp",
            "--once",
        ],
        path,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("registered kp1"), "{stdout}");
    let mode = std::fs::metadata(path.join("p.cred"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
}

fn spawn(program: &str, dir: &Path, args: &[&str]) -> Running {
    let child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Running(child)
}
