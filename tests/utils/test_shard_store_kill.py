"""A shard-store part is committed atomically: a process killed while writing one leaves no part.

The writer runs in its own process and is SIGKILLed in the middle of ``commit_part``: its records
come from a generator that, half-way through a batch large enough to overflow the file buffer (so
that part of it has reached the disk), tells the test it is there and then blocks until killed.
"""

from __future__ import annotations

import signal
import subprocess
import sys

from cj2.utils.shard_store import ShardStore

RECORDS = 2000  # ~200 KB: the buffered writer flushes many times before the kill
WRITER = """
import sys
from cj2.utils.shard_store import ShardStore

def records():
    for row in range({records}):
        if row == {records} // 2:
            print("half written", flush=True)
            sys.stdin.readline()  # blocks: the test kills this process now
        yield {{"row": row, "text": "x" * 100}}

ShardStore(sys.argv[1], 0, 1).commit_part(records())
"""


def test_a_part_killed_mid_write_is_not_committed(tmp_path, repo_root):
    """Catches: ``commit_part`` writing ``part-NNNNNN.jsonl`` in place (``open(path, "w")`` instead of
    ``write_jsonl``'s temporary file and rename): the kill leaves a part holding the first half of the
    batch (a truncated last line too), which a resumed task takes as committed and skips."""
    writer = subprocess.Popen([sys.executable, "-c", WRITER.format(records=RECORDS), str(tmp_path)], cwd=repo_root,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "half written"
        writer.send_signal(signal.SIGKILL)
        assert writer.wait(timeout=60) == -signal.SIGKILL
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    store = ShardStore(str(tmp_path), 0, 1)
    assert sorted(p.name for p in store.parts_dir.glob("part-*")) == []  # only the writer's temporary file
    assert list(store.done_records()) == []
    # The resumed task commits the whole batch as part 0 and finishes with every row once.
    store.commit_part([{"row": row} for row in range(RECORDS)])
    manifest = store.finish([], lambda records: {"rows": sum(1 for _ in records)})
    assert manifest["rows"] == RECORDS and not list(store.dir.glob(".*.tmp")) and not store.parts_dir.exists()
