import os


def pytest_report_header(config):
    # shown at the top of every run, so a skipped differential module is never silent
    bin_ = os.environ.get("ATHANOR_BIN")
    if bin_:
        return [f"athanor differential: ATHANOR_BIN={bin_}, "
                f"ATHANOR_DIFF_GRAPHS={os.environ.get('ATHANOR_DIFF_GRAPHS', '25')}"]
    return ["athanor differential: ATHANOR_BIN is unset -> tests/alembic/test_differential.py "
            "is SKIPPED (set ATHANOR_BIN=/path/to/athanor to run it)"]
