"""``embedkit serve`` over real HTTP: answers equal the Python API's, bad requests get 4xx.

One server (a subprocess on a free loopback port) serves a small model of the Lee corpus,
saved as a native folder and memory-mapped by the server; the test process loads the same
folder and asks the same questions through :class:`~embedkit.session.QuerySession`.
"""

from __future__ import annotations

import http.client
import json
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import embedkit
from embedkit.session import QuerySession
from embedkit.vectors.evaluation import gensim_test_file

from .serving import Server, running_server, same_answers, stop

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

WORDS = ["police", "government", "Australia", "security", "Taliban", "Sydney", "killed", "people"]
TRIPLES = [
    ("Australia", "Sydney", "Israel"),
    ("police", "security", "military"),
    ("Taliban", "Afghan", "Arafat"),
]
MAX_BATCH = 500


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small skip-gram model of the Lee corpus, saved as a native folder."""
    vectors = embedkit.train(
        gensim_test_file("lee_background.cor"), epochs=5, workers=1, seed=1, progress=False
    )
    folder = tmp_path_factory.mktemp("serve") / "lee"
    vectors.save(folder)
    return folder


@pytest.fixture(scope="module")
def reference(model_folder: Path) -> QuerySession:
    """The same model in this process: the answers the service must give."""
    return QuerySession.open(model_folder)


@pytest.fixture(scope="module")
def server(model_folder: Path) -> Server:
    with running_server("--model", str(model_folder), "--max-batch", str(MAX_BATCH)) as running:
        yield running
        assert "Traceback" not in running.stderr(), running.stderr()


def pairs(answers: list[dict]) -> list[tuple[str, float]]:
    return [(a["word"], a["score"]) for a in answers]


# --- answers -----------------------------------------------------------------------------------
def test_health_and_info(server: Server, reference: QuerySession) -> None:
    assert server.get("/health").json() == {"status": "ok", "words": len(reference.vectors)}
    info = server.get("/info").json()
    expected = reference.info()
    assert info["words"] == expected["words"] and info["dim"] == expected["dim"] == 100
    assert info["index"] == "exact"
    assert info["training"]["epochs"] == 5 and info["training"] == json.loads(
        json.dumps(expected["training"])
    )
    assert info["limits"]["max_batch"] == MAX_BATCH


@pytest.mark.parametrize("word", [*WORDS, "POLICE"])
def test_similar_equals_the_python_api(server: Server, reference: QuerySession, word: str) -> None:
    reply = server.get("/similar", {"word": word, "k": 10})
    assert reply.status == 200 and reply.headers["content-type"] == "application/json"
    data = reply.json()
    assert data["query"]["positive"] == [reference.resolve(word)]  # POLICE is found as police
    assert pairs(data["answers"]) == reference.similar(word, k=10)


def test_similar_with_positive_negative_and_restrict(server: Server, reference: QuerySession) -> None:
    params = [("positive", "police"), ("positive", "security"), ("negative", "government"), ("k", 7)]
    assert pairs(server.get("/similar", params).json()["answers"]) == reference.similar(
        ["police", "security"], ["government"], k=7
    )
    restricted = server.get("/similar", {"word": "police", "k": 5, "restrict": 300}).json()["answers"]
    assert pairs(restricted) == reference.similar("police", k=5, restrict=300)
    assert all(reference.vectors.index_of(a["word"]) < 300 for a in restricted)


@pytest.mark.parametrize("method", ["add", "mul"])
@pytest.mark.parametrize("triple", TRIPLES)
def test_analogy_equals_the_python_api(
    server: Server, reference: QuerySession, triple: tuple[str, str, str], method: str
) -> None:
    a, b, c = triple
    data = server.get("/analogy", {"a": a, "b": b, "c": c, "k": 10, "method": method}).json()
    assert data["query"] == {"a": a, "b": b, "c": c, "method": method}
    assert same_answers(pairs(data["answers"]), reference.analogy(a, b, c, k=10, method=method))


def test_batch_is_answered_like_the_batched_api(server: Server, reference: QuerySession) -> None:
    analogies = [*TRIPLES, ("Australia", "nosuchword", "Israel")] * 3
    similar = [*WORDS, ["police", "security"], "nosuchword"]
    reply = server.post_json("/batch", {"analogies": analogies, "similar": similar, "k": 5})
    assert reply.status == 200, reply.body
    data = reply.json()
    expected_a = reference.analogy_batch(analogies, k=5)
    expected_s = reference.similar_batch(similar, k=5)
    for item, expected in zip(data["analogies"], expected_a, strict=True):
        if expected is None:
            assert item == {"error": "word 'nosuchword' is not in the vocabulary", "unknown": "nosuchword"}
        else:
            assert same_answers(pairs(item["answers"]), expected)
    for item, expected in zip(data["similar"], expected_s, strict=True):
        assert (
            (item.get("unknown") == "nosuchword") if expected is None else pairs(item["answers"]) == expected
        )
    # and the batch equals single queries
    single = server.get("/analogy", dict(zip("abc", TRIPLES[0]), k=5)).json()["answers"]
    assert same_answers(pairs(data["analogies"][0]["answers"]), pairs(single))


def test_vector_similarity_doesnt_match_and_projection(server: Server, reference: QuerySession) -> None:
    data = server.get("/vector", {"word": "POLICE"}).json()  # found as police (case fallback)
    assert data["word"] == "police" and data["dim"] == 100
    assert data["vector"] == reference.vector("police").tolist()
    value = server.get("/similarity", {"a": "police", "b": "security"}).json()["similarity"]
    assert value == pytest.approx(reference.similarity("police", "security"))
    words = ["police", "security", "military", "Sydney"]
    odd = server.get("/doesnt_match", [("words", w) for w in words]).json()
    assert odd["doesnt_match"] == reference.doesnt_match(words)
    placed = server.get("/project", [("words", w) for w in words]).json()
    expected = reference.project(words)
    assert [p["word"] for p in placed["points"]] == expected.words
    got = [c for p in placed["points"] for c in (p["x"], p["y"])]
    assert got == pytest.approx([c for point in expected.points for c in point])
    assert 0 < placed["variance_kept"] <= 1


def test_explorer_page_and_schema_are_served(server: Server) -> None:
    page = server.request("GET", "/")
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert "connect-src 'self'" in page.headers["content-security-policy"]
    text = page.body.decode()
    assert "<script" in text and "src=" not in text.split("<script", 1)[1].split(">", 1)[0]  # inline only
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "") and "https://" not in text
    schema = server.get("/openapi.json").json()
    for path in (
        "/similar",
        "/analogy",
        "/batch",
        "/vector",
        "/similarity",
        "/doesnt_match",
        "/info",
        "/health",
    ):
        assert path in schema["paths"], path
    docs = server.request("GET", "/docs").body.decode()
    assert "swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()  # served by this server


def test_many_clients_at_once_get_correct_answers(server: Server, reference: QuerySession) -> None:
    jobs = [("similar", w) for w in WORDS] * 6 + [("analogy", t) for t in TRIPLES] * 8 + [("batch", None)] * 6
    random.Random(1).shuffle(jobs)
    expected_batch = reference.analogy_batch(TRIPLES * 20, k=10)

    def ask(job: tuple[str, object]) -> bool:
        kind, what = job
        if kind == "similar":
            return pairs(server.get("/similar", {"word": what}).json()["answers"]) == reference.similar(what)
        if kind == "analogy":
            got = pairs(server.get("/analogy", dict(zip("abc", what))).json()["answers"])
            return same_answers(got, reference.analogy(*what))
        items = server.post_json("/batch", {"analogies": TRIPLES * 20}).json()["analogies"]
        return all(same_answers(pairs(i["answers"]), e) for i, e in zip(items, expected_batch, strict=True))

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(ask, jobs))


def test_small_answers_are_not_held_back_by_delayed_acks(server: Server) -> None:
    """The listening socket is made so that asyncio sets TCP_NODELAY: without it, a response
    written in two pieces waits for the client's delayed ACK, 40 ms per request."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    times = []
    for _ in range(25):
        began = time.perf_counter()
        connection.request("GET", "/similar?word=police&k=3")
        connection.getresponse().read()
        times.append(time.perf_counter() - began)
    connection.close()
    assert statistics.median(times) < 0.02, times


