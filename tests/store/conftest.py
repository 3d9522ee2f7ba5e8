"""The store tests run on both engines: ``store_location`` (tests/pgcluster.py, shared through
tests/conftest.py) is an SQLite file for the ``sqlite`` run and a fresh PostgreSQL database for the
``postgres`` run."""
