"""Building a JudgerBench-style benchmark from a query pool (launch/build_bench.py; docs/benchmark.md).

queries.py reads and quarantines the pool, scenarios.py clusters and names it and asks for each
query's difficulty, select.py draws Q queries per scenario, responses.py and moj.py build the model
calls (all committed exactly once by calls.py), moj.py turns judge votes into labels and agreement
numbers, records.py writes the JudgerBenchV2 files and win table, report.py the summary, job.py
runs the steps in order.
"""
