"""A stand-in for replicate.pipeline.Ledger that records what a chapter's record() sends it."""


class FakeLedger:
    def __init__(self):
        self.checks, self.values, self.skipped = {}, {}, []

    def check(self, key, measured, error=None, *, control=None, note=""):
        self.checks[key] = (measured, error, control)

    def value(self, key, what, value, error=None):
        self.values[key] = (value, error)

    def skip(self, key, note=""):
        self.skipped.append(key)
