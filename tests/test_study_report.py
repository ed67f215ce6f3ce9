"""The seed study's report: the summary over seeds, where the article's published figures
fall in it, the averaged generator's targets, what the study folders' READMEs quote of it, and
reports recorded by older code (the variant "article (faithful)", the preset "published") read
in today's names."""
import json
from pathlib import Path

import numpy as np
import pytest

from cgan import study_report, study_tables
from cgan.history import ADVICE
from cgan.study_seed import FINAL, picture_name, variant_name

ROOT = Path(__file__).resolve().parents[1]
AVERAGED = variant_name(0.999)


def row(accuracy_per_label, fd, fd_manifold):
    per_label = list(accuracy_per_label)
    return {"decay": None, "fd": fd, "fd_manifold": fd_manifold, "coverage": [0.1] * 10,
            "fd_per_label": [fd + c for c in range(10)],
            "accuracy_manifold": {"overall": float(np.mean(per_label)), "per_label": per_label},
            "accuracy_random_z": {"overall": float(np.mean(per_label)) - 0.01}}


def evaluation(seed, final, averaged):
    return {"kind": "cgan", "seed": seed, "iterations": 5000, "settings": {"threads": 1}, "machine": "test machine",
            "d_steps_per_iteration": 1.0, "g_steps_per_iteration": 1.25, "training_seconds": 600.0,
            "rows": {FINAL: final, AVERAGED: averaged}}


def article(accuracy_per_label, fd_manifold):
    return {"accuracy_manifold": {"overall": float(np.mean(accuracy_per_label)), "per_label": list(accuracy_per_label)},
            "fd_manifold": fd_manifold}


def two_seeds(label_3=(0.97, 0.995), averaged_fd=(5.0, 6.0)):
    """Final G: manifold accuracy 95% and 97%, FD 10 and 12. Averaged: every label at 99.9%
    but label 3, FD as given."""
    def averaged(k):
        return row([0.999] * 3 + [label_3[k]] + [0.999] * 6, averaged_fd[k], 9.0)

    return [evaluation(1, row([0.95] * 10, 10.0, 11.0), averaged(0)),
            evaluation(2, row([0.97] * 10, 12.0, 13.0), averaged(1))]


def gan_evaluation(seed, coverage):
    return {"kind": "gan", "seed": seed, "iterations": 5000, "settings": {"threads": 1}, "machine": "test machine",
            "d_steps_per_iteration": 1.0, "g_steps_per_iteration": 1.0, "training_seconds": 600.0,
            "rows": {FINAL: {"decay": None, "fd": 60.0 + seed, "coverage": coverage}}}


def diverged(seed):
    return {"kind": "cgan", "seed": seed, "iterations": 1234, "settings": {"threads": 1}, "machine": "test machine",
            "diverged": "L_dis stayed under 1e-3", "rows": {}}


def test_targets_are_judged_on_means_over_seeds():
    (met,) = study_report.build_report(two_seeds(), {}, None, "test")["targets"]
    assert met["variant"] == AVERAGED and met["seeds"] == 2
    assert met["accuracy_manifold"] == pytest.approx((9 * 0.999 + (0.97 + 0.995) / 2) / 10) and met["accuracy_met"]
    # label 3 is at 97% in one seed, but its mean over seeds, 98.25%, meets the target
    assert met["lowest_label"] == 3 and met["lowest_label_accuracy"] == pytest.approx(0.9825) and met["labels_met"]
    assert met["fd_ratio"] == pytest.approx(5.5 / 11) and met["fd_met"]
    (missed,) = study_report.build_report(two_seeds(label_3=(0.90, 0.95), averaged_fd=(5.0, 7.0)), {}, None,
                                          "test")["targets"]
    assert missed["accuracy_manifold"] == pytest.approx((9 * 0.999 + 0.925) / 10) and not missed["accuracy_met"]
    assert missed["lowest_label_accuracy"] == pytest.approx(0.925) and not missed["labels_met"]
    assert missed["fd_ratio"] == pytest.approx(6 / 11) and not missed["fd_met"]
    lines = study_tables.target_lines({"targets": [met, missed]})
    assert lines[0].count(": met") == 3 and "not met" not in lines[0]
    assert lines[1].count("**not met**") == 3
    assert "Fréchet distance, random z: 6.00, 0.545× the final G rows' 11.00 on the same seeds" in lines[1]
    assert "the label with the lowest mean accuracy over seeds: 3, 92.50%" in lines[1]


