import sys

from streams.cli import main

# Guarded: the worker's ingest processes are spawned, and a spawned process imports the
# main module of its parent (as ``__mp_main__``).
if __name__ == "__main__":
    sys.exit(main())
