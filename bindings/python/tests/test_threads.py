"""Python threads sharing one library object must neither race inside the library nor see
spurious failures: the binding keeps calls on one object from running at once."""

import threading

import keyprov

THREADS = 4
CALLS = 5000


def run_together(work):
    errors = []

    def guarded(index):
        try:
            work(index)
        except Exception as error:  # reported below, with the thread that raised it
            errors.append((index, error))

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_one_digest_client_shared_by_threads_counts_every_request():
    rng = keyprov.Drbg(b"\x01" * 32)
    registrar = keyprov.DigestRegistrar("sip.example.com", b"\x02" * 32)
    client = keyprov.DigestClient("user", b"password")
    client.handle_challenges(registrar.challenges(1000, rng))
    generators = [keyprov.Drbg(bytes([i + 3]) * 32) for i in range(THREADS)]

    def work(index):
        for _ in range(CALLS):
            client.authorize("REGISTER", "sip:sip.example.com", generators[index])

    run_together(work)
    assert client.nonce_count == THREADS * CALLS


def test_one_generator_shared_by_threads_serves_every_request():
    rng = keyprov.Drbg(b"\x04" * 32)
    before = rng.requests_before_reseed

    def work(_index):
        for _ in range(CALLS):
            assert len(rng.generate(16)) == 16

    run_together(work)
    assert rng.requests_before_reseed == before - THREADS * CALLS
