//! Regression tests from a review of the services: the PIN lockout under concurrent guesses,
//! SIP stream framing with hostile lengths, the agent database's mode, a superseded key at the
//! native registration port, an agent that never finishes its TLS handshake, a flood of
//! registrations while the agent is slow, a SIP request trickled over TCP.

use keyprov_services::inventory;
use keyprov_services::registrar;
use keyprov_services::sip;
use keyprov_services::store::MAX_PIN_FAILURES;

/// Guesses sent at once, all for the same user.
const BURST: usize = 40;

#[test]
fn huge_content_length_is_refused_without_overflow() {
    for length in ["18446744073709551615", "18446744073709551600"] {
        let head = format!("REGISTER sip:x SIP/2.0\r\nContent-Length: {length}\r\n\r\n");
        let error = sip::complete_length(head.as_bytes()).unwrap_err();
        assert!(
            error.to_string().contains("> maximum 8192"),
            "{length}: {error:#}"
        );
    }
}

#[test]
fn agent_database_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent.sqlite");
    let store = keyprov_services::store::Store::open(&path).unwrap();
    store
        .enroll_all(&inventory::parse(&inventory::synthetic(1)).unwrap())
        .unwrap();
    // The directory holds PIN verifiers, from which a PIN is found offline.
    for file in [path.clone(), dir.path().join("agent.sqlite-wal")] {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{} has mode {mode:04o}", file.display());
    }
}

