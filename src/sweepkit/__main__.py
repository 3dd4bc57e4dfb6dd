"""``python -m sweepkit``: the same command line as the ``sweepkit`` script."""

from sweepkit.cli.main import main

if __name__ == "__main__":
    main()