def test_targets_sit_on_their_bounds_and_pair_the_seeds():
    # a mean exactly on a target meets it, whatever the floating-point sum gives (0.97 + 0.99 = 1.9599999...)
    (on,) = study_report.targets(two_seeds(label_3=(0.97, 0.99), averaged_fd=(5.0, 6.0)))
    assert on["labels_met"] and on["fd_met"]
    # a third seed that kept no averaged generator counts for the final G rows only, not for the ratio
    third = evaluation(3, row([0.96] * 10, 40.0, 41.0), row([0.96] * 10, 1.0, 1.0))
    del third["rows"][AVERAGED]
    (paired,) = study_report.targets(two_seeds() + [third])
    assert paired["seeds"] == 2 and paired["fd_ratio"] == pytest.approx(5.5 / 11)
    # a Fréchet distance that could not be measured is said, not divided
    broken = two_seeds()
    for e in broken:
        e["rows"][FINAL]["fd"] = float("nan")
    (t,) = study_report.targets(broken)
    assert t["fd_ratio"] is None and not t["fd_met"]
    assert "Fréchet distance, random z: not measured" in study_tables.target_lines({"targets": [t]})[0]


@pytest.mark.parametrize("accuracy, worst, fd, where", [
    (0.99, 0.99, 15.0, ("higher than every one of", "higher than every one of", "higher (worse) than every one of")),
    (0.96, 0.90, 12.0, ("within the range of", "lower than every one of", "within the range of")),
    (0.90, 0.99, 10.0, ("lower than every one of", "higher than every one of", "lower (better) than every one of")),
])
def test_where_the_article_falls_in_our_spread(accuracy, worst, fd, where):
    per_label = [accuracy] * 10
    per_label[7] = worst if worst < accuracy else accuracy
    published = article(per_label, fd)
    published["accuracy_manifold"]["overall"] = accuracy
    if worst > accuracy:
        published["accuracy_manifold"]["per_label"] = [worst] * 10
    report = study_report.build_report(two_seeds(), {}, published, "test")
    accuracy_line, worst_line, fd_line = study_tables.article_position(report)
    assert accuracy_line == (f"- manifold accuracy: the article's {100 * accuracy:.1f}% is {where[0]} our 2 "
                             "seeds' final G (95.0%–97.0%, mean 96.0%)")
    assert worst_line.startswith(f"- worst label's manifold accuracy: the article's {100 * worst:.1f}% is {where[1]} "
                                 "our 2 seeds' final G (95.0%–97.0%")
    assert fd_line.startswith(f"- Fréchet distance, manifold: the article's {fd:.2f} is {where[2]} our 2 "
                              "seeds' final G (11.00–13.00, mean 12.00; reading the published PNGs back blurs")
    # without the article's figures, nothing is said about them
    assert study_tables.article_position(study_report.build_report(two_seeds(), {}, None, "test")) == []


def test_one_seed_is_said_as_one():
    report = study_report.build_report(two_seeds()[:1], {}, article([0.99] * 10, 15.0), "test")
    assert report["summary"][f"cgan: {FINAL}"]["accuracy_manifold"]["sd"] is None
    quote = study_tables.quote(report)
    assert "mean ± sd over one seed" in quote and "| 95.0% (one seed) |" in quote
    assert "- manifold accuracy: the article's 99.0% is higher than our one seed's final G (95.0%)" in quote


def test_study_md_and_the_quote_say_where_the_article_falls_and_the_targets():
    report = study_report.build_report(two_seeds(), {}, article([0.99] * 10, 15.0), "test")
    quote, md = study_tables.quote(report), study_tables.markdown(report)
    for text in (quote, md):
        assert "Where the article's published figures fall:" in text
        assert "The averaged generator (ours) against its targets (means over seeds):" in text
        assert "| the article's published figures (read back from its PNGs) | 99.0% |" in text
    assert quote.startswith("| CGAN, mean ± sd over 2 seeds (min–max) | accuracy, manifold |")
    assert f"| {FINAL} | 96.0% ± 1.4% (95.0%–97.0%) |" in quote


