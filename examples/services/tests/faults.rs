//! Faults on real loopback sockets: services restarted mid-run, a locked-out user, a replayed
//! REGISTER, superseded and expired keys, and bad bytes on every socket.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use keyprov_services::inventory::{self, Phone as Entry};
use keyprov_services::lab::{Lab, LabOptions};
use keyprov_services::phone::{KeyRejected, Phone, Transport};
use keyprov_services::sip::Message;
use keyprov_services::store::Store;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::task::JoinSet;

async fn lab(dir: &std::path::Path, count: u32, options: LabOptions) -> (Lab, Vec<Entry>) {
    let entries = inventory::parse(&inventory::synthetic(count)).unwrap();
    let lab = Lab::start(dir, &entries, options).await.unwrap();
    (lab, entries)
}

fn phone(lab: &Lab, entry: &Entry, transport: Transport) -> Phone {
    Phone::with_tls(lab.phone_config(entry, transport), lab.phone_tls()).unwrap()
}

fn transport(i: usize) -> Transport {
    if i % 2 == 0 {
        Transport::Udp
    } else {
        Transport::Tcp
    }
}

/// Provisions every phone concurrently; returns them with their results.
fn provision_all(phones: Vec<Phone>) -> JoinSet<(Phone, anyhow::Result<()>)> {
    let mut tasks = JoinSet::new();
    for mut phone in phones {
        tasks.spawn(async move {
            let result = phone.provision().await;
            (phone, result)
        });
    }
    tasks
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_restart_mid_run_issues_no_counter_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (mut lab, entries) = lab(dir.path(), FLEET as u32, LabOptions::default()).await;
    let phones: Vec<Phone> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| phone(&lab, e, transport(i)))
        .collect();
    let store = Store::open(lab.database()).unwrap();
    let mut tasks = provision_all(phones);

    // Crash the agent once a few keys are out, and bring it back on the same ports.
    while store.issued().unwrap().len() < 3 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    lab.stop_agent().await;
    let issued_before_crash = store.issued().unwrap().len();
    tokio::time::sleep(Duration::from_millis(300)).await;
    lab.start_agent().await.unwrap();

    let mut phones = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (phone, result) = joined.unwrap();
        result.unwrap();
        phones.push(phone);
    }
    // Every phone provisions again once more after the restart: its counter must move on.
    let mut tasks = provision_all(phones);
    let mut phones = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (phone, result) = joined.unwrap();
        result.unwrap();
        phones.push(phone);
    }

    assert!(issued_before_crash < FLEET, "the crash came after the run");
    let issued = store.issued().unwrap();
    let unique: HashSet<(&String, u32)> = issued.iter().map(|(_, d, c)| (d, *c)).collect();
    assert_eq!(
        unique.len(),
        issued.len(),
        "a counter was issued twice: {issued:?}"
    );
    let mut per_device: HashMap<&String, Vec<u32>> = HashMap::new();
    for (_, device, counter) in &issued {
        per_device.entry(device).or_default().push(*counter);
    }
    assert_eq!(per_device.len(), FLEET);
    assert!(
        per_device
            .values()
            .all(|c| c.len() >= 2 && c.windows(2).all(|w| w[0] < w[1]))
    );
    for phone in &mut phones {
        phone.register().await.unwrap();
    }
    assert_eq!(lab.registrar.as_ref().unwrap().registered(), FLEET);
}