# --- bad requests ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "status", "named"),
    [
        ("/similar?word=nosuchword", 404, "word 'nosuchword' is not in the vocabulary"),
        ("/analogy?a=Australia&b=Sydney&c=nosuchword", 404, "'nosuchword'"),
        ("/similar?word=police&k=0", 422, "k: Input should be greater than or equal to 1"),
        ("/similar?word=police&k=1001", 422, "k: Input should be less than or equal to 1000"),
        ("/similar?word=police&k=99999999999999999999999", 422, "k:"),
        ("/similar?word=police&k=ten", 422, "k: Input should be a valid integer"),
        ("/similar?word=police&restrict=0", 422, "restrict:"),
        ("/similar", 422, "give at least 1 word"),
        ("/analogy?a=police&b=security", 422, "c: required, but missing"),
        ("/analogy?a=police&b=security&c=military&method=div", 422, "method: Input should be 'add' or 'mul'"),
        ("/doesnt_match?words=police", 422, "give at least 2 words"),
        ("/similar?word=%FF%FE", 400, "not valid UTF-8"),
        ("/nowhere", 404, "no endpoint '/nowhere'"),
    ],
)
def test_bad_requests_name_the_problem(server: Server, path: str, status: int, named: str) -> None:
    reply = server.request("GET", path)
    assert reply.status == status, reply.body
    data = reply.json()
    assert data["status"] == status and named in data["error"], data


