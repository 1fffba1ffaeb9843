"""The province-scale benchmark: generated worlds served by the local source
systems, the real nightly pipeline under `airflow dags test`, the
straightforward way beside it on the same world, and the targets the figures
are held to. `wageguard-dev bench` runs it (bench/run.py)."""