/// Phones in the agent restart test.
const FLEET: usize = 60;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrar_restart_refetches_keys_and_phones_register_again() {
    let dir = tempfile::tempdir().unwrap();
    let (mut lab, entries) = lab(dir.path(), 10, LabOptions::default()).await;
    let mut phones: Vec<Phone> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| phone(&lab, e, transport(i)))
        .collect();
    for phone in &mut phones {
        phone.ensure_registered().await.unwrap();
    }
    assert_eq!(lab.registrar.as_ref().unwrap().registered(), 10);

    lab.stop_registrar().await;
    lab.start_registrar().await.unwrap();
    let registrar = lab.registrar.as_ref().unwrap();
    assert_eq!((registrar.registered(), registrar.keys_fetched()), (0, 0));

    // Refreshes reach a registrar that forgot its nonces, its keys and its bindings.
    for phone in &mut phones {
        phone.register().await.unwrap();
    }
    let registrar = lab.registrar.as_ref().unwrap();
    assert_eq!(registrar.registered(), 10);
    assert_eq!(registrar.keys_fetched(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_wrong_pin_locks_out_that_user_only() {
    let dir = tempfile::tempdir().unwrap();
    // Phones 0 and 3 of the synthetic inventory have PINs.
    let (lab, entries) = lab(dir.path(), 4, LabOptions::default()).await;
    let mut wrong = lab.phone_config(&entries[0], Transport::Udp);
    let right_pin = wrong.pin.clone().unwrap();
    wrong.pin = Some(zeroize::Zeroizing::new("0000".into()));
    let mut phone = Phone::with_tls(wrong.clone(), lab.phone_tls()).unwrap();
    for _ in 0..5 {
        let err = phone.provision().await.unwrap_err();
        assert_eq!(
            err.downcast_ref::<keyprov::Error>(),
            Some(&keyprov::Error::WrongProof)
        );
    }
    let err = phone.provision().await.unwrap_err();
    assert_eq!(
        err.downcast_ref::<keyprov::Error>(),
        Some(&keyprov::Error::LockedOut)
    );
    assert_eq!(err.to_string(), "too many failed pin attempts: locked out");

    // Even the right PIN is refused during the lockout.
    let mut right = wrong;
    right.pin = Some(right_pin);
    let err = Phone::with_tls(right, lab.phone_tls())
        .unwrap()
        .provision()
        .await
        .unwrap_err();
    assert_eq!(
        err.downcast_ref::<keyprov::Error>(),
        Some(&keyprov::Error::LockedOut)
    );

    // Another user with a PIN, and one without, are unaffected.
    for entry in [&entries[3], &entries[1]] {
        phone_ok(&lab, entry).await;
    }
}

async fn phone_ok(lab: &Lab, entry: &Entry) {
    let mut phone = phone(lab, entry, Transport::Tcp);
    phone.ensure_registered().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_register_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (lab, entries) = lab(dir.path(), 1, LabOptions::default()).await;
    let mut phone = phone(&lab, &entries[0], Transport::Udp);
    phone.ensure_registered().await.unwrap();
    let accepted = phone.last_request().unwrap().to_vec();
    assert!(String::from_utf8_lossy(&accepted).contains("Authorization: Digest"));

    // The same bytes again, later and from another socket: a new transaction to the server.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let reply = udp_exchange(lab.sip_addr(), &accepted).await.unwrap();
    assert_eq!(reply.status(), Some(401));
    let challenge = reply
        .header(&ezk_sip_types::Name::WWW_AUTHENTICATE)
        .unwrap();
    assert!(challenge.contains("stale=true"), "{challenge}");
    // The phone itself carries on with a fresh nonce count.
    phone.register().await.unwrap();
}

async fn udp_exchange(to: std::net::SocketAddr, bytes: &[u8]) -> Option<Message> {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.send_to(bytes, to).await.unwrap();
    let mut buf = vec![0u8; 65_535];
    let received = tokio::time::timeout(Duration::from_millis(500), socket.recv(&mut buf)).await;
    let len = received.ok()?.unwrap();
    Some(Message::parse(&buf[..len]).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn superseded_key_is_reported_and_the_phone_provisions_again() {
    let dir = tempfile::tempdir().unwrap();
    let options = LabOptions {
        key_cache_seconds: 0,
        ..LabOptions::default()
    };
    let (lab, entries) = lab(dir.path(), 2, options).await;
    let mut phone = phone(&lab, &entries[1], Transport::Udp);
    phone.ensure_registered().await.unwrap();
    let first = phone.key_id().unwrap();

    // The same device provisions again elsewhere (a factory reset with another file).
    let mut elsewhere = lab.phone_config(&entries[1], Transport::Tcp);
    elsewhere.credentials = dir.path().join("elsewhere.cred");
    Phone::with_tls(elsewhere, lab.phone_tls())
        .unwrap()
        .provision()
        .await
        .unwrap();

    let err = phone.register().await.unwrap_err();
    assert_eq!(
        err.downcast_ref::<KeyRejected>(),
        Some(&KeyRejected("key superseded".into()))
    );
    phone.ensure_registered().await.unwrap();
    assert_ne!(phone.key_id().unwrap(), first);
    assert_eq!(phone.provisions, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_key_is_reported_and_the_phone_provisions_again() {
    let dir = tempfile::tempdir().unwrap();
    let options = LabOptions {
        key_lifetime: 1,
        key_cache_seconds: 0,
        ..LabOptions::default()
    };
    let (lab, entries) = lab(dir.path(), 1, options).await;
    let mut phone = phone(&lab, &entries[0], Transport::Tcp);
    phone.ensure_registered().await.unwrap();
    let first = phone.key_id().unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;

    let err = phone.register().await.unwrap_err();
    assert_eq!(
        err.downcast_ref::<KeyRejected>(),
        Some(&KeyRejected("key expired".into()))
    );
    phone.provision().await.unwrap();
    phone.register().await.unwrap();
    assert_ne!(phone.key_id().unwrap(), first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bytes_on_every_socket_leave_the_services_serving() {
    let dir = tempfile::tempdir().unwrap();
    let (lab, entries) = lab(dir.path(), 2, LabOptions::default()).await;
    let agent = lab.agent.as_ref().unwrap();
    let garbage: Vec<u8> = (0..2000u32).map(|i| (i * 7919 % 251) as u8).collect();
    let oversized = vec![b'A'; 70_000];

    for addr in [agent.device_addr, agent.registrar_addr, lab.sip_addr()] {
        for bytes in [
            &garbage[..],
            &oversized[..],
            b"\x16\x03\x01\x00\xff\x01",
            b"REGISTER sip:x SIP/2.0\r\nVia:",
        ] {
            assert!(
                tcp_send_and_drain(addr, bytes).await,
                "{addr} kept a bad connection open"
            );
        }
    }
    // Inside TLS too: a frame longer than the limit, and one that decodes to nothing.
    assert!(tls_frame_is_refused(&lab, &[0, 1, 0, 0]).await);
    assert!(tls_frame_is_refused(&lab, &[0, 0, 0, 3, 1, 0x7e, 9]).await);

    // SIP over UDP: garbage, oversized and truncated datagrams are dropped silently.
    for bytes in [
        &garbage[..],
        &oversized[..8000],
        b"REGISTER sip:x SIP/2.0\r\nVia: SIP/2.0/UDP",
    ] {
        assert!(udp_exchange(lab.sip_addr(), bytes).await.is_none());
    }
    // A REGISTER missing its Call-ID gets 400; a mangled Authorization gets 403.
    let bare = "REGISTER sip:sip.example.test SIP/2.0\r\n\
        Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKx\r\n\
        From: <sip:a@sip.example.test>;tag=1\r\n\
        To: <sip:a@sip.example.test>\r\n\
        CSeq: 1 REGISTER\r\n\
        Content-Length: 0\r\n\r\n";
    assert_eq!(
        udp_exchange(lab.sip_addr(), bare.as_bytes())
            .await
            .unwrap()
            .status(),
        Some(400)
    );
    let mangled = bare.replace("CSeq", "Call-ID: x\r\nAuthorization: Digest ,,,\"\r\nCSeq");
    assert_eq!(
        udp_exchange(lab.sip_addr(), mangled.as_bytes())
            .await
            .unwrap()
            .status(),
        Some(403)
    );

    for (i, entry) in entries.iter().enumerate() {
        phone(&lab, entry, transport(i))
            .ensure_registered()
            .await
            .unwrap();
    }
}

/// Sends `bytes` on a fresh connection and reads until the peer closes it (true) or keeps it
/// open for two seconds (false).
async fn tcp_send_and_drain(addr: std::net::SocketAddr, bytes: &[u8]) -> bool {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let _ = stream.write_all(bytes).await;
    let _ = stream.shutdown().await;
    let mut sink = Vec::new();
    tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut sink))
        .await
        .is_ok()
}

/// Sends one frame inside a TLS session to the agent's device port; true if the agent closes
/// the session without a key.
async fn tls_frame_is_refused(lab: &Lab, frame: &[u8]) -> bool {
    let config = keyprov_services::tls::client(&lab.pki.ca, None).unwrap();
    let connector = tokio_rustls::TlsConnector::from(config);
    let tcp = TcpStream::connect(lab.agent.as_ref().unwrap().device_addr)
        .await
        .unwrap();
    let name = keyprov_services::tls::agent_server_name();
    let mut stream = connector.connect(name, tcp).await.unwrap();
    stream.write_all(frame).await.unwrap();
    stream.flush().await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut answer)).await;
    read.is_ok() && !answer.windows(2).any(|w| w == [1, 2])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn master_key_epochs_roll_over_and_retire() {
    let dir = tempfile::tempdir().unwrap();
    let options = LabOptions {
        key_cache_seconds: 0,
        ..LabOptions::default()
    };
    let (mut lab, entries) = lab(dir.path(), 2, options).await;
    let mut old = phone(&lab, &entries[0], Transport::Udp);
    old.ensure_registered().await.unwrap();

    lab.stop_agent().await;
    assert_eq!(
        Store::open(lab.database()).unwrap().new_epoch(0).unwrap(),
        2
    );
    lab.start_agent().await.unwrap();
    let mut new = phone(&lab, &entries[1], Transport::Tcp);
    new.ensure_registered().await.unwrap();
    let key_id: keyprov::keyid::KeyId = new.key_id().unwrap().parse().unwrap();
    assert_eq!(key_id.epoch(), 2);
    old.register().await.unwrap();

    // Retiring epoch 1 makes its keys fail; the phone provisions again under epoch 2.
    lab.stop_agent().await;
    Store::open(lab.database())
        .unwrap()
        .retire_epoch(1, 0)
        .unwrap();
    lab.start_agent().await.unwrap();
    assert!(old.register().await.is_err());
    old.provision().await.unwrap();
    old.register().await.unwrap();
    let key_id: keyprov::keyid::KeyId = old.key_id().unwrap().parse().unwrap();
    assert_eq!(key_id.epoch(), 2);
}