def test_bad_bodies_name_the_problem(server: Server) -> None:
    def post(body: bytes, content_type: str = "application/json") -> tuple[int, str]:
        reply = server.request("POST", "/batch", body, {"Content-Type": content_type})
        return reply.status, reply.json()["error"]

    status, message = post(b'{"similar": ["police"')
    assert status == 400 and "malformed JSON" in message
    status, message = post('{"similar": ["caf\xe9"]}'.encode("latin-1"))
    assert status == 400 and "not valid UTF-8 (byte 0xe9" in message
    status, message = post(b"")
    assert status == 422 and "body is missing" in message
    status, message = post(json.dumps({"similar": ["police"] * (MAX_BATCH + 1)}).encode())
    assert status == 413 and "over the limit of 500" in message
    status, message = post(json.dumps({"similar": ["police"] * MAX_BATCH, "k": 101}).encode())
    assert status == 413 and "answers" in message
    status, message = post(b" " * (2 << 20))
    assert status == 413 and "larger than the limit of 1,048,576" in message
    assert post(json.dumps({"analogies": [["a", "b"]]}).encode())[0] == 422
    assert "Extra inputs" in post(json.dumps({"similar": ["police"], "topn": 3}).encode())[1]


def _hostile_requests() -> list[tuple[str, str, bytes | None, dict[str, str]]]:
    """A few hundred malformed, oversized and hostile requests, each one a 4xx."""
    rng = random.Random(15)
    alphabet = "abcdefghijklmnopqrstuvwxyzéüß中文😀\u200b\t <>'\"&%;/\\"
    requests: list[tuple[str, str, bytes | None, dict[str, str]]] = []

    def get(path: str, **params: object) -> None:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        requests.append(("GET", f"{path}?{query}", None, {}))

    def post(body: bytes, content_type: str = "application/json") -> None:
        requests.append(("POST", "/batch", body, {"Content-Type": content_type}))

    from urllib.parse import quote

    for _ in range(80):  # unknown words, odd characters, long words
        word = "zz" + "".join(rng.choice(alphabet) for _ in range(rng.choice([1, 5, 30, 3000])))
        endpoint = rng.choice(["/similar", "/vector", "/analogy", "/similarity", "/doesnt_match", "/project"])
        if endpoint == "/analogy":
            get(endpoint, a="police", b=quote(word), c="security")
        elif endpoint == "/similarity":
            get(endpoint, a=quote(word), b="police")
        elif endpoint in ("/doesnt_match", "/project"):
            requests.append(("GET", f"{endpoint}?words=police&words={quote(word)}", None, {}))
        else:
            get(endpoint, word=quote(word))
    for k in ["0", "-1", "1001", "10" * 20, "1.5", "1e3", "ten", "", "%00", "0x10", "NaN"]:  # k out of range
        get("/similar", word="police", k=k)
        get("/analogy", a="police", b="security", c="military", k=k)
    for restrict in ["0", "-3", "x", "1.5"]:
        get("/similar", word="police", restrict=restrict)
    for method in ["div", "", "ADD", "add;drop", "%FF"]:
        get("/analogy", a="police", b="security", c="military", method=method)
    too_many = "/similar?negative=police&negative=" + "&negative=".join(["police"] * 120)
    for path in [
        "/analogy?a=police",
        "/similarity?a=police",
        "/vector",
        "/doesnt_match?words=police",
        "/project",
        too_many,
    ]:
        requests.append(("GET", path, None, {}))
    for raw in ["%FF", "%C3%28", "%ED%A0%80", "%F4%90%80%80", "%C0%AF", "caf%E9"]:  # not UTF-8
        requests.append(("GET", f"/similar?word={raw}", None, {}))
        requests.append(("GET", f"/analogy?a={raw}&b=police&c=security", None, {}))
    for path in ["/nowhere", "/similar/police", "/" + "a" * 5000, "/static/../../etc/passwd", "/batch/x"]:
        requests.append(("GET", path, None, {}))
    for method, path in [("DELETE", "/similar"), ("PUT", "/batch"), ("POST", "/similar"), ("GET", "/batch")]:
        requests.append((method, path, b"{}" if method != "GET" else None, {}))
    valid = json.dumps({"analogies": [list(t) for t in TRIPLES], "similar": WORDS}).encode()
    for cut in sorted(rng.sample(range(1, len(valid) - 1), 60)):  # truncated JSON
        post(valid[:cut])
    wrong_types = [
        None, [], 3, "x", True, {"analogies": "police"}, {"analogies": [["a", "b", "c", "d"]]},
        {"analogies": [[1, 2, 3]]}, {"analogies": [None]}, {"similar": [1]}, {"similar": [[]]},
        {"similar": [[None]]}, {"similar": "police"}, {"similar": ["police"], "k": "5"},
        {"similar": ["police"], "k": 5.5}, {"similar": ["police"], "k": True},
        {"similar": ["police"], "k": 0},
        {"similar": ["police"], "k": 10**30}, {"similar": ["police"], "k": None},
        {"similar": ["police"], "method": "div"}, {"similar": ["police"], "restrict": 0},
        {"similar": ["police"], "restrict": "all"}, {"similar": ["police"], "extra": 1}, {},
        {"analogies": [], "similar": []}, {"similar": [["police"] * 101]},
        {"similar": ["police"] * (MAX_BATCH + 1)}, {"analogies": [["police", "security", "military"]] * 501},
        {"similar": ["police"] * MAX_BATCH, "k": 1000},
    ]  # fmt: skip
    for body in wrong_types:
        post(json.dumps(body).encode())
    for body in [b"\xff\xfe{}", b'{"similar": ["\xc3\x28"]}', b'{"similar": ["\xed\xa0\x80"]}',
                 "{\"similar\": [\"police\"]}".encode("utf-16"), b"\x00" * 100]:  # fmt: skip
        post(body)
    post(b"[" * 50_000 + b"]" * 50_000)  # deeply nested
    post(b'{"similar": ["police"]}', "text/plain")
    post(b"x" * (1 << 20 | 1))  # one byte over the limit
    post(json.dumps({"similar": ["police"] * 200_000}).encode())  # 2 MB of valid JSON
    post(b" " * (12 << 20))  # 12 MB
    return requests


