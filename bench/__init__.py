"""The benchmarks and their harness. Run a bench as a script from the repository
(`python bench/neighbors.py`, `make bench`, `make soak`); its modules import one another as
`bench.NAME`. bench/server.py (the real service on a free port) and bench/load.py (the load
generator) are the harness the tests reuse: the tests may import bench, bench never imports
the tests. tests/test_bench.py imports every module here, so none breaks unseen."""
