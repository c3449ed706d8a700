"""The trial table's cells (archbuilder.tuning.trials): JSON-like text a spreadsheet reads back."""

from archbuilder.tuning.trials import _cell
from archbuilder.tuning.trials import _table_value


def test_cells_are_json_like_and_floats_keep_their_digits():
    assert [_cell(v) for v in (None, True, False, 0.1 + 0.2, [1, None], "relu", 3)] == [
        "null", "true", "false", "0.30000000000000004", "[1, null]", "relu", "3"]
    assert _table_value(0.000123456) == "0.0001235" and _table_value("gru") == "gru"