def test_hostile_requests_get_4xx_and_the_server_keeps_serving(
    server: Server, reference: QuerySession
) -> None:
    requests = _hostile_requests()
    assert len(requests) >= 200
    for method, path, body, headers in requests:
        reply = server.request(method, path, body, headers)
        where = f"{method} {path[:80]} {(body or b'')[:60]!r}"
        assert 400 <= reply.status < 500, f"{where}: {reply.status} {reply.body[:300]!r}"
        data = reply.json()
        assert data["status"] == reply.status and isinstance(data["error"], str) and data["error"], where
        assert "Traceback" not in data["error"]
    for raw in [b"GET /similar?word=\xff HTTP/1.1\r\nHost: x\r\n\r\n", b"GARBAGE\r\n\r\n",
                b"POST /batch HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}"]:  # fmt: skip
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:  # bytes HTTP forbids
            sock.sendall(raw)
            assert sock.recv(100).startswith(b"HTTP/1.1 4"), raw
    assert server.process.poll() is None
    assert pairs(server.get("/similar", {"word": "police"}).json()["answers"]) == reference.similar("police")
    assert "Traceback" not in server.stderr() and "Exception in ASGI" not in server.stderr()


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(
            st.sampled_from(["analogies", "similar", "k", "method", "restrict"]) | st.text(), inner
        )
    ),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(body=_json_values)