def test_a_diverged_seed_is_named_and_left_out_of_the_numbers():
    report = study_report.build_report(two_seeds() + [diverged(3)], {}, None, "test")
    assert report["summary"][f"cgan: {FINAL}"]["accuracy_manifold"]["n"] == 2
    assert report["targets"][0]["seeds"] == 2
    line = ("- CGAN seed 3 diverged and is in none of these numbers (its newest checkpoint: iteration 1234): "
            "L_dis stayed under 1e-3")
    for text in (study_tables.quote(report), study_tables.markdown(report)):
        assert "over 2 seeds" in text or "2 seeds judged" in text
        assert "Diverged: 1 of 3 CGAN seeds (33%)." in text
        assert line in text
    assert "Diverged" not in study_tables.markdown(study_report.build_report(two_seeds(), {}, None, "test"))


def test_a_plain_gan_study_and_one_without_averages():
    report = study_report.build_report([gan_evaluation(1, [0.1] * 10), gan_evaluation(2, [0.3, 0.3] + [0.05] * 8)],
                                       {}, None, "test")
    assert report["targets"] == []
    quote = study_tables.quote(report)
    assert quote.startswith("| plain GAN, mean ± sd over 2 seeds (min–max) | Fréchet distance, random z | "
                            "classes ≥ 5% |")
    assert f"| {FINAL} | 61.50 ± 0.71 (61.00–62.00) | 10.00 ± 0.00 (10.00–10.00) | 0.20 ± 0.14 (0.10–0.30) |" \
        in quote
    assert "targets" not in quote and "article's published" not in quote
    final_only = two_seeds()
    for e in final_only:
        del e["rows"][AVERAGED]
    report = study_report.build_report(final_only, {}, None, "test")
    assert report["targets"] == [] and "targets" not in study_tables.markdown(report)


def test_the_quote_keeps_the_kinds_asked_for():
    report = study_report.build_report(two_seeds() + [gan_evaluation(1, [0.1] * 10)], {}, None, "test")
    both = study_tables.quote(report)
    cgan_only = study_tables.quote(report, kinds=["cgan"])
    gan_only = study_tables.quote(report, kinds=("gan",))
    assert "| CGAN, mean" in both and "| plain GAN, mean" in both
    assert "| CGAN, mean" in cgan_only and "plain GAN" not in cgan_only and "targets" in cgan_only
    assert gan_only.startswith("| plain GAN, mean") and "CGAN" not in gan_only and "targets" not in gan_only
    assert cgan_only.strip("\n") in both
    for bad in ("cgan", 5, []):
        with pytest.raises(ValueError, match=r"is not a non-empty list; accepted: a list of .*\['cgan', 'gan'\]"):
            study_tables.quote(report, kinds=bad)
    with pytest.raises(ValueError, match=r"asks for \['vae'\], which this study does not hold"):
        study_tables.quote(report, kinds=["cgan", "vae"])
    cgan_study = study_report.build_report(two_seeds(), {}, None, "test")
    with pytest.raises(ValueError, match=r"asks for \['gan'\].*accepted: a list of \['cgan'\]"):
        study_tables.quote(cgan_study, kinds=["gan"])


STUDIES = [name for name in ("study", "study-figure-time", "study-keras3") if (ROOT / "figs" / name / "study.json").is_file()]


def test_the_committed_studies_are_there_under_their_names():
    assert STUDIES == ["study", "study-figure-time", "study-keras3"]
    assert not (ROOT / "figs" / "study-published").exists()  # renamed on 2026-12-05


@pytest.mark.parametrize("name", STUDIES)
def test_the_readme_quotes_the_committed_study(name):
    """The study folder's README (figs/<study>/README.md) quotes its study tables and their lines
    about the article and the targets as cgan.study_report.quote writes them from the committed
    figs/<study>/study.json."""
    report = json.loads((ROOT / "figs" / name / "study.json").read_text())
    readme = (ROOT / "figs" / name / "README.md").read_text()
    start = f"<!-- {name} quote: cgan.study_report.quote(figs/{name}/study.json) -->\n"
    assert start in readme
    quoted = readme[readme.index(start) + len(start):readme.index(f"<!-- end of the {name} quote -->")]
    assert quoted.strip("\n") == study_tables.quote(report).strip("\n")


@pytest.mark.parametrize("name", STUDIES)
def test_the_committed_study_md_is_its_study_json_in_todays_names(name):
    """study.md is cgan.study_tables.markdown of the committed study.json, which older code wrote
    (its recorded names stay in it); the markdown says final G, never "faithful", and names the
    preset figure-time."""
    folder = ROOT / "figs" / name
    report = json.loads((folder / "study.json").read_text())
    md = (folder / "study.md").read_text()
    assert md == study_tables.markdown(report)
    assert "| final G |" in md and "faithful" not in md and "(preset published)" not in md
    assert "Fréchet distance, random z" in md and "Fréchet distance, manifold" in md


