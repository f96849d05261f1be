"""Where a job runs: in this process, as local processes, or as SLURM jobs via submitit."""
