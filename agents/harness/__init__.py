"""The experiment harness: everything around the algorithms that turns them into runs and results.

The algorithms (``agents.a2c``, ``agents.ppi``) train learners; the harness decides what to
train, where it goes on disk and what is reported, and is the only part that reads or writes
run folders. Nothing below ``agents.harness`` imports it.

| module          | idea                                                                          |
|-----------------|-------------------------------------------------------------------------------|
| ``algorithms``  | the registry: algorithm name -> its ``agents.algorithm.Algorithm`` record     |
| ``experiments`` | the paper's experiments as named conditions (pool mode, learners, Table-2 column) |
| ``runner``      | a unit into its run folder (resume, prerequisites, data sets, evaluation); whole experiments |
| ``checkpoint``  | a run folder's files: config.json, metrics.csv, checksummed atomic checkpoints |
| ``evaluation``  | the final and in-training evaluation of a run's learners                      |
| ``summary``     | ``summary.json`` of an experiment folder                                      |
| ``plots``       | every figure: experiment folders, evaluation heatmaps, tournaments, sweeps    |
| ``player_specs``| a player named on the command line: zoo, Axelrod strategy or trained run      |
| ``sweep``       | one experiment per point of a hyperparameter grid                             |
| ``ray_backend`` | an experiment's units as Ray tasks, locally or on a cluster                   |
| ``cli``         | ``ipd-coop``: parses, calls the modules above, prints                         |
"""
