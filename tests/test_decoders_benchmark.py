"""benchmarks/decoders.py with the readers CI has (actioncore's; TorchCodec and decord are peers)."""
import json

from .conftest import load_benchmark


def test_reports_each_style_checks_the_frames_and_names_the_readers_left_out(tmp_path, capsys):
    decoders = load_benchmark("decoders")
    assert decoders.main(["--videos", "1", "--clips", "2", "--rounds", "1", "--styles", "tsn3,slowfast",
                          "--cache", str(tmp_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    ran = set(report["styles"]["tsn3"]["wall"]["clips_per_s"])
    assert {"actioncore", "actioncore-nocache"} <= ran
    # each peer either ran or is named with the reason it could not
    assert ("decord" in report["missing"]) != ("decord" in ran)
    assert ("torchcodec" in report["missing"]) != ({"torchcodec-exact", "torchcodec-approximate"} <= ran)
    assert all(equal["actioncore-nocache"] for equal in report["same_frames"].values())
    assert set(report["same_frames"]) == set(decoders.STYLES)
    for style in ("tsn3", "slowfast"):
        assert report["styles"][style]["cpu"]["clips_per_s"]["actioncore"] > 0


def test_samplers_draw_what_their_styles_say():
    decoders = load_benchmark("decoders")
    import numpy as np
    rng = np.random.default_rng(0)
    slowfast = decoders.STYLES["slowfast"](rng)
    assert len(slowfast) == 32 and set(np.diff(slowfast)) == {2} and slowfast[-1] < decoders.FRAMES
    tsn = decoders.STYLES["tsn3"](rng)
    assert [index // 100 for index in tsn] == [0, 1, 2]
    assert list(decoders.STYLES["all"](rng)) == list(range(decoders.FRAMES))