def test_fuzzed_batch_bodies_never_fail_the_server(server: Server, body: object) -> None:
    reply = server.post_json("/batch", body)
    assert reply.status == 200 or 400 <= reply.status < 500, (body, reply.body[:300])
    if reply.status != 200:
        assert reply.json()["error"]


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(word=st.text(max_size=40), k=st.text(max_size=6))
def test_fuzzed_query_parameters_never_fail_the_server(server: Server, word: str, k: str) -> None:
    reply = server.get("/similar", {"word": word, "k": k})
    assert reply.status in (200, 400, 404, 422), (word, k, reply.body[:300])


# --- the process ---------------------------------------------------------------------------
def _workers_of(pid: int) -> list[str]:
    """The worker processes uvicorn spawned under ``pid`` (not multiprocessing's resource tracker)."""
    found = subprocess.run(["pgrep", "-P", str(pid), "-f", "spawn_main"], capture_output=True, text=True)
    return found.stdout.split()


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_stops_the_service_cleanly(model_folder: Path, reference: QuerySession, workers: int) -> None:
    with running_server("--model", str(model_folder), "--workers", str(workers)) as running:
        for word in WORDS:  # each worker answers like the library
            assert pairs(running.get("/similar", {"word": word}).json()["answers"]) == reference.similar(word)
        if workers > 1:
            assert len(_workers_of(running.process.pid)) == workers
        assert stop(running.process, signal.SIGTERM) == 0
        assert "stopped" in running.stderr().splitlines()[-1], running.stderr()
        assert "Traceback" not in running.stderr()
        if workers > 1:
            assert _workers_of(running.process.pid) == []


def test_a_port_in_use_is_one_line(model_folder: Path, server: Server) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "embedkit", "serve", "--model", str(model_folder), "--port", str(server.port)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"error: cannot listen on 127.0.0.1:{server.port}: "
                                                  "Address already in use"]  # fmt: skip


def test_without_the_extra_it_says_how_to_install_it() -> None:
    code = "import sys; sys.modules['fastapi'] = None; sys.argv = ['embedkit', 'serve']; "
    code += "from embedkit.cli import run; run()"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and 'pip install "embedkit[serve]"' in lines[0], result.stderr
