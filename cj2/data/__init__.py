"""Judge data: records every stage passes around, the templates they render with, and the build stage.

    records.py   JudgeExample / TrainingSample / RejectedRow (and the reasons a row is rejected)
    templates/   the judge prompt registry (data, sampling and evaluation render the same words)
    sources/     reading recipes: raw rows from files and the Hub, field mappings, loaders, dates, the demo source
    curation/    from rows to targets: positions, retemplating, rendering, judgment checks, answers,
                 the curated rows of the teacher stage, decontamination, known pairs, verifiable pairs
    packed/      records -> the packed dataset training reads: tokenizer, encoder, chat text, tokenize,
                 token spool, mixing, quarantine, statistics, packing, the training stream
    job.py       the build_data stage (launch/build_data.py): sources + curation + packed, the only place tying them
    process.py   that stage's per-row work in worker processes

data imports nothing of cj2.sample, cj2.eval, cj2.train or cj2.cluster; data.packed reads records only
(never data.sources or data.curation). docs/architecture.md.
"""
