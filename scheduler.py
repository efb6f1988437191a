"""Run every source on its own schedule until stopped: the same as ``newsmon daemon``.

Example: python scheduler.py --db db/news.db --seeds seeds/
"""

import sys

from crawler.cli import main

if __name__ == "__main__":
    main(["daemon", *sys.argv[1:]])
