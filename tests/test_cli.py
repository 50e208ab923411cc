"""The command line end to end: files, columns, summary, figures, atomic writes, progress."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from moatsim.experiments import outputs
from tests.conftest import BASELINE, ROOT, moatsim

MODEL_COLUMNS = {"month", "date", "hhi", "open_share", "quality_gap", "mean_price_usd",
                 "mean_cost_to_serve_usd", "adopters"}
FIRM_COLUMNS = {"month", "firm", "kind", "users", "share", "revenue_musd", "cash_musd",
                "quality", "price_usd", "alive"}


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "baseline-run"
    done = moatsim("run", BASELINE, "--seed", "3", "--months", "24", "--out", out)
    return done, out


def test_run_writes_every_promised_output(cli_run):
    done, out = cli_run
    assert done.returncode == 0, done.stderr
    model = pd.read_csv(out / "model.csv")
    firms = pd.read_csv(out / "firms.csv")
    segments = pd.read_csv(out / "segments.csv")
    assert MODEL_COLUMNS <= set(model.columns)
    assert FIRM_COLUMNS <= set(firms.columns)
    assert {"month", "segment", "firm", "users", "share"} <= set(segments.columns)
    assert len(model) == 25 and model["date"].iloc[-1] == "2025-01"
    assert len(segments) == 25 * segments["segment"].nunique() * segments["firm"].nunique()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scenario"] == "baseline" and summary["seed"] == 3 and summary["months"] == 24
    assert set(summary["leader_per_segment"]) == set(segments["segment"])
    assert sum(summary["final_shares"].values()) == pytest.approx(1.0, abs=1e-4)
    assert isinstance(summary["exits"], list)
    for name in ("shares", "quality", "cash"):
        png = out / "figures" / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_run_prints_a_summary_table_and_where_outputs_went(cli_run):
    done, out = cli_run
    assert "openai" in done.stdout and "share" in done.stdout
    assert str(out) in done.stdout
    assert "leaders:" in done.stdout
    # then the ten events that matter most, in date order
    block = done.stdout.split("key events:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert 1 <= len(block) <= 10
    dates = [line.split()[0] for line in block]
    assert dates == sorted(dates) and all(d.startswith("20") for d in dates)
    assert any("stake" in line and "microsoft" in line for line in block)  # M2


def test_same_seed_gives_byte_identical_outputs(cli_run, tmp_path):
    _, first = cli_run
    second = tmp_path / "again"
    assert moatsim("run", BASELINE, "--seed", "3", "--months", "24", "--out", second,
                   "--quiet").returncode == 0
    for name in ("model.csv", "firms.csv", "segments.csv", "events.csv", "summary.json",
                 "figures/shares.png", "figures/cash.png", "figures/quality.png"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_default_output_folder_and_python_m_model(tmp_path):
    done = moatsim("run", BASELINE, "--months", "2", "--seed", "9", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "runs" / "baseline-seed9" / "summary.json").exists()
    assert done.stdout == ""


def test_set_override_changes_the_run(tmp_path):
    out = tmp_path / "o"
    done = moatsim("run", BASELINE, "--months", "3", "--out", out, "--quiet",
                   "--set", "firms.openai.cash_musd=1", "--set", "months=2")
    assert done.returncode == 0, done.stderr
    firms = pd.read_csv(out / "firms.csv")
    assert firms["month"].max() == 3  # --months wins over --set months
    first = firms[(firms.month == 0) & (firms.firm == "openai")].iloc[0]
    # Microsoft's $10B arrives at the start (M2), part of it as compute credits (C25)
    assert first["cash_musd"] + first["credits_musd"] == pytest.approx(1 + 10_000)
    assert first["credits_musd"] > 0


def test_list_and_validate():
    listing = moatsim("list")
    assert listing.returncode == 0
    assert "baseline" in listing.stdout and "OpenAI" in listing.stdout
    checked = moatsim("validate", BASELINE)
    assert checked.returncode == 0 and "ok" in checked.stdout


def test_progress_bar_appears_only_for_runs_longer_than_a_second(tmp_path, monkeypatch, capsys):
    import time

    from moatsim import cli

    from moatsim.model import AIMarketModel

    original = AIMarketModel.step

    def slow_step(self):
        time.sleep(0.05)
        original(self)

    monkeypatch.setattr(AIMarketModel, "step", slow_step)
    assert cli.main(["run", str(BASELINE), "--months", "30", "--out", str(tmp_path / "s")]) == 0
    assert "month" in capsys.readouterr().err  # tqdm shows "n/30 [..., month/s]"
    monkeypatch.setattr(AIMarketModel, "step", original)
    assert cli.main(["run", str(BASELINE), "--months", "2", "--out", str(tmp_path / "f")]) == 0
    assert capsys.readouterr().err == ""


def test_an_interrupted_write_leaves_the_previous_output_whole(tmp_path, monkeypatch):
    from moatsim import run_scenario

    out = tmp_path / "run"
    result = run_scenario(BASELINE, seed=1, months=2)
    outputs.write_run(result, out)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}

    def crash(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(outputs, "write_figures", crash)
    with pytest.raises(KeyboardInterrupt):
        outputs.write_run(run_scenario(BASELINE, seed=2, months=2), out)
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before  # the old complete output is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no staging folder left behind


def test_interrupted_first_write_leaves_nothing(tmp_path, monkeypatch):
    from moatsim import run_scenario

    monkeypatch.setattr(outputs, "write_figures", lambda *a, **k: (_ for _ in ()).throw(OSError))
    with pytest.raises(OSError):
        outputs.write_run(run_scenario(BASELINE, seed=1, months=1), tmp_path / "new")
    assert list(tmp_path.iterdir()) == []


def test_docs_command_reports_current_file():
    done = moatsim("docs", "--check")
    assert done.returncode == 0, done.stderr
    assert (ROOT / "docs" / "parameters.md").exists()


def test_run_writes_the_same_tidy_tables_as_parquet(tmp_path):
    """--format parquet: the same tables as the CSV files, with their types kept; every
    table has month and date, the firm column is `firm`, and an unlimited runway is empty."""
    for kind in ("csv", "parquet"):
        done = moatsim("run", "baseline", "--months", "6", "--seed", "2", "--quiet",
                       "--format", kind, "--out", tmp_path / kind)
        assert done.returncode == 0, done.stderr
    for name in ("model", "firms", "backers", "segments", "events", "ledger"):
        from_csv = pd.read_csv(tmp_path / "csv" / f"{name}.csv")
        from_parquet = pd.read_parquet(tmp_path / "parquet" / f"{name}.parquet")
        assert not (tmp_path / "parquet" / f"{name}.csv").exists()
        assert list(from_parquet.columns) == list(from_csv.columns)
        assert list(from_csv.columns[:2]) == ["month", "date"], name
        assert len(from_parquet) == len(from_csv) > 0
        pd.testing.assert_frame_equal(from_parquet.astype(from_csv.dtypes.to_dict()),
                                      from_csv, check_exact=False, rtol=1e-12)
        if name in ("firms", "backers", "segments", "events", "ledger"):
            assert "firm" in from_csv.columns and "agent" not in from_csv.columns
    firms = pd.read_csv(tmp_path / "csv" / "firms.csv")
    assert firms["runway_months"].isna().any() and not (firms["runway_months"] == 999).any()
    # a money column names its unit; a share of money (app_layer_revenue_share) is a fraction
    money = re.compile(r"revenue|cost|cash|credits|funding|price|surplus|amount")
    for name in ("model", "firms", "backers", "segments", "events", "ledger"):
        table = pd.read_csv(tmp_path / "csv" / f"{name}.csv")
        unsuffixed = [column for column in table.columns
                      if money.search(column) and not column.endswith(("_musd", "_usd", "_share"))]
        assert unsuffixed == [], f"{name}.csv: money columns without a unit: {unsuffixed}"
        text = table.select_dtypes(include=["object", "string"])
        joined = [column for column in text.columns
                  if column != "detail" and text[column].astype(str).str.contains(";").any()]
        assert joined == [], f"{name}.csv: lists joined into text in {joined}"
    backers = pd.read_csv(tmp_path / "csv" / "backers.csv")
    owned = backers.groupby(["month", "firm"])["backer"].apply(set)
    assert {"microsoft"} <= owned.loc[(6, "openai")], owned.loc[(6, "openai")]
