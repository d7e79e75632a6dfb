"""What one benchmark run does: the sizes, the repeats and the provider, full or smoke.

A smoke run (CI) measures only the smallest size of each benchmark with the minimum number of
repeats: it proves that every approach still runs, not how fast.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.measurement import MIN_REPEATS


@dataclass(frozen=True, slots=True)
class Settings:
    smoke: bool = False
    provider: str = "auto"  # the server every benchmark but start-up runs on
    repeats: int = 5  # upper bound; slow approaches stop at MIN_REPEATS within their budget
    budget_s: float = 10.0  # time one approach may spend on its samples before stopping early

    @classmethod
    def of(cls, *, smoke: bool, provider: str = "auto", repeats: int | None = None) -> Settings:
        if smoke:
            return cls(smoke=True, provider=provider, repeats=repeats or MIN_REPEATS, budget_s=2.0)
        return cls(smoke=False, provider=provider, repeats=repeats or 5)

    def sizes(self, full: tuple[int, ...]) -> tuple[int, ...]:
        return full[:1] if self.smoke else full
