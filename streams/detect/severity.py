"""How urgent an alert is, from three things an analyst weighs.

- **Strength**: how far past its bound the detector's score is (2 = twice the threshold).
- **Source diversity**: distinct publishers in the window. Three or more independent
  outlets make a burst credible; a single outlet makes it doubtful. Windows without
  items (a flatline) or whose items name no publisher are not judged on diversity.
- **Importance**: the highest importance (1-10) the items carry, when they carry one.

Points: +1 for strength >= 2, +1 for >= 3 publishers, -1 for exactly one publisher,
+1 for importance >= 7. Two or more points is ``critical``, zero or one ``warning``,
below zero ``info``.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["Severity", "severity"]

Severity = Literal["info", "warning", "critical"]

STRONG = 2.0
DIVERSE = 3
IMPORTANT = 7


def severity(strength: float, count: int, publishers: int, importance: int | None) -> Severity:
    points = 0
    if strength >= STRONG:
        points += 1
    if count > 0:
        if publishers >= DIVERSE:
            points += 1
        elif publishers == 1:
            points -= 1
    if importance is not None and importance >= IMPORTANT:
        points += 1
    if points >= 2:
        return "critical"
    return "warning" if points >= 0 else "info"
