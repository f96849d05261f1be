"""The one JSONL reader (cj2.utils.jsonl): rows numbered as an editor shows them, errors naming file, row and field."""

from __future__ import annotations

import pytest

from cj2.eval.core.files import EvalInputError, line_error
from cj2.utils.jsonl import JsonlError, jsonl_records, jsonl_rows, require_text


def test_rows_are_numbered_by_line_with_blank_lines_skipped(tmp_path):
    """Catches: numbering from 0, or counting only non-blank lines (row 4 would be called row 2 or 3)."""
    path = tmp_path / "a.jsonl"
    path.write_text('{"q": 1}\n\n   \n{"q": 2}\n')
    assert list(jsonl_rows(path)) == [(1, {"q": 1}), (4, {"q": 2})]
    assert list(jsonl_records(path)) == [{"q": 1}, {"q": 2}]


@pytest.mark.parametrize(
    "text, objects, message",
    [
        ('{"q": 1}\n[1, 2]\n', True, "a.jsonl, row 2: expected a JSON object, got list"),
        ('{"q": 1}\n\n{"q" 1}\n', False, "a.jsonl, row 3: not valid JSON (Expecting ':' delimiter at column 6)"),
    ],
)
def test_a_bad_row_is_an_error_naming_file_and_row(tmp_path, text, objects, message):
    """Catches: a non-object row passed through when objects are required; a bad line reported without its row."""
    path = tmp_path / "a.jsonl"
    path.write_text(text)
    with pytest.raises(JsonlError) as error:
        list(jsonl_rows(path, objects=objects))
    assert str(error.value).endswith(message)
    assert error.value.row == int(message.split("row ")[1].split(":")[0])


def test_callers_choose_their_error_and_wording(tmp_path):
    """Evaluation words JSONL errors as ``FILE line N`` with its own error type; a missing file and a missing field are named too."""
    path = tmp_path / "p.jsonl"
    path.write_text('{"index": 0}\nnot json\n')
    with pytest.raises(EvalInputError, match=r"p\.jsonl line 2: not valid JSON"):
        list(jsonl_rows(path, error=line_error))
    with pytest.raises(EvalInputError, match=r"absent\.jsonl: file not found"):
        list(jsonl_rows(tmp_path / "absent.jsonl", error=line_error))
    with pytest.raises(JsonlError, match=r"p\.jsonl, row 1: field 'answer': missing or not text"):
        require_text({"question": "q", "answer": "  "}, ("question", "answer"), path, 1)
