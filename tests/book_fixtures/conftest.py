# The notebooks here are a tiny book for tests/test_book.py, one page clean and one with planted
# faults: never collect them (nbval would run them; they have no code that runs).
collect_ignore_glob = ["*"]