@pytest.mark.parametrize("name", STUDIES)
def test_the_committed_study_has_every_seeds_pictures_and_stays_under_8_mb(name):
    folder = ROOT / "figs" / name
    report = json.loads((folder / "study.json").read_text())
    expected = {picture_name(s["kind"], s["seed"], row["decay"])
                for s in report["evaluations"] for row in s["rows"].values()}
    assert expected and expected == {p.name for p in folder.glob("*-seed-*.png")}
    assert sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) < 8 * 1024 * 1024


def gan_with_manifold(seed, shares):
    e = gan_evaluation(seed, [0.1] * 10)
    e["rows"][FINAL]["manifold_coverage"] = {"shares": shares, "smallest_share": min(shares),
                                                "classes_over_5pct": sum(s >= 0.05 for s in shares)}
    return e


def test_the_plain_gans_manifold_and_where_the_articles_figure_falls():
    seeds = [gan_with_manifold(1, [0.0, 0.02] + [0.12] * 8), gan_with_manifold(2, [0.02] + [1 / 9 - 0.02 / 9] * 9)]
    article = {"shares": [0.0756] + [0.1027] * 9, "classes_over_5pct": 10, "smallest_share": 0.0756}
    report = study_report.build_report(seeds, {}, None, "test", article_gan=article)
    stats = report["summary"][f"gan: {FINAL}"]
    assert stats["manifold_classes_over_5pct"]["mean"] == 8.5 and stats["manifold_smallest_share"]["max"] == 0.02
    for text in (study_tables.quote(report), study_tables.markdown(report)):
        assert "| manifold: classes ≥ 5% | manifold: rarest class |" in text
        assert "| 8.50 ± 0.71 (8.00–9.00) | 1.0% ± 1.4% (0.0%–2.0%) |" in text
        assert "| the article's published figure (read back from its PNG) |  |  |  | 10 | 7.6% |" in text
        assert ("- classes at ≥ 5% of the manifold's 225 digits: the article's 10 is more than every one of our 2 "
                "seeds' final G (8–9, mean 8.50)") in text
        assert ("- the manifold's rarest class: the article's 7.6% is more than every one of our 2 seeds' final G "
                "(0.0%–2.0%, mean 1.0%; ours read from their 8-bit pictures, the article's from its PNG)") in text
    assert "| 1 | final G | 61.00 | 10 | 0.10 | 8 | 0.0% |" in study_tables.markdown(report)
    # a study without the manifold's numbers keeps its columns as they were
    assert "manifold:" not in study_tables.quote(study_report.build_report([gan_evaluation(1, [0.1] * 10)], {}, None,
                                                                           "test"))


def test_the_report_names_the_settings_and_their_preset():
    from cgan.settings import Settings

    def with_settings(settings):
        return [{**e, "settings": settings.to_dict()} for e in two_seeds()]

    line = study_report.settings_line(with_settings(Settings.figure_time(seed=1, threads=1, ema_decay=0.999)))
    assert line == "Settings: k_step=10, lr_dis=0.001 (preset figure-time); the rest as the article prints them."
    assert study_report.settings_line(with_settings(Settings(seed=3))) == \
        "Settings: the article's printed code (cgan's defaults, preset printed)."
    assert study_report.settings_line(with_settings(Settings(lr_gen=1e-3))) == \
        "Settings: lr_gen=0.001 (no preset); the rest as the article prints them."
    mixed = with_settings(Settings())[:1] + with_settings(Settings.figure_time())[1:]
    assert study_report.settings_line(mixed).startswith("Settings: the seeds differ in their settings")
    report = study_report.build_report(with_settings(Settings.figure_time()), {}, None, "test")
    assert "(preset figure-time)" in study_tables.markdown(report)
    assert "preset" not in study_tables.quote(report, kinds=["cgan"])  # the quote leaves the settings to its reader