/// A burst of wrong PINs for one user, all sessions released at once into the agent's host:
/// no more guesses may be checked than the lockout allows.
#[test]
fn simultaneous_wrong_pins_are_checked_no_more_than_the_lockout_allows() {
    use keyprov::device::{AgentSession, Provisioning, ProvisioningConfig, Subject, UserPin};
    use keyprov::secret::Pin;
    use keyprov_services::agent::{AgentConfig, AgentCore};
    use std::sync::{Arc, Barrier};

    let dir = tempfile::tempdir().unwrap();
    let entries = inventory::parse(&inventory::synthetic(1)).unwrap();
    let database = dir.path().join("agent.sqlite");
    keyprov_services::store::Store::open(&database)
        .unwrap()
        .enroll_all(&entries)
        .unwrap();
    let pki = keyprov_services::tls::DemoPki::generate(&dir.path().join("pki"), &[]).unwrap();
    let any = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let core = Arc::new(
        AgentCore::open(&AgentConfig {
            device_listen: any,
            registrar_listen: any,
            identity: pki.agent.clone(),
            ca: pki.ca.clone(),
            database,
            seed: zeroize::Zeroizing::new(vec![7; 32]),
            enterprise: "example.test".into(),
            agent_id: "agent1".into(),
            key_lifetime: 3_600,
        })
        .unwrap(),
    );
    let binding = [3u8; 32];
    let login = entries[0].login.clone();
    let requests: Vec<Vec<u8>> = (0..BURST)
        .map(|guess| {
            let mut device = Provisioning::new(ProvisioningConfig {
                trust_anchor: [1; 32],
                subject: Subject::DeviceId(
                    keyprov::DeviceId::serial_number(&entries[0].serial).unwrap(),
                ),
                user: Some(UserPin {
                    login: login.as_bytes().to_vec(),
                    pin: Pin::new(&format!("9{guess:03}")).unwrap(),
                    salt: keyprov_services::store::pin_salt(&login),
                }),
                expected_agent: None,
                last_counter: None,
                require_address: false,
                response_timeout: 10,
            });
            let session = AgentSession {
                agent_identity: &[1; 32],
                channel_binding: &binding,
            };
            device.handle_connected(1_000, &session).unwrap();
            device.poll_transmit().unwrap()
        })
        .collect();
    let start = Arc::new(Barrier::new(BURST));
    let threads: Vec<_> = requests
        .into_iter()
        .map(|request| {
            let (core, start) = (core.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                core.provision(&request, &binding, keyprov_services::now())
                    .unwrap()
                    .unwrap()
            })
        })
        .collect();
    let answers: Vec<Vec<u8>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let wrong_proof = [1u8, 0x7f, 0x01, 0x30];
    let checked = answers.iter().filter(|a| a[..] == wrong_proof).count();
    let locked_out = [1u8, 0x7f, 0x01, 0x34];
    assert_eq!(checked, MAX_PIN_FAILURES as usize);
    assert_eq!(
        answers.iter().filter(|a| a[..] == locked_out).count(),
        BURST - MAX_PIN_FAILURES as usize
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn superseded_key_is_refused_by_native_registration_once_its_cache_time_is_over() {
    use keyprov_services::lab::{Lab, LabOptions};
    use keyprov_services::phone::{Phone, Transport};

    let dir = tempfile::tempdir().unwrap();
    let entries = inventory::parse(&inventory::synthetic(2)).unwrap();
    let options = LabOptions {
        key_cache_seconds: 0,
        ..LabOptions::default()
    };
    let lab = Lab::start(dir.path(), &entries, options).await.unwrap();
    let mut phone = Phone::with_tls(
        lab.phone_config(&entries[1], Transport::Udp),
        lab.phone_tls(),
    )
    .unwrap();
    phone.provision().await.unwrap();
    phone.register_native(lab.native_addr()).await.unwrap();

    // The same device provisions again elsewhere: the phone's key is superseded.
    let mut elsewhere = lab.phone_config(&entries[1], Transport::Udp);
    elsewhere.credentials = dir.path().join("elsewhere.cred");
    Phone::with_tls(elsewhere, lab.phone_tls())
        .unwrap()
        .provision()
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let error = phone.register_native(lab.native_addr()).await.unwrap_err();
    assert_eq!(
        error.downcast_ref::<keyprov::Error>(),
        Some(&keyprov::Error::Superseded),
        "{error:#}"
    );
}

/// A registrar whose agent accepts connections but never answers a TLS handshake; the
/// listener must live as long as the registrar.
async fn registrar_with_silent_agent(
    dir: &std::path::Path,
) -> (registrar::RunningRegistrar, std::net::TcpListener) {
    let realm = "sip.example.test";
    let pki = keyprov_services::tls::DemoPki::generate(dir, &[realm]).unwrap();
    // Accepted by the kernel's backlog, never served.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let identity = pki.registrar(realm).unwrap().clone();
    let agent = silent.local_addr().unwrap();
    let mut config = registrar::RegistrarConfig::new(realm, agent, pki.ca.clone(), identity);
    config.native_listen = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    (registrar::start(config).await.unwrap(), silent)
}

/// A native register hello for the first key of serial number `serial`.
fn hello(serial: &str) -> Vec<u8> {
    use keyprov::wire::{Message, RegisterHello};

    let agent = keyprov::AgentId::new("agent1").unwrap();
    let device = keyprov::DeviceId::serial_number(serial).unwrap();
    let key_id = keyprov::KeyId::structured(1, agent, device, 1).to_bytes();
    Message::RegisterHello(RegisterHello {
        key_id: &key_id,
        sequence: 0,
        device_nonce: &[7; 32],
        login: None,
    })
    .to_vec()
    .unwrap()
}

/// An agent that accepts the registrar's connection but never answers its TLS handshake must
/// cost one fetch timeout, not hang every later registration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_agent_costs_a_fetch_timeout_not_the_registrar() {
    let dir = tempfile::tempdir().unwrap();
    let (running, _silent) = registrar_with_silent_agent(dir.path()).await;
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.connect(running.native_addr.unwrap()).await.unwrap();
    socket.send(&hello("SN1")).await.unwrap();
    let mut answer = [0u8; 64];
    // Two attempts (the connection is reopened once), each within the fetch timeout.
    let len = tokio::time::timeout(registrar::FETCH_TIMEOUT * 3, socket.recv(&mut answer))
        .await
        .expect("the registrar never answered")
        .unwrap();
    // Refused: the key could not be fetched.
    assert_eq!(&answer[..len], &[0x01, 0x7f, 0x01, 0x2c]);
}

/// Registrations waiting for the agent are bounded: beyond the limit the registrar answers
/// at once that it cannot serve, instead of queueing without end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_waiting_for_the_agent_are_bounded() {
    use keyprov_services::native::MAX_IN_FLIGHT;

    let dir = tempfile::tempdir().unwrap();
    let (running, _silent) = registrar_with_silent_agent(dir.path()).await;
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.connect(running.native_addr.unwrap()).await.unwrap();
    let extra = 16;
    for i in 0..MAX_IN_FLIGHT + extra {
        socket.send(&hello(&format!("SN{i}"))).await.unwrap();
        if i % 64 == 0 {
            // Let the registrar read: a full socket buffer would drop datagrams instead.
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }
    let mut busy = 0;
    let mut answer = [0u8; 64];
    let wait = std::time::Duration::from_secs(2);
    while let Ok(Ok(len)) = tokio::time::timeout(wait, socket.recv(&mut answer)).await {
        // Not authorized: the outcome of every failure the device cannot act on.
        assert_eq!(&answer[..len], &[0x01, 0x7f, 0x01, 0x35]);
        busy += 1;
    }
    assert_eq!(busy, extra);
}

