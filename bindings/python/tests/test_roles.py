"""Provisioning and registration through the Python binding of the role state machines; what
the agent issues is checked against the independent key schedule in reference.py."""

import pytest

import keyprov
import reference

NOW = 1_700_000_000
ANCHOR = bytes(range(32))
BINDING = b"tls exporter value"
SERVICE = b"sip.example.com"
SEED = b"an enterprise seed of at least thirty-two bytes"


def drain(machine):
    sent, events = [], []
    while (data := machine.poll_transmit()) is not None:
        sent.append(data)
    while (event := machine.poll_event()) is not None:
        events.append(event)
    return sent, events


@pytest.fixture
def enterprise():
    master = keyprov.master_key_from_seed(SEED, b"example.com", 1)
    config = keyprov.AgentConfig("pbx-1", 86_400, require_pin=True)
    config.add_master_key(master, 1)
    verifier = keyprov.pin_verifier(b"salt", "2468")
    yield master, config, verifier, keyprov.Drbg(b"a" * 32)
    config.close()


def provision(config, verifier, rng, pin="2468"):
    device = keyprov.DeviceProvisioning(ANCHOR, "mac:00-1a-2b-3c-4d-5e", login=b"alice",
                                        pin=pin, salt=b"salt", expected_agent="pbx-1")
    agent = keyprov.AgentProvisioning()
    agent.handle_connected(BINDING)
    device.handle_connected(NOW, ANCHOR, BINDING)
    stored, outcome = {}, None
    for _ in range(10):
        sent, events = drain(device)
        for data in sent:
            agent.handle_message(config, rng, data)
        for event in events:
            if event.kind == "store_credentials":
                stored = {"key_id": event.key_id, "secret": event.key, "counter": event.counter}
                device.handle_store_result(event.handle)
            elif event.kind == "close_session":
                device.handle_closed()
            else:
                outcome = event
        sent, events = drain(agent)
        for data in sent:
            device.handle_message(NOW, data)
        for event in events:
            if event.kind == "lookup_user":
                agent.handle_user_result(config, NOW, event.handle, verifier)
            elif event.kind == "reserve_counter":
                assert (event.reservation, event.device_value) == (
                    "device", bytes.fromhex("001a2b3c4d5e"))
                agent.handle_counter_result(config, NOW, event.handle, counter=5)
        if outcome is not None:
            break
    return stored, outcome


def test_provisioned_key_matches_the_independent_schedule(enterprise):
    master, config, verifier, rng = enterprise
    stored, outcome = provision(config, verifier, rng)
    assert outcome.kind == "provisioned"
    key_id = keyprov.KeyId.decode(stored["key_id"])
    assert key_id.info()["counter"] == 5 and key_id.device == "mac:00-1a-2b-3c-4d-5e"
    assert stored["secret"] == reference.device_key(master, stored["key_id"])
    assert outcome.key == reference.derive(stored["secret"], b"keyprov v1 authentication key")


def test_wrong_pin_fails_provisioning(enterprise):
    _, config, verifier, rng = enterprise
    with pytest.raises(keyprov.KeyprovError):
        provision(config, verifier, rng, pin="1357")


def agent_answer(config, rng, login, verifier, recent_failures):
    """What the agent sends and the code it fails with, for a wrong PIN from `login`."""
    device = keyprov.DeviceProvisioning(ANCHOR, "mac:00-1a-2b-3c-4d-5e", login=login,
                                        pin="1357", salt=b"salt", expected_agent="pbx-1")
    device.handle_connected(NOW, ANCHOR, BINDING)
    agent = keyprov.AgentProvisioning()
    agent.handle_connected(BINDING)
    agent.handle_message(config, rng, device.poll_transmit())
    lookup = agent.poll_event()
    assert lookup.kind == "lookup_user"
    with pytest.raises(keyprov.KeyprovError) as caught:
        agent.handle_user_result(config, NOW, lookup.handle, verifier, recent_failures)
    return agent.poll_transmit(), caught.value.code


def test_unknown_login_is_answered_like_a_wrong_pin_through_the_lockout(enterprise):
    _, config, verifier, rng = enterprise
    for failures, code in [(0, 304), (2, 304), (3, 308), (9, 308)]:
        known = agent_answer(config, rng, b"alice", verifier, failures)
        unknown = agent_answer(config, rng, b"mallory", None, failures)
        assert known == unknown == (bytes([1, 0x7F, 0x01, code & 0xFF]), code)


def refused_or_done(call, *args):
    """Runs a machine input; a refusal shows up again as the machine's failed event."""
    try:
        call(*args)
    except keyprov.KeyprovError:
        pass


def register(stored, registrar, config, rng, secret=None):
    key_id = keyprov.KeyId.decode(stored["key_id"])
    device = keyprov.DeviceRegistration(SERVICE, key_id, secret or stored["secret"])
    session, client = keyprov.RegistrarSession(), keyprov.KeyClient()
    service = keyprov.KeyService(b"r" * 32)
    device.start(NOW, rng)
    results, pending = {}, {}
    for _ in range(10):
        sent, events = drain(device)
        results.update({("device", e.kind): e for e in events})
        for data in sent:
            refused_or_done(session.handle_message, registrar, NOW, rng, data)
        sent, events = drain(session)
        for event in events:
            if event.kind == "fetch_key":
                pending[client.request(keyprov.KeyId.decode(event.key_id), SERVICE)] = event
            else:
                results[("registrar", event.kind)] = event
        for data in sent:
            refused_or_done(device.handle_message, data)
        while (data := client.poll_transmit()) is not None:
            service.handle_message(config, data)
        for event in drain(service)[1]:
            service.handle_check_result(config, NOW, event.handle, True, "current", NOW + 3600)
        while (data := service.poll_transmit()) is not None:
            request_id, code, key = client.handle_message(data)
            fetch = pending.pop(request_id)
            refused_or_done(session.handle_key_result, registrar, NOW, rng, fetch.handle, key,
                            code)
    return results


def test_registration_agrees_on_session_keys(enterprise):
    _, config, verifier, rng = enterprise
    stored, _ = provision(config, verifier, rng)
    with keyprov.Registrar(SERVICE) as registrar:
        results = register(stored, registrar, config, rng)
    device, registrar_side = results[("device", "registered")], results[("registrar",
                                                                         "registered")]
    assert device.send_key == registrar_side.receive_key
    assert device.receive_key == registrar_side.send_key
    assert device.send_key != device.receive_key


def test_wrong_key_is_refused(enterprise):
    _, config, verifier, rng = enterprise
    stored, _ = provision(config, verifier, rng)
    with keyprov.Registrar(SERVICE) as registrar:
        results = register(stored, registrar, config, rng, secret=bytes(32))
    assert results[("registrar", "failed")].error == 304
    assert ("device", "registered") not in results
