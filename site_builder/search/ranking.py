"""The one ranking of every search engine of the archive (the static search in the
browser, `site-builder search`, the server search): what it weighs and how, written so
that JavaScript and Python compute the same numbers to the last bit.

For each query clause c and report d:

- title(c, d): c occurs in the report's title;
- tf(c, d): how often c occurs in its text (the body, without the title);
- a weight code, 0..15: 0 when tf = 0, else the BM25 term weight
  tf * (K1 + 1) / (tf + K1 * (1 - B + B * R[q])) scaled to 1..15, where q, the report's
  length class, grows by one for each quarter octave (19%) that the body is longer than
  PIVOT tokens: reports up to PIVOT tokens long, fragments included, are all weighed as
  if PIVOT long, so a short fragment never gains from being short;
- idf(c) = ln(1 + (N - df + 0.5) / (df + 0.5)) over the N reports of the archive, df
  the reports that contain c (filters do not change it).

Reports are ordered by the number of clauses in their title (title matches first), then
by the sum over the clauses of idf(c) * code(c, d) / 15, then by their number in the
static index, highest first (static_format.numbering: the newest year first). The weight
code is stored in the static index and computed the same way by the other engines; `ln`
uses only + - * /, which IEEE 754 rounds the same everywhere (Math.log and the C
library's log may differ in the last bit).
"""
from __future__ import annotations

K1 = 2.0
B = 0.5
PIVOT = 2000  # body tokens: the length of a typical report
CODES = 15  # weight codes 1..15 (0: no occurrence in the body)
CLASSES = 64  # length classes 0..63
# R[q] = 2 ** (q / 4), the body's length relative to PIVOT that class q stands for.
R = tuple(2.0 ** (q / 4) for q in range(CLASSES))
# The smallest body length of each class (class 0: any length up to the next).
_FLOOR = tuple(int(PIVOT * r) + (PIVOT * r > int(PIVOT * r)) for r in R)
_LN2 = 0.6931471805599453


def length_class(body_tokens: int) -> int:
    """q of a body of this many tokens: the largest q with body_tokens >= PIVOT * R[q]."""
    q = 0
    while q + 1 < CLASSES and body_tokens >= _FLOOR[q + 1]:
        q += 1
    return q


def weight_code(tf: int, q: int) -> int:
    """The weight of a clause that occurs tf times in a body of length class q, 0..15."""
    if tf <= 0:
        return 0
    w = tf * (K1 + 1) / (tf + K1 * (1 - B + B * R[q]))
    return max(1, min(CODES, int(w * CODES / (K1 + 1) + 0.5)))


def ln(x: float) -> float:
    """The natural logarithm of x > 0 with + - * / only (search.js has the same lines)."""
    e = 0
    while x >= 2:
        x /= 2
        e += 1
    while x < 1:
        x *= 2
        e -= 1
    z = (x - 1) / (x + 1)  # x in [1, 2): z in [0, 1/3), the series below is exact to 1e-20
    z2 = z * z
    total, term, k = 0.0, z, 1
    for _ in range(20):
        total += term / k
        term *= z2
        k += 2
    return 2 * total + e * _LN2


def idf(reports: int, df: int) -> float:
    return ln(1 + (reports - df + 0.5) / (df + 0.5))


def score(idfs: list[float], codes: list[int]) -> float:
    """The second sort key: the clauses' idf times their weight codes, summed in clause
    order."""
    total = 0.0
    for weight, code in zip(idfs, codes):
        total += weight * code / CODES
    return total


def js_constants() -> dict:
    """What search.js needs to weigh a clause it matched by position."""
    return {"k1": K1, "b": B, "codes": CODES, "r": list(R)}
