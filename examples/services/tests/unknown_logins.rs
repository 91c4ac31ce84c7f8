//! The agent's host counts PIN failures for logins outside the directory too, so a device
//! cannot tell a known login from an unknown one by its answers, not even past the lockout.

use keyprov::device::{AgentSession, Provisioning, ProvisioningConfig, Subject, UserPin};
use keyprov::secret::Pin;
use keyprov_services::agent::{AgentConfig, AgentCore};
use keyprov_services::inventory::{self, Phone};
use keyprov_services::store::{MAX_PIN_FAILURES, Store};

fn core(dir: &std::path::Path, entries: &[Phone]) -> AgentCore {
    let database = dir.join("agent.sqlite");
    Store::open(&database).unwrap().enroll_all(entries).unwrap();
    let pki = keyprov_services::tls::DemoPki::generate(&dir.join("pki"), &[]).unwrap();
    let any = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
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
    .unwrap()
}

/// The provision request of `entry`'s phone signed in as `login` with a wrong PIN.
fn request(entry: &Phone, login: &str, binding: &[u8]) -> Vec<u8> {
    let mut device = Provisioning::new(ProvisioningConfig {
        trust_anchor: [1; 32],
        subject: Subject::DeviceId(keyprov::DeviceId::serial_number(&entry.serial).unwrap()),
        user: Some(UserPin {
            login: login.as_bytes().to_vec(),
            pin: Pin::new("9999").unwrap(),
            salt: keyprov_services::store::pin_salt(login),
        }),
        expected_agent: None,
        last_counter: None,
        require_address: false,
        response_timeout: 10,
    });
    let session = AgentSession {
        agent_identity: &[1; 32],
        channel_binding: binding,
    };
    device.handle_connected(1_000, &session).unwrap();
    device.poll_transmit().unwrap()
}

#[test]
fn unknown_and_known_logins_get_the_same_answers_through_the_lockout() {
    let dir = tempfile::tempdir().unwrap();
    let entries = inventory::parse(&inventory::synthetic(1)).unwrap();
    let core = core(dir.path(), &entries);
    let binding = [3u8; 32];
    let known = entries[0].login.clone();
    let wrong_proof = vec![1u8, 0x7f, 0x01, 0x30];
    let locked_out = vec![1u8, 0x7f, 0x01, 0x34];
    for round in 0..MAX_PIN_FAILURES + 2 {
        let now = keyprov_services::now();
        let answer = |login: &str| {
            let request = request(&entries[0], login, &binding);
            core.provision(&request, &binding, now).unwrap().unwrap()
        };
        let (known_answer, unknown_answer) = (answer(&known), answer("nobody.here"));
        assert_eq!(known_answer, unknown_answer, "round {round}");
        let expected = if round < MAX_PIN_FAILURES {
            &wrong_proof
        } else {
            &locked_out
        };
        assert_eq!(&known_answer, expected, "round {round}");
    }
}
