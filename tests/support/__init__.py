"""What tests and benchmarks share: the `newsmon` runner, an SMTP inbox, the sites to crawl
(demo, generated, hostile) and the drivers of kills and concurrent runs.

Test modules import from here and never from one another or from benchmarks/; benchmarks
import from here too, so that a benchmark measures exactly what a test checks.
"""
