"""Campaign defects found in use, each with the test that reproduced it, and the newer records:
failed runs (observe_failure), cancelled suggestions (cancel), corrected acquisition settings."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr
from test_campaign import bowl, line_space, small_alloy_space

from mi_workbench.design import Campaign, CampaignError
from mi_workbench.design._journal import decode_line, encode_record


def unnamed_space(n: int = 400) -> xr.Dataset:
    """A 1-D space without a candidate coordinate: candidates are positions 0..n-1."""
    x = np.linspace(0.0, 1.0, n)
    return xr.Dataset({"x": ("candidate", x), "x_squared": ("candidate", x**2)})


def sampled_fingerprint(space: xr.Dataset, columns: list[str]) -> dict:
    """The space check of older campaign files: the values of 33 evenly spaced rows."""
    n = space.sizes["candidate"]
    rows = np.unique(np.linspace(0, n - 1, min(n, 33)).round().astype(np.int64))
    sample = space[columns].isel(candidate=rows)
    return {
        "sample_rows": rows.tolist(),
        "sample": {c: [float(v) for v in sample[c].values] for c in columns},
    }


def edit_header(path, change) -> None:
    """Rewrite the header of a campaign file with ``change(header)`` (as an older mi-workbench,
    or an older bug, would have written it); the records stay as they are."""
    lines = path.read_bytes().splitlines(keepends=True)
    header = decode_line(lines[0])
    change(header)
    path.write_bytes(encode_record(header) + b"".join(lines[1:]))


# -------------------------------------------------------------------------------------------
# Kriging-believer batches on a space no larger than the shortlist
# -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("acquisition", "surrogate"),
    [
        ("expected_improvement", "gp"),
        ("confidence_bound", "gp"),
        ("probability_of_improvement", "gp"),  # the shortlist alone, without the bound
        ("expected_improvement", "svr_ensemble"),  # a surrogate whose update moves the mean
    ],
)
def test_believer_batches_never_repeat_measured_candidates_on_small_spaces(acquisition, surrogate):
    """200 candidates < shortlist_size (2,048): the shortlist holds the measured candidates."""
    campaign = Campaign(
        line_space(200), ["x"], surrogate=surrogate, acquisition=acquisition, random_seed=0
    )
    measured: list = []
    for _ in range(15):
        batch = campaign.suggest(2)
        names = batch["candidate"].values.tolist()
        assert len(set(names)) == 2, f"a batch repeats a candidate: {names}"
        repeats = set(names) & set(measured)
        assert not repeats, f"already measured candidates suggested again: {sorted(repeats)}"
        measured += names
        campaign.observe(batch.candidate, bowl(batch))
    assert campaign.n_observations == 30


# -------------------------------------------------------------------------------------------
# acquisition_params with a typo
# -------------------------------------------------------------------------------------------
def test_unknown_acquisition_params_are_refused_before_anything_is_saved(tmp_path):
    path = tmp_path / "typo.jsonl"
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['kapa'\].*\['kappa'\]"):
        Campaign(
            line_space(),
            ["x"],
            acquisition="confidence_bound",
            acquisition_params={"kapa": 2},
            path=path,
        )
    assert not path.exists()
    with pytest.raises(ValueError, match="takes no settings"):
        Campaign(line_space(), ["x"], acquisition="exploit", acquisition_params={"xi": 0.1})
    with pytest.raises(ValueError, match="kappa"):  # a value the acquisition refuses
        Campaign(line_space(), ["x"], acquisition="ucb", acquisition_params={"kappa": -1})
    with pytest.raises(TypeError, match="dict"):
        Campaign(line_space(), ["x"], acquisition_params=[("xi", 0.1)])
    # valid settings still work, for the acquisitions that need the surrogate too
    Campaign(line_space(), ["x"], acquisition="ei", acquisition_params={"xi": 0.01})
    Campaign(line_space(), ["x"], acquisition="kg", acquisition_params={"max_exact": 50})


def test_a_saved_typo_is_reported_on_opening_and_can_be_corrected(tmp_path):
    path = tmp_path / "saved_typo.jsonl"
    space = line_space()
    campaign = Campaign(
        space, ["x"], acquisition="confidence_bound", acquisition_params={"kappa": 2}, path=path
    )
    batch = campaign.suggest(4)
    campaign.observe(batch.candidate, bowl(batch))
    campaign.close()
    edit_header(path, lambda h: h["config"].update(acquisition_params={"kapa": 2}))

    with pytest.warns(RuntimeWarning, match=r"kapa.*set_acquisition_params"):
        reopened = Campaign.open(path, space)
    assert reopened.n_observations == 4  # the measurements are intact
    with pytest.raises(CampaignError, match=r"kapa.*set_acquisition_params"):
        reopened.suggest(2)
    with pytest.raises(ValueError, match="kapa"):
        reopened.set_acquisition_params({"kapa": 1})
    reopened.set_acquisition_params({"kappa": 2})
    assert reopened.config["acquisition_params"] == {"kappa": 2}
    expected = reopened.suggest(2)
    assert np.isfinite(expected["predicted_mean"]).all()
    reopened.close()

    # the correction is saved: no warning on the next opening, and it suggests again
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = Campaign.open(path, space)
    assert again.config["acquisition_params"] == {"kappa": 2}
    again.observe(expected.candidate, bowl(expected))
    assert np.isfinite(again.suggest(2)["acquisition"]).all()
    again.close()


# -------------------------------------------------------------------------------------------
# the candidate-space check on reopening
# -------------------------------------------------------------------------------------------
def _saved_campaign(tmp_path, space, name="space.jsonl"):
    path = tmp_path / name
    campaign = Campaign(space, ["x", "x_squared"], path=path, random_seed=0)
    batch = campaign.suggest(3)
    campaign.observe(batch.candidate, bowl(batch))
    campaign.close()
    return path


def test_reopening_with_one_edited_row_is_refused(tmp_path):
    space = unnamed_space()
    path = _saved_campaign(tmp_path, space)
    edited = space.copy(deep=True)
    edited["x"].values[7] += 1e-3  # row 7 is not one of the 33 rows the old check sampled
    with pytest.raises(CampaignError, match=r"values of 'x' differ"):
        Campaign.open(path, edited)
    Campaign.open(path, space).close()


def test_reopening_with_two_rows_swapped_is_refused(tmp_path):
    space = unnamed_space()
    path = _saved_campaign(tmp_path, space)
    order = np.arange(space.sizes["candidate"])
    order[[5, 6]] = [6, 5]
    swapped = space.isel(candidate=order)
    with pytest.raises(CampaignError, match=r"values of 'x' differ.*order"):
        Campaign.open(path, swapped)


def test_space_hash_is_the_same_for_dask_and_numpy_spaces(tmp_path):
    pytest.importorskip("dask")
    space = unnamed_space(5000)
    path = _saved_campaign(tmp_path, space)
    Campaign.open(path, space.chunk({"candidate": 700})).close()
    edited = space.copy(deep=True)
    edited["x_squared"].values[4321] = 0.5
    with pytest.raises(CampaignError, match=r"values of 'x_squared' differ"):
        Campaign.open(path, edited.chunk({"candidate": 700}))


def test_files_with_the_old_sampled_fingerprint_still_open(tmp_path):
    space = unnamed_space()
    path = _saved_campaign(tmp_path, space)
    with Campaign.open(path, space) as campaign:
        expected = campaign.suggest(2)["candidate"].values
    # as older versions wrote it: 33 sampled rows instead of a hash of every row
    path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:-1]))

    def old_fingerprint(header):
        header["space"] = {
            "size": header["space"]["size"],
            "candidate_hash": header["space"]["candidate_hash"],
            **sampled_fingerprint(space, ["x", "x_squared"]),
        }

    edit_header(path, old_fingerprint)
    with Campaign.open(path, space) as campaign:
        assert campaign.n_observations == 3
        np.testing.assert_array_equal(campaign.suggest(2)["candidate"].values, expected)
    shifted = space.assign(x=space["x"] + 0.01)
    with pytest.raises(CampaignError, match="values of 'x' differ"):
        Campaign.open(path, shifted)
    # the first opening saved the hash of every row: an edit the sample misses is seen now
    edited = space.copy(deep=True)
    edited["x"].values[7] += 1e-3
    with pytest.raises(CampaignError, match=r"values of 'x' differ.*order"):
        Campaign.open(path, edited)
    with Campaign.open(path, space) as campaign:  # the upgraded file still suggests
        np.testing.assert_array_equal(campaign.suggest(2)["candidate"].values, expected)


def test_an_old_file_opened_read_only_is_checked_but_not_upgraded(tmp_path):
    space = unnamed_space()
    path = _saved_campaign(tmp_path, space)

    def old_fingerprint(header):
        header["space"] = {
            "size": header["space"]["size"],
            "candidate_hash": header["space"]["candidate_hash"],
            **sampled_fingerprint(space, ["x", "x_squared"]),
        }

    edit_header(path, old_fingerprint)
    before = path.read_bytes()
    viewer = Campaign.open(path, space, read_only=True)
    assert viewer.n_observations == 3
    # refused at once, before any model is fitted, and nothing is written
    for call in (
        lambda: viewer.suggest(1),
        lambda: viewer.observe_failure([0], "furnace failed"),
        lambda: viewer.cancel(),
        lambda: viewer.set_acquisition_params({}),
    ):
        with pytest.raises(CampaignError, match="opened read-only"):
            call()
    assert viewer.surrogate is None
    viewer.close()
    assert path.read_bytes() == before


# -------------------------------------------------------------------------------------------
# values too large for the surrogate
# -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [1e200, -1e150])
def test_huge_values_are_refused_before_they_are_saved(tmp_path, value):
    path = tmp_path / "huge.jsonl"
    campaign = Campaign(line_space(), ["x"], path=path, random_seed=0)
    batch = campaign.suggest(3)
    before = path.read_bytes()
    with pytest.raises(ValueError, match=r"values\[1\] is .*e\+(200|150).*1e\+100"):
        campaign.observe(batch.candidate, [0.1, value, 0.2])
    assert path.read_bytes() == before
    assert campaign.n_observations == 0
    campaign.observe(batch.candidate, [0.1, 1e100, 0.2])  # the bound itself is fine
    assert np.isfinite(campaign.suggest(2)["acquisition"]).all()
    campaign.close()


# -------------------------------------------------------------------------------------------
# failed runs
# -------------------------------------------------------------------------------------------
def test_failures_are_kept_in_history_but_not_in_best_or_the_model(tmp_path):
    path = tmp_path / "failures.jsonl"
    space = line_space(60)
    campaign = Campaign(space, ["x"], path=path, random_seed=2)
    batch = campaign.suggest(4)
    names = batch["candidate"].values.tolist()
    campaign.observe(names[:3], bowl(batch)[:3])
    campaign.observe_failure(names[3], "sample cracked")
    history = campaign.history
    assert history.sizes["observation"] == 4
    assert history["failed"].values.tolist() == [False, False, False, True]
    assert history["failure_reason"].values.tolist() == ["", "", "", "sample cracked"]
    assert np.isnan(history["value"].values[3])
    assert campaign.best["candidate"].item() in names[:3]
    assert campaign.n_observations == 3 and campaign.n_failures == 1
    assert campaign.measurements.sizes["observation"] == 3
    assert campaign.pending == []  # the failed candidate is no longer waiting

    batch = campaign.suggest(3)
    assert campaign.surrogate.X_train_.shape[0] == 3  # failures are not training data
    assert names[3] not in batch["candidate"].values.tolist()
    campaign.close()

    with Campaign.open(path, space) as reopened:
        history = reopened.history
        assert history["failed"].values.tolist() == [False, False, False, True]
        assert history["failure_reason"].values[3] == "sample cracked"
        removed = reopened.undo()  # a failure is undone like a batch
        assert removed["candidate"].values.tolist() == [names[3]]
        assert reopened.n_failures == 0


def test_failed_candidates_are_never_suggested_again():
    space = line_space(12)
    campaign = Campaign(space, ["x"], random_seed=0, min_observations=2)
    campaign.observe(["c0000", "c0011"], [0.09, 0.49])
    failed = ["c0003", "c0004", "c0005"]
    campaign.observe_failure(failed, ["did not melt", "cracked", "cracked"])
    suggested = []
    for _ in range(7):
        batch = campaign.suggest(1, allow_repeats=True)
        suggested += batch["candidate"].values.tolist()
        campaign.observe(batch.candidate, bowl(batch))
    assert not set(suggested) & set(failed)
    with pytest.raises(ValueError, match="neither measured nor failed"):
        campaign.suggest(12)
    with pytest.raises(ValueError, match=r"must be <= 9 \(the candidates not failed\)"):
        campaign.suggest(10, allow_repeats=True)


def test_observe_failure_refuses_bad_input_and_saves_nothing(tmp_path):
    path = tmp_path / "bad_failure.jsonl"
    campaign = Campaign(line_space(), ["x"], path=path)
    before = path.read_bytes()
    bad_calls = [
        ((["nope"], "cracked"), ValueError, r"unknown candidate\(s\) \['nope'\]"),
        ((["c0001"], ""), ValueError, "non-empty text"),
        ((["c0001"], None), ValueError, "non-empty text"),
        ((["c0001", "c0002"], ["cracked"]), ValueError, "one per candidate"),
        (([], "cracked"), ValueError, "empty"),
    ]
    for args, error, message in bad_calls:
        with pytest.raises(error, match=message):
            campaign.observe_failure(*args)
    assert path.read_bytes() == before
    campaign.close()


def test_observe_failure_accepts_compositions():
    space = small_alloy_space()
    campaign = Campaign(space, ["Cu", "Fe"], random_seed=0)
    campaign.observe_failure({"Ti": [50], "Ni": [44.0], "Cu": [5.0], "Fe": [1.0]}, "brittle")
    history = campaign.history
    assert float(history["Cu"].values[0]) == 5.0 and bool(history["failed"].values[0])


# -------------------------------------------------------------------------------------------
# cancelled suggestions
# -------------------------------------------------------------------------------------------
def test_cancel_withdraws_pending_suggestions_and_survives_reopening(tmp_path):
    path = tmp_path / "cancel.jsonl"
    space = line_space()
    campaign = Campaign(space, ["x"], path=path, random_seed=4)
    batch = campaign.suggest(3)
    names = batch["candidate"].values.tolist()
    assert campaign.cancel(names[0]) == [names[0]]
    assert campaign.pending == names[1:]
    with pytest.raises(ValueError, match="not pending"):
        campaign.cancel(names[0])
    with pytest.raises(ValueError, match=r"unknown candidate\(s\)"):
        campaign.cancel(["nope"])
    campaign.close()

    with Campaign.open(path, space) as reopened:
        assert reopened.pending == names[1:]
        reopened.observe(names[1], 0.5)
        assert reopened.cancel() == [names[2]]  # all that is still pending
        assert reopened.pending == []
        with pytest.raises(ValueError, match="no pending suggestion"):
            reopened.cancel()
        # a cancelled candidate may still be measured; it carries no prediction then
        reopened.observe(names[0], 0.2)
        assert reopened.history["record"].size == 2
    with Campaign.open(path, space) as again:
        assert again.pending == []
        assert again.n_observations == 2
        # the next suggestion may choose the cancelled candidates again
        again.suggest(3, allow_repeats=True)
        assert len(again.pending) == 3