def test_a_diverged_seed_says_its_diagnosis_and_the_advice_once_as_it_stands():
    """A diverged seed's recorded message ends in the advice of the code that trained it (older
    code advised "restarts=1", which is no setting): the report says each seed's diagnosis, then
    today's cgan.history.ADVICE once, after the list."""
    stale = ("the discriminator has won for 5 periods, so training has stopped moving. As the article advises: "
             "slow the discriminator down (a smaller lr_dis, e.g. --set lr_dis=5e-5) or start again (another seed, "
             "or restarts=1 to do so automatically).")
    seeds = two_seeds() + [{**diverged(3), "diverged": stale}, {**diverged(4), "diverged": stale}]
    report = study_report.build_report(seeds, {}, None, "test")
    assert report["diverged"][0]["message"] == stale  # the record keeps what was recorded
    for text in (study_tables.quote(report), study_tables.markdown(report)):
        assert "restarts=1" not in text and text.count(ADVICE) == 1 and text.count("As the article advises") == 1
        seed_3 = ("- CGAN seed 3 diverged and is in none of these numbers (its newest checkpoint: iteration 1234): "
                  "the discriminator has won for 5 periods, so training has stopped moving.\n")
        assert seed_3 in text and "- CGAN seed 4 diverged" in text
        assert text.index("- CGAN seed 4 diverged") < text.index(ADVICE)  # after the list
        assert f"training has stopped moving.\n\n{ADVICE}\n" in text
    assert ADVICE not in study_tables.markdown(study_report.build_report(two_seeds(), {}, None, "test"))


def old_names(report):
    """``report`` as older code recorded it: the variant "article (faithful)", the target's
    fd_faithful, the preset "published"."""
    old = "article (faithful)"
    report = json.loads(json.dumps(report).replace(f'"{FINAL}"', f'"{old}"').replace(f': {FINAL}"', f': {old}"')
                        .replace('"fd_final"', '"fd_faithful"').replace("(preset figure-time)", "(preset published)"))
    assert f"cgan: {old}" in report["summary"] and report["seeds"][0]["variant"] == old
    assert "fd_faithful" in report["targets"][0] and old in report["evaluations"][0]["rows"]
    return report


def test_a_report_recorded_in_older_names_renders_in_todays():
    from cgan.settings import Settings

    seeds = [{**e, "settings": Settings.figure_time(seed=1, threads=1).to_dict()}
             for e in two_seeds() + [gan_evaluation(1, [0.1] * 10)]]
    report = study_report.build_report(seeds, {}, article([0.99] * 10, 15.0), "test")
    assert f"cgan: {FINAL}" in report["summary"] and "fd_final" in report["targets"][0]
    old = old_names(report)
    assert study_tables.markdown(old) == study_tables.markdown(report)
    assert study_tables.quote(old) == study_tables.quote(report)
    assert study_tables.article_position(old) == study_tables.article_position(report) != []
    assert study_tables.target_lines(old) == study_tables.target_lines(report)
    assert study_tables.final_summary(old, "cgan") == study_tables.final_summary(report, "cgan") == \
        report["summary"][f"cgan: {FINAL}"]
    assert study_tables.final_summary(report, "vae") is None
    md = study_tables.markdown(old)
    assert "faithful" not in md and "| final G |" in md and "(preset figure-time)" in md
    # seeds judged by older code (their evaluation.json) are collected under today's names
    again = study_report.build_report(old["evaluations"], {}, None, "test")
    assert f"cgan: {FINAL}" in again["summary"] and "fd_final" in again["targets"][0]
    assert again["targets"] == study_report.targets(old["evaluations"]) == report["targets"]


def test_a_range_whose_ends_are_equal_is_said_once():
    seeds = [gan_with_manifold(1, [0.02] + [0.98 / 9] * 9), gan_with_manifold(2, [0.03] + [0.97 / 9] * 9)]
    article_gan = {"shares": [0.0756] + [0.1027] * 9, "classes_over_5pct": 10, "smallest_share": 0.0756}
    text = study_tables.quote(study_report.build_report(seeds, {}, None, "test", article_gan=article_gan))
    assert ("- classes at ≥ 5% of the manifold's 225 digits: the article's 10 is more than every one of our 2 seeds' "
            "final G (9 in each)") in text
    assert "9–9" not in text


def test_rewrite_markdown_renders_study_md_from_study_json_alone(tmp_path):
    report = old_names(study_report.build_report(two_seeds() + [diverged(3)], {}, article([0.99] * 10, 15.0),
                                                 "python -m cgan study"))
    (tmp_path / "study.json").write_text(json.dumps(report, indent=1))
    (tmp_path / "study.md").write_text("stale")
    before = (tmp_path / "study.json").read_bytes()
    text = study_report.rewrite_markdown(tmp_path)
    assert text == (tmp_path / "study.md").read_text() == study_tables.markdown(report)
    assert (tmp_path / "study.json").read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == [
        "study.json", "study.md"]
    assert "| final G |" in text and "faithful" not in text
