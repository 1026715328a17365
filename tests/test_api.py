"""The Simkl client against the fake Simkl server: error types, required params, pacing, TLS, 401 refresh.

The client and the server share one virtual clock, so POST pacing is proven without waiting: the
client's sleeps move the clock, and the server checks the gaps on the same clock.
"""
import time

import pytest
import requests

from lib.scrobbler.simkl import api, auth

APP = "kodi-simkl-scrobbler"
VERSION = "0.1.0"
MOVIE = {"movies": [{"title": "Inception", "year": 2010, "ids": {"imdb": "tt1375666"}}]}


class RecordingSession(requests.Session):
    """A real requests.Session that remembers the keyword arguments of every request."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def request(self, method, url, **kwargs):
        self.calls.append(kwargs)
        return super().request(method, url, **kwargs)


@pytest.fixture
def store(tmp_path):
    return auth.TokenStore(str(tmp_path / "profile"))


def make_client(server, clock, store=None, client_id=None, **kwargs):
    tokens = auth.TokenProvider(store) if store is not None else None
    client = api.Client(server.url, server.client_id if client_id is None else client_id, APP, VERSION, "20.1",
                        tokens=tokens, clock=clock, sleep=clock.sleep, session=RecordingSession(), **kwargs)
    if tokens is not None:
        tokens.client = client
    return client


@pytest.fixture
def client(server, clock):
    return make_client(server, clock)


@pytest.fixture
def user_client(server, clock, store):
    store.save({"access_token": server.issue_token("access-%d"), "flow": "v1"})
    return make_client(server, clock, store)


# -- answers that carry data ---------------------------------------------------------------

def test_get_200_returns_the_json_answer(client):
    answer = client.pin_start()
    assert answer["result"] == "OK"
    assert answer["verification_url"] == "https://simkl.com/pin"
    assert answer["user_code"]


def test_post_201_returns_the_json_answer(user_client, server):
    answer = user_client.add_to_history(MOVIE)
    assert answer["added"]["movies"] == 1
    assert server.requests_to("/sync/history")[0].status == 201


# -- error mapping -------------------------------------------------------------------------

def test_401_on_a_user_endpoint_is_auth_expired(user_client, server):
    server.revoke_all()
    with pytest.raises(api.AuthExpired) as caught:
        user_client.user_settings()
    assert caught.value.status == 401
    assert caught.value.error == "user_token_failed"
    assert server.requests_to("/oauth2/token") == []  # a V1 token has nothing to refresh with


def test_user_endpoint_without_a_login_is_auth_expired_and_sends_nothing(server, clock, store):
    with pytest.raises(api.AuthExpired):
        make_client(server, clock, store).user_settings()
    assert server.requests == []


@pytest.mark.parametrize("header, expected", [("7", 7.0), (None, None)])
def test_429_is_rate_limited_with_the_servers_retry_after(client, server, header, expected):
    server.fail("/oauth/pin", 429, retry_after=header)
    with pytest.raises(api.RateLimited) as caught:
        client.pin_start()
    assert caught.value.status == 429
    assert caught.value.retry_after == expected


@pytest.mark.parametrize("header, expected", [("120", 120.0), (None, api.BLOCKED_WAIT)])
def test_412_is_rate_limited_with_a_wait(client, server, header, expected):
    server.fail("/oauth/pin", 412, retry_after=header)
    with pytest.raises(api.RateLimited) as caught:
        client.pin_start()
    assert caught.value.error == "client_id_failed"
    assert caught.value.retry_after == expected


def test_400_rate_limit_is_the_20_second_lock(user_client, server):
    server.fail("/sync/history", 400, body={"error": "RATE_LIMIT", "code": 400})
    with pytest.raises(api.RateLimited) as caught:
        user_client.add_to_history(MOVIE)
    assert caught.value.retry_after == 20


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_transient(client, server, status):
    server.fail("/oauth/pin", status)
    with pytest.raises(api.Transient) as caught:
        client.pin_start()
    assert caught.value.status == status
    assert caught.value.retry_after is None


def test_503_with_retry_after_is_transient_with_that_wait(client, server):
    server.fail("/oauth/pin", 503, retry_after="30")
    with pytest.raises(api.Transient) as caught:
        client.pin_start()
    assert caught.value.retry_after == 30.0


def test_dropped_connection_is_transient_and_not_resent(user_client, server):
    server.fail("/sync/history", 0)
    with pytest.raises(api.Transient):
        user_client.add_to_history(MOVIE)
    assert len(server.requests_to("/sync/history")) == 1  # a write is never replayed behind the caller's back


def test_unreachable_server_is_transient(server, clock):
    client = make_client(server, clock)
    server.stop()
    with pytest.raises(api.Transient):
        client.pin_start()


def test_slow_answer_times_out_as_transient_after_the_read_timeout(server, clock):
    server.slow("/oauth/pin", 0.5)
    client = make_client(server, clock, timeout=(1.0, 0.05))
    started = time.monotonic()
    with pytest.raises(api.Transient):
        client.pin_start()
    assert time.monotonic() - started < 0.4


@pytest.mark.parametrize("status, error", [(400, "wrong_parameter"), (403, "forbidden"), (404, "id_err"),
                                           (409, "already_watched")])
def test_other_4xx_are_rejected_with_simkls_error_code(user_client, server, status, error):
    server.fail("/sync/history", status)
    with pytest.raises(api.Rejected) as caught:
        user_client.add_to_history(MOVIE)
    assert caught.value.status == status
    assert caught.value.error == error


def test_2xx_with_a_body_that_is_not_json_is_rejected_as_malformed(client, server):
    server.fail("/oauth/pin", 200, body=b"<html>maintenance</html>")
    with pytest.raises(api.Rejected) as caught:
        client.pin_start()
    assert caught.value.error == "malformed"


def test_without_a_client_id_nothing_is_sent(server, clock):
    client = make_client(server, clock, client_id="")
    with pytest.raises(api.NotConfigured):
        client.pin_start()
    with pytest.raises(api.NotConfigured):
        client.device_start()
    assert server.requests == []


# -- what every request carries --------------------------------------------------------------

def test_every_request_carries_client_id_app_name_app_version_and_user_agent(user_client, server):
    user_client.pin_start()
    user_client.user_settings()
    user_client.add_to_history(MOVIE, allow_rewatch=True)
    assert len(server.requests) == 3
    for request in server.requests:
        assert request.query["client_id"] == server.client_id
        assert request.query["app-name"] == APP
        assert request.query["app-version"] == VERSION
        assert request.headers["User-Agent"] == "kodi-simkl-scrobbler/0.1.0 (Kodi 20.1)"
    assert server.requests[2].query["allow_rewatch"] == "yes"
    assert server.violations == []


def test_bearer_token_goes_only_to_user_endpoints(user_client, server, store):
    user_client.pin_start()
    user_client.device_start()
    user_client.user_settings()
    sent = {r.path: r.headers.get("Authorization") for r in server.requests}
    assert sent == {"/oauth/pin": None, "/oauth2/device": None,
                    "/users/settings": "Bearer " + store.load()["access_token"]}


def test_posts_are_paced_one_second_apart(user_client, server, clock):
    user_client.add_to_history(MOVIE)
    user_client.remove_from_history(MOVIE)
    user_client.user_settings()
    assert clock.sleeps == [1.0, 1.0]
    times = [r.time for r in server.requests]
    assert [b - a for a, b in zip(times, times[1:])] == [1.0, 1.0]
    assert server.violations == []


def test_clients_on_one_clock_share_the_post_pace(server, clock, store):
    store.save({"access_token": server.issue_token()})
    make_client(server, clock, store).user_settings()  # e.g. the login script's last POST
    make_client(server, clock, store).add_to_history(MOVIE)  # and the service's first flush
    assert clock.sleeps == [1.0]
    assert server.violations == []


def test_post_pacing_counts_time_already_passed(user_client, clock):
    user_client.add_to_history(MOVIE)
    clock.now += 0.75
    user_client.add_to_history(MOVIE)
    clock.now += 5
    user_client.add_to_history(MOVIE)
    assert clock.sleeps == [pytest.approx(0.25)]


def test_gets_are_not_paced(client, clock):
    client.pin_start()
    client.pin_start()
    assert clock.sleeps == []


def test_tls_verification_stays_on_and_redirects_are_not_followed(user_client):
    user_client.pin_start()
    user_client.user_settings()
    calls = user_client._session.calls
    assert len(calls) == 2
    assert all(call["verify"] is True for call in calls)
    assert all(call["allow_redirects"] is False for call in calls)
    assert user_client._session.verify is True


def test_default_timeouts_bound_connect_and_read(server, clock):
    client = api.Client(server.url, server.client_id, APP, VERSION, "20.1", clock=clock, sleep=clock.sleep,
                        session=RecordingSession())
    client.pin_start()
    assert client._session.calls[0]["timeout"] == (api.CONNECT_TIMEOUT, api.READ_TIMEOUT)


# -- 401 with a V2 refresh token ----------------------------------------------------------------

@pytest.fixture
def v2_client(server, clock, store):
    access = server.issue_token("v2-access-%d", refresh="refresh-abc")
    store.save({"access_token": access, "refresh_token": "refresh-abc", "expires_at": time.time() + 604800,
                "flow": "v2"})
    return make_client(server, clock, store)


def test_401_with_a_refresh_token_refreshes_once_and_retries_once(v2_client, server, store):
    stale = store.load()["access_token"]
    server.tokens.discard(stale)  # the access token dies; the refresh token still works
    answer = v2_client.user_settings()
    assert answer["user"]["name"] == "jane_doe"
    assert [r.path for r in server.requests] == ["/users/settings", "/oauth2/token", "/users/settings"]
    assert server.requests[1].json["grant_type"] == "refresh_token"
    fresh = store.load()["access_token"]
    assert fresh != stale
    assert server.requests[2].headers["Authorization"] == "Bearer " + fresh


def test_second_401_after_a_refresh_is_auth_expired(v2_client, server):
    server.fail("/users/settings", 401, times=2)
    with pytest.raises(api.AuthExpired):
        v2_client.user_settings()
    assert len(server.requests_to("/oauth2/token")) == 1
    assert len(server.requests_to("/users/settings")) == 2


def test_401_with_a_dead_refresh_token_is_auth_expired(v2_client, server):
    server.revoke_all()
    with pytest.raises(api.AuthExpired):
        v2_client.user_settings()
    assert [r.path for r in server.requests] == ["/users/settings", "/oauth2/token"]


# -- Kodi quitting ---------------------------------------------------------------------------

def test_abort_cuts_a_request_in_flight_at_once_and_refuses_new_ones(server, clock, store):
    import threading
    store.save({"access_token": server.issue_token("access-%d"), "flow": "v1"})
    client = make_client(server, clock, store)
    server.hold("/sync/history")  # Simkl is slow to answer
    outcome = []
    sending = threading.Thread(target=lambda: outcome.append(_raised(client.add_to_history, MOVIE)))
    sending.start()
    assert _wait(lambda: server.requests_to("/sync/history"))

    started = time.monotonic()
    client.abort()
    sending.join(5)

    assert time.monotonic() - started < 1.0
    assert outcome == [api.Transient]
    assert _raised(client.user_settings) is api.Transient
    assert len(server.requests) == 1


def _raised(call, *args):
    try:
        call(*args)
    except api.ApiError as exc:
        return type(exc)
    return None


def _wait(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_requests_from_two_threads_go_one_at_a_time(server, clock, store):
    import threading
    store.save({"access_token": server.issue_token("access-%d"), "flow": "v1"})
    client = make_client(server, clock, store)
    server.hold("/sync/history")
    posting = threading.Thread(target=lambda: client.add_to_history(MOVIE))
    posting.start()
    assert _wait(lambda: server.requests_to("/sync/history"))
    reading = threading.Thread(target=client.activities)
    reading.start()

    reading.join(0.3)
    assert reading.is_alive() and server.requests_to("/sync/activities") == []  # waits for the POST's answer
    server.release()
    posting.join(5)
    reading.join(5)
    assert [r.path for r in server.requests] == ["/sync/history", "/sync/activities"]


def test_a_burst_of_gets_stays_within_simkls_ten_per_second(user_client, server, clock):
    # two syncs a moment apart (e.g. Sync now twice) ask activities, lists, playbacks and ratings at once
    for _ in range(25):
        user_client.activities()
    times = [r.time for r in server.requests]
    assert len(times) == 25
    assert max(sum(1 for t in times if start <= t < start + 1.0) for start in times) <= api.GET_BURST
    assert server.violations == []
