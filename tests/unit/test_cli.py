"""The headless CLI contract, in a separate process as a user would call it."""

import json
import subprocess
import sys

import engine

ROOT = __import__("pathlib").Path(__file__).parents[2]


def cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "engine", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_list_names_studies_knobs_ranges_and_defaults():
    out = cli("list")
    assert out.returncode == 0
    assert "recommendation: Design a YouTube-style video recommender" in out.stdout
    assert "  candidates (default 200): a number from 10 to 500" in out.stdout


def test_run_json_contract_and_same_numbers_in_another_process():
    out = cli(
        "run",
        "recommendation",
        "--set",
        "candidates=100",
        "--set",
        "ranker=logistic",
        "--seed",
        "3",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert set(payload) == {"study", "config", "seed", "metrics", "stages"}
    assert payload["config"]["candidates"] == 100 and payload["seed"] == 3
    assert {"ndcg@10", "precision@10", "recall@10", "candidate_recall@N"} <= set(payload["metrics"])
    assert [s["name"] for s in payload["stages"]][:2] == ["API_Gateway", "Feature_Store"]
    here = engine.run("recommendation", {"candidates": 100, "ranker": "logistic"}, seed=3).metrics
    for key in ("ndcg@10", "candidate_recall@N", "online_ctr", "coverage"):
        assert payload["metrics"][key] == here[key]


def test_bad_knob_exits_non_zero_with_one_line():
    out = cli("run", "recommendation", "--set", "candidates=9999")
    assert out.returncode == 2
    assert out.stderr == "error: knob 'candidates' got '9999'; expected a number from 10 to 500\n"
    unknown = cli("run", "recommendation", "--set", "speed=11")
    assert unknown.returncode == 2 and unknown.stderr.startswith("error: unknown knob 'speed'")
    assert unknown.stderr.count("\n") == 1


def test_bad_data_file_exits_with_the_validation_message(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("user,item\n1,2\n")
    out = cli("run", "recommendation", "--data", str(bad))
    assert out.returncode == 2
    assert out.stderr.startswith("error: Missing column(s) user_id, item_id.")
    missing = cli("run", "recommendation", "--data", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_fraud_run_json_has_its_metric_keys_and_the_same_numbers_in_another_process():
    out = cli("run", "fraud", "--set", "terminal_windows=false", "--set", "label_delay=3", "--json")
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert payload["config"]["terminal_windows"] is False and payload["config"]["label_delay"] == 3
    assert {"auc", "average_precision", "card_precision@100", "latency_p99_ms"} <= set(payload["metrics"])
    assert [s["name"] for s in payload["stages"]][:3] == ["API_Gateway", "Rules", "Feature_Store"]
    here = engine.run("fraud", {"terminal_windows": False, "label_delay": 3}, seed=0).metrics
    for key in ("auc", "average_precision", "card_precision@100", "threshold", "total_cost_per_day"):
        assert payload["metrics"][key] == here[key]
    bad = cli("run", "fraud", "--set", "terminal_windows=maybe")
    assert bad.returncode == 2
    assert bad.stderr == "error: knob 'terminal_windows' got 'maybe'; expected true or false\n"


def test_pymk_run_json_has_the_issues_metric_keys_and_runs_on_an_edge_list(tmp_path):
    out = cli("run", "pymk", "--set", "ranker=adamic_adar", "--set", "fof_cap=60", "--json")
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert payload["config"]["fof_cap"] == 60
    keys = {"recall@10", "precision@10", "candidate_recall", "candidates_per_user"}
    keys |= {"friendships_per_user", "acceptance_rate"}
    assert keys <= set(payload["metrics"])
    here = engine.run("pymk", {"ranker": "adamic_adar", "fof_cap": 60}, seed=0).metrics
    for key in ("recall@10", "candidate_recall", "acceptance_rate"):
        assert payload["metrics"][key] == here[key]
    # A ring of triangles with timestamps: the latest edges are held out and the run says so.
    rows = ["source,target,timestamp"]
    for i in range(300):
        rows += [f"u{i},u{(i + 1) % 300},{i}", f"u{i},u{(i + 2) % 300},{i + 300}"]
    edges = tmp_path / "edges.csv"
    edges.write_text("\n".join(rows) + "\n")
    uploaded = cli("run", "pymk", "--data", str(edges), "--set", "ranker=common_neighbours", "--json")
    assert uploaded.returncode == 0, uploaded.stderr
    metrics = json.loads(uploaded.stdout)["metrics"]
    assert 0 < metrics["candidate_recall"] <= 1
    assert metrics["acceptance_rate"] is None  # the world's formation rule: none for an upload
    assert "NaN" not in uploaded.stdout  # strict JSON
