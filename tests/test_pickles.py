"""Pickles are loaded only through ``load_trusted_pickle`` and only with the user's consent."""
import pickle

import pytest

from actioncore.data.pickles import load_trusted_pickle
from actioncore.errors import DataError


class _Boom:
    def __reduce__(self):  # what a hostile pickle does: call something on load
        return (pytest.fail, ("unpickled without --trust-pickle",))


def test_refuses_without_trust_and_never_opens_the_file(tmp_path):
    path = tmp_path / "ann.pkl"
    path.write_bytes(pickle.dumps(_Boom()))
    with pytest.raises(DataError, match=r"ann\.pkl.*--trust-pickle"):
        load_trusted_pickle(path, trust=False)


def test_loads_with_trust(tmp_path):
    path = tmp_path / "ann.pkl"
    path.write_bytes(pickle.dumps([{"label": 3}]))
    assert load_trusted_pickle(path, trust=True) == [{"label": 3}]


@pytest.mark.parametrize("content, reason", [(None, "no such file"), (b"\x80\x04\x95", "not a readable pickle")])
def test_missing_and_truncated_files_name_the_file(tmp_path, content, reason):
    path = tmp_path / "ann.pkl"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError, match=rf"ann\.pkl.*{reason}"):
        load_trusted_pickle(path, trust=True)


def test_cli_convert_names_the_unknown_converter(cli):
    result = cli("data", "convert", "nosuch", "a.pkl", "b")
    assert result.returncode == 2
    assert "unknown converter 'nosuch'" in result.stderr