/// A SIP request trickled one byte at a time over TCP: the registrar closes the connection
/// once the request is late, instead of waiting for each byte for minutes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickled_sip_request_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let dir = tempfile::tempdir().unwrap();
    let (running, _silent) = registrar_with_silent_agent(dir.path()).await;
    let mut stream = tokio::net::TcpStream::connect(running.sip_addr)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let request = b"REGISTER sip:sip.example.test SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9\r\n";
    let mut closed = false;
    for byte in request.iter().cycle().take(400) {
        if stream.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
        let mut sink = [0u8; 16];
        let read = tokio::time::timeout(
            std::time::Duration::from_millis(200),
            stream.read(&mut sink),
        )
        .await;
        if matches!(read, Ok(Ok(0)) | Ok(Err(_))) {
            closed = true;
            break;
        }
    }
    assert!(closed, "still open after {:?}", started.elapsed());
    let limit = registrar::SIP_TCP_MESSAGE_TIME + std::time::Duration::from_secs(5);
    assert!(
        started.elapsed() < limit,
        "closed after {:?}",
        started.elapsed()
    );
}

/// Idle connections beyond the limit are closed at once, so a peer holding many cannot run the
/// agent out of file descriptors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_limit_are_closed_at_once() {
    use keyprov_services::lab::{Lab, LabOptions};
    use tokio::io::AsyncReadExt;

    use keyprov_services::agent::MAX_CONNECTIONS;
    // Both ends of every connection live in this process.
    let needed = 4 * (MAX_CONNECTIONS + 1) + 256;
    if open_files_limit() < needed {
        eprintln!("skipped: fewer than {needed} open files allowed (ulimit -n)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let entries = inventory::parse(&inventory::synthetic(1)).unwrap();
    let lab = Lab::start(dir.path(), &entries, LabOptions::default())
        .await
        .unwrap();
    let agent = lab.agent.as_ref().unwrap().device_addr;
    for addr in [agent, lab.sip_addr()] {
        let mut held = Vec::new();
        for _ in 0..MAX_CONNECTIONS {
            held.push(tokio::net::TcpStream::connect(addr).await.unwrap());
        }
        // Let the service accept them all before the one too many.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let mut extra = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut sink = [0u8; 16];
        let wait = std::time::Duration::from_secs(1);
        let read = tokio::time::timeout(wait, extra.read(&mut sink)).await;
        assert!(
            matches!(read, Ok(Ok(0)) | Ok(Err(_))),
            "{addr} kept connection {} open",
            MAX_CONNECTIONS + 1
        );
    }
}

/// The soft limit on open files of this process, from /proc/self/limits.
fn open_files_limit() -> usize {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .and_then(|line| line.split_whitespace().nth(3))
        .map_or(0, |soft| match soft {
            "unlimited" => usize::MAX,
            number => number.parse().unwrap_or(0),
        })
}

/// Someone holding any device's key signs native registrations for another user with PIN
/// after PIN: the registrar must stop checking them once the lockout limit is reached, or the
/// user's PIN falls to an online search.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pin_guesses_through_native_registration_are_locked_out() {
    use keyprov_services::lab::{Lab, LabOptions};
    use keyprov_services::phone::{Phone, Transport};

    let dir = tempfile::tempdir().unwrap();
    // Phone 0 of the synthetic inventory has a user with a PIN, phone 1 none.
    let entries = inventory::parse(&inventory::synthetic(2)).unwrap();
    let lab = Lab::start(dir.path(), &entries, LabOptions::default())
        .await
        .unwrap();
    let mut own = lab.phone_config(&entries[1], Transport::Udp);
    Phone::with_tls(own.clone(), lab.phone_tls())
        .unwrap()
        .provision()
        .await
        .unwrap();
    own.login = Some(entries[0].login.clone());
    for guess in 0..MAX_PIN_FAILURES {
        own.pin = Some(zeroize::Zeroizing::new(format!("9{guess:03}")));
        let mut phone = Phone::with_tls(own.clone(), lab.phone_tls()).unwrap();
        let error = phone.register_native(lab.native_addr()).await.unwrap_err();
        assert_eq!(
            error.downcast_ref::<keyprov::Error>(),
            Some(&keyprov::Error::WrongProof),
            "{error:#}"
        );
    }
    // The right PIN is refused too while the lockout lasts.
    own.pin = entries[0].pin.clone().map(zeroize::Zeroizing::new);
    let mut phone = Phone::with_tls(own, lab.phone_tls()).unwrap();
    let error = phone.register_native(lab.native_addr()).await.unwrap_err();
    assert_eq!(
        error.downcast_ref::<keyprov::Error>(),
        Some(&keyprov::Error::NotAuthorized),
        "{error:#}"
    );
}
